package dataset

import (
	"fmt"
	"math/rand/v2"
)

// GaussianNoise returns n images of c×h×w values drawn independently from N(0.5, 1) (the paper's
// Gaussian noise: mean 0.5, variance 1) and clipped to [0,1], labels −1, deterministic in seed.
// After clipping the mean is still 0.5 and the variance about 0.185 (about 31% of the values are 0
// and 31% are 1). It returns an error if n < 0 or a dimension is < 1.
func GaussianNoise(n, c, h, w int, seed uint64) (*Set, error) {
	return Noise(n, c, h, w, seed, NameStream("gaussian-noise"), "gaussian-noise", "Gaussian noise N(0.5,1) clipped to [0,1]",
		func(r *rand.Rand) float32 { return float32(min(1, max(0, 0.5+r.NormFloat64()))) })
}

// UniformNoise returns n images of c×h×w values drawn independently from U(0,1), labels −1.
func UniformNoise(n, c, h, w int, seed uint64) (*Set, error) {
	return Noise(n, c, h, w, seed, NameStream("uniform-noise"), "uniform-noise", "uniform noise U(0,1)",
		func(r *rand.Rand) float32 { return r.Float32() })
}

// NameStream derives a random stream number from a set's name (the stream Noise's callers in this
// package use, so that sets of different names differ for the same seed).
func NameStream(name string) uint64 {
	var stream uint64
	for _, b := range []byte(name) {
		stream = stream*131 + uint64(b)
	}
	return stream
}

// Noise returns n images of c×h×w values, each drawn independently, in order, by draw from a PCG
// generator seeded with (seed, stream), labels −1.
func Noise(n, c, h, w int, seed, stream uint64, name, source string, draw func(*rand.Rand) float32) (*Set, error) {
	if n < 0 || c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("%s: bad size n=%d, c×h×w=%d×%d×%d", name, n, c, h, w)
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	images := make([]float32, n*c*h*w)
	for i := range images {
		images[i] = draw(rng)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = -1
	}
	return &Set{
		Images: images, Labels: labels, N: n, C: c, H: h, W: w,
		Name: name, Source: fmt.Sprintf("%s, seed %d", source, seed),
	}, nil
}
