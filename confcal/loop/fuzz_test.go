package loop

import (
	"bytes"
	"encoding/gob"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// FuzzCheckpointBody feeds arbitrary bytes to the checkpoint decoder behind the checksum (as a
// writer who recomputes the checksum could): decoding, Validate and, for what passes, Restore must
// return errors, never panic, and a validated checkpoint must restore.
func FuzzCheckpointBody(f *testing.F) {
	for _, c := range []*Checkpoint{
		{Epoch: 1, Key: "k", EpochSeconds: []float64{2}, Vars: []SavedVar{{Scope: "/n", Name: "w", DType: dtypes.Float32, Dims: []int{2}, Data: make([]byte, 8)}}},
		{Epoch: 0, Vars: []SavedVar{{Scope: "/", Name: "s", DType: dtypes.Int64, Data: make([]byte, 8)}}},
	} {
		var b bytes.Buffer
		gob.NewEncoder(&b).Encode(c)
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeCheckpoint(body)
		if err != nil || c.Validate() != nil {
			return
		}
		total := 0
		for _, v := range c.Vars {
			total += len(v.Data)
		}
		if total > len(body) {
			t.Fatalf("%d bytes of variables from a %d-byte body", total, len(body))
		}
		if err := c.Restore(context.New()); err != nil {
			t.Fatalf("a validated checkpoint does not restore: %v", err)
		}
	})
}
