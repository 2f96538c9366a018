//go:build !amd64

package cpuops

// haveAVX2 is false off amd64: transpose2D uses its portable path.
const haveAVX2 = false

func transpose8x8(dst, src []float32, d, s, dstStride, srcStride int) {
	panic("cpuops: transpose8x8 without AVX2")
}
