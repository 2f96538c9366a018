package sgemm

import "github.com/confcal/confcal/internal/cpuops"

// pack copies rows [i0, i0+n) × columns [p0, p0+kc) of m into dst as slivers of width rows: sliver
// s holds, for each p, the width values m[i0+s·width+r, p0+p] (r < width) one after the other, so
// that the micro-kernel reads them sequentially. Rows past n are zero. A's slivers (width mr) are
// packed from A, B's (width nr) from Bᵀ, so that one p of a B sliver holds nr columns of B.
func pack(dst []float32, m Matrix, i0, n, p0, kc, width int) {
	rs, cs := m.RowStride, m.ColStride
	for s := 0; s < n; s += width {
		rows := min(width, n-s)
		out := dst[s*kc : (s+width)*kc]
		base := (i0+s)*rs + p0*cs
		if rows < width {
			clear(out)
		}
		switch {
		case rs == 1:
			// The values of one p are contiguous (column-major A, row-major B).
			if rows == width && copyRows(out, m.Data[base:], kc, width, cs) {
				continue
			}
			for p := range kc {
				copy(out[p*width:p*width+rows], m.Data[base+p*cs:base+p*cs+rows])
			}
		case cs == 1:
			// Each row is a run of contiguous values (row-major A, column-major B): a transpose.
			packRuns(out, m.Data, base, rows, rs, kc, width)
		default:
			for r := range rows {
				src := base + r*rs
				for p := range kc {
					out[p*width+r] = m.Data[src+p*cs]
				}
			}
		}
	}
}

// packRuns packs n runs of kc contiguous values, run i starting at data[base+i·stride], so that
// out[p·width+i] = data[base+i·stride+p]: the sliver of a row-major A or a column-major B, i.e. a
// transpose. Groups of 8 runs go through 8×8 AVX register transposes where the CPU has them; the
// rest goes in blocks of 16 values of p, so that both the reads (one cache line of a run) and the
// writes (16 sliver rows) stay within a few cache lines.
func packRuns(out, data []float32, base, n, stride, kc, width int) {
	if n == 0 || kc == 0 {
		return
	}
	_ = data[base+(n-1)*stride+kc-1]
	_ = out[(kc-1)*width+n-1]
	i0 := 0
	if cpuops.HasTranspose8x8() {
		k8 := kc / 8 * 8
		for ; i0+8 <= n; i0 += 8 {
			for p := 0; p < k8; p += 8 {
				cpuops.Transpose8x8(out, data, p*width+i0, base+i0*stride+p, width, stride)
			}
			for p := k8; p < kc; p++ {
				for i := i0; i < i0+8; i++ {
					out[p*width+i] = data[base+i*stride+p]
				}
			}
		}
	}
	const step = 16
	for p0 := 0; p0 < kc; p0 += step {
		p1 := min(kc, p0+step)
		for i := i0; i < n; i++ {
			run := data[base+i*stride+p0 : base+i*stride+p1]
			o := p0*width + i
			for _, v := range run {
				out[o] = v
				o += width
			}
		}
	}
}
