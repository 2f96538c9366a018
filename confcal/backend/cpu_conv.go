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
// with any strides, paddings (negative ones crop), kernel dilations and input dilations. The input
// is read as pixel rows [B, S..., Cin] (one transpose unless it is laid out so already), the
// result is computed as pixel rows [B, O..., Cout] (im2col: or with the output channels first, or
// one image at a time, when that is the output's layout) and transposed into the output's layout
// unless it is that layout already, by one of two methods:
//
//   - without input dilation, im2col: the windows of the input are copied, one run of Cin
//     channels per kernel tap, into a matrix of B·ΠO × ΠK·Cin, which one sgemm product multiplies
//     by the kernel as a ΠK·Cin × Cout matrix. This is the forward convolution, the kernel gradient
//     of a convolution, and the input gradient of a transposed convolution.
//   - with input dilation (a transposed convolution, and the input gradient of a strided
//     convolution), or when the output has more pixels than the input (the input gradient of an
//     unpadded convolution), col2im: one sgemm product of the input pixel rows B·ΠS × Cin by the
//     kernel as a Cin × ΠK·Cout matrix gives every input pixel's contribution to every kernel tap, which are
//     added (runs of Cout channels) onto the output pixels they land on. The zeros that input
//     dilation inserts are never multiplied.

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
	// flip: the kernel buffer is the reverse, along its spatial axes, of the convolution's kernel
	// (see fusedConv): tap k of the convolution is tap K−1−k of the buffer.
	flip bool
}

// tap returns the convolution's kernel index on spatial axis j for tap k of the kernel buffer.
func (g convGeom) tap(j, k int) int {
	if g.flip {
		return g.k[j] - 1 - k
	}
	return k
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
	data := in.nodeDataOf(node)
	if fused, isFused := data.(*fusedConv); isFused {
		out, ok, err := fastConvGeneralOf(b, node, in.nodeDataOf(fused.plain), inputs, true)
		if ok || err != nil {
			return out, true, err
		}
		return fused.fallback(b, inputs)
	}
	return fastConvGeneralOf(b, node, data, inputs, false)
}

// fastConvGeneralOf is fastConvGeneral for a node with simplego's parameters data, whose kernel
// buffer is reversed in space when flip is set.
func fastConvGeneralOf(b *simplego.Backend, node *simplego.Node, data any, inputs []*simplego.Buffer, flip bool) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	x, w := in.float32sOf(inputs[0]), in.float32sOf(inputs[1])
	xd, wd := in.bufShapeOf(inputs[0]).Dimensions, in.bufShapeOf(inputs[1]).Dimensions
	outShape := in.nodeShapeOf(node)
	od := outShape.Dimensions
	r := len(xd) - 2
	if x == nil || w == nil || r < 1 || len(wd) != len(xd) || len(od) != len(xd) {
		return nil, false, nil
	}
	spec, ok := readConvSpec(data, r)
	if !ok || spec.channelGroups != 1 || spec.batchGrp != 1 {
		return nil, false, nil
	}
	ax := spec.axes
	g := convGeom{b: xd[ax.InputBatch], cin: xd[ax.InputChannels], cout: wd[ax.KernelOutputChannels],
		st: spec.strides, dil: spec.inDil, kdil: spec.kerDil, flip: flip}
	if wd[ax.KernelInputChannels] != g.cin || od[ax.OutputBatch] != g.b || od[ax.OutputChannels] != g.cout {
		return nil, false, nil
	}
	hasDil := false
	for j := range r {
		g.s = append(g.s, xd[ax.InputSpatial[j]])
		g.k = append(g.k, wd[ax.KernelSpatial[j]])
		g.o = append(g.o, od[ax.OutputSpatial[j]])
		g.lo = append(g.lo, spec.pads[j][0])
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

	// im2col multiplies B·ΠO·ΠK·Cin·Cout, col2im B·ΠS·ΠK·Cin·Cout: the input gradient of an
	// unpadded convolution (a "full" correlation, ΠO > ΠS) is cheaper by col2im, whose products
	// never touch the padding; with input dilation only col2im is implemented.
	useCol2im := hasDil || prod(g.s) < prod(g.o)
	// The product comes out as pixel rows [B, O..., Cout], as [Cout, B, O...] (im2col only), or,
	// for an [B, Cout, O...] output with at least 64 pixels per image and a kernel of at most 64Ki
	// values (each product packs the kernel again), one product per image straight into the output
	// (im2col only). T is that result, transposed into the output unless
	// its layout is the output's.
	isOrder := func(order []int) bool {
		for i, a := range order {
			if a != i {
				return false
			}
		}
		return true
	}
	rowsOrder := append(append([]int{ax.OutputBatch}, ax.OutputSpatial...), ax.OutputChannels)
	mode := convRows
	switch {
	case useCol2im || isOrder(rowsOrder):
	case isOrder(append([]int{ax.OutputChannels, ax.OutputBatch}, ax.OutputSpatial...)) && outShape.Size() >= len(w):
		// Channels first saves transposing the output but packs the kernel by transposes (see
		// convIm2col): worth it when the output is the larger (the kernel gradient of a small
		// batch's deep layers is not).
		mode = convChannelsFirst
	case isOrder(append([]int{ax.OutputBatch, ax.OutputChannels}, ax.OutputSpatial...)) && prod(g.o) >= 64 &&
		g.cout*prod(g.k)*g.cin <= 1<<16:
		mode = convPerImage
	}
	direct := mode != convRows || isOrder(rowsOrder)
	tDims := append(append([]int{g.b}, g.o...), g.cout)
	outPerm := make([]int, len(od)) // output axis a is T's axis outPerm[a] (convRows)
	outPerm[ax.OutputBatch], outPerm[ax.OutputChannels] = 0, r+1
	for j, a := range ax.OutputSpatial {
		outPerm[a] = 1 + j
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
	xr, xBuf, err := permuted(b, x, xd, append(append([]int{ax.InputBatch}, ax.InputSpatial...), ax.InputChannels))
	if err != nil {
		return nil, true, fmt.Errorf("ConvGeneral %s: %w", outShape, err)
	}
	if xBuf != nil {
		defer simplegoPutBuffer(b, xBuf)
	}
	if useCol2im {
		err = convCol2im(b, g, ax, xr, w, wd, t)
	} else {
		err = convIm2col(b, g, ax, xr, w, wd, t, mode)
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

// Layouts of the product of convIm2col.
const (
	convRows          = iota // [B, O..., Cout]
	convChannelsFirst        // [Cout, B, O...]
	convPerImage             // [B, Cout, O...], one product per image
)

// convIm2col computes t = im2col(xr) [B·ΠO, ΠK·Cin] · kernel [ΠK·Cin, Cout] for pixel rows xr
// [B, S..., Cin] without input dilation, laid out as mode says.
func convIm2col(b *simplego.Backend, g convGeom, ax backends.ConvolveAxesConfig, xr, w []float32, wd []int, t []float32, mode int) error {
	kdim, m := prod(g.k)*g.cin, g.b*prod(g.o)
	// sgemm packs a row-major B and a column-major A by copies, the other layouts by transposes:
	// for pixel rows the kernel is laid out as B = [ΠK·Cin, Cout]; with the output channels first
	// it is the left operand, A = [Cout, ΠK·Cin].
	perm := append(append(append([]int{}, ax.KernelSpatial...), ax.KernelInputChannels), ax.KernelOutputChannels)
	if mode != convRows {
		perm = append(append([]int{ax.KernelOutputChannels}, ax.KernelSpatial...), ax.KernelInputChannels)
	}
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
	cpuops.Parallel(m, 0, max(1, 4096/kdim), func(lo, hi int) { im2colRows(g, xr, cols, lo, hi) })
	switch mode {
	case convChannelsFirst:
		return sgemm.Mul(t, sgemm.RowMajor(kt, g.cout, kdim), sgemm.RowMajor(cols, m, kdim).T(), 0)
	case convPerImage:
		po := prod(g.o)
		for i := range g.b {
			if err := sgemm.Mul(t[i*g.cout*po:], sgemm.RowMajor(kt, g.cout, kdim), sgemm.RowMajor(cols[i*po*kdim:], po, kdim).T(), 0); err != nil {
				return err
			}
		}
		return nil
	}
	return sgemm.Mul(t, sgemm.RowMajor(cols, m, kdim), sgemm.RowMajor(kt, kdim, g.cout), 0)
}

// im2colRows fills rows [lo, hi) of cols [B·ΠO, ΠK·Cin]: row (b, o...) holds, for each kernel tap
// k..., the Cin channels of pixel o·st − lo + k·kdil of image b of xr (zeros outside the image).
func im2colRows(g convGeom, xr, cols []float32, lo, hi int) {
	r := len(g.s)
	last := r - 1
	kdim := prod(g.k) * g.cin
	sStr := cpuops.RowMajorStrides(g.s) // pixel strides of the input
	o := make([]int, r)
	kIdx := make([]int, r)
	for row := lo; row < hi; row++ {
		rem := row
		for j := last; j >= 0; j-- {
			o[j] = rem % g.o[j]
			rem /= g.o[j]
		}
		img := rem * prod(g.s)
		dst := cols[row*kdim : (row+1)*kdim]
		c := o[last]*g.st[last] - g.lo[last]
		runLen := g.k[last] * g.cin
		clear(kIdx)
		for pos := 0; pos < kdim; pos += runLen {
			pix, in := img, true
			for j := range last {
				p := o[j]*g.st[j] - g.lo[j] + g.tap(j, kIdx[j])*g.kdil[j]
				if p < 0 || p >= g.s[j] {
					in = false
					break
				}
				pix += p * sStr[j]
			}
			run := dst[pos : pos+runLen]
			// Taps u (of the convolution's kernel) in [u0, u1) read pixel c + u·kdil of the row.
			u0, u1 := validRange(g.kdil[last], c, g.s[last], g.k[last])
			if !in || u0 >= u1 {
				clear(run)
			} else {
				t0, t1, step := u0, u1, g.kdil[last]*g.cin // buffer taps t, source moving by step
				if g.flip {
					t0, t1, step = g.k[last]-u1, g.k[last]-u0, -step
				}
				clear(run[:t0*g.cin])
				src := (pix + c + g.tap(last, t0)*g.kdil[last]) * g.cin
				for t := t0; t < t1; t++ {
					copy(run[t*g.cin:(t+1)*g.cin], xr[src:src+g.cin])
					src += step
				}
				clear(run[t1*g.cin:])
			}
			for a := last - 1; a >= 0; a-- {
				if kIdx[a]++; kIdx[a] < g.k[a] {
					break
				}
				kIdx[a] = 0
			}
		}
	}
}

// convCol2im computes the pixel rows t [B·ΠO, Cout] for pixel rows xr [B, S..., Cin] with input
// dilation: p [B·ΠS, ΠK·Cout] = xr [B·ΠS, Cin] · kernel [Cin, ΠK·Cout], then every run
// p[(b, i), (k, ·)] is added to t[(b, o), ·] for the o with o·st = i·dil + lo − k·kdil (when there
// is one). Images are split over the cores (their outputs are disjoint).
func convCol2im(b *simplego.Backend, g convGeom, ax backends.ConvolveAxesConfig, xr, w []float32, wd []int, t []float32) error {
	r := len(g.s)
	nk, ns, no := prod(g.k), prod(g.s), prod(g.o)
	kt, kBuf, err := permuted(b, w, wd, append(append([]int{ax.KernelInputChannels}, ax.KernelSpatial...), ax.KernelOutputChannels))
	if err != nil {
		return err
	}
	if kBuf != nil {
		defer simplegoPutBuffer(b, kBuf)
	}
	rows, n := g.b*ns, nk*g.cout
	pBuf, p := tempBuffer(b, rows*n)
	if pBuf == nil {
		return fmt.Errorf("backend finalized")
	}
	defer simplegoPutBuffer(b, pBuf)
	if err := sgemm.Mul(p, sgemm.RowMajor(xr, rows, g.cin), sgemm.RowMajor(kt, g.cin, n), 0); err != nil {
		return err
	}
	clear(t[:g.b*no*g.cout])
	oStr := cpuops.RowMajorStrides(g.o)
	last := r - 1
	// target[j][i·K_j + k] is the output offset along axis j (its index times its stride) that
	// input index i reaches through kernel-buffer tap k, or -1.
	target := make([][]int, r)
	for j := range r {
		target[j] = make([]int, g.s[j]*g.k[j])
		for i := range g.s[j] {
			for k := range g.k[j] {
				q := i*g.dil[j] + g.lo[j] - g.tap(j, k)*g.kdil[j]
				if q < 0 || q%g.st[j] != 0 || q/g.st[j] >= g.o[j] {
					target[j][i*g.k[j]+k] = -1
				} else {
					target[j][i*g.k[j]+k] = q / g.st[j] * oStr[j]
				}
			}
		}
	}
	cpuops.Parallel(g.b, 0, 1, func(lo, hi int) {
		iIdx := make([]int, r)
		k := make([]int, r)
		for bi := lo; bi < hi; bi++ {
			clear(iIdx)
			for pix := 0; pix < ns; pix++ {
				prow := p[(bi*ns+pix)*n : (bi*ns+pix+1)*n]
				clear(k)
				for kk := 0; kk < nk; kk++ {
					off := bi * no
					for j := range r {
						o := target[j][iIdx[j]*g.k[j]+k[j]]
						if o < 0 {
							off = -1
							break
						}
						off += o
					}
					if off >= 0 {
						dst := t[off*g.cout : (off+1)*g.cout]
						for c, v := range prow[kk*g.cout : (kk+1)*g.cout] {
							dst[c] += v
						}
					}
					for a := last; a >= 0; a-- {
						if k[a]++; k[a] < g.k[a] {
							break
						}
						k[a] = 0
					}
				}
				for a := last; a >= 0; a-- {
					if iIdx[a]++; iIdx[a] < g.s[a] {
						break
					}
					iIdx[a] = 0
				}
			}
		}
	})
	return nil
}
