// Package saliency computes gradient maps of a classifier's top-1 logit with respect to its input
// image: guided-backpropagation maps (Springenberg et al., 2015), as in the paper's Figure 5
// ("guided gradient maps of the top-1 class"), and plain (vanilla) gradients for comparison, and
// renders them as images.
//
// Guided backpropagation is the input gradient of the top-1 logit f_ŷ(x) where every ReLU passes
// back only the positive part of the gradient arriving from above, and only where its input was
// positive (nn.GuidedReLU). Networks get it by building their ReLUs with nn.ReLUCtx (the classifiers
// of package models do); this package switches it on for its own graph only (nn.SetGuided), so the
// context can be shared with training and inference graphs. The network runs in inference mode.
//
// The gradient is that of the logit (the pre-softmax score), not of the softmax probability; ŷ is
// the argmax of the logits (the first one on ties).
package saliency

import (
	"image"
	"image/color"
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/nn"
)

// Mapper computes gradient maps in fixed-size batches, so that one compiled graph serves every call.
type Mapper struct {
	exec      *context.Exec
	batchSize int
}

// New compiles (lazily, on first use) the map graph of net for batches of batchSize examples:
// guided-backpropagation maps if guided, plain input gradients otherwise. The network must map
// [batchSize, ...] to logits [batchSize, K], each example's logits depending on that example only.
// Every call must use the same example dimensions.
func New(b backends.Backend, ctx *context.Context, net models.Net, batchSize int, guided bool) (*Mapper, error) {
	if batchSize < 1 {
		return nil, errors.Errorf("saliency batch size must be >= 1, got %d", batchSize)
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) []*Node {
		g := x.Graph()
		models.Inference(ctx, g)
		nn.SetGuided(ctx, g, guided)
		logits := net.Reuse(ctx, x)
		if logits.Rank() != 2 || logits.Shape().Dimensions[0] != batchSize {
			panic(errors.Errorf("saliency needs logits [%d, K], the network gives %s", batchSize, logits.Shape()))
		}
		top := ArgMax(logits, -1)
		oneHot := StopGradient(OneHot(top, logits.Shape().Dimensions[1], logits.DType()))
		// Σ_i f_ŷi(x_i): example i's input gradient is that of its own top-1 logit.
		return []*Node{Gradient(ReduceAllSum(Mul(logits, oneHot)), x)[0], top}
	})
	if err != nil {
		return nil, err
	}
	exec.SetMaxCache(1)
	return &Mapper{exec: exec, batchSize: batchSize}, nil
}

// Maps returns, for each example of x (a flat float32 array of examples of the given dimensions,
// e.g. 3, 32, 32 for NCHW images), the gradient ∂f_ŷ/∂x (same layout as the example) and ŷ, the
// top-1 class. The last batch is padded with zeros and the padding dropped.
func (m *Mapper) Maps(x []float32, exampleDims ...int) (maps [][]float32, top1 []int, err error) {
	per, n, err := models.ExampleSize(len(x), exampleDims...)
	if err == nil && n == 0 {
		err = errors.Errorf("input of %d values holds no example of shape %v", len(x), exampleDims)
	}
	if err != nil {
		return nil, nil, err
	}
	buf := make([]float32, m.batchSize*per)
	dims := append([]int{m.batchSize}, exampleDims...)
	for start := 0; start < n; start += m.batchSize {
		end := min(start+m.batchSize, n)
		clear(buf)
		copy(buf, x[start*per:end*per])
		res, err := m.exec.Exec(tensors.FromFlatDataAndDimensions(buf, dims...))
		if err != nil {
			return nil, nil, err
		}
		grad := tensors.MustCopyFlatData[float32](res[0])
		top := tensors.MustCopyFlatData[int32](res[1])
		for _, t := range res {
			t.FinalizeAll()
		}
		for i := 0; i < end-start; i++ {
			maps = append(maps, grad[i*per:(i+1)*per:(i+1)*per])
			top1 = append(top1, int(top[i]))
		}
	}
	return maps, top1, nil
}

// oneShotBatch is the batch size of Guided and Plain.
const oneShotBatch = 32

// Guided returns the guided-backpropagation map of the top-1 logit for each example of x (flat, of
// the given example dimensions), with the network in inference mode. It compiles a graph per call;
// use New for repeated calls.
func Guided(b backends.Backend, ctx *context.Context, net models.Net, x []float32, exampleDims ...int) ([][]float32, error) {
	return oneShot(b, ctx, net, x, true, exampleDims)
}

// Plain is Guided with ordinary ReLU gradients: the vanilla input gradient ∂f_ŷ/∂x.
func Plain(b backends.Backend, ctx *context.Context, net models.Net, x []float32, exampleDims ...int) ([][]float32, error) {
	return oneShot(b, ctx, net, x, false, exampleDims)
}

func oneShot(b backends.Backend, ctx *context.Context, net models.Net, x []float32, guided bool, exampleDims []int) ([][]float32, error) {
	per := 1
	for _, d := range exampleDims {
		per *= max(d, 1)
	}
	batch := max(1, min(oneShotBatch, len(x)/per))
	m, err := New(b, ctx, net, batch, guided)
	if err != nil {
		return nil, err
	}
	defer m.exec.Finalize()
	maps, _, err := m.Maps(x, exampleDims...)
	return maps, err
}

// MaxAbs returns the largest |g| over all the maps (0 if there is none, NaNs ignored): a common
// scale for Signed, Magnitude and ToImage, so that maps of different images or models are comparable
// (with one scale per map, a nearly zero map would look as strong as any other).
func MaxAbs(maps ...[]float32) float64 {
	m := 0.0
	for _, g := range maps {
		for _, v := range g {
			if a := math.Abs(float64(v)); a > m {
				m = a
			}
		}
	}
	return m
}

// Signed maps a gradient to display values in [0, 1], elementwise: 0.5 + 0.5·g/scale, clipped, so
// that a zero gradient is mid-grey, positive gradients brighter and negative ones darker (per
// channel: for an RGB image, the colour shows the sign of each channel's gradient), the usual
// rendering of guided-backpropagation maps. scale ≤ 0 means the map's own MaxAbs (an all-zero map
// stays grey). NaNs become 0.5. The result has the layout of g, e.g. CHW for plots.ImageGrid.
func Signed(g []float32, scale float64) []float32 {
	if !(scale > 0) {
		scale = MaxAbs(g)
	}
	out := make([]float32, len(g))
	for i, v := range g {
		u := 0.5
		if scale > 0 && !math.IsNaN(float64(v)) {
			u = math.Min(1, math.Max(0, 0.5+0.5*float64(v)/scale))
		}
		out[i] = float32(u)
	}
	return out
}

// Magnitude maps a gradient of c channels (CHW, h·w values per channel) to one grey channel in
// [0, 1]: max over channels of |g|/scale, clipped (Simonyan et al.'s saliency map), so that a zero
// gradient is black. scale ≤ 0 means the map's own MaxAbs. NaNs count as 0.
func Magnitude(g []float32, c int, scale float64) ([]float32, error) {
	if c < 1 || len(g)%c != 0 {
		return nil, errors.Errorf("a map of %d values does not have %d channels", len(g), c)
	}
	if !(scale > 0) {
		scale = MaxAbs(g)
	}
	hw := len(g) / c
	out := make([]float32, hw)
	if !(scale > 0) {
		return out, nil
	}
	for ch := 0; ch < c; ch++ {
		for i, v := range g[ch*hw : (ch+1)*hw] {
			if a := math.Abs(float64(v)) / scale; a > float64(out[i]) { // false for NaN
				out[i] = float32(math.Min(1, a))
			}
		}
	}
	return out, nil
}

// ToImage renders a gradient map of shape [c, h, w] (c = 1 or 3) with Signed(g, scale): an
// *image.Gray for one channel, an *image.RGBA for three, zero gradient mid-grey.
func ToImage(g []float32, c, h, w int, scale float64) (image.Image, error) {
	if (c != 1 && c != 3) || h < 1 || w < 1 {
		return nil, errors.Errorf("ToImage takes 1 or 3 channels and positive sizes, got %d×%d×%d", c, h, w)
	}
	if len(g) != c*h*w {
		return nil, errors.Errorf("a %d×%d×%d map has %d values, got %d", c, h, w, c*h*w, len(g))
	}
	v := Signed(g, scale)
	byteOf := func(u float32) uint8 { return uint8(math.Round(255 * float64(u))) }
	rect := image.Rect(0, 0, w, h)
	if c == 1 {
		img := image.NewGray(rect)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetGray(x, y, color.Gray{Y: byteOf(v[y*w+x])})
			}
		}
		return img, nil
	}
	img := image.NewRGBA(rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			img.SetRGBA(x, y, color.RGBA{R: byteOf(v[i]), G: byteOf(v[h*w+i]), B: byteOf(v[2*h*w+i]), A: 255})
		}
	}
	return img, nil
}
