package cpuops

import "fmt"

// Transpose writes into dst the transpose of src (row-major, dimensions dims) by perm: output axis
// i is input axis perm[i], as GoMLX's Transpose. It uses up to workers goroutines.
func Transpose(dst, src []float32, dims, perm []int, workers int) error {
	if len(perm) != len(dims) {
		return fmt.Errorf("cpuops.Transpose: %d axes in the permutation for %d dimensions", len(perm), len(dims))
	}
	size := 1
	seen := make([]bool, len(dims))
	for i, p := range perm {
		if p < 0 || p >= len(dims) || seen[p] {
			return fmt.Errorf("cpuops.Transpose: %v is not a permutation", perm)
		}
		seen[p] = true
		size *= dims[i]
	}
	if len(src) < size || len(dst) < size {
		return fmt.Errorf("cpuops.Transpose: %d elements needed, src has %d and dst %d", size, len(src), len(dst))
	}
	if size == 0 {
		return nil
	}
	d, p := simplify(dims, perm)
	r := len(d)
	if r == 1 {
		Parallel(size, workers, 1<<16, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
		return nil
	}
	inStride := RowMajorStrides(d)
	outDims := make([]int, r)
	for i := range r {
		outDims[i] = d[p[i]]
	}
	outStrideOfOut := RowMajorStrides(outDims)
	outStride := make([]int, r) // output stride of each input axis
	for i := range r {
		outStride[p[i]] = outStrideOfOut[i]
	}
	if p[r-1] == r-1 {
		// The last axis stays last: copy runs of it, one per index of the other output axes.
		run := d[r-1]
		nRuns := size / run
		Parallel(nRuns, workers, max(1, 4096/run), func(lo, hi int) {
			for o := lo; o < hi; o++ {
				inBase, rest := 0, o
				for i := r - 2; i >= 0; i-- {
					idx := rest % outDims[i]
					rest /= outDims[i]
					inBase += idx * inStride[p[i]]
				}
				copy(dst[o*run:(o+1)*run], src[inBase:inBase+run])
			}
		})
		return nil
	}
	// Otherwise it is a batch of 2-D
	// transposes of the plane (q = perm's last axis, contiguous in the output) × (a = the input's
	// last axis, contiguous in the input), over every index of the other ("outer") axes.
	q, a := p[r-1], r-1
	var outer []int
	for ax := range r {
		if ax != q && ax != a {
			outer = append(outer, ax)
		}
	}
	nOuter := 1
	for _, ax := range outer {
		nOuter *= d[ax]
	}
	rows, cols := d[q], d[a]
	if cols <= narrowCols && !(haveAVX2 && useSIMDTranspose) {
		// A narrow plane (e.g. the 3×3 taps of a kernel): write whole output rows, reading each
		// input column with a stride; the rows' cache lines stay in L1 across the few columns.
		const rowsPerItem = 1024
		chunks := (rows + rowsPerItem - 1) / rowsPerItem
		Parallel(nOuter*chunks, workers, max(1, 4096/(cols*min(rows, rowsPerItem))), func(lo, hi int) {
			for item := lo; item < hi; item++ {
				o, c := item/chunks, item%chunks
				inBase, outBase := outerBases(o, outer, d, inStride, outStride)
				i0, i1 := c*rowsPerItem, min(rows, (c+1)*rowsPerItem)
				inRow, outCol := inStride[q], outStride[a]
				for j := range cols {
					out := dst[outBase+j*outCol+i0 : outBase+j*outCol+i1]
					s := inBase + i0*inRow + j
					for i := range out {
						out[i] = src[s]
						s += inRow
					}
				}
			}
		})
		return nil
	}
	rowTiles := (rows + transposeTile - 1) / transposeTile
	Parallel(nOuter*rowTiles, workers, max(1, 4096/(transposeTile*cols)), func(lo, hi int) {
		for item := lo; item < hi; item++ {
			o, t := item/rowTiles, item%rowTiles
			inBase, outBase := outerBases(o, outer, d, inStride, outStride)
			i0, i1 := t*transposeTile, min(rows, (t+1)*transposeTile)
			transpose2D(dst, src, inBase, outBase, i0, i1, cols, inStride[q], outStride[a])
		}
	})
	return nil
}

// transpose2D copies rows [i0, i1) (at most transposeTile of them) of the plane src[inBase + i·inRow + j]
// (j < cols) to dst[outBase + i + j·outCol]. With AVX2 it moves 8×8 blocks in registers; otherwise
// it goes through a transposeTile² block on the stack. Either way the reads and the writes are runs of
// consecutive floats: writing one element per output row would touch transposeTile cache lines a
// power-of-two stride apart, which share one set of the L1 cache.
func transpose2D(dst, src []float32, inBase, outBase, i0, i1, cols, inRow, outCol int) {
	if haveAVX2 && useSIMDTranspose && i1-i0 >= 8 && cols >= 8 {
		// 8×8 blocks straight from src to dst with AVX shuffles; the ragged edges below.
		i8, j8 := i0+(i1-i0)/8*8, cols/8*8
		_, _ = src[inBase+(i8-1)*inRow+j8-1], dst[outBase+i8-1+(j8-1)*outCol] // bounds of all blocks
		for i := i0; i < i8; i += 8 {
			for j := 0; j < j8; j += 8 {
				Transpose8x8(dst, src, outBase+i+j*outCol, inBase+i*inRow+j, outCol, inRow)
			}
		}
		transposeScalar(dst, src, inBase, outBase, i0, i8, j8, cols, inRow, outCol)
		transposeScalar(dst, src, inBase, outBase, i8, i1, 0, cols, inRow, outCol)
		return
	}
	var block [transposeTile * transposeTile]float32
	n := i1 - i0
	for j0 := 0; j0 < cols; j0 += transposeTile {
		m := min(cols, j0+transposeTile) - j0
		for i := range n {
			s := src[inBase+(i0+i)*inRow+j0 : inBase+(i0+i)*inRow+j0+m]
			for j, v := range s {
				block[j*transposeTile+i] = v
			}
		}
		for j := range m {
			o := outBase + i0 + (j0+j)*outCol
			copy(dst[o:o+n], block[j*transposeTile:j*transposeTile+n])
		}
	}
}

// useSIMDTranspose lets tests compare the AVX path with the portable one.
var useSIMDTranspose = true

// transposeScalar copies rows [i0, i1) × columns [j0, j1) of the plane element by element.
func transposeScalar(dst, src []float32, inBase, outBase, i0, i1, j0, j1, inRow, outCol int) {
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			dst[outBase+i+j*outCol] = src[inBase+i*inRow+j]
		}
	}
}

// simplify drops axes of size 1 and merges runs of axes that stay next to each other in the
// output, returning the reduced dimensions (of the input) and permutation. A permutation that
// reduces to the identity comes back as rank 1.
func simplify(dims, perm []int) (d, p []int) {
	// Keep axes of size > 1, renumbered.
	newIdx := make([]int, len(dims))
	for ax, n := range dims {
		newIdx[ax] = -1
		if n > 1 {
			newIdx[ax] = len(d)
			d = append(d, n)
		}
	}
	for _, ax := range perm {
		if newIdx[ax] >= 0 {
			p = append(p, newIdx[ax])
		}
	}
	if len(d) == 0 {
		return []int{1}, []int{0}
	}
	// Merge output-adjacent axes that are input-adjacent: p[i+1] == p[i]+1.
	for {
		merged := false
		for i := 0; i+1 < len(p); i++ {
			if p[i+1] == p[i]+1 {
				a := p[i]
				d[a] *= d[a+1]
				d = append(d[:a+1], d[a+2:]...)
				p = append(p[:i+1], p[i+2:]...)
				for k := range p {
					if p[k] > a {
						p[k]--
					}
				}
				merged = true
				break
			}
		}
		if !merged {
			break
		}
	}
	return d, p
}

// narrowCols is the widest input row transposed by columns rather than by tiles, without AVX2
// (with it, the 8×8 register blocks are faster even for rows of 9).
const narrowCols = 12

// outerBases returns where plane number o (counting over the outer axes, row-major) starts in the
// input and in the output.
func outerBases(o int, outer, d, inStride, outStride []int) (inBase, outBase int) {
	for k := len(outer) - 1; k >= 0; k-- {
		ax := outer[k]
		idx := o % d[ax]
		o /= d[ax]
		inBase += idx * inStride[ax]
		outBase += idx * outStride[ax]
	}
	return inBase, outBase
}

// transposeTile is the side of the blocks transpose2D moves: 16 floats, one cache line.
const transposeTile = 16

// RowMajorStrides returns the stride of each axis of a row-major tensor of the given dimensions.
func RowMajorStrides(dims []int) []int {
	s := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= dims[i]
	}
	return s
}
