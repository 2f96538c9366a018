package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Set is a labelled image set, NCHW float32 in [0,1].
type Set struct {
	Images     []float32 // N×C×H×W, row-major
	Labels     []int     // N labels: the class in 0…K−1, or −1 for an unlabelled (OOD) image
	N, C, H, W int
	Name       string // short name, e.g. "cifar10-test", "lsun", "gaussian-noise"
	Source     string // where the data came from: the files read, or how it was generated
}

// Image returns the C×H×W pixels of image i (a sub-slice of Images, not a copy).
func (s *Set) Image(i int) []float32 {
	sz := s.C * s.H * s.W
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Check returns an error when the set's fields disagree (slice lengths vs N, C, H, W).
func (s *Set) Check() error {
	if s.N < 0 || s.C < 1 || s.H < 1 || s.W < 1 {
		return fmt.Errorf("set %q: bad dimensions N=%d C=%d H=%d W=%d", s.Name, s.N, s.C, s.H, s.W)
	}
	if len(s.Images) != s.N*s.C*s.H*s.W {
		return fmt.Errorf("set %q: %d pixel values, want N×C×H×W = %d", s.Name, len(s.Images), s.N*s.C*s.H*s.W)
	}
	if len(s.Labels) != s.N {
		return fmt.Errorf("set %q: %d labels for %d images", s.Name, len(s.Labels), s.N)
	}
	return nil
}

// pick returns a new set of the images at idx (in that order), copied.
func (s *Set) pick(idx []int, source string) *Set {
	sz := s.C * s.H * s.W
	out := &Set{
		Images: make([]float32, len(idx)*sz),
		Labels: make([]int, len(idx)),
		N:      len(idx), C: s.C, H: s.H, W: s.W,
		Name:   s.Name,
		Source: source,
	}
	for j, i := range idx {
		copy(out.Images[j*sz:(j+1)*sz], s.Image(i))
		out.Labels[j] = s.Labels[i]
	}
	return out
}

// Subset returns n images drawn at random without replacement, deterministically in seed, kept in
// their original relative order. With n <= 0 or n >= N it returns s itself. The images are copied.
func (s *Set) Subset(n int, seed uint64) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ab5e7))
	idx := rng.Perm(s.N)[:n]
	slices.Sort(idx)
	return s.pick(idx, fmt.Sprintf("%s (subset of %d, seed %d)", s.Source, n, seed))
}

// Split divides the set at random (deterministic in seed) into a first part of n images and the
// rest, each kept in the original relative order: e.g. the paper's 1,000 OOD validation images
// and the OOD test images. n must be in [0, N].
func (s *Set) Split(n int, seed uint64) (first, rest *Set, err error) {
	if n < 0 || n > s.N {
		return nil, nil, fmt.Errorf("set %q: cannot split off %d of %d images", s.Name, n, s.N)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5b1177))
	perm := rng.Perm(s.N)
	a, b := slices.Clone(perm[:n]), slices.Clone(perm[n:])
	slices.Sort(a)
	slices.Sort(b)
	first = s.pick(a, fmt.Sprintf("%s (split: %d images, seed %d)", s.Source, n, seed))
	rest = s.pick(b, fmt.Sprintf("%s (split: the other %d images, seed %d)", s.Source, s.N-n, seed))
	return first, rest, nil
}

// Concat returns the images of the sets one after the other (equal C, H, W), named name.
func Concat(name string, sets ...*Set) (*Set, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("dataset.Concat(%q): no sets", name)
	}
	out := &Set{C: sets[0].C, H: sets[0].H, W: sets[0].W, Name: name}
	for _, s := range sets {
		if s.C != out.C || s.H != out.H || s.W != out.W {
			return nil, fmt.Errorf("dataset.Concat(%q): %q is %d×%d×%d, want %d×%d×%d", name, s.Name, s.C, s.H, s.W, out.C, out.H, out.W)
		}
		out.Images = append(out.Images, s.Images...)
		out.Labels = append(out.Labels, s.Labels...)
		out.N += s.N
		if out.Source != "" {
			out.Source += " + "
		}
		out.Source += s.Source
	}
	return out, nil
}
