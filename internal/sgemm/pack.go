package sgemm

import "github.com/confcal/confcal/internal/cpuops"

// packA copies rows [i0, i0+mc) × columns [p0, p0+kc) of a into dst as slivers of mr rows: sliver
// s holds, for each p, the mr values a[i0+s·mr+r, p0+p] (r < mr) one after the other, so the
// micro-kernel reads A sequentially. Rows past mc are zero.
func packA(dst []float32, a Matrix, i0, mc, p0, kc, mr int) {
	rs, cs := a.RowStride, a.ColStride
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		out := dst[s*kc : (s+mr)*kc]
		base := (i0+s)*rs + p0*cs
		if rows < mr {
			clear(out)
		}
		if rs == 1 && rows == mr {
			// Column-major A: the mr values of one p are contiguous.
			if copyRows(out, a.Data[base:], kc, mr, cs) {
				continue
			}
			for p := range kc {
				copy(out[p*mr:p*mr+mr], a.Data[base+p*cs:base+p*cs+mr])
			}
			continue
		}
		if cs == 1 {
			packRuns(out, a.Data, base, rows, rs, kc, mr)
			continue
		}
		for r := range rows {
			src := base + r*rs
			for p := range kc {
				out[p*mr+r] = a.Data[src+p*cs]
			}
		}
	}
}

// packB copies rows [p0, p0+kc) × columns [j0, j0+nc) of b into dst as slivers of nr columns:
// sliver s holds, for each p, the nr values b[p0+p, j0+s·nr+c] (c < nr). Columns past nc are zero.
func packB(dst []float32, b Matrix, p0, kc, j0, nc, nr int) {
	rs, cs := b.RowStride, b.ColStride
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		out := dst[s*kc : (s+nr)*kc]
		base := p0*rs + (j0+s)*cs
		if cols < nr {
			clear(out)
		}
		if cs == 1 {
			// Row-major B: the values of one p are contiguous.
			if cols == nr && copyRows(out, b.Data[base:], kc, nr, rs) {
				continue
			}
			for p := range kc {
				copy(out[p*nr:p*nr+cols], b.Data[base+p*rs:base+p*rs+cols])
			}
			continue
		}
		if rs == 1 {
			packRuns(out, b.Data, base, cols, cs, kc, nr)
			continue
		}
		for c := range cols {
			src := base + c*cs
			for p := range kc {
				out[p*nr+c] = b.Data[src+p*rs]
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
