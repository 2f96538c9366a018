package backend

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/confcal/confcal/internal/cpuops"
)

// Pad and Reverse on the "cpu" backend: pure data movement, so they work on the bytes of the
// elements and take every dtype of at least one byte per element.

// bytesOf returns the bytes of a buffer's data and the size of one element, or an error for a
// dtype packed below one byte per element.
func bytesOf(buf *simplego.Buffer) ([]byte, int, error) {
	flat := reflect.ValueOf(simplegoInternal.anyFlatOf(buf))
	if flat.Kind() != reflect.Slice {
		return nil, 0, fmt.Errorf("buffer data is a %s", flat.Kind())
	}
	size := int(flat.Type().Elem().Size())
	if size == 0 {
		return nil, 0, fmt.Errorf("elements of size 0")
	}
	if flat.Len() == 0 {
		return nil, size, nil
	}
	return unsafe.Slice((*byte)(flat.UnsafePointer()), flat.Len()*size), size, nil
}

// execPad is the executor of the Pad nodes built by cpuBuilder.
func execPad(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, error) {
	in := simplegoInternal
	p, ok := in.nodeDataOf(node).(*padParams)
	if !ok || len(inputs) != 2 {
		return nil, fmt.Errorf("Pad: node not built by the cpu backend")
	}
	outShape := in.nodeShapeOf(node)
	out := simplegoGetBufferForShape(b, outShape)
	if out == nil {
		return nil, fmt.Errorf("Pad: backend finalized")
	}
	src, es, err1 := bytesOf(inputs[0])
	fill, _, err2 := bytesOf(inputs[1])
	dst, _, err3 := bytesOf(out)
	if err1 != nil || err2 != nil || err3 != nil || len(fill) != es {
		return nil, fmt.Errorf("Pad: dtype %s not supported by the cpu backend", outShape.DType)
	}
	for i := 0; i < len(dst); i += es {
		copy(dst[i:i+es], fill)
	}
	dims := in.bufShapeOf(inputs[0]).Dimensions
	padBytes(dst, src, es, dims, outShape.Dimensions, p)
	return out, nil
}

// padBytes copies every element of src (dimensions dims) to its place in dst (dimensions
// outDims): index i of axis a goes to Start + i·(Interior+1), when that is in [0, outDims[a]).
func padBytes(dst, src []byte, es int, dims, outDims []int, p *padParams) {
	r := len(dims)
	n := 1
	for _, d := range dims {
		n *= d
	}
	if n == 0 {
		return
	}
	if r == 0 {
		copy(dst, src[:es])
		return
	}
	outStrides := cpuops.RowMajorStrides(outDims)
	idx := make([]int, r)
	last := r - 1
	dl, step, st := dims[last], p.axes[last].Interior+1, p.axes[last].Start
	for row := 0; row < n/dl; row++ {
		base, in := 0, true
		for a := range last {
			x := p.axes[a].Start + idx[a]*(p.axes[a].Interior+1)
			if x < 0 || x >= outDims[a] {
				in = false
				break
			}
			base += x * outStrides[a]
		}
		if in {
			s := src[row*dl*es : (row+1)*dl*es]
			for i := range dl {
				if x := st + i*step; x >= 0 && x < outDims[last] {
					o := (base + x) * es
					copy(dst[o:o+es], s[i*es:(i+1)*es])
				}
			}
		}
		for a := last - 1; a >= 0; a-- {
			if idx[a]++; idx[a] < dims[a] {
				break
			}
			idx[a] = 0
		}
	}
}

// execReverse is the executor of the Reverse nodes built by cpuBuilder.
func execReverse(b *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, error) {
	in := simplegoInternal
	axes, ok := in.nodeDataOf(node).([]int)
	if !ok || len(inputs) != 1 {
		return nil, fmt.Errorf("Reverse: node not built by the cpu backend")
	}
	shape := in.nodeShapeOf(node)
	out := simplegoGetBufferForShape(b, shape)
	if out == nil {
		return nil, fmt.Errorf("Reverse: backend finalized")
	}
	src, es, err1 := bytesOf(inputs[0])
	dst, _, err2 := bytesOf(out)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("Reverse: dtype %s not supported by the cpu backend", shape.DType)
	}
	switch es {
	case 4:
		reverseElems(asElems[uint32](dst), asElems[uint32](src), shape.Dimensions, axes)
	case 8:
		reverseElems(asElems[uint64](dst), asElems[uint64](src), shape.Dimensions, axes)
	default:
		reverseBytes(dst, src, es, shape.Dimensions, axes)
	}
	return out, nil
}

// asElems reinterprets bytes as elements of 4 or 8 bytes (buffer data is aligned for its dtype).
func asElems[E uint32 | uint64](b []byte) []E {
	var e E
	n := len(b) / int(unsafe.Sizeof(e))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(&b[0])), n)
}

// reverseElems is reverseBytes for elements moved as whole words, rows split over the cores.
// Neighbouring axes that are both reversed or both kept are merged first (reversing a block along
// all its axes reverses its flat order), so a kernel [O, I, k, k] reversed in space is rows of k·k
// reversed as a whole.
func reverseElems[E uint32 | uint64](dst, src []E, dims, axes []int) {
	n := prod(dims)
	if n == 0 {
		return
	}
	if len(dims) == 0 {
		dst[0] = src[0]
		return
	}
	flag := make([]bool, len(dims))
	for _, a := range axes {
		flag[a] = true
	}
	var md []int
	var rev []bool
	for a, d := range dims {
		if d == 1 {
			continue // a size-1 axis reverses to itself
		}
		if k := len(md) - 1; k >= 0 && rev[k] == flag[a] {
			md[k] *= d
			continue
		}
		md, rev = append(md, d), append(rev, flag[a])
	}
	if len(md) == 0 {
		md, rev = []int{1}, []bool{false}
	}
	dims = md
	r := len(dims)
	strides := cpuops.RowMajorStrides(dims)
	last := r - 1
	dl := dims[last]
	cpuops.Parallel(n/dl, 0, max(1, 4096/dl), func(lo, hi int) {
		idx := make([]int, r)
		rem := lo
		for a := last - 1; a >= 0; a-- {
			idx[a] = rem % dims[a]
			rem /= dims[a]
		}
		for row := lo; row < hi; row++ {
			base := 0
			for a := range last {
				x := idx[a]
				if rev[a] {
					x = dims[a] - 1 - x
				}
				base += x * strides[a]
			}
			d, s := dst[row*dl:(row+1)*dl], src[base:base+dl]
			if rev[last] {
				for i, v := range s {
					d[dl-1-i] = v
				}
			} else {
				copy(d, s)
			}
			for a := last - 1; a >= 0; a-- {
				if idx[a]++; idx[a] < dims[a] {
					break
				}
				idx[a] = 0
			}
		}
	})
}

// reverseBytes writes into dst the elements of src (dimensions dims) with the axes reversed.
func reverseBytes(dst, src []byte, es int, dims, axes []int) {
	r := len(dims)
	n := 1
	for _, d := range dims {
		n *= d
	}
	if n == 0 {
		return
	}
	if r == 0 {
		copy(dst, src[:es])
		return
	}
	rev := make([]bool, r)
	for _, a := range axes {
		rev[a] = true
	}
	strides := cpuops.RowMajorStrides(dims)
	idx := make([]int, r)
	last := r - 1
	dl := dims[last]
	for row := 0; row < n/dl; row++ {
		base := 0
		for a := range last {
			x := idx[a]
			if rev[a] {
				x = dims[a] - 1 - x
			}
			base += x * strides[a]
		}
		d := dst[row*dl*es : (row+1)*dl*es]
		s := src[base*es : (base+dl)*es]
		if rev[last] {
			for i := range dl {
				j := dl - 1 - i
				copy(d[i*es:(i+1)*es], s[j*es:(j+1)*es])
			}
		} else {
			copy(d, s)
		}
		for a := last - 1; a >= 0; a-- {
			if idx[a]++; idx[a] < dims[a] {
				break
			}
			idx[a] = 0
		}
	}
}
