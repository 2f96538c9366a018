package backend

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/confcal/confcal/internal/cpuops"
	"github.com/confcal/confcal/internal/fields"
)

// Max pooling on the "cpu" backend: ReduceWindow max (forward, replacing simplego's executor for
// float32) and SelectAndScatterMax (its gradient, added). Both select, in every window, the same
// element, PyTorch's (max_pool2d's CPU kernel): the first maximum in row-major window order, a NaN
// winning over numbers (the last NaN of the window), and, when every in-range element is -Inf, the
// first in-range element. The forward value is the selected element, so the gradient goes where the
// value came from, and ties give the whole gradient to one element.

// windowPlan describes windows over a row-major tensor: windows of size window[a], moved by
// strides[a], over the tensor padded by pads[a][0] before (the padding never wins).
type windowPlan struct {
	dims, window, strides, out []int
	lo                         []int
	inStrides                  []int
	offs                       []int   // offset of each window element from the window's first, row-major
	coords                     [][]int // coordinates of each window element within the window
	// split is the number of leading axes with window 1, stride 1 and no padding: the windows of
	// different indices along them touch disjoint parts of the tensor.
	split int
}

// newWindowPlan checks the window parameters (strides nil: the window sizes; paddings nil: 0).
func newWindowPlan(dims, window, strides []int, paddings [][2]int) (*windowPlan, error) {
	r := len(dims)
	if len(window) != r || (len(strides) != 0 && len(strides) != r) || (len(paddings) != 0 && len(paddings) != r) {
		return nil, fmt.Errorf("window %v, strides %v and paddings %v must have one value per axis (%d)", window, strides, paddings, r)
	}
	p := &windowPlan{dims: dims, window: window, strides: strides, out: make([]int, r), lo: make([]int, r)}
	if len(strides) == 0 {
		p.strides = window
	}
	p.split = -1
	for a := range r {
		lo, hi := 0, 0
		if len(paddings) > 0 {
			lo, hi = paddings[a][0], paddings[a][1]
		}
		w, s := window[a], p.strides[a]
		if w < 1 || s < 1 || lo < 0 || hi < 0 || dims[a]+lo+hi < w {
			return nil, fmt.Errorf("axis %d: window %d, stride %d, padding (%d, %d) do not fit dimension %d", a, w, s, lo, hi, dims[a])
		}
		p.lo[a] = lo
		p.out[a] = (dims[a]+lo+hi-w)/s + 1
		if p.split < 0 && (w != 1 || s != 1 || lo != 0 || hi != 0) {
			p.split = a
		}
	}
	if p.split < 0 {
		p.split = r
	}
	p.inStrides = cpuops.RowMajorStrides(dims)
	n := 1
	for _, w := range window {
		n *= w
	}
	c := make([]int, r)
	for range n {
		off := 0
		for a := range r {
			off += c[a] * p.inStrides[a]
		}
		p.offs = append(p.offs, off)
		p.coords = append(p.coords, append([]int(nil), c...))
		for a := r - 1; a >= 0; a-- {
			if c[a]++; c[a] < window[a] {
				break
			}
			c[a] = 0
		}
	}
	return p, nil
}

// outSize is the number of windows.
func (p *windowPlan) outSize() int {
	n := 1
	for _, o := range p.out {
		n *= o
	}
	return n
}

// forWindows calls fn(o, sel, ok) for the windows o in [lo, hi) (flat row-major window indices),
// with sel the flat index in src of the element the window selects, and ok false when the window
// has no element in range.
func forWindows[T float32 | float64](p *windowPlan, src []T, lo, hi int, fn func(o, sel int, ok bool)) {
	r := len(p.dims)
	if lo >= hi {
		return
	}
	idx := make([]int, r)
	rem := lo
	for a := r - 1; a >= 0; a-- {
		idx[a] = rem % p.out[a]
		rem /= p.out[a]
	}
	start := make([]int, r)
	for o := lo; o < hi; o++ {
		inside, base := true, 0
		for a := range r {
			s := idx[a]*p.strides[a] - p.lo[a]
			start[a] = s
			base += s * p.inStrides[a]
			if s < 0 || s+p.window[a] > p.dims[a] {
				inside = false
			}
		}
		sel, ok := -1, false
		best := T(math.Inf(-1))
		if inside {
			sel, ok = base+p.offs[0], true
			for _, off := range p.offs {
				if v := src[base+off]; v > best || v != v {
					best, sel = v, base+off
				}
			}
		} else {
			for j, off := range p.offs {
				in := true
				for a, c := range p.coords[j] {
					if x := start[a] + c; x < 0 || x >= p.dims[a] {
						in = false
						break
					}
				}
				if !in {
					continue
				}
				if !ok {
					sel, ok = base+off, true
				}
				if v := src[base+off]; v > best || v != v {
					best, sel = v, base+off
				}
			}
		}
		fn(o, sel, ok)
		for a := r - 1; a >= 0; a-- {
			if idx[a]++; idx[a] < p.out[a] {
				break
			}
			idx[a] = 0
		}
	}
}

// poolRanges runs fn over the windows split into ranges, one per goroutine; with disjoint true
// the ranges are cut only between indices of the leading p.split axes, so that they scatter into
// disjoint elements.
func poolRanges(p *windowPlan, disjoint bool, fn func(lo, hi int)) {
	n := p.outSize()
	unit := 1 // windows per indivisible block
	if disjoint {
		for a := p.split; a < len(p.out); a++ {
			unit *= p.out[a]
		}
	}
	if unit == 0 {
		return
	}
	blocks := n / unit
	cpuops.Parallel(blocks, 0, max(1, (1<<14)/max(unit, 1)), func(lo, hi int) { fn(lo*unit, hi*unit) })
}

// maxPool writes into dst the selected element of each window of src.
func maxPool[T float32 | float64](p *windowPlan, dst, src []T) {
	negInf := T(math.Inf(-1))
	poolRanges(p, false, func(lo, hi int) {
		forWindows(p, src, lo, hi, func(o, sel int, ok bool) {
			if ok {
				dst[o] = src[sel]
			} else {
				dst[o] = negInf
			}
		})
	})
}

// selectAndScatterMax writes into dst (the size of src, zeroed here) the sum of source over the
// windows that select each element.
func selectAndScatterMax[T float32 | float64](p *windowPlan, dst, src, source []T) {
	clear(dst)
	poolRanges(p, true, func(lo, hi int) {
		forWindows(p, src, lo, hi, func(o, sel int, ok bool) {
			if ok {
				dst[sel] += source[o]
			}
		})
	})
}

// execSelectAndScatterMax is the executor of the SelectAndScatterMax nodes built by cpuBuilder.
func execSelectAndScatterMax(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, error) {
	in := simplegoInternal
	p, ok := in.nodeDataOf(node).(*windowPlan)
	if !ok || len(inputs) != 2 {
		return nil, fmt.Errorf("SelectAndScatterMax: node not built by the cpu backend")
	}
	out := simplegoGetBufferForShape(b, in.nodeShapeOf(node))
	if out == nil {
		return nil, fmt.Errorf("SelectAndScatterMax: backend finalized")
	}
	switch src := in.anyFlatOf(inputs[0]).(type) {
	case []float32:
		selectAndScatterMax(p, in.float32sOf(out), src, in.anyFlatOf(inputs[1]).([]float32))
	case []float64:
		selectAndScatterMax(p, in.anyFlatOf(out).([]float64), src, in.anyFlatOf(inputs[1]).([]float64))
	default:
		return nil, fmt.Errorf("SelectAndScatterMax: dtype %s not supported by the cpu backend (float32, float64)", in.bufShapeOf(inputs[0]).DType)
	}
	return out, nil
}

// fastReduceWindow covers float32 ReduceWindow max without dilations.
func fastReduceWindow(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer) (*simplego.Buffer, bool, error) {
	in := simplegoInternal
	src := in.float32sOf(inputs[0])
	f, ok := fields.Of(in.nodeDataOf(node))
	if src == nil || !ok {
		return nil, false, nil
	}
	var (
		op                               backends.ReduceOpType
		window, strides, baseDil, winDil []int
		paddings                         [][2]int
	)
	if !f.Copy("reductionType", &op) || !f.Copy("windowDimensions", &window) || !f.Copy("strides", &strides) ||
		!f.Copy("baseDilations", &baseDil) || !f.Copy("windowDilations", &winDil) || !f.Copy("paddings", &paddings) ||
		op != backends.ReduceOpMax || !allOnes(baseDil) || !allOnes(winDil) {
		return nil, false, nil
	}
	outShape := in.nodeShapeOf(node)
	p, err := newWindowPlan(in.bufShapeOf(inputs[0]).Dimensions, window, strides, paddings)
	if err != nil || !equalInts(p.out, outShape.Dimensions) {
		return nil, false, nil // let simplego decide (and report)
	}
	out := simplegoGetBufferForShape(b, outShape)
	maxPool(p, in.float32sOf(out), src)
	return out, true, nil
}

// allOnes reports whether every value is 1 (true for none).
func allOnes(v []int) bool {
	for _, x := range v {
		if x != 1 {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
