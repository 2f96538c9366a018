package cpuops

import (
	"fmt"
	"testing"
)

// BenchmarkTranspose times the transposes of a VGG-13 training step: the 3×3 kernels between
// PyTorch's [Cout, Cin, k, k] and the matrix layout [k, k, Cin, Cout] (both ways), and activations
// between NCHW and pixel rows.
func BenchmarkTranspose(b *testing.B) {
	cases := []struct{ dims, perm []int }{
		{[]int{512, 512, 3, 3}, []int{2, 3, 1, 0}},
		{[]int{3, 3, 512, 512}, []int{3, 2, 0, 1}},
		{[]int{16, 64, 32, 32}, []int{0, 2, 3, 1}},
		{[]int{16, 32, 32, 64}, []int{0, 3, 1, 2}},
		{[]int{8192, 576}, []int{1, 0}},
		{[]int{512, 512, 3, 3}, []int{0, 2, 3, 1}}, // the kernel as [Cout, k*k*Cin], and back
		{[]int{512, 3, 3, 512}, []int{0, 3, 1, 2}},
	}
	for _, c := range cases {
		n := sizeOf(c.dims)
		src, dst := make([]float32, n), make([]float32, n)
		b.Run(fmt.Sprint(c.dims, c.perm), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				if err := Transpose(dst, src, c.dims, c.perm, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
