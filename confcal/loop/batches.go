package loop

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/dataset"
)

// EpochRNG is the random source of one epoch of a run: deterministic in the seed, the run's stream
// (Stream) and the epoch, so that a run resumed from a checkpoint draws exactly what it would have
// drawn.
func EpochRNG(seed int, stream uint64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)*1_000_003+uint64(epoch), stream))
}

// Stream turns a run's name into the stream of its random sources (FNV-1a), so that runs of
// different names draw independently.
func Stream(name string) uint64 {
	var h uint64 = 1469598103934665603
	for _, b := range []byte(name) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

// Batches cuts a random permutation of a set into full batches (the remainder is dropped, as a
// drop_last loader does).
type Batches struct {
	s     *dataset.Set
	perm  []int
	batch int
}

// NewBatches draws the permutation of one epoch of s from r.
func NewBatches(s *dataset.Set, batch int, r *rand.Rand) *Batches {
	return &Batches{s: s, perm: r.Perm(s.N), batch: batch}
}

// Steps is the number of batches of an epoch (at least 1: a set smaller than a batch is cycled).
func (b *Batches) Steps() int { return max(1, b.s.N/b.batch) }

// Get returns batch i: images [batch, C, H, W] and labels [batch] (int32; −1 labels become 0).
func (b *Batches) Get(i int) (*tensors.Tensor, *tensors.Tensor) {
	idx := make([]int, b.batch)
	for k := range idx {
		idx[k] = b.perm[(i*b.batch+k)%len(b.perm)]
	}
	return Gather(b.s, idx)
}

// Gather copies the images and labels of s at idx into tensors [len(idx), C, H, W] and [len(idx)].
func Gather(s *dataset.Set, idx []int) (*tensors.Tensor, *tensors.Tensor) {
	per := s.C * s.H * s.W
	x := make([]float32, 0, len(idx)*per)
	y := make([]int32, 0, len(idx))
	for _, i := range idx {
		x = append(x, s.Image(i)...)
		y = append(y, int32(max(s.Labels[i], 0)))
	}
	return tensors.FromFlatDataAndDimensions(x, len(idx), s.C, s.H, s.W), tensors.FromFlatDataAndDimensions(y, len(idx))
}

// RandomImages draws n images of s at random, with replacement.
func RandomImages(s *dataset.Set, n int, r *rand.Rand) *tensors.Tensor {
	idx := make([]int, n)
	for k := range idx {
		idx[k] = r.IntN(s.N)
	}
	x, _ := Gather(s, idx)
	return x
}

// Latent draws n standard-normal latent codes z ~ N(0, I) of dimension d (n·d draws, in order).
func Latent(r *rand.Rand, n, d int) *tensors.Tensor {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, n, d)
}
