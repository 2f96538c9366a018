package loop

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
)

// readRunCheckpoint reads the checkpoint of run key, which trains epochs epochs, at ckPath: nil
// without error when there is none; an error naming the file when it is corrupt, belongs to another
// run or has an epoch count outside 1…epochs.
func readRunCheckpoint(ckPath, key string, epochs int) (*Checkpoint, error) {
	ck, err := ReadCheckpoint(ckPath)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%v (delete it to train %s afresh)", err, key)
	case ck.Key != key:
		return nil, fmt.Errorf("checkpoint %s belongs to run %q, not %q", ckPath, ck.Key, key)
	case ck.Epoch < 1 || ck.Epoch > epochs:
		return nil, fmt.Errorf("checkpoint %s is of epoch %d, want 1…%d for run %q (delete it to train afresh)", ckPath, ck.Epoch, epochs, key)
	}
	return ck, nil
}

// restoredVars says which variables a run took from a checkpoint: those under scope ("" for all)
// must all have come from it.
type restoredVars struct {
	path  string
	scope string
	names map[string]bool // scope/name
}

// newRestored records the variables of ck under scope as restored from the file at path.
func newRestored(path string, ck *Checkpoint, scope string) restoredVars {
	r := restoredVars{path: path, scope: scope, names: map[string]bool{}}
	for _, v := range ck.Vars {
		r.names[v.Scope+"/"+v.Name] = true
	}
	return r
}

// check returns an error naming a variable of ctx under r.scope that the checkpoint did not hold:
// the run would go on with it freshly initialised. Nothing is checked when nothing was restored.
func (r restoredVars) check(ctx *context.Context) error {
	if r.names == nil {
		return nil
	}
	var missing []string
	ctx.EnumerateVariables(func(v *context.Variable) {
		if r.scope != "" && v.Scope() != r.scope && !strings.HasPrefix(v.Scope(), r.scope+"/") {
			return
		}
		if id := v.Scope() + "/" + v.Name(); !r.names[id] {
			missing = append(missing, id)
		}
	})
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("… (%d in all)", len(missing)))
		}
		return fmt.Errorf("checkpoint %s lacks variables the run has: %s (they would start from fresh values; delete it to train afresh)",
			r.path, strings.Join(missing, ", "))
	}
	return nil
}

// restoreScope restores only the variables under scope (e.g. the generator's weights, without its
// optimizer state or the random state).
func (c *Checkpoint) restoreScope(ctx *context.Context, scope string) error {
	sub := &Checkpoint{}
	for _, v := range c.Vars {
		if v.Scope == scope || strings.HasPrefix(v.Scope, scope+"/") {
			sub.Vars = append(sub.Vars, v)
		}
	}
	if len(sub.Vars) == 0 {
		return fmt.Errorf("checkpoint has no variables under %s", scope)
	}
	return sub.Restore(ctx)
}
