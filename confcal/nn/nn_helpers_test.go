package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/confcal/backend"
)

// Shared test helpers of package nn: float64 arrays, running graphs on the project's backend,
// gradient checks by central finite differences and op-support checks.

// arr is a dense float64 array in row-major order.
type arr struct {
	dims []int
	data []float64
}

// newArr returns a zero array of the given dimensions.
func newArr(dims ...int) arr {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return arr{dims: append([]int(nil), dims...), data: make([]float64, n)}
}

// randArr returns an array of the given dimensions with values uniform in [-1, 1).
func randArr(rng *rand.Rand, dims ...int) arr {
	a := newArr(dims...)
	for i := range a.data {
		a.data[i] = 2*rng.Float64() - 1
	}
	return a
}

// at4 returns the flat offset of [i, j, k, l] in a rank-4 array.
func (a arr) at4(i, j, k, l int) int {
	return ((i*a.dims[1]+j)*a.dims[2]+k)*a.dims[3] + l
}

// tensor returns a as a float64 tensor.
func (a arr) tensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), a.data...), a.dims...)
}

// fromTensor returns the float64 tensor t as an arr.
func fromTensor(t *tensors.Tensor) arr {
	return arr{dims: t.Shape().Dimensions, data: tensors.MustCopyFlatData[float64](t)}
}

// dotArr returns Σ a⊙b.
func dotArr(a, b arr) float64 {
	s := 0.0
	for i := range a.data {
		s += a.data[i] * b.data[i]
	}
	return s
}

// testBackend returns the project's default backend (pure Go unless $GOMLX_BACKEND says otherwise).
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := backend.New()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

// opFn is a graph function of some inputs with one output.
type opFn = func(inputs []*Node) *Node

// evalOp runs fn on the inputs (float64) and returns its output.
func evalOp(t testing.TB, fn opFn, inputs ...arr) arr {
	t.Helper()
	exec, err := NewExec(testBackend(t), fn)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer exec.Finalize()
	out, err := exec.Exec(tensorsOf(inputs)...)
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return fromTensor(out[0])
}

func tensorsOf(inputs []arr) []any {
	ts := make([]any, len(inputs))
	for i, a := range inputs {
		ts[i] = a.tensor()
	}
	return ts
}

// assertClose fails unless got and want have the same dimensions and agree elementwise within
// tol*(1 + max|want|).
func assertClose(t testing.TB, name string, got, want arr, tol float64) {
	t.Helper()
	if fmt.Sprint(got.dims) != fmt.Sprint(want.dims) {
		t.Fatalf("%s: dims %v, want %v", name, got.dims, want.dims)
	}
	scale := 1.0
	for _, v := range want.data {
		scale = math.Max(scale, math.Abs(v))
	}
	worst, worstAt := 0.0, -1
	for i := range want.data {
		if d := math.Abs(got.data[i] - want.data[i]); !(d <= worst) {
			worst, worstAt = d, i
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		t.Fatalf("%s: max |got-want| = %.3g at flat index %d (got %.9g, want %.9g), tolerance %.3g",
			name, worst, worstAt, got.data[worstAt], want.data[worstAt], tol*scale)
	}
}

// checkGradients compares the gradient of L = Σ R ⊙ fn(inputs) (R a fixed random array of fn's output
// shape) with respect to every input, computed by the graph (Gradient), with central finite
// differences of L with step h, to within tol (relative to the largest gradient component, min 1).
// It also requires the forward+gradient graph to use only ops the backend supports, and returns
// the sorted names of the node types of that graph.
func checkGradients(t *testing.T, rng *rand.Rand, fn opFn, h, tol float64, inputs ...arr) string {
	t.Helper()
	b := testBackend(t)
	outDims := evalOp(t, fn, inputs...).dims
	r := randArr(rng, outDims...)
	loss := func(in []*Node) *Node {
		return ReduceAllSum(Mul(fn(in), ConstTensor(in[0].Graph(), r.tensor())))
	}

	// Analytic gradients.
	gradExec, err := NewExec(b, func(in []*Node) []*Node {
		return Gradient(loss(in), in...)
	})
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer gradExec.Finalize()
	grads, g, err := gradExec.ExecWithGraph(tensorsOf(inputs)...)
	if err != nil {
		t.Fatalf("gradient Exec: %v", err)
	}
	if bad := UnsupportedOps(g, b); len(bad) > 0 {
		t.Errorf("forward+gradient graph uses ops the backend %q lacks: %v", b.Name(), bad)
	}
	ops := opNames(g)

	// Finite differences.
	lossExec, err := NewExec(b, loss)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	defer lossExec.Finalize()
	evalLoss := func(in []arr) float64 {
		out, err := lossExec.Exec(tensorsOf(in)...)
		if err != nil {
			t.Fatalf("loss Exec: %v", err)
		}
		return tensors.MustCopyFlatData[float64](out[0])[0]
	}
	for k := range inputs {
		num := newArr(inputs[k].dims...)
		perturbed := append([]arr(nil), inputs...)
		pert := arr{dims: inputs[k].dims, data: append([]float64(nil), inputs[k].data...)}
		perturbed[k] = pert
		for i := range pert.data {
			v := pert.data[i]
			pert.data[i] = v + h
			lp := evalLoss(perturbed)
			pert.data[i] = v - h
			lm := evalLoss(perturbed)
			pert.data[i] = v
			num.data[i] = (lp - lm) / (2 * h)
		}
		assertClose(t, fmt.Sprintf("dL/d input #%d", k), fromTensor(grads[k]), num, tol)
	}
	return ops
}

// opNames returns the sorted, distinct node types of g.
func opNames(g *Graph) string {
	seen := map[string]bool{}
	var names []string
	for _, node := range g.Nodes() {
		name := node.Type().String()
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// capsBackend is a backend whose advertised capabilities are replaced, to test UnsupportedOps.
type capsBackend struct {
	backends.Backend
	caps backends.Capabilities
}

func (c capsBackend) Capabilities() backends.Capabilities { return c.caps }

// withoutOps returns b advertising all its capabilities except the given ops.
func withoutOps(b backends.Backend, ops ...backends.OpType) backends.Backend {
	reduced := b.Capabilities().Clone()
	for _, op := range ops {
		delete(reduced.Operations, op)
	}
	return capsBackend{Backend: b, caps: reduced}
}
