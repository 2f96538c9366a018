//go:build !amd64

package sgemm

// kernels lists the micro-kernels this CPU runs, fastest first.
func kernels() []kernel { return []kernel{goKernel} }
