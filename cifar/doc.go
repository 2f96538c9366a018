// Package cifar holds CIFAR-10, the in-distribution data set of most of the paper's experiments
// (Tables 1–6, Figures 2, 4, 5, 7), as NCHW float32 images in [0,1] (dataset.Set, 3×32×32).
//
// The data are read from the binary version of CIFAR-10 (cifar-10-binary.tar.gz: five training
// batches of 10,000 images and a test batch of 10,000, each a sequence of 3,073-byte records of one
// label byte and 3,072 pixel bytes, the red, green and blue planes of 32×32 pixels, row-major). Load
// finds them in the user's directory (the archive, the extracted cifar-10-batches-bin folder, or the
// .bin files themselves), in the cache directory, or downloads the archive into the cache
// (SHA-256 checked); the archive is decoded as a stream, without extracting it to disk.
//
// WriteBatch and WriteArchive write the same format, for test fixtures and for StandIn: generated
// images of ten learnable classes (colour, shape and stripe orientation) that let the experiments
// run where CIFAR-10 cannot be downloaded. WriteStandIn writes them as a cifar-10-binary.tar.gz, and
// Load marks what it reads from such an archive as a stand-in in the set's Name and Source, so that
// results on it are never taken for CIFAR-10's.
package cifar
