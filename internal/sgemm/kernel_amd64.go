package sgemm

import "golang.org/x/sys/cpu"

// kernelAVX2 adds the 6×16 product of packed slivers a (kc×6) and b (kc×16) into c (rows ldc apart),
// with 12 YMM accumulators and FMA.
//
//go:noescape
func kernelAVX2(kc int, a, b, c *float32, ldc int)

// kernelAVX512 adds the 12×32 product of packed slivers a (kc×12) and b (kc×32) into c, with 24 ZMM
// accumulators and FMA with an embedded broadcast of A.
//
//go:noescape
func kernelAVX512(kc int, a, b, c *float32, ldc int)

// copyRowsAVX2 copies rows runs of width floats (a multiple of 4), srcStride floats apart in src,
// one after the other into dst.
//
//go:noescape
func copyRowsAVX2(dst, src *float32, rows, width, srcStride int)

// copyRows copies rows runs of width floats, srcStride apart in src starting at src[0], one after
// the other into dst: packing a sliver of a row-major B. ok is false (nothing copied) when the CPU
// or the width does not suit the AVX copy. The caller has checked the bounds.
func copyRows(dst, src []float32, rows, width, srcStride int) (ok bool) {
	if !cpu.X86.HasAVX2 || width%4 != 0 || rows == 0 {
		return false
	}
	_, _ = dst[rows*width-1], src[(rows-1)*srcStride+width-1]
	copyRowsAVX2(&dst[0], &src[0], rows, width, srcStride)
	return true
}

var (
	avx2Kernel = kernel{name: "avx2", mr: 6, nr: 16, fn: func(kc int, a, b, c []float32, ldc int) {
		_, _, _ = a[6*kc-1], b[16*kc-1], c[5*ldc+15] // bounds, checked once per tile
		kernelAVX2(kc, &a[0], &b[0], &c[0], ldc)
	}}
	avx512Kernel = kernel{name: "avx512", mr: 12, nr: 32, fn: func(kc int, a, b, c []float32, ldc int) {
		_, _, _ = a[12*kc-1], b[32*kc-1], c[11*ldc+31]
		kernelAVX512(kc, &a[0], &b[0], &c[0], ldc)
	}}
)

// kernels lists the micro-kernels this CPU runs, fastest first. (x/sys/cpu reports AVX and AVX-512
// only where the OS saves their registers.)
func kernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return append(ks, goKernel)
}
