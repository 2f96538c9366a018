package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/confcal/backend"
)

// Values and gradients as PyTorch's: the gradient at exactly 0 is 0 for ReLU and the slope for
// LeakyReLU (both take the x ≤ 0 branch there); a NaN propagates with the upstream gradient for
// ReLU (threshold_backward) and slope times it for LeakyReLU.
func TestReLUAndLeakyReLU(t *testing.T) {
	nan := math.NaN()
	x := []float64{-2, -0.5, math.Copysign(0, -1), 0, 0.25, 3, nan, -1e-30}
	for _, tc := range []struct {
		name           string
		fn             func(*Node) *Node
		wantY, wantGrd []float64
	}{
		{"ReLU", ReLU, []float64{0, 0, 0, 0, 0.25, 3, nan, 0}, []float64{0, 0, 0, 0, 1, 1, 1, 0}},
		{"LeakyReLU(0.2)", func(x *Node) *Node { return LeakyReLU(x, 0.2) },
			[]float64{-0.4, -0.1, 0, 0, 0.25, 3, nan, -2e-31}, []float64{0.2, 0.2, 0.2, 0.2, 1, 1, 0.2, 0.2}},
		{"LeakyReLU(0.01)", func(x *Node) *Node { return LeakyReLU(x, 0.01) },
			[]float64{-0.02, -0.005, 0, 0, 0.25, 3, nan, -1e-32}, []float64{0.01, 0.01, 0.01, 0.01, 1, 1, 0.01, 0.01}},
	} {
		for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			t.Run(fmt.Sprintf("%s_%s", tc.name, dtype), func(t *testing.T) {
				outs := MustExecOnceN(backend.Must(), func(x *Node) []*Node {
					y := tc.fn(x)
					return []*Node{y, Gradient(ReduceAllSum(y), x)[0]}
				}, layerTensor(x, dtype, 2, 4))
				tol := 1e-15
				if dtype == dtypes.Float32 {
					tol = 1e-7
				}
				layerAssertClose(t, "y", layerFlat64(outs[0]), tc.wantY, tol)
				layerAssertClose(t, "dy/dx", layerFlat64(outs[1]), tc.wantGrd, tol)
			})
		}
	}
}

// Forward and gradient graphs use only ops the default backend lists.
func TestReLUOpsSupported(t *testing.T) {
	be := backend.Must()
	for name, fn := range map[string]func(*Node) *Node{
		"ReLU":      ReLU,
		"LeakyReLU": func(x *Node) *Node { return LeakyReLU(x, 0.2) },
	} {
		g := NewGraph(be, "act")
		x := Parameter(g, "x", shapes.Make(dtypes.Float32, 3, 4))
		y := fn(x)
		Gradient(ReduceAllSum(Mul(y, y)), x)
		if got := UnsupportedOps(g, be); len(got) != 0 {
			t.Errorf("%s: ops outside %s's capabilities: %v", name, be.Name(), got)
		}
		g.Finalize()
	}
}
