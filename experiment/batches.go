package experiment

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/dataset"
)

// epochRNG is the random source of one epoch of a run: deterministic in the seed, the run's stream
// and the epoch, so that a run resumed from a checkpoint draws exactly what it would have drawn.
func epochRNG(seed int, stream uint64, epoch int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed)*1_000_003+uint64(epoch), stream))
}

// epochBatches cuts a random permutation of s into full batches (the remainder is dropped, as a
// drop_last loader does).
type epochBatches struct {
	s     *dataset.Set
	perm  []int
	batch int
}

func newEpochBatches(s *dataset.Set, batch int, r *rand.Rand) *epochBatches {
	return &epochBatches{s: s, perm: r.Perm(s.N), batch: batch}
}

func (e *epochBatches) steps() int { return max(1, e.s.N/e.batch) }

// get returns batch i: images [batch, C, H, W] and labels [batch] (int32; −1 labels become 0).
func (e *epochBatches) get(i int) (*tensors.Tensor, *tensors.Tensor) {
	idx := make([]int, e.batch)
	for k := range idx {
		idx[k] = e.perm[(i*e.batch+k)%len(e.perm)]
	}
	return gather(e.s, idx)
}

// gather copies the images and labels at idx into tensors.
func gather(s *dataset.Set, idx []int) (*tensors.Tensor, *tensors.Tensor) {
	per := s.C * s.H * s.W
	x := make([]float32, 0, len(idx)*per)
	y := make([]int32, 0, len(idx))
	for _, i := range idx {
		x = append(x, s.Image(i)...)
		y = append(y, int32(max(s.Labels[i], 0)))
	}
	return tensors.FromFlatDataAndDimensions(x, len(idx), s.C, s.H, s.W), tensors.FromFlatDataAndDimensions(y, len(idx))
}

// randomImages draws n images of s at random (with replacement).
func randomImages(s *dataset.Set, n int, r *rand.Rand) *tensors.Tensor {
	idx := make([]int, n)
	for k := range idx {
		idx[k] = r.IntN(s.N)
	}
	x, _ := gather(s, idx)
	return x
}

// latent draws n standard-normal latent codes of dimension d.
func latent(r *rand.Rand, n, d int) *tensors.Tensor {
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(v, n, d)
}
