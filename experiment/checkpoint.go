package experiment

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/internal/atomicfile"
)

// checkpointMagic starts every checkpoint file (and changes with its layout).
const checkpointMagic = "confcal-checkpoint-v1\n"

// Checkpoint is the saved state of a training run after a whole number of epochs: every variable of
// the context (weights, batch-norm statistics, optimizer moments, steps and learning rates, the
// random-number state) and what the run needs to go on where it stopped.
type Checkpoint struct {
	Epoch        int       // epochs completed
	Key          string    // the run's key (its configuration); a checkpoint of another run is refused
	EpochSeconds []float64 // wall time of each completed epoch
	Vars         []SavedVar
}

// SavedVar is one context variable in a Checkpoint.
type SavedVar struct {
	Scope, Name string
	DType       dtypes.DType
	Dims        []int
	Trainable   bool
	Data        []byte
}

// SaveCheckpoint writes every variable of ctx with the run's progress to path, atomically (a kill
// while saving leaves the previous checkpoint in place).
func SaveCheckpoint(path string, ctx *context.Context, c Checkpoint) error {
	c.Vars = nil
	var err error
	ctx.EnumerateVariables(func(v *context.Variable) {
		if err != nil {
			return
		}
		t, verr := v.Value()
		if verr != nil {
			err = fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), verr)
			return
		}
		sv := SavedVar{Scope: v.Scope(), Name: v.Name(), DType: t.Shape().DType, Dims: t.Shape().Dimensions, Trainable: v.Trainable}
		if cerr := t.ConstBytes(func(b []byte) { sv.Data = bytes.Clone(b) }); cerr != nil {
			err = fmt.Errorf("checkpoint: variable %s: %w", v.ScopeAndName(), cerr)
			return
		}
		c.Vars = append(c.Vars, sv)
	})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if _, err := io.WriteString(w, checkpointMagic); err != nil {
			return err
		}
		return gob.NewEncoder(w).Encode(&c)
	})
}

// ErrNoCheckpoint is returned by LoadCheckpoint when there is no checkpoint file.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ReadCheckpoint reads and checks a checkpoint file; a missing file is ErrNoCheckpoint.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(data, []byte(checkpointMagic)) {
		return nil, fmt.Errorf("checkpoint %s: not a confcal checkpoint (bad header)", path)
	}
	var c Checkpoint
	if err := gob.NewDecoder(bytes.NewReader(data[len(checkpointMagic):])).Decode(&c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: corrupt: %v", path, err)
	}
	for _, v := range c.Vars {
		s := shapes.Make(v.DType, v.Dims...)
		if s.Memory() != uintptr(len(v.Data)) {
			return nil, fmt.Errorf("checkpoint %s: variable %s/%s holds %d bytes, its shape %s needs %d", path, v.Scope, v.Name, len(v.Data), s, s.Memory())
		}
	}
	return &c, nil
}

// Restore sets (creating them where needed) the checkpoint's variables in ctx, so that the graphs
// built afterwards start from them.
func (c *Checkpoint) Restore(ctx *context.Context) error {
	for _, v := range c.Vars {
		t := tensors.FromShape(shapes.Make(v.DType, v.Dims...))
		if err := t.MutableBytes(func(b []byte) { copy(b, v.Data) }); err != nil {
			return err
		}
		existing := ctx.InspectVariable(v.Scope, v.Name)
		if existing != nil {
			if !existing.Shape().Equal(t.Shape()) {
				return fmt.Errorf("checkpoint: variable %s/%s has shape %s, the model's is %s", v.Scope, v.Name, t.Shape(), existing.Shape())
			}
			if err := existing.SetValue(t); err != nil {
				return err
			}
			continue
		}
		ctx.InAbsPath(v.Scope).Checked(false).VariableWithValue(v.Name, t).SetTrainable(v.Trainable)
	}
	return nil
}
