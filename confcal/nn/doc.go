// Package nn holds the CNN layers of the paper's convolutional models (App. B: the simple CNN of the
// MNIST experiments, VGG-13 and AlexNet for CIFAR-10/SVHN, and the DCGAN generator and
// discriminator): 2-D convolutions, transposed convolutions, max pooling, batch normalisation and
// dropout, with their gradients.
//
// Convolutions are GoMLX's ConvGeneral (a transposed convolution is a ConvGeneral with input
// dilation on the spatially reversed kernel) and max pooling is ReduceWindow (gradient
// SelectAndScatterMax), the same graph on every backend: XLA runs them with cuDNN on a GPU, the
// project's CPU backend (package backend) on its own kernels. Their gradients are package
// gradfix's: GoMLX v0.26.0's own convolution gradient is wrong for even kernel sizes and missing for
// input dilation. Batch normalisation is the project's (PyTorch's statistics), built from
// elementwise ops and reductions.
//
// Layout and semantics follow PyTorch: tensors are NCHW ([batch, channels, height, width]), kernels
// are [out, in, k, k] for Conv2D and [in, out, k, k] for ConvTranspose2D, max pooling gives the
// gradient of a tie to the first maximum, and variables are initialised as PyTorch's defaults.
// UnsupportedOps lets tests check that a built graph, gradient included, runs on a given backend.
package nn
