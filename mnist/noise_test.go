package mnist

import (
	"math"
	"slices"
	"testing"
)

func TestNoise(t *testing.T) {
	for _, tc := range []struct {
		name     string
		make     func(n, channels int, seed uint64) *Set
		channels int
		mean     float64
		variance float64
		zeroFrac float64 // expected fraction of exact zeros
	}{
		// U(0,1): mean 1/2, variance 1/12.
		{"uniform", UniformNoise, 3, 0.5, 1.0 / 12, 0},
		{"uniform-1ch", UniformNoise, 1, 0.5, 1.0 / 12, 0},
		// N(0.5,1) clipped to [0,1]: mean 1/2 by symmetry; variance 2·Φ(−½)·¼ + ∫_{−½}^{½} z²φ(z)dz ≈ 0.1851;
		// Φ(−½) ≈ 0.3085 of the values are 0.
		{"gaussian", GaussianNoise, 3, 0.5, 0.1851, 0.3085},
		{"gaussian-1ch", GaussianNoise, 1, 0.5, 0.1851, 0.3085},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 100
			s := tc.make(n, tc.channels, 1)
			if s.N != n || s.C != tc.channels || s.H != 32 || s.W != 32 || len(s.Images) != n*tc.channels*1024 {
				t.Fatalf("N=%d C=%d %d×%d len=%d", s.N, s.C, s.H, s.W, len(s.Images))
			}
			for _, l := range s.Labels {
				if l != -1 {
					t.Fatalf("label %d, want -1", l)
				}
			}
			var sum, sum2 float64
			zeros := 0
			for _, v := range s.Images {
				if v < 0 || v > 1 {
					t.Fatalf("value %v out of [0,1]", v)
				}
				if v == 0 {
					zeros++
				}
				sum += float64(v)
				sum2 += float64(v) * float64(v)
			}
			m := float64(len(s.Images))
			mean := sum / m
			variance := sum2/m - mean*mean
			zf := float64(zeros) / m
			t.Logf("mean %.4f variance %.4f zeros %.4f", mean, variance, zf)
			if math.Abs(mean-tc.mean) > 0.01 || math.Abs(variance-tc.variance) > 0.01 || math.Abs(zf-tc.zeroFrac) > 0.01 {
				t.Errorf("mean %v variance %v zeros %v; want %v, %v, %v", mean, variance, zf, tc.mean, tc.variance, tc.zeroFrac)
			}
			if !slices.Equal(s.Images, tc.make(n, tc.channels, 1).Images) {
				t.Error("same seed gave different noise")
			}
			if slices.Equal(s.Images, tc.make(n, tc.channels, 2).Images) {
				t.Error("different seeds gave the same noise")
			}
			if tc.channels == 3 {
				img := s.Image(0)
				if slices.Equal(img[:1024], img[1024:2048]) {
					t.Error("channels are identical; they should be independent")
				}
			}
		})
	}
}
