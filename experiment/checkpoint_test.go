package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/dataset"
)

// writeRawCheckpoint writes c in the checkpoint layout with a correct checksum, as a hostile user
// who knows the format could.
func writeRawCheckpoint(t *testing.T, path string, c *Checkpoint) {
	t.Helper()
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(c); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body.Bytes())
	data := append(append([]byte(checkpointMagic), sum[:]...), body.Bytes()...)
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// smallCheckpoint saves a context of three small variables and returns the file's bytes.
func smallCheckpoint(t *testing.T) []byte {
	t.Helper()
	ctx := context.New()
	ctx.In("net").VariableWithValue("w", [][]float32{{1, 2}, {3, 4}})
	ctx.In("net").VariableWithValue("b", []float32{0.5})
	ctx.In("opt").VariableWithValue("step", int64(7))
	p := filepath.Join(t.TempDir(), "c.bin")
	if err := SaveCheckpoint(p, ctx, Checkpoint{Epoch: 2, Key: "k", EpochSeconds: []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCheckpoint(p); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCheckpointBitFlips: every single-bit change of a checkpoint file is an error (none panics,
// none is accepted), and so is every truncation.
func TestCheckpointBitFlips(t *testing.T) {
	data := smallCheckpoint(t)
	p := filepath.Join(t.TempDir(), "flipped.bin")
	accepted := 0
	for bit := range 8 * len(data) {
		b := bytes.Clone(data)
		b[bit/8] ^= 1 << (bit % 8)
		os.WriteFile(p, b, 0o644)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("bit %d: ReadCheckpoint panicked: %v", bit, r)
				}
			}()
			if _, err := ReadCheckpoint(p); err == nil {
				accepted++
			} else if !strings.Contains(err.Error(), p) {
				t.Fatalf("bit %d: error %q does not name the file", bit, err)
			}
		}()
	}
	if accepted > 0 {
		t.Errorf("%d of %d single-bit changes accepted", accepted, 8*len(data))
	}
	t.Logf("%d single-bit changes of a %d-byte checkpoint: %d accepted", 8*len(data), len(data), accepted)
	for n := range len(data) {
		os.WriteFile(p, data[:n], 0o644)
		if _, err := ReadCheckpoint(p); err == nil {
			t.Fatalf("truncated to %d of %d bytes: accepted", n, len(data))
		}
	}
}

// TestCheckpointV1BitFlips: files of the first layout (no checksum) are still read; a changed bit
// there can go unnoticed, but none makes ReadCheckpoint panic, and what it accepts is valid.
func TestCheckpointV1BitFlips(t *testing.T) {
	data := smallCheckpoint(t)
	v1 := append([]byte(checkpointMagicV1), data[len(checkpointMagic)+sha256.Size:]...)
	p := filepath.Join(t.TempDir(), "v1.bin")
	os.WriteFile(p, v1, 0o644)
	if c, err := ReadCheckpoint(p); err != nil || c.Epoch != 2 || len(c.Vars) != 3 {
		t.Fatalf("the first layout: %v", err)
	}
	for bit := len(checkpointMagicV1) * 8; bit < 8*len(v1); bit++ {
		b := bytes.Clone(v1)
		b[bit/8] ^= 1 << (bit % 8)
		os.WriteFile(p, b, 0o644)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("bit %d: ReadCheckpoint panicked: %v", bit, r)
				}
			}()
			if c, err := ReadCheckpoint(p); err == nil {
				if err := c.Validate(); err != nil {
					t.Fatalf("bit %d: accepted an invalid checkpoint: %v", bit, err)
				}
				if err := c.Restore(context.New()); err != nil {
					t.Fatalf("bit %d: accepted, but Restore fails: %v", bit, err)
				}
			}
		}()
	}
}

// TestCheckpointValidation: a checkpoint with a correct checksum but impossible contents is refused
// by ReadCheckpoint and by Restore, with an error saying what is wrong; none panics.
func TestCheckpointValidation(t *testing.T) {
	good := func() *Checkpoint {
		return &Checkpoint{Epoch: 1, Key: "k", EpochSeconds: []float64{3},
			Vars: []SavedVar{{Scope: "/net", Name: "w", DType: dtypes.Float32, Dims: []int{2}, Data: make([]byte, 8)}}}
	}
	for _, tc := range []struct {
		name   string
		change func(c *Checkpoint)
		want   string
	}{
		{"negative-epoch", func(c *Checkpoint) { c.Epoch = -3 }, "epoch -3"},
		{"epoch-times", func(c *Checkpoint) { c.EpochSeconds = nil }, "0 epoch times for 1 epochs"},
		{"nan-time", func(c *Checkpoint) { c.EpochSeconds[0] = math.NaN() }, "finite time"},
		{"negative-dim", func(c *Checkpoint) { c.Vars[0].Dims = []int{-2} }, "dimensions [-2]"},
		{"negative-dims-cancel", func(c *Checkpoint) { c.Vars[0].Dims = []int{-1, -2} }, "dimensions [-1 -2]"},
		{"overflowing-dims", func(c *Checkpoint) { c.Vars[0].Dims = []int{1 << 31, 1 << 31, 1 << 31} }, "too large"},
		{"huge-dim", func(c *Checkpoint) { c.Vars[0].Dims = []int{1 << 40} }, "want each in [0, 2147483648]"},
		{"bad-dtype", func(c *Checkpoint) { c.Vars[0].DType = dtypes.DType(200) }, "data type"},
		{"invalid-dtype", func(c *Checkpoint) { c.Vars[0].DType = dtypes.InvalidDType }, "data type"},
		{"wrong-size", func(c *Checkpoint) { c.Vars[0].Data = make([]byte, 7) }, "holds 7 bytes"},
		{"no-name", func(c *Checkpoint) { c.Vars[0].Name = "" }, "want an absolute scope"},
		{"twice", func(c *Checkpoint) { c.Vars = append(c.Vars, c.Vars[0]) }, "saved twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(c)
			p := filepath.Join(t.TempDir(), "c.bin")
			writeRawCheckpoint(t, p, c)
			if _, err := ReadCheckpoint(p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("ReadCheckpoint: %v, want an error naming %s and saying %q", err, p, tc.want)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("Restore panicked: %v", r)
					}
				}()
				if err := c.Restore(context.New()); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Restore: %v, want %q", err, tc.want)
				}
			}()
		})
	}
}

// TestCheckpointOfTheRun: a run refuses a checkpoint (with a valid checksum) whose epoch is outside
// 1…epochs, or that lacks variables the run has, whether it would resume or only evaluate.
func TestCheckpointOfTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small classifier")
	}
	cfg := tinyConfig(t, "regimes=ce;epochs=2")
	d := tinyData(t, cfg)
	b := backend.Must()
	runs := filepath.Join(t.TempDir(), "runs")
	key := cfg.RunKey(d, CrossEntropy)
	p := filepath.Join(runs, key, CheckpointFile)
	if _, err := Train(b, cfg, d, CrossEntropy, runs, nil); err != nil {
		t.Fatal(err)
	}
	full, err := ReadCheckpoint(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, epoch := range []int{-3, 0, 3} {
		c := *full
		c.Epoch, c.EpochSeconds = epoch, make([]float64, max(epoch, 0))
		writeRawCheckpoint(t, p, &c)
		if _, err := Train(b, cfg, d, CrossEntropy, runs, nil); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("epoch %d: %v, want an error naming %s", epoch, err, p)
		}
	}
	var half []SavedVar
	for i, v := range full.Vars {
		if i%2 == 0 {
			half = append(half, v)
		}
	}
	for _, epoch := range []int{1, 2} { // resuming, and a finished run being evaluated
		t.Run(fmt.Sprintf("half-the-variables-epoch-%d", epoch), func(t *testing.T) {
			c := *full
			c.Epoch, c.EpochSeconds, c.Vars = epoch, full.EpochSeconds[:epoch], half
			writeRawCheckpoint(t, p, &c)
			os.Remove(filepath.Join(runs, key, ResultFile))
			_, err := RunOne(b, cfg, d, CrossEntropy, filepath.Dir(runs), nil)
			if err == nil || !strings.Contains(err.Error(), p+" lacks variables the run has") {
				t.Errorf("%v, want an error saying %s lacks variables", err, p)
			}
		})
	}
}

// TestEmptySets: NewData refuses empty training, test and seen-OOD sets (they would panic later).
func TestEmptySets(t *testing.T) {
	cfg := tinyConfig(t, "regimes=ce")
	empty := func(name string) *dataset.Set { return &dataset.Set{C: 3, H: 32, W: 32, Name: name} }
	ood := map[string]*dataset.Set{"noise": must(dataset.GaussianNoise(50, 3, 32, 32, 5))}
	for _, tc := range []struct {
		name              string
		train, test, seen *dataset.Set
		want              string
	}{
		{"train", empty("e-train"), blobs(60, 4, 2, "t"), blobs(64, 0, 3, "s"), `"e-train" has no images`},
		{"test", blobs(96, 4, 1, "tr"), empty("e-test"), blobs(64, 0, 3, "s"), `"e-test" has no images`},
		{"seen", blobs(96, 4, 1, "tr"), blobs(60, 4, 2, "t"), empty("e-seen"), `seen OOD set "e-seen" has no images`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewData(cfg, "blobs", 4, tc.train, tc.test, tc.seen, "noise", ood, []string{"noise"}, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}
}
