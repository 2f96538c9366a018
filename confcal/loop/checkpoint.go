package loop

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/internal/atomicfile"
)

// checkpointMagic starts every checkpoint file (and changes with its layout): the magic, the
// SHA-256 of the rest of the file (32 bytes), then the gob-encoded Checkpoint. Files of the first
// layout (checkpointMagicV1, no checksum) are still read, with every other check.
const (
	checkpointMagic   = "confcal-checkpoint-v2\n"
	checkpointMagicV1 = "confcal-checkpoint-v1\n"
)

// Checkpoint is the saved state of a training run after a whole number of epochs: every variable of
// the context (weights, batch-norm statistics, optimizer moments, steps and learning rates, the
// random-number state) and what the run needs to go on where it stopped.
type Checkpoint struct {
	Epoch        int       // epochs completed
	Key          string    // the run's key (its configuration); a checkpoint of another run is refused
	EpochSeconds []float64 // wall time of each completed epoch
	// Losses are the losses of the last step before the checkpoint (absent from older files).
	Losses []float64
	Vars   []SavedVar
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
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(&c); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	sum := sha256.Sum256(body.Bytes())
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		for _, b := range [][]byte{[]byte(checkpointMagic), sum[:], body.Bytes()} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrNoCheckpoint is returned by LoadCheckpoint when there is no checkpoint file.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ReadCheckpoint reads and checks a checkpoint file; a missing file is ErrNoCheckpoint. The checks,
// each an error naming the file: the header, the SHA-256 of the contents (any change to the file
// is caught), and what Validate checks.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, err
	}
	var body []byte
	switch {
	case bytes.HasPrefix(data, []byte(checkpointMagic)):
		rest := data[len(checkpointMagic):]
		if len(rest) < sha256.Size {
			return nil, fmt.Errorf("checkpoint %s: corrupt: truncated (%d bytes)", path, len(data))
		}
		want, got := rest[:sha256.Size], sha256.Sum256(rest[sha256.Size:])
		if !bytes.Equal(want, got[:]) {
			return nil, fmt.Errorf("checkpoint %s: corrupt: SHA-256 of the contents %x, the file says %x (changed or damaged after it was written)", path, got, want)
		}
		body = rest[sha256.Size:]
	case bytes.HasPrefix(data, []byte(checkpointMagicV1)):
		body = data[len(checkpointMagicV1):] // the first layout had no checksum
	default:
		return nil, fmt.Errorf("checkpoint %s: not a confcal checkpoint (bad header)", path)
	}
	c, err := decodeCheckpoint(body)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: corrupt: %v", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}

// decodeCheckpoint decodes the gob encoding of a Checkpoint, turning a panic of the decoder on
// damaged input into an error.
func decodeCheckpoint(body []byte) (c *Checkpoint, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("undecodable: %v", r)
		}
	}()
	c = &Checkpoint{}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(c); err != nil {
		return nil, err
	}
	return c, nil
}

// savedDTypes are the data types a checkpoint's variables may have.
var savedDTypes = map[dtypes.DType]bool{
	dtypes.Bool: true, dtypes.Int8: true, dtypes.Int16: true, dtypes.Int32: true, dtypes.Int64: true,
	dtypes.Uint8: true, dtypes.Uint16: true, dtypes.Uint32: true, dtypes.Uint64: true,
	dtypes.Float16: true, dtypes.BFloat16: true, dtypes.Float32: true, dtypes.Float64: true,
}

// maxDim is the largest dimension a saved variable may have.
const maxDim = 1 << 31

// Validate checks what a checkpoint holds: an epoch count of 0 or more with as many finite,
// non-negative epoch times, and variables with a scope ("/…") and a name, each once, a numeric or
// boolean data type, dimensions 0 to 2³¹ and exactly the bytes their shape needs. The errors say
// which variable and what was expected.
func (c *Checkpoint) Validate() error {
	if c.Epoch < 0 {
		return fmt.Errorf("epoch %d, want 0 or more", c.Epoch)
	}
	if len(c.EpochSeconds) != c.Epoch {
		return fmt.Errorf("%d epoch times for %d epochs", len(c.EpochSeconds), c.Epoch)
	}
	for i, s := range c.EpochSeconds {
		if !(s >= 0) || math.IsInf(s, 0) {
			return fmt.Errorf("epoch %d took %v s, want a finite time ≥ 0", i+1, s)
		}
	}
	seen := map[string]bool{}
	for i, v := range c.Vars {
		id := v.Scope + "/" + v.Name
		if !strings.HasPrefix(v.Scope, "/") || v.Name == "" {
			return fmt.Errorf("variable #%d: scope %q and name %q, want an absolute scope (\"/…\") and a name", i+1, v.Scope, v.Name)
		}
		if seen[id] {
			return fmt.Errorf("variable %s saved twice", id)
		}
		seen[id] = true
		if !savedDTypes[v.DType] {
			return fmt.Errorf("variable %s: data type %s, want a numeric or boolean one", id, v.DType)
		}
		size := uint64(v.DType.Size())
		for _, d := range v.Dims {
			if d < 0 || d > maxDim {
				return fmt.Errorf("variable %s: dimensions %v, want each in [0, %d]", id, v.Dims, maxDim)
			}
			if size != 0 && uint64(d) > math.MaxInt64/size {
				return fmt.Errorf("variable %s: dimensions %v are too large", id, v.Dims)
			}
			size *= uint64(d)
		}
		if size != uint64(len(v.Data)) {
			return fmt.Errorf("variable %s holds %d bytes, its shape %s%v needs %d", id, len(v.Data), v.DType, v.Dims, size)
		}
	}
	return nil
}

// Restore sets (creating them where needed) the checkpoint's variables in ctx, so that the graphs
// built afterwards start from them. The checkpoint is validated first (Validate).
func (c *Checkpoint) Restore(ctx *context.Context) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
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
