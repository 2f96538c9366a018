// Package nn holds CNN layers built only from ops the pure-Go backend supports: the convolutional
// models of the paper's App. B (the simple CNN of the MNIST experiments, VGG-13 and AlexNet for
// CIFAR-10/SVHN, and the DCGAN generator and discriminator) need 2-D convolutions, transposed
// convolutions, pooling and batch normalisation, with their gradients.
//
// GoMLX's own convolution gradient is built from Reverse and Pad, which the pure-Go backend
// (simplego v0.26.0, this project's default; see package backend) does not implement, and its
// forward ConvGeneral is a direct loop. The layers here use instead im2col with Gather (gradient
// ScatterSum) and one matrix product (Dot, whose gradient package gradfix makes a pair of matrix
// products), with gather/scatter indices computed in Go from the shapes; padding reads an all-zero
// row rather than calling Pad, and no Slice, Concatenate, Reverse, DynamicSlice, SelectAndScatter*,
// BatchNorm* or ReduceWindow appears in the forward pass or the gradient.
//
// Layout and semantics follow PyTorch: tensors are NCHW ([batch, channels, height, width]), kernels
// are [out, in, k, k] for Conv2D and [in, out, k, k] for ConvTranspose2D, and variables are
// initialised as PyTorch's defaults. UnsupportedOps lets tests check that a built graph, gradient
// included, runs on a given backend.
package nn
