package backend

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/confcal/confcal/internal/cpuops"
	"github.com/confcal/confcal/internal/fields"
	"github.com/confcal/confcal/internal/sgemm"
)

// ConvGeneral on the "cpu" backend, for float32 without channel or batch groups, in any axis layout,
// with any strides, paddings (negative ones crop), kernel dilations and input dilations. The result
// is computed as [Cout, B, O...] and transposed into the output's layout (no copy when that is
// already the layout), by one of two methods:
//
//   - without input dilation, im2col: the windows of the input are copied into a matrix of
//     Cin·ΠK × B·ΠO (or its transpose, whichever has the longer contiguous runs), which one sgemm
//     product multiplies by the kernel as a Cout × Cin·ΠK matrix. This is the forward convolution
//     and the input gradient of a convolution with input dilation (a transposed convolution).
//   - with input dilation (a transposed convolution, and the input gradient of a strided
//     convolution), col2im: one sgemm product of the kernel as a ΠK·Cout × Cin matrix by the input
//     as a Cin × B·ΠS matrix gives every input pixel's contribution to every kernel tap, which are
//     added onto the output pixels they land on. The zeros that input dilation inserts are never
//     multiplied.

// convSpec are the parameters of a ConvGeneral node.
type convSpec struct {
	axes                    backends.ConvolveAxesConfig
	strides, inDil, kerDil  []int
	pads                    [][2]int
	channelGroups, batchGrp int
}

// readConvSpec reads simplego's convNode (by reflection), with defaults filled in.
func readConvSpec(data any, spatial int) (s convSpec, ok bool) {
	f, ok := fields.Of(data)
	if !ok {
		return s, false
	}
	if !f.Copy("axes", &s.axes) || !f.Copy("strides", &s.strides) || !f.Copy("paddings", &s.pads) ||
		!f.Copy("inputDilations", &s.inDil) || !f.Copy("kernelDilations", &s.kerDil) {
		return s, false
	}
	var ok1, ok2 bool
	s.channelGroups, ok1 = f.Int("channelGroupCount")
	s.batchGrp, ok2 = f.Int("batchGroupCount")
	if !ok1 || !ok2 {
		return s, false
	}
	ones := func(v []int) []int {
		if len(v) == 0 {
			v = make([]int, spatial)
			for i := range v {
				v[i] = 1
			}
		}
		return v
	}
	s.strides, s.inDil, s.kerDil = ones(s.strides), ones(s.inDil), ones(s.kerDil)
	if len(s.pads) == 0 {
		s.pads = make([][2]int, spatial)
	}
	return s, len(s.strides) == spatial && len(s.inDil) == spatial && len(s.kerDil) == spatial && len(s.pads) == spatial &&
		len(s.axes.InputSpatial) == spatial && len(s.axes.KernelSpatial) == spatial && len(s.axes.OutputSpatial) == spatial
}

// convGeom is a convolution's sizes and parameters, per spatial axis j.
type convGeom struct {
	b, cin, cout int
	s, k, o      []int // input, kernel and output spatial sizes
	st, lo       []int // strides, low paddings
	dil, kdil    []int // input and kernel dilations
	xStr         []int // strides of the input's axes, row-major
	xb, xc       int   // input strides of the batch and channel axes
	xs           []int // input strides of the spatial axes
}

// tempBuffer returns a float32 scratch buffer of n elements from simplego's pool.
func tempBuffer(b *simplego.Backend, n int) (*simplego.Buffer, []float32) {
	buf := simplegoGetBufferForShape(b, shapes.Make(dtypes.Float32, n))
	if buf == nil {
		return nil, nil
	}
	return buf, simplegoInternal.float32sOf(buf)[:n]
}

// permuted returns data transposed so that its axes come in the order perm, in a scratch buffer
// (nil when perm is the identity and data is returned as is).
func permuted(b *simplego.Backend, data []float32, dims, perm []int) ([]float32, *simplego.Buffer, error) {
	identity := true
	for i, p := range perm {
		if p != i {
			identity = false
		}
	}
	if identity {
		return data, nil, nil
	}
	buf, dst := tempBuffer(b, len(data))
	if buf == nil {
		return nil, nil, fmt.Errorf("backend finalized")
	}
	return dst, buf, cpuops.Transpose(dst, data, dims, perm, 0)
}

// fastConvGeneral covers float32 ConvGeneral without groups.
func fastConvGeneral(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	if len(inputs) != 2 {
		return nil, false, nil
	}
	x, w := in.float32sOf(inputs[0]), in.float32sOf(inputs[1])
	xd, wd := in.bufShapeOf(inputs[0]).Dimensions, in.bufShapeOf(inputs[1]).Dimensions
	outShape := in.nodeShapeOf(node)
	od := outShape.Dimensions
	r := len(xd) - 2
	if x == nil || w == nil || r < 1 || len(wd) != len(xd) || len(od) != len(xd) {
		return nil, false, nil
	}
	spec, ok := readConvSpec(in.nodeDataOf(node), r)
	if !ok || spec.channelGroups != 1 || spec.batchGrp != 1 {
		return nil, false, nil
	}
	ax := spec.axes
	g := convGeom{b: xd[ax.InputBatch], cin: xd[ax.InputChannels], cout: wd[ax.KernelOutputChannels],
		st: spec.strides, dil: spec.inDil, kdil: spec.kerDil, xStr: cpuops.RowMajorStrides(xd)}
	if wd[ax.KernelInputChannels] != g.cin || od[ax.OutputBatch] != g.b || od[ax.OutputChannels] != g.cout {
		return nil, false, nil
	}
	g.xb, g.xc = g.xStr[ax.InputBatch], g.xStr[ax.InputChannels]
	hasDil := false
	for j := range r {
		g.s = append(g.s, xd[ax.InputSpatial[j]])
		g.k = append(g.k, wd[ax.KernelSpatial[j]])
		g.o = append(g.o, od[ax.OutputSpatial[j]])
		g.lo = append(g.lo, spec.pads[j][0])
		g.xs = append(g.xs, g.xStr[ax.InputSpatial[j]])
		if g.st[j] < 1 || g.dil[j] < 1 || g.kdil[j] < 1 {
			return nil, false, nil
		}
		// The output size must be the one these parameters give (else simplego decides).
		span := (g.s[j]-1)*g.dil[j] + 1 + spec.pads[j][0] + spec.pads[j][1] - (g.k[j]-1)*g.kdil[j] - 1
		if span < 0 || span/g.st[j]+1 != g.o[j] {
			return nil, false, nil
		}
		hasDil = hasDil || g.dil[j] > 1
	}
	if g.b*g.cin*g.cout == 0 || outShape.Size() == 0 {
		return nil, false, nil
	}

	// T is the result as [Cout, B, O...]: the output itself when that is its layout.
	tDims := append([]int{g.cout, g.b}, g.o...)
	outPerm := make([]int, len(od)) // output axis a is T's axis outPerm[a]
	outPerm[ax.OutputChannels], outPerm[ax.OutputBatch] = 0, 1
	for j, a := range ax.OutputSpatial {
		outPerm[a] = 2 + j
	}
	direct := true
	for i, p := range outPerm {
		direct = direct && p == i
	}
	out := simplegoGetBufferForShape(b, outShape)
	if out == nil {
		return nil, true, fmt.Errorf("ConvGeneral: backend finalized")
	}
	t := in.float32sOf(out)
	var tBuf *simplego.Buffer
	if !direct {
		if tBuf, t = tempBuffer(b, outShape.Size()); tBuf == nil {
			return nil, true, fmt.Errorf("ConvGeneral: backend finalized")
		}
		defer simplegoPutBuffer(b, tBuf)
	}
	var err error
	if hasDil {
		err = convCol2im(b, g, ax, x, xd, w, wd, t)
	} else {
		err = convIm2col(b, g, ax, x, w, wd, t)
	}
	if err == nil && !direct {
		err = cpuops.Transpose(in.float32sOf(out), t, tDims, outPerm, 0)
	}
	if err != nil {
		return nil, true, fmt.Errorf("ConvGeneral %s: %w", outShape, err)
	}
	return out, true, nil
}

// prod returns the product of v.
func prod(v []int) int {
	n := 1
	for _, x := range v {
		n *= x
	}
	return n
}

// floorDiv is ⌊x/a⌋ for a > 0.
func floorDiv(x, a int) int {
	if x >= 0 {
		return x / a
	}
	return -((-x + a - 1) / a)
}

// validRange returns the t in [0, n) with 0 ≤ a·t + c < size (a > 0), as [t0, t1).
func validRange(a, c, size, n int) (t0, t1 int) {
	t0 = max(0, -floorDiv(c, a)) // ⌈−c/a⌉
	t1 = min(n, floorDiv(size-1-c, a)+1)
	return t0, max(t0, t1)
}

// convIm2col computes t [Cout, B·ΠO] = kernel [Cout, Cin·ΠK] · im2col(x) for an input without
// dilation.
func convIm2col(b *simplego.Backend, g convGeom, ax backends.ConvolveAxesConfig, x, w []float32, wd []int, t []float32) error {
	r := len(g.s)
	kdim, m := g.cin*prod(g.k), g.b*prod(g.o)
	perm := append([]int{ax.KernelOutputChannels, ax.KernelInputChannels}, ax.KernelSpatial...)
	kt, kBuf, err := permuted(b, w, wd, perm)
	if err != nil {
		return err
	}
	if kBuf != nil {
		defer simplegoPutBuffer(b, kBuf)
	}
	colsBuf, cols := tempBuffer(b, kdim*m)
	if colsBuf == nil {
		return fmt.Errorf("backend finalized")
	}
	defer simplegoPutBuffer(b, colsBuf)
	a := sgemm.RowMajor(kt, g.cout, kdim)
	var bm sgemm.Matrix
	if g.o[r-1] >= g.k[r-1] {
		// Rows (ci, k...), runs along the output's last spatial axis.
		cpuops.Parallel(kdim, 0, 1, func(lo, hi int) { im2colKMajor(g, x, cols, lo, hi) })
		bm = sgemm.RowMajor(cols, kdim, m)
	} else {
		// Rows (b, o...), runs along the kernel's last spatial axis.
		cpuops.Parallel(m, 0, 1, func(lo, hi int) { im2colMMajor(g, x, cols, lo, hi) })
		bm = sgemm.RowMajor(cols, m, kdim).T()
	}
	return sgemm.Mul(t, a, bm, 0)
}

// im2colKMajor fills rows [lo, hi) of cols [Cin·ΠK, B·ΠO]: row (ci, k...), column (b, o...) holds
// x[b, ci, o·st − lo + k·kdil] (0 outside the input).
func im2colKMajor(g convGeom, x, cols []float32, lo, hi int) {
	r := len(g.s)
	last := r - 1
	m := g.b * prod(g.o)
	k := make([]int, r)
	outer := append([]int{g.b}, g.o[:last]...) // (b, o_0..o_{r-2})
	oIdx := make([]int, len(outer))
	for row := lo; row < hi; row++ {
		rem := row
		for j := last; j >= 0; j-- {
			k[j] = rem % g.k[j]
			rem /= g.k[j]
		}
		ci := rem
		dst := cols[row*m : (row+1)*m]
		c := k[last]*g.kdil[last] - g.lo[last]
		t0, t1 := validRange(g.st[last], c, g.s[last], g.o[last])
		step := g.st[last] * g.xs[last]
		clear(oIdx)
		for pos := 0; pos < m; pos += g.o[last] {
			off, in := oIdx[0]*g.xb+ci*g.xc, true
			for j := range last {
				p := oIdx[1+j]*g.st[j] - g.lo[j] + k[j]*g.kdil[j]
				if p < 0 || p >= g.s[j] {
					in = false
					break
				}
				off += p * g.xs[j]
			}
			run := dst[pos : pos+g.o[last]]
			if !in {
				clear(run)
			} else {
				clear(run[:t0])
				src := off + (t0*g.st[last]+c)*g.xs[last]
				for o := t0; o < t1; o++ {
					run[o] = x[src]
					src += step
				}
				clear(run[t1:])
			}
			for a := len(outer) - 1; a >= 0; a-- {
				if oIdx[a]++; oIdx[a] < outer[a] {
					break
				}
				oIdx[a] = 0
			}
		}
	}
}

// im2colMMajor fills rows [lo, hi) of cols [B·ΠO, Cin·ΠK]: row (b, o...), column (ci, k...) holds
// x[b, ci, o·st − lo + k·kdil] (0 outside the input).
func im2colMMajor(g convGeom, x, cols []float32, lo, hi int) {
	r := len(g.s)
	last := r - 1
	kdim := g.cin * prod(g.k)
	o := make([]int, r)
	outer := append([]int{g.cin}, g.k[:last]...) // (ci, k_0..k_{r-2})
	kIdx := make([]int, len(outer))
	for row := lo; row < hi; row++ {
		rem := row
		for j := last; j >= 0; j-- {
			o[j] = rem % g.o[j]
			rem /= g.o[j]
		}
		bi := rem
		dst := cols[row*kdim : (row+1)*kdim]
		c := o[last]*g.st[last] - g.lo[last]
		t0, t1 := validRange(g.kdil[last], c, g.s[last], g.k[last])
		step := g.kdil[last] * g.xs[last]
		clear(kIdx)
		for pos := 0; pos < kdim; pos += g.k[last] {
			off, in := bi*g.xb+kIdx[0]*g.xc, true
			for j := range last {
				p := o[j]*g.st[j] - g.lo[j] + kIdx[1+j]*g.kdil[j]
				if p < 0 || p >= g.s[j] {
					in = false
					break
				}
				off += p * g.xs[j]
			}
			run := dst[pos : pos+g.k[last]]
			if !in {
				clear(run)
			} else {
				clear(run[:t0])
				src := off + (t0*g.kdil[last]+c)*g.xs[last]
				for t := t0; t < t1; t++ {
					run[t] = x[src]
					src += step
				}
				clear(run[t1:])
			}
			for a := len(outer) - 1; a >= 0; a-- {
				if kIdx[a]++; kIdx[a] < outer[a] {
					break
				}
				kIdx[a] = 0
			}
		}
	}
}

// convCol2im computes t [Cout, B, O...] for an input with dilation: p [ΠK·Cout, B·ΠS] = kernel
// [ΠK·Cout, Cin] · x [Cin, B·ΠS], then every p[(k, co), (b, i)] is added to t[co, b, o] for the o
// with o·st = i·dil + lo − k·kdil (when there is one).
func convCol2im(b *simplego.Backend, g convGeom, ax backends.ConvolveAxesConfig, x []float32, xd []int, w []float32, wd []int, t []float32) error {
	r := len(g.s)
	nk, ns, no := prod(g.k), prod(g.s), prod(g.o)
	xPerm := append([]int{ax.InputChannels, ax.InputBatch}, ax.InputSpatial...)
	xt, xBuf, err := permuted(b, x, xd, xPerm)
	if err != nil {
		return err
	}
	if xBuf != nil {
		defer simplegoPutBuffer(b, xBuf)
	}
	kPerm := append(append([]int{}, ax.KernelSpatial...), ax.KernelOutputChannels, ax.KernelInputChannels)
	kt, kBuf, err := permuted(b, w, wd, kPerm)
	if err != nil {
		return err
	}
	if kBuf != nil {
		defer simplegoPutBuffer(b, kBuf)
	}
	rows, n := nk*g.cout, g.b*ns
	pBuf, p := tempBuffer(b, rows*n)
	if pBuf == nil {
		return fmt.Errorf("backend finalized")
	}
	defer simplegoPutBuffer(b, pBuf)
	if err := sgemm.Mul(p, sgemm.RowMajor(kt, rows, g.cin), sgemm.RowMajor(xt, g.cin, n), 0); err != nil {
		return err
	}
	clear(t[:g.cout*g.b*no])
	oStr := cpuops.RowMajorStrides(g.o)
	last := r - 1
	cpuops.Parallel(g.cout, 0, 1, func(lo, hi int) {
		k := make([]int, r)
		outer := append([]int{g.b}, g.s[:last]...) // (b, i_0..i_{r-2})
		iIdx := make([]int, len(outer))
		for co := lo; co < hi; co++ {
			for kk := range nk {
				rem := kk
				for j := last; j >= 0; j-- {
					k[j] = rem % g.k[j]
					rem /= g.k[j]
				}
				prow := p[(kk*g.cout+co)*n : (kk*g.cout+co+1)*n]
				c := g.lo[last] - k[last]*g.kdil[last] // q = i·dil + c on the last axis
				clear(iIdx)
				for pos := 0; pos < n; pos += g.s[last] {
					off, in := (co*g.b+iIdx[0])*no, true
					for j := range last {
						q := iIdx[1+j]*g.dil[j] + g.lo[j] - k[j]*g.kdil[j]
						if q < 0 || q%g.st[j] != 0 || q/g.st[j] >= g.o[j] {
							in = false
							break
						}
						off += q / g.st[j] * oStr[j]
					}
					if in {
						src := prow[pos : pos+g.s[last]]
						dst := t[off : off+g.o[last]]
						if st := g.st[last]; st == 1 {
							i0, i1 := validRange(g.dil[last], c, g.o[last], g.s[last])
							for i := i0; i < i1; i++ {
								dst[i*g.dil[last]+c] += src[i]
							}
						} else {
							for i, v := range src {
								if q := i*g.dil[last] + c; q >= 0 && q%st == 0 && q/st < g.o[last] {
									dst[q/st] += v
								}
							}
						}
					}
					for a := len(outer) - 1; a >= 0; a-- {
						if iIdx[a]++; iIdx[a] < outer[a] {
							break
						}
						iIdx[a] = 0
					}
				}
			}
		}
	})
	return nil
}
