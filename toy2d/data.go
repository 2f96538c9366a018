package toy2d

import (
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
)

// Gaussian is an isotropic 2-D Gaussian N(Mean, Sigma² I).
type Gaussian struct {
	Mean  [2]float64 `json:"mean"`
	Sigma float64    `json:"sigma"`
}

// Density is the Gaussian's probability density at p.
func (g Gaussian) Density(p [2]float64) float64 {
	dx, dy := p[0]-g.Mean[0], p[1]-g.Mean[1]
	s2 := g.Sigma * g.Sigma
	return math.Exp(-(dx*dx+dy*dy)/(2*s2)) / (2 * math.Pi * s2)
}

// Distance returns ‖p - Mean‖ in units of Sigma (the Mahalanobis distance).
func (g Gaussian) Distance(p [2]float64) float64 {
	return math.Hypot(p[0]-g.Mean[0], p[1]-g.Mean[1]) / g.Sigma
}

// Sample draws one point.
func (g Gaussian) Sample(r *rand.Rand) [2]float64 {
	return [2]float64{g.Mean[0] + g.Sigma*r.NormFloat64(), g.Mean[1] + g.Sigma*r.NormFloat64()}
}

// Mixture is an equal-weight mixture of Gaussians; component k is class k.
type Mixture []Gaussian

// Validate checks that the mixture has at least two components with positive, finite sigmas.
func (m Mixture) Validate() error {
	if len(m) < 2 {
		return errors.Errorf("the 2D toy needs at least 2 Gaussian classes, got %d", len(m))
	}
	for i, g := range m {
		if !(g.Sigma > 0) || math.IsInf(g.Sigma, 0) {
			return errors.Errorf("class %d: sigma must be > 0 and finite, got %v", i, g.Sigma)
		}
		if math.IsNaN(g.Mean[0]) || math.IsNaN(g.Mean[1]) {
			return errors.Errorf("class %d: mean is NaN", i)
		}
	}
	return nil
}

// Density is the mixture's density at p.
func (m Mixture) Density(p [2]float64) float64 {
	d := 0.0
	for _, g := range m {
		d += g.Density(p)
	}
	return d / float64(len(m))
}

// MinDistance is the smallest distance of p to a component, in that component's sigmas.
func (m Mixture) MinDistance(p [2]float64) float64 {
	d := math.Inf(1)
	for _, g := range m {
		d = math.Min(d, g.Distance(p))
	}
	return d
}

// Labelled is a set of labelled 2-D points.
type Labelled struct {
	X [][2]float64
	Y []int
}

// Sample draws n points per class.
func (m Mixture) Sample(r *rand.Rand, nPerClass int) Labelled {
	var s Labelled
	for k, g := range m {
		for range nPerClass {
			s.X = append(s.X, g.Sample(r))
			s.Y = append(s.Y, k)
		}
	}
	return s
}

// Box is the square [-Half, Half]².
type Box struct {
	Half float64 `json:"half"`
}

// RejectionSample draws n points uniformly from the box, rejecting those within margin sigmas of any
// component of the mixture: out-of-distribution points as in Figure 1(a)(c) and Figure 3. It fails
// on a box that is not positive, a negative margin, n < 1, or when almost every candidate is
// rejected (the box lies inside the in-distribution).
func RejectionSample(r *rand.Rand, m Mixture, box Box, margin float64, n int) ([][2]float64, error) {
	if !(box.Half > 0) || math.IsInf(box.Half, 0) {
		return nil, errors.Errorf("out-of-distribution box half-size must be > 0 and finite, got %v", box.Half)
	}
	if !(margin >= 0) {
		return nil, errors.Errorf("rejection margin must be >= 0 sigmas, got %v", margin)
	}
	if n < 1 {
		return nil, errors.Errorf("number of out-of-distribution points must be >= 1, got %d", n)
	}
	out := make([][2]float64, 0, n)
	tries := 0
	for len(out) < n {
		tries++
		if tries > 1000*n+10000 {
			return nil, errors.Errorf("rejection sampling from [-%g,%g]² kept %d of %d candidates: the box is almost all in-distribution (margin %g sigmas)",
				box.Half, box.Half, len(out), tries, margin)
		}
		p := [2]float64{(2*r.Float64() - 1) * box.Half, (2*r.Float64() - 1) * box.Half}
		if m.MinDistance(p) > margin {
			out = append(out, p)
		}
	}
	return out, nil
}

// flatten turns points into the [n,2] float32 layout the networks take.
func flatten(pts [][2]float64) []float32 {
	out := make([]float32, 0, 2*len(pts))
	for _, p := range pts {
		out = append(out, float32(p[0]), float32(p[1]))
	}
	return out
}

// GridPoints returns the n×n grid over [-half, half]², row-major from (−half, −half), x fastest.
func GridPoints(half float64, n int) [][2]float64 {
	pts := make([][2]float64, 0, n*n)
	for iy := range n {
		for ix := range n {
			x := -half + 2*half*float64(ix)/float64(n-1)
			y := -half + 2*half*float64(iy)/float64(n-1)
			pts = append(pts, [2]float64{x, y})
		}
	}
	return pts
}

// LogDensity is the log of the mixture's density at p, computed stably (log-sum-exp), so it stays
// finite far from the components.
func (m Mixture) LogDensity(p [2]float64) float64 {
	logs := make([]float64, len(m))
	best := math.Inf(-1)
	for i, g := range m {
		dx, dy := p[0]-g.Mean[0], p[1]-g.Mean[1]
		s2 := g.Sigma * g.Sigma
		logs[i] = -(dx*dx+dy*dy)/(2*s2) - math.Log(2*math.Pi*s2)
		best = math.Max(best, logs[i])
	}
	sum := 0.0
	for _, l := range logs {
		sum += math.Exp(l - best)
	}
	return best + math.Log(sum/float64(len(m)))
}
