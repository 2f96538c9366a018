package loop

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
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

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadCheckpoint(filepath.Join(dir, "none.bin")); err != ErrNoCheckpoint {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, []byte("hello"), 0o644)
	if _, err := ReadCheckpoint(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "bad header") {
		t.Errorf("bad header: %v", err)
	}
	trunc := filepath.Join(dir, "trunc.bin")
	os.WriteFile(trunc, []byte(checkpointMagic+"\x07\xff"), 0o644)
	if _, err := ReadCheckpoint(trunc); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("truncated: %v", err)
	}
}
