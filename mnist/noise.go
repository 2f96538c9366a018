package mnist

import (
	"math/rand/v2"

	"github.com/confcal/confcal/dataset"
)

// noiseSet makes n channels×32×32 images whose every value (each pixel of each channel,
// independently) is draw(rng); labels are −1.
func noiseSet(n, channels int, seed, stream uint64, name, source string, draw func(*rand.Rand) float32) *Set {
	s, err := dataset.Noise(n, channels, Size, Size, seed, stream, name, source, draw)
	if err != nil {
		panic("mnist: " + err.Error())
	}
	return s
}

// UniformNoise returns n images of channels×32×32 values drawn independently from U(0,1), labels −1,
// deterministic in seed. Channels are drawn independently (not grey replicated); the noise is drawn
// at 32×32 directly, not resized. It panics if n < 0 or channels < 1.
func UniformNoise(n, channels int, seed uint64) *Set {
	return noiseSet(n, channels, seed, 0x0a1f04, "uniform-noise", "uniform noise U(0,1)",
		func(r *rand.Rand) float32 { return r.Float32() })
}

// GaussianNoise returns n images of channels×32×32 values drawn independently from N(0.5, 1) (the
// paper's Gaussian noise: mean 0.5, variance 1) and clipped to [0,1], labels −1, deterministic in
// seed. After clipping the mean is still 0.5 and the variance about 0.185 (about 31% of values are
// 0 and 31% are 1). Channels are drawn independently; the noise is drawn at 32×32 directly. It panics
// if n < 0 or channels < 1.
func GaussianNoise(n, channels int, seed uint64) *Set {
	return noiseSet(n, channels, seed, 0x6a055, "gaussian-noise", "Gaussian noise N(0.5,1) clipped to [0,1]",
		func(r *rand.Rand) float32 { return float32(min(1, max(0, 0.5+r.NormFloat64()))) })
}
