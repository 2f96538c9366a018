package optim_test

import (
	"math"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/optim"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// adamRef is Adam as Kingma & Ba / PyTorch write it, in float64.
type adamRef struct {
	lr, b1, b2, eps float64
	m, v            []float64
	t               int
}

func (a *adamRef) step(w, g []float64) {
	if a.m == nil {
		a.m, a.v = make([]float64, len(w)), make([]float64, len(w))
	}
	a.t++
	for i := range w {
		a.m[i] = a.b1*a.m[i] + (1-a.b1)*g[i]
		a.v[i] = a.b2*a.v[i] + (1-a.b2)*g[i]*g[i]
		mh := a.m[i] / (1 - math.Pow(a.b1, float64(a.t)))
		vh := a.v[i] / (1 - math.Pow(a.b2, float64(a.t)))
		w[i] -= a.lr * mh / (math.Sqrt(vh) + a.eps)
	}
}

// Two "networks" a and b, each one vector; loss = Σ (a ⊙ b - c)². Updating a must leave b as it is
// and match the reference Adam; then updating b uses b's own state.
func TestAdamUpdatesOnlyItsNetwork(t *testing.T) {
	be := backend.Must()
	ctx := context.New()
	c := []float64{1, -2, 0.5}
	a0, b0 := []float32{0.3, -0.7, 1.2}, []float32{1.5, 0.4, -0.9}
	ctx.In("a").VariableWithValue("w", a0)
	ctx.In("b").VariableWithValue("w", b0)
	loss := func(ctx *context.Context, g *Graph) *Node {
		av := ctx.In("a").Reuse().VariableWithValue("w", a0).ValueGraph(g)
		bv := ctx.In("b").Reuse().VariableWithValue("w", b0).ValueGraph(g)
		return ReduceAllSum(Square(Sub(Mul(av, bv), Const(g, []float32{1, -2, 0.5}))))
	}
	optA := optim.Adam{Scope: "a", LearningRate: 0.01}
	optB := optim.Adam{Scope: "b", LearningRate: 0.05, Beta1: 0.5}
	stepA := context.MustNewExec(be, ctx, func(ctx *context.Context, g *Graph) *Node {
		l := loss(ctx, g)
		optA.Update(ctx, l)
		return l
	})
	stepB := context.MustNewExec(be, ctx, func(ctx *context.Context, g *Graph) *Node {
		l := loss(ctx, g)
		optB.Update(ctx, l)
		return l
	})
	refA := &adamRef{lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8}
	refB := &adamRef{lr: 0.05, b1: 0.5, b2: 0.999, eps: 1e-8}
	wa, wb := toF64(a0), toF64(b0)
	grads := func(self, other []float64) []float64 {
		g := make([]float64, len(self))
		for i := range self {
			g[i] = 2 * (self[i]*other[i] - c[i]) * other[i]
		}
		return g
	}
	get := func(scope string) []float64 {
		return toF64(tensors.MustCopyFlatData[float32](ctx.InspectVariable(scope, "w").MustValue()))
	}
	for i := 0; i < 5; i++ {
		stepA.MustExec()
		refA.step(wa, grads(wa, wb))
		assertClose(t, "a after a-step", get("/a"), wa)
		assertClose(t, "b after a-step", get("/b"), wb)
		if i%2 == 0 {
			stepB.MustExec()
			refB.step(wb, grads(wb, wa))
			assertClose(t, "a after b-step", get("/a"), wa)
			assertClose(t, "b after b-step", get("/b"), wb)
		}
	}
	if got := optim.Steps(ctx, "a"); got != 5 {
		t.Errorf("optimizer a made %d steps, want 5", got)
	}
	if got := optim.Steps(ctx, "b"); got != 3 {
		t.Errorf("optimizer b made %d steps, want 3", got)
	}
	// Changing the learning rate takes effect without recompiling.
	if err := optim.SetLearningRate(ctx, "a", 0.001); err != nil {
		t.Fatal(err)
	}
	refA.lr = 0.001
	stepA.MustExec()
	refA.step(wa, grads(wa, wb))
	assertClose(t, "a after lr change", get("/a"), wa)
	if lr, _ := optim.LearningRate(ctx, "a"); math.Abs(lr-0.001) > 1e-9 {
		t.Errorf("learning rate %v, want 0.001", lr)
	}
}

func TestAdamErrors(t *testing.T) {
	for _, bad := range []optim.Adam{{Scope: "", LearningRate: 1}, {Scope: "a/b", LearningRate: 1},
		{Scope: "a", LearningRate: 0}, {Scope: "a", LearningRate: math.NaN()}, {Scope: "a", LearningRate: 1, Beta1: 1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v should be invalid", bad)
		}
	}
	// A loss that touches no variable of the network fails with a clear error.
	ctx := context.New()
	ctx.In("a").VariableWithValue("w", float32(1))
	_, err := context.ExecOnce(backend.Must(), ctx, func(ctx *context.Context, g *Graph) *Node {
		l := Square(ctx.In("a").Reuse().VariableWithValue("w", float32(1)).ValueGraph(g))
		optim.Adam{Scope: "nosuchnet", LearningRate: 0.1}.Update(ctx, l)
		return l
	})
	if err == nil {
		t.Fatal("want an error for a network with no variables in the graph")
	}
	if err := optim.SetLearningRate(ctx, "never", 0.1); err == nil {
		t.Fatal("SetLearningRate before any step should fail")
	}
}

func TestInScope(t *testing.T) {
	for _, tc := range []struct {
		scope, net string
		want       bool
	}{{"/gen", "gen", true}, {"/gen/layer_0/dense", "gen", true}, {"/generator", "gen", false}, {"/a/gen", "gen", false}} {
		if got := optim.InScope(tc.scope, tc.net); got != tc.want {
			t.Errorf("InScope(%q,%q)=%v", tc.scope, tc.net, got)
		}
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func assertClose(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}
