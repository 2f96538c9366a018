//go:build !amd64

package cpuops

// haveAVX2 is false off amd64: transpose2D uses its portable path.
const haveAVX2 = false

// HasTranspose8x8 says whether Transpose8x8 is available: never off amd64.
func HasTranspose8x8() bool { return false }

// Transpose8x8 is only available on amd64 with AVX2.
func Transpose8x8(dst, src []float32, d, s, dstStride, srcStride int) {
	panic("cpuops: Transpose8x8 without AVX2")
}
