package cpuops

import "golang.org/x/sys/cpu"

// transpose8x8AVX2 writes the transpose of the 8×8 block at src (rows srcStride floats apart) to
// dst (rows dstStride floats apart), with three rounds of AVX shuffles.
//
//go:noescape
func transpose8x8AVX2(src *float32, srcStride int, dst *float32, dstStride int)

// haveAVX2 says whether transpose2D may use transpose8x8AVX2.
var haveAVX2 = cpu.X86.HasAVX2

// HasTranspose8x8 says whether Transpose8x8 is available (amd64 with AVX2).
func HasTranspose8x8() bool { return haveAVX2 }

// Transpose8x8 transposes the 8×8 block at src[s] (rows srcStride apart) into dst[d] (rows
// dstStride apart) with AVX2; the caller has checked that both blocks lie inside their slices and
// that HasTranspose8x8 is true.
func Transpose8x8(dst, src []float32, d, s, dstStride, srcStride int) {
	transpose8x8AVX2(&src[s], srcStride, &dst[d], dstStride)
}
