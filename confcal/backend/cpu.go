package backend

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/internal/cpuops"
	"github.com/confcal/confcal/internal/sgemm"
)

// CPUName is the name the project's CPU backend registers under: GOMLX_BACKEND=cpu[:options] (the
// options are simplego's; ops run in sequence unless they say ops_parallel). It is simplego, GoMLX's pure-Go backend, with
// every float32 matrix product (DotGeneral) computed by internal/sgemm: packed, cache-blocked, an
// AVX2/AVX-512 micro-kernel where the CPU has one, on all cores. On a 2-core AVX-512 VM that is
// 45–120 GFLOP/s against simplego's 2–6. The convolutions of the paper's models (ConvGeneral, see
// cpu_conv.go) run as im2col or col2im and one such product; max pooling (ReduceWindow) and the ops
// simplego lacks that their gradients use (SelectAndScatterMax, Reverse, Pad; cpu_builder.go) have
// executors of their own. Products it cannot take as strided matrices (an axis order that would
// need a transpose, another dtype) go to simplego's own kernel. GOMLX_BACKEND=go still selects
// plain simplego, which cannot run the gradients of the CNNs.
const CPUName = "cpu"

// cpuBackend is a simplego backend whose matrix products go to sgemm.
type cpuBackend struct {
	*simplego.Backend
}

// Name implements backends.Backend.
func (c cpuBackend) Name() string { return "confcal CPU (simplego + sgemm)" }

// String implements backends.Backend.
func (c cpuBackend) String() string { return CPUName }

// Description implements backends.Backend.
func (c cpuBackend) Description() string {
	return fmt.Sprintf("%s; matrix products by internal/sgemm, %s kernel (%s)", c.Backend.Description(), sgemm.Kernel(), CPUStatus())
}

// Finalize implements backends.Backend.
func (c cpuBackend) Finalize() {
	cpuBackends.Delete(c.Backend)
	c.Backend.Finalize()
}

var (
	cpuBackends      sync.Map // *simplego.Backend → struct{}: the backends that use the replacements
	simplegoInternal internals
	installErr       error // why the replacements are not installed, or nil
)

func init() {
	simplegoInternal, installErr = findInternals()
	if installErr == nil {
		installFastOps()
		installAddedOps()
	}
	backends.Register(CPUName, newCPU)
}

// cpuConfig returns simplego's options for the "cpu" backend's options: the same, with ops run in
// sequence unless they say ops_parallel or ops_sequential. (simplego's own default runs independent
// ops in parallel when the backend is idle; its scheduler then races, and on 2 cores it can
// deadlock. Each op of the cpu backend uses all cores anyway.)
func cpuConfig(config string) string {
	for _, opt := range strings.Split(config, ",") {
		if o := strings.TrimSpace(opt); o == "ops_parallel" || o == "ops_sequential" {
			return config
		}
	}
	if strings.TrimSpace(config) == "" {
		return "ops_sequential"
	}
	return config + ",ops_sequential"
}

// newCPU is the constructor registered for CPUName.
func newCPU(config string) (backends.Backend, error) {
	b, err := simplego.New(cpuConfig(config))
	if err != nil {
		return nil, err
	}
	sb, ok := b.(*simplego.Backend)
	if !ok {
		return nil, fmt.Errorf("simplego.New returned a %T", b)
	}
	cpuBackends.Store(sb, struct{}{})
	return cpuBackend{sb}, nil
}

// CPUStatus says whether the "cpu" backend's matrix products run on sgemm (and its transposes,
// gathers and scatters on cpuops), and if not why.
func CPUStatus() string {
	if installErr != nil {
		return "sgemm and cpuops not installed, simplego's kernels used: " + installErr.Error()
	}
	return "sgemm and cpuops installed"
}

// CPUOpCounts returns how many times the "cpu" backends have run op on the project's kernels
// (fast) and on simplego's (fallback) since the program started.
func CPUOpCounts(op backends.OpType) (fast, fallback int64) {
	return opCounts[op][0].Load(), opCounts[op][1].Load()
}

// sgemmDot runs a DotGeneral node on sgemm; ok is false (and nothing is allocated) when it cannot.
func sgemmDot(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (out *simplego.Buffer, ok bool, err error) {
	in := simplegoInternal
	if len(inputs) != 2 {
		return nil, false, nil
	}
	lhs, rhs := in.float32sOf(inputs[0]), in.float32sOf(inputs[1])
	if lhs == nil || rhs == nil {
		return nil, false, nil
	}
	p, err := readDotParams(in.nodeDataOf(node))
	if err != nil {
		return nil, false, nil
	}
	l, ok := layoutOf(in.bufShapeOf(inputs[0]).Dimensions, p.lhsBatch, p.lhsContracting)
	if !ok {
		return nil, false, nil
	}
	r, ok := layoutOf(in.bufShapeOf(inputs[1]).Dimensions, p.rhsBatch, p.rhsContracting)
	if !ok || l.batch.size != r.batch.size || l.contracting.size != r.contracting.size {
		return nil, false, nil
	}
	outShape := in.nodeShapeOf(node)
	batch, m, n, k := l.batch.size, l.cross.size, r.cross.size, l.contracting.size
	if outShape.Rank() != 3 || outShape.Dimensions[0] != batch || outShape.Dimensions[1] != m || outShape.Dimensions[2] != n {
		return nil, false, nil
	}
	out = simplegoGetBufferForShape(b, outShape)
	if out == nil {
		return nil, true, fmt.Errorf("DotGeneral: backend finalized")
	}
	dst := in.float32sOf(out)
	mul := func(i, workers int) error {
		a := sgemm.Matrix{Data: lhs[i*l.batch.stride:], Rows: m, Cols: k, RowStride: l.cross.stride, ColStride: l.contracting.stride}
		bm := sgemm.Matrix{Data: rhs[i*r.batch.stride:], Rows: k, Cols: n, RowStride: r.contracting.stride, ColStride: r.cross.stride}
		return sgemm.Mul(dst[i*m*n:(i+1)*m*n], a, bm, workers)
	}
	// One product at a time on all cores or, when there are several small ones, one per core.
	workers, spread := runtime.GOMAXPROCS(0), 1
	if batch > 1 && 2*m*n*k < sgemm.MinParallelFlops {
		workers, spread = 1, workers
	}
	errs := make([]error, batch)
	cpuops.Parallel(batch, spread, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			errs[i] = mul(i, workers)
		}
	})
	for _, e := range errs {
		if e != nil {
			return nil, true, fmt.Errorf("DotGeneral %s: %w", shapes.Make(outShape.DType, batch, m, n), e)
		}
	}
	return out, true, nil
}

// axisGroup is a group of axes of a row-major tensor read as one axis: size elements stride apart.
type axisGroup struct{ size, stride int }

// operandLayout is a DotGeneral operand seen as a strided [batch, cross, contracting] tensor.
type operandLayout struct{ batch, cross, contracting axisGroup }

// layoutOf returns how a row-major tensor of the given dimensions reads as [batch, cross,
// contracting] (batch axes in the order given, cross axes in increasing order, contracting axes in
// the order given, as simplego normalizes them), or ok = false when a group's axes are not laid out
// one after the other in that order (it would need a transpose).
func layoutOf(dims, batchAxes, contractingAxes []int) (layout operandLayout, ok bool) {
	strides := cpuops.RowMajorStrides(dims)
	role := make([]int, len(dims)) // 0 cross, 1 batch, 2 contracting
	for _, a := range batchAxes {
		if a < 0 || a >= len(dims) || role[a] != 0 {
			return layout, false
		}
		role[a] = 1
	}
	for _, a := range contractingAxes {
		if a < 0 || a >= len(dims) || role[a] != 0 {
			return layout, false
		}
		role[a] = 2
	}
	var cross []int
	for a, r := range role {
		if r == 0 {
			cross = append(cross, a)
		}
	}
	group := func(axes []int) (axisGroup, bool) {
		g := axisGroup{size: 1}
		last := -1
		for _, a := range axes {
			if dims[a] == 1 {
				continue // any stride will do
			}
			if last >= 0 && strides[last] != strides[a]*dims[a] {
				return g, false
			}
			g.size *= dims[a]
			last = a
		}
		if last >= 0 {
			g.stride = strides[last]
		}
		return g, true
	}
	var ok1, ok2, ok3 bool
	layout.batch, ok1 = group(batchAxes)
	layout.cross, ok2 = group(cross)
	layout.contracting, ok3 = group(contractingAxes)
	for _, d := range dims {
		if d == 0 {
			return layout, false // empty: let simplego handle it
		}
	}
	return layout, ok1 && ok2 && ok3
}
