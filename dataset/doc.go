// Package dataset holds what every image data set of the project shares: the labelled image Set
// (NCHW float32 in [0,1]), the cache directory, and Fetch, which downloads a file into the cache
// with a checksum, a progress report and an atomic write. The data sets themselves live in the
// packages named after them (mnist, cifar, svhn, oodsets).
package dataset
