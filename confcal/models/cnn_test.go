package models_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/nn"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/train"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// A learnable toy image task: class k's images are noise plus a bright square in quadrant k.
func toyImages(r *rand.Rand, n int) (*tensors.Tensor, *tensors.Tensor) {
	x := make([]float32, n*3*32*32)
	y := make([]int32, n)
	for i := range n {
		k := r.IntN(4)
		y[i] = int32(k)
		for c := range 3 {
			for h := range 32 {
				for w := range 32 {
					v := 0.3 * r.Float32()
					if h/16 == k/2 && w/16 == k%2 {
						v += 0.6
					}
					x[((i*3+c)*32+h)*32+w] = v
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(x, n, 3, 32, 32), tensors.FromFlatDataAndDimensions(y, n)
}

// Each classifier of the paper, narrowed for speed, trains on the default CPU backend: its
// confidence loss goes down on a fixed batch, and its graphs use only ops the backend has.
func TestClassifiersTrainOnCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("trains CNNs for a few seconds each")
	}
	for _, tc := range []struct {
		name  string
		fn    models.Fn
		steps int
	}{
		{"simple CNN", models.SimpleCNN(4, 8, 16, 32, 16), 25},
		{"VGG-13", models.VGG13(4, 1.0/8), 30},
		{"AlexNet", models.AlexNet(4, 1.0/16), 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			ctx := context.New()
			ctx.SetRNGStateFromSeed(3)
			net := models.Net{Scope: models.ClassifierScope, Fn: tc.fn}
			step, err := train.Classifier(backend.Must(), ctx, train.ClassifierConfig{
				Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: 2e-3}, Beta: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			x, y := toyImages(r, 16)
			ood, _ := toyImages(r, 16)
			// Dropout makes single steps noisy: compare the first loss with the mean of the last five.
			var first, last float64
			for i := range tc.steps {
				l, err := step.Run(x, y, ood)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = l[0]
				}
				if i >= tc.steps-5 {
					last += l[0] / 5
				}
			}
			t.Logf("%s: loss %.4f -> %.4f (mean of the last 5 steps)", tc.name, first, last)
			if !(last < 0.7*first) {
				t.Errorf("%s: loss did not go down enough: %.4f -> %.4f", tc.name, first, last)
			}
		})
	}
}

// The DCGAN trains on the CPU backend: the discriminator learns to separate real from generated
// images (its loss drops below the 2·ln 2 of chance), and the generator's images have the right shape.
func TestDCGANTrainsOnCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a GAN for a few seconds")
	}
	r := rand.New(rand.NewPCG(3, 4))
	ctx := context.New()
	ctx.SetRNGStateFromSeed(5)
	gen := models.Net{Scope: models.GeneratorScope, Fn: models.DCGANGenerator(3, 1.0/16)}
	disc := models.Net{Scope: models.DiscriminatorScope, Fn: models.DCGANDiscriminator(1.0 / 16)}
	step, err := train.GAN(backend.Must(), ctx, train.GANConfig{Generator: gen, Discriminator: disc,
		OptG: optim.Adam{Scope: gen.Scope, LearningRate: 2e-4, Beta1: 0.5},
		OptD: optim.Adam{Scope: disc.Scope, LearningRate: 2e-3, Beta1: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := toyImages(r, 8)
	var first, last []float64
	for i := range 30 {
		z := make([]float32, 8*100)
		for j := range z {
			z[j] = float32(r.NormFloat64())
		}
		l, err := step.Run(x, tensors.FromFlatDataAndDimensions(z, 8, 100))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = l
		}
		last = l
	}
	t.Logf("D loss %.4f -> %.4f, G loss %.4f -> %.4f", first[0], last[0], first[1], last[1])
	if !(last[0] < first[0] && last[0] < 1.2) {
		t.Errorf("discriminator loss %.4f -> %.4f: it should learn to tell real from generated", first[0], last[0])
	}
}

// Every model's training graph (forward, gradient, Adam update) uses only ops the default backend
// supports, at full width; its convolutions are GoMLX's ConvGeneral (and its max pooling
// ReduceWindow, with SelectAndScatterMax gradients), with no convolution or pooling built from
// Gather/ScatterSum or ArgMax.
func TestModelsUseSupportedOpsOnly(t *testing.T) {
	b := backend.Must()
	for _, tc := range []struct {
		name  string
		fn    models.Fn
		input shapes.Shape
	}{
		{"simple CNN", models.SimpleCNN(10, 128, 256, 1024, 256), shapes.Make(dtypes.Float32, 2, 3, 32, 32)},
		{"VGG-13", models.VGG13(10, 1), shapes.Make(dtypes.Float32, 2, 3, 32, 32)},
		{"AlexNet", models.AlexNet(10, 1), shapes.Make(dtypes.Float32, 2, 3, 32, 32)},
		{"DCGAN D", models.DCGANDiscriminator(1), shapes.Make(dtypes.Float32, 2, 3, 32, 32)},
		{"DCGAN G", models.DCGANGenerator(3, 1), shapes.Make(dtypes.Float32, 2, 100)},
	} {
		ctx := context.New()
		g := NewGraph(b, tc.name)
		x := Parameter(g, "x", tc.input)
		ctx.SetTraining(g, true)
		out := tc.fn(ctx.In("net").Checked(false), x)
		loss := ReduceAllSum(out)
		optim.Adam{Scope: "net", LearningRate: 1e-3}.Update(ctx, loss)
		if bad := nn.UnsupportedOps(g, b); len(bad) > 0 {
			t.Errorf("%s: graph uses ops the backend lacks: %s", tc.name, strings.Join(bad, ", "))
		}
		count := map[NodeType]int{}
		for _, n := range g.Nodes() {
			count[n.Type()]++
		}
		if count[NodeTypeConvGeneral] == 0 {
			t.Errorf("%s: no ConvGeneral in the training graph", tc.name)
		}
		for _, nt := range []NodeType{NodeTypeGather, NodeTypeScatterSum, NodeTypeArgMinMax} {
			if count[nt] > 0 {
				t.Errorf("%s: %d %s nodes in the training graph (convolutions or pooling built by hand?)", tc.name, count[nt], nt)
			}
		}
		if pools := count[NodeTypeReduceWindow]; (pools > 0) != (count[NodeTypeSelectAndScatterMax] > 0) {
			t.Errorf("%s: %d ReduceWindow but %d SelectAndScatterMax nodes", tc.name, pools, count[NodeTypeSelectAndScatterMax])
		}
		want := map[string][]int{"DCGAN D": {2}, "DCGAN G": {2, 3, 32, 32}}[tc.name]
		if want == nil {
			want = []int{2, 10}
		}
		if got := out.Shape().Dimensions; len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("%s: output shape %v, want %v", tc.name, got, want)
		}
	}
}

// The shape after each block of VGG-13 and of the DCGAN is checked when the graph is built: an input
// of the wrong size is an error naming the first block whose output is off, with the dimensions it
// has and those it should have (batch 1, as models.Initialize runs it; width 1/8: 64 → 8 filters,
// 128 → 16).
func TestBlockShapesChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   models.Fn
		dims []int
		want []string // substrings of the error; none: no error
	}{
		{"VGG-13 28×28", models.VGG13(10, 1.0/8), []int{3, 28, 28},
			[]string{"VGG13 block 1 (conv_0, conv_1, max pool)", "[1 8 14 14]", "want [1 8 16 16]"}},
		{"VGG-13 64×64", models.VGG13(10, 1.0/8), []int{1, 64, 64},
			[]string{"VGG13 block 1 (conv_0, conv_1, max pool)", "[1 8 32 32]", "want [1 8 16 16]"}},
		{"VGG-13 32×32", models.VGG13(10, 1.0/8), []int{3, 32, 32}, nil},
		{"DCGAN D 28×28", models.DCGANDiscriminator(1.0 / 8), []int{3, 28, 28},
			[]string{"DCGANDiscriminator block 1 (conv_0)", "[1 16 14 14]", "want [1 16 16 16]"}},
		{"DCGAN D 32×32", models.DCGANDiscriminator(1.0 / 8), []int{3, 32, 32}, nil},
		{"DCGAN G", models.DCGANGenerator(3, 1.0/8), []int{100}, nil},
	} {
		err := models.Initialize(backend.Must(), context.New(), models.Net{Scope: "net", Fn: tc.fn}, tc.dims...)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != nil && err == nil:
			t.Errorf("%s: no error, want one naming %q", tc.name, tc.want[0])
		case err != nil:
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q lacks %q", tc.name, err, w)
				}
			}
		}
	}
}
