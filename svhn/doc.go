// Package svhn holds SVHN, the Street View House Numbers data set (Netzer et al., 2011), in its
// "cropped digits" form (format 2): 32×32 colour images, each centred on one house-number digit,
// with parts of the neighbouring digits often visible at the sides. The paper uses it as an
// in-distribution set (its training split, 73,257 images, and test split, 26,032) and as an
// out-of-distribution set for CIFAR-10 classifiers.
//
// The data come as MATLAB files, train_32x32.mat and test_32x32.mat, written by MATLAB v7 with
// compression: a variable X, a uint8 array of 32×32×3×N (height, width, channel, image; stored
// column-major), and y, an N×1 double array of labels 1–10, 10 standing for the digit 0. The package
// reads and writes Level 5 MAT-files itself (ReadMAT, WriteMAT), without cgo or other dependencies,
// and turns them into a dataset.Set of NCHW float32 images in [0,1] with labels 0–9 (ReadSet,
// WriteSetFile).
//
// Load finds the files in the user's directory, in the cache directory, or downloads them from the
// data set's site into the cache (MD5 checked). Where they cannot be had, StandIn generates
// house-number-like digits from the Go fonts, and WriteStandIn writes them as the two MAT-files
// (marked as a stand-in in the file header, so that Load names what it reads from them
// "svhn-standin-…" and results on them are never taken for SVHN's).
package svhn
