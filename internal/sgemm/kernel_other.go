//go:build !amd64

package sgemm

// kernels lists the micro-kernels this CPU runs, fastest first.
func kernels() []kernel { return []kernel{goKernel} }

// copyRows has no fast version off amd64.
func copyRows(dst, src []float32, rows, width, srcStride int) bool { return false }
