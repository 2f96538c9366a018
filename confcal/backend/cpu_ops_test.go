package backend

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestCPUOpsMatchSimplego runs each replaced op on the "cpu" backend and on plain simplego ("go",
// an independent implementation) and compares, and checks that the replacement ran.
func TestCPUOpsMatchSimplego(t *testing.T) {
	cpu, plain := cpuAndPlain(t)
	rng := rand.New(rand.NewPCG(5, 6))
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x := values(2 * 3 * 4 * 5) // [2, 3, 4, 5]
	c := values(3)             // per-channel [1, 3, 1, 1]
	rows := values(7 * 6)      // [7, 6]
	idx := []int32{6, 0, 3, 3, 1}
	base, y := values(7*6), values(len(x))
	tests := []struct {
		name string
		op   backends.OpType
		fn   func(g *Graph) *Node
	}{
		{"transpose NCHW→NHWC", backends.OpTypeTranspose, func(g *Graph) *Node {
			return TransposeAllAxes(Reshape(Const(g, x), 2, 3, 4, 5), 0, 2, 3, 1)
		}},
		{"gather rows", backends.OpTypeGather, func(g *Graph) *Node {
			return Gather(Reshape(Const(g, rows), 7, 6), Reshape(Const(g, idx), 5, 1))
		}},
		{"scatter-add rows", backends.OpTypeScatterSum, func(g *Graph) *Node {
			upd := Reshape(Const(g, rows[:5*6]), 5, 6)
			return ScatterSum(Reshape(Const(g, base), 7, 6), Reshape(Const(g, idx), 5, 1), upd, false, false)
		}},
		{"add broadcast", backends.OpTypeAdd, func(g *Graph) *Node {
			return Add(Reshape(Const(g, x), 2, 3, 4, 5), Reshape(Const(g, c), 1, 3, 1, 1))
		}},
		{"sub scalar", backends.OpTypeSub, func(g *Graph) *Node { return Sub(Scalar(g, dtypes.Float32, 1.5), Const(g, x)) }},
		{"mul", backends.OpTypeMul, func(g *Graph) *Node { return Mul(Const(g, x), Const(g, x)) }},
		{"div broadcast", backends.OpTypeDiv, func(g *Graph) *Node {
			return Div(Reshape(Const(g, x), 2, 3, 4, 5), Reshape(Const(g, c), 1, 3, 1, 1))
		}},
		{"max", backends.OpTypeMax, func(g *Graph) *Node { return Max(Const(g, x), ScalarZero(g, dtypes.Float32)) }},
		{"min", backends.OpTypeMin, func(g *Graph) *Node { return Min(Const(g, x), Const(g, y)) }},
		{"broadcast in dim", backends.OpTypeBroadcastInDim, func(g *Graph) *Node {
			return BroadcastToDims(Reshape(Const(g, c), 1, 3, 1, 1), 2, 3, 4, 5)
		}},
		{"reduce sum (batch norm axes)", backends.OpTypeReduceSum, func(g *Graph) *Node {
			return ReduceSum(Reshape(Const(g, x), 2, 3, 4, 5), 0, 2, 3)
		}},
		{"reduce max (classes)", backends.OpTypeReduceMax, func(g *Graph) *Node {
			return ReduceMax(Reshape(Const(g, x), 6, 20), -1)
		}},
		{"where", backends.OpTypeWhere, func(g *Graph) *Node {
			v := Const(g, x)
			return Where(GreaterThan(v, ScalarZero(g, dtypes.Float32)), v, ZerosLike(v))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast0, _ := CPUOpCounts(tc.op)
			got := MustExecOnce(cpu, tc.fn)
			fast1, _ := CPUOpCounts(tc.op)
			want := MustExecOnce(plain, tc.fn)
			if fast1 == fast0 {
				t.Errorf("the replacement of %s did not run", tc.op)
			}
			if !got.Shape().Equal(want.Shape()) {
				t.Fatalf("shape %s, simplego %s", got.Shape(), want.Shape())
			}
			g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
			for i := range w {
				if math.Abs(float64(g[i]-w[i])) > 1e-5*(1+math.Abs(float64(w[i]))) {
					t.Fatalf("[%d] = %g, simplego gives %g", i, g[i], w[i])
				}
			}
		})
	}
}

// TestCPUGatherOutOfRangeFallsBack checks that an index out of range goes to simplego, which clamps
// it as XLA does, rather than failing.
func TestCPUGatherOutOfRangeFallsBack(t *testing.T) {
	cpu, err := NewWithConfig(Default)
	if err != nil {
		t.Fatal(err)
	}
	_, slow0 := CPUOpCounts(backends.OpTypeGather)
	out := MustExecOnce(cpu, func(g *Graph) *Node {
		return Gather(Const(g, [][]float32{{1, 2}, {3, 4}}), Const(g, [][]int32{{5}}))
	})
	if _, slow1 := CPUOpCounts(backends.OpTypeGather); slow1 != slow0+1 {
		t.Errorf("fallback count %d → %d", slow0, slow1)
	}
	if got := tensors.MustCopyFlatData[float32](out); got[0] != 3 || got[1] != 4 {
		t.Errorf("clamped gather = %v, want [3 4]", got)
	}
}
