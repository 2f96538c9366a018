package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/backend"
)

// guidedCase evaluates y = relu(x) and dL/dx for L = Σ r ⊙ y, where relu is built by build.
func guidedCase(t *testing.T, build func(ctx *context.Context, x *Node) *Node, setup func(ctx *context.Context, g *Graph), x, r []float64) (y, grad []float64) {
	t.Helper()
	ctx := context.New()
	exec, err := context.NewExec(backend.Must(), ctx, func(ctx *context.Context, x, r *Node) []*Node {
		if setup != nil {
			setup(ctx, x.Graph())
		}
		y := build(ctx.In("layer"), x)
		return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Exec(layerTensor(x, dtypes.Float32, len(x)), layerTensor(r, dtypes.Float32, len(r)))
	if err != nil {
		t.Fatal(err)
	}
	return layerFlat64(outs[0]), layerFlat64(outs[1])
}

// Inputs of both signs, zeros and a NaN against upstream gradients of both signs and zero.
var (
	guidedX = []float64{-2, -0.5, 0, math.Copysign(0, -1), 0.25, 3, 1.5, 0.75, math.NaN(), 2}
	guidedR = []float64{1, -1, 2, 2, 0.5, -3, 0, 4, 2, -0.5}
	// ReLU's gradient: r where x > 0 (and at NaN, as threshold_backward), 0 elsewhere.
	plainGrad = []float64{0, 0, 0, 0, 0.5, -3, 0, 4, 2, -0.5}
	// Guided: also 0 where r < 0.
	guidedGrad = []float64{0, 0, 0, 0, 0.5, 0, 0, 4, 2, 0}
)

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestGuidedReLU(t *testing.T) {
	wantY, _ := guidedCase(t, func(_ *context.Context, x *Node) *Node { return ReLU(x) }, nil, guidedX, guidedR)
	y, grad := guidedCase(t, func(_ *context.Context, x *Node) *Node { return GuidedReLU(x) }, nil, guidedX, guidedR)
	if !sameBits(y, wantY) {
		t.Errorf("GuidedReLU forward %v, ReLU %v: not bit-identical", y, wantY)
	}
	layerAssertClose(t, "guided dL/dx", grad, guidedGrad, 0)
}

// ReLUCtx is ReLU unless ParamGuidedReLU says otherwise; a graph parameter overrides the context
// parameter; both are found from sub-scopes; the forward values never change.
func TestReLUCtxModes(t *testing.T) {
	relu, _ := guidedCase(t, func(_ *context.Context, x *Node) *Node { return ReLU(x) }, nil, guidedX, guidedR)
	for _, tc := range []struct {
		name   string
		setup  func(ctx *context.Context, g *Graph)
		guided bool
	}{
		{"unset", nil, false},
		{"context param true", func(ctx *context.Context, _ *Graph) { ctx.SetParam(ParamGuidedReLU, true) }, true},
		{"context param false", func(ctx *context.Context, _ *Graph) { ctx.SetParam(ParamGuidedReLU, false) }, false},
		{"SetGuided true", func(ctx *context.Context, g *Graph) { SetGuided(ctx, g, true) }, true},
		{"SetGuided false over context param true", func(ctx *context.Context, g *Graph) {
			ctx.SetParam(ParamGuidedReLU, true)
			SetGuided(ctx.In("elsewhere"), g, false)
		}, false},
		{"context param in another scope", func(ctx *context.Context, _ *Graph) {
			ctx.In("other").SetParam(ParamGuidedReLU, true)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, grad := guidedCase(t, ReLUCtx, tc.setup, guidedX, guidedR)
			if !sameBits(y, relu) {
				t.Errorf("forward %v, ReLU %v: not bit-identical", y, relu)
			}
			want := plainGrad
			if tc.guided {
				want = guidedGrad
			}
			layerAssertClose(t, "dL/dx", grad, want, 0)
		})
	}
}

// The guided ReLU's forward and gradient graph uses only ops the default backend lists.
func TestGuidedReLUOpsSupported(t *testing.T) {
	be := backend.Must()
	for _, dtype := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
		g := NewGraph(be, fmt.Sprintf("guided_%s", dtype))
		x := Parameter(g, "x", shapes.Make(dtype, 3, 4))
		y := GuidedReLU(x)
		Gradient(ReduceAllSum(Mul(y, y)), x)
		if got := UnsupportedOps(g, be); len(got) != 0 {
			t.Errorf("%s: ops outside %s's capabilities: %v", dtype, be.Name(), got)
		}
		g.Finalize()
	}
}
