package nn

// UseOracle makes Conv2D, ConvTranspose2D and MaxPool2D use the implementations the models used
// before GoMLX's native ops (im2col by Gather, col2im by ScatterSum, max pooling by ArgMax +
// Gather; oracle_test.go) while on, for tests that compare whole training steps; it returns a
// function restoring the native ones.
func UseOracle() (restore func()) {
	saved := impl
	impl.conv = conv2DIm2col
	impl.convT = convTranspose2DIm2col
	impl.pool = maxPool2DGather
	return func() { impl = saved }
}
