// Package oodsets holds the out-of-distribution test sets of the paper's image experiments that are
// not another classifier's in-distribution data (Lee et al., ICLR 2018, Section 3 and App. B):
//
//   - TinyImageNet (resize): the 10,000 test images of TinyImageNet (200 classes), downsampled to
//     32×32;
//   - LSUN (resize): the 10,000 test images of LSUN (10 scene categories), downsampled to 32×32;
//   - synthetic Gaussian noise: every value of every pixel drawn i.i.d. from N(0.5, 1) and clipped to
//     [0,1].
//
// The paper takes the two resized sets from Liang et al. (ICLR 2018, "ODIN"), who published them as
// the archives Imagenet_resize.tar.gz and LSUN_resize.tar.gz: gzipped tars of 32×32 RGB JPEGs in a
// folder Imagenet_resize/Imagenet_resize/ (LSUN_resize/LSUN_resize/). Load reads such an archive
// as a stream (nothing is extracted), or the extracted folder, from a directory of the user's, the
// cache, or a download (MD5 checked), decoding the JPEGs on all cores. Images are ordered by their
// path in the archive, so a load is deterministic; labels are −1.
//
// Where the real data cannot be had, StandIn generates synthetic stand-ins with different
// statistics for the two sets (object-like blobs on textures for TinyImageNet, scene-like layouts
// for LSUN) and WriteStandIn writes them in the archives' format. They are clearly named
// ("tinyimagenet-standin", "lsun-standin", Source "generated stand-in, NOT …") wherever they go,
// and no result obtained on them is a result on the real sets.
package oodsets
