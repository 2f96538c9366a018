package sgemm

import (
	"fmt"
	"os"
)

// kernel is a micro-kernel: fn adds the mr×nr product of a packed mr×kc sliver of A (a) and a
// packed kc×nr sliver of B (b) into the tile of C that starts at c[0], whose rows are ldc apart.
type kernel struct {
	name   string
	mr, nr int
	fn     func(kc int, a, b, c []float32, ldc int)
}

// The largest micro-tile of any kernel, for the workspaces.
const (
	maxMR = 12
	maxNR = 32
)

// goKernel is the portable micro-kernel: a 4×8 tile held in 32 scalar accumulators.
var goKernel = kernel{name: "go", mr: 4, nr: 8, fn: kernelGo}

// kern is the kernel in use: the fastest one this CPU runs, or the one $CONFCAL_SGEMM_KERNEL names.
var kern = pickKernel()

// KernelEnv names the environment variable that forces a micro-kernel ("go", "avx2", "avx512"),
// for comparisons; unset, the fastest one the CPU supports is used.
const KernelEnv = "CONFCAL_SGEMM_KERNEL"

// Kernel returns the name of the micro-kernel in use ("avx512", "avx2" or "go").
func Kernel() string { return kern.name }

func pickKernel() kernel {
	available := kernels()
	want := os.Getenv(KernelEnv)
	if want == "" {
		return available[0]
	}
	for _, k := range available {
		if k.name == want {
			return k
		}
	}
	fmt.Fprintf(os.Stderr, "sgemm: $%s=%q is not a kernel this CPU runs; using %q\n", KernelEnv, want, available[0].name)
	return available[0]
}

// kernelGo is goKernel's function.
func kernelGo(kc int, a, b, c []float32, ldc int) {
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	var c20, c21, c22, c23, c24, c25, c26, c27 float32
	var c30, c31, c32, c33, c34, c35, c36, c37 float32
	a = a[:4*kc]
	b = b[:8*kc]
	for p := range kc {
		av := a[4*p : 4*p+4 : 4*p+4]
		bv := b[8*p : 8*p+8 : 8*p+8]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3, b4, b5, b6, b7 := bv[0], bv[1], bv[2], bv[3], bv[4], bv[5], bv[6], bv[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c04 += a0 * b4
		c05 += a0 * b5
		c06 += a0 * b6
		c07 += a0 * b7
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c14 += a1 * b4
		c15 += a1 * b5
		c16 += a1 * b6
		c17 += a1 * b7
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c24 += a2 * b4
		c25 += a2 * b5
		c26 += a2 * b6
		c27 += a2 * b7
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		c34 += a3 * b4
		c35 += a3 * b5
		c36 += a3 * b6
		c37 += a3 * b7
	}
	addRow8(c[0:8:8], c00, c01, c02, c03, c04, c05, c06, c07)
	addRow8(c[ldc:ldc+8:ldc+8], c10, c11, c12, c13, c14, c15, c16, c17)
	addRow8(c[2*ldc:2*ldc+8:2*ldc+8], c20, c21, c22, c23, c24, c25, c26, c27)
	addRow8(c[3*ldc:3*ldc+8:3*ldc+8], c30, c31, c32, c33, c34, c35, c36, c37)
}

func addRow8(r []float32, v0, v1, v2, v3, v4, v5, v6, v7 float32) {
	r[0] += v0
	r[1] += v1
	r[2] += v2
	r[3] += v3
	r[4] += v4
	r[5] += v5
	r[6] += v6
	r[7] += v7
}
