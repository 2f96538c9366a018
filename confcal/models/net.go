package models

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/nn"
)

// Conventional scopes of the three networks of the paper.
const (
	ClassifierScope    = "classifier"
	GeneratorScope     = "generator"
	DiscriminatorScope = "discriminator"
)

// Net is a network: a model function and the top-level scope of its variables.
type Net struct {
	Scope string
	Fn    Fn
}

// Apply runs the network on x with its variables under ctx's /Scope, created on first use. Training
// steps use it: a step may apply the same network twice (in- and out-of-distribution batches).
func (n Net) Apply(ctx *context.Context, x *Node) *Node {
	return n.Fn(ctx.InAbsPath(context.ScopeSeparator+n.Scope).Checked(false), x)
}

// Infer runs the network on x in inference mode (batch norm with its running statistics, plain
// ReLUs) with variables that must already exist: a variable missing under /Scope is an error (a
// graph-building panic that names it), never a freshly initialised random weight. Inference graphs
// use it, as GoMLX's examples use ctx.Reuse().
func (n Net) Infer(ctx *context.Context, x *Node) *Node {
	Inference(ctx, x.Graph())
	return n.Reuse(ctx, x)
}

// Reuse runs the network on x, in whatever mode the graph is in, with variables that must already
// exist under /Scope (see Infer).
func (n Net) Reuse(ctx *context.Context, x *Node) *Node {
	return n.Fn(ctx.InAbsPath(context.ScopeSeparator+n.Scope).Checked(true).Reuse(), x)
}

// Valid reports whether the network has a scope and a model function.
func (n Net) Valid() bool { return n.Fn != nil && n.Scope != "" }

// Inference puts graph g of ctx in inference mode: no training behaviour (batch norm uses its
// running statistics) and plain ReLUs even where guided ReLUs were switched on in the context.
func Inference(ctx *context.Context, g *Graph) {
	ctx.SetTraining(g, false)
	nn.SetGuided(ctx, g, false)
}

// Predictor computes a network's outputs in inference mode, with existing variables (Net.Reuse), in fixed-size batches so
// that one compiled graph serves every call.
type Predictor struct {
	exec      *context.Exec
	batchSize int
}

// NewPredictor compiles (lazily, on first use) the network's inference graph for batches of
// batchSize examples.
func NewPredictor(b backends.Backend, ctx *context.Context, net Net, batchSize int) (*Predictor, error) {
	if batchSize < 1 {
		return nil, errors.Errorf("predictor batch size must be >= 1, got %d", batchSize)
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
		// Inference mode; ReLUs as the context says (guided ReLUs have the same forward values).
		ctx.SetTraining(x.Graph(), false)
		return net.Reuse(ctx, x)
	})
	if err != nil {
		return nil, err
	}
	return &Predictor{exec: exec, batchSize: batchSize}, nil
}

// Outputs runs the network over x, a flat float32 array of n examples each of the given example
// dimensions (e.g. [2] for 2D points, [3,32,32] for images), and returns one output row per example
// (the example's outputs flattened: logits, or a generated image).
// The last batch is padded with zeros and the padding's outputs dropped.
func (p *Predictor) Outputs(x []float32, exampleDims ...int) ([][]float32, error) {
	per, n, err := ExampleSize(len(x), exampleDims...)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, 0, n)
	buf := make([]float32, p.batchSize*per)
	dims := append([]int{p.batchSize}, exampleDims...)
	for start := 0; start < n; start += p.batchSize {
		end := min(start+p.batchSize, n)
		clear(buf)
		copy(buf, x[start*per:end*per])
		res, err := p.exec.Exec(tensors.FromFlatDataAndDimensions(buf, dims...))
		if err != nil {
			return nil, err
		}
		t := res[0]
		if t.Rank() < 2 || t.Shape().Dimensions[0] != p.batchSize {
			return nil, errors.Errorf("network output has shape %s, want [%d, ...]", t.Shape(), p.batchSize)
		}
		flat := tensors.MustCopyFlatData[float32](t)
		t.FinalizeAll()
		k := len(flat) / p.batchSize
		for i := 0; i < end-start; i++ {
			out = append(out, flat[i*k:(i+1)*k:(i+1)*k])
		}
	}
	return out, nil
}

// Sample draws n outputs G(z) of a generator in inference mode, with latent codes z ~ N(0, I) of
// dimension zDim drawn from r (n·zDim normal draws, in order), in batches of batchSize. Each output
// is one sample, flattened.
func Sample(b backends.Backend, ctx *context.Context, gen Net, r *rand.Rand, n, zDim, batchSize int) ([][]float32, error) {
	if n < 1 || zDim < 1 {
		return nil, errors.Errorf("Sample needs n >= 1 and zDim >= 1, got %d and %d", n, zDim)
	}
	p, err := NewPredictor(b, ctx, gen, batchSize)
	if err != nil {
		return nil, err
	}
	z := make([]float32, n*zDim)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	return p.Outputs(z, zDim)
}

// Initialize creates the network's variables in ctx with their initial values (its model function's
// initializers, from ctx's random state), by running it once in inference mode on a zero batch of
// one example of the given dimensions. Variables that exist already keep their values. Use it for a
// network that is evaluated before it is trained (inference graphs never create variables).
func Initialize(b backends.Backend, ctx *context.Context, net Net, exampleDims ...int) error {
	if !net.Valid() {
		return errors.New("Initialize: network needs a scope and a model function")
	}
	per, _, err := ExampleSize(0, exampleDims...)
	if err != nil {
		return errors.WithMessage(err, "Initialize")
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, x *Node) *Node {
		Inference(ctx, x.Graph())
		return net.Apply(ctx, x)
	})
	if err != nil {
		return err
	}
	res, err := exec.Exec(tensors.FromFlatDataAndDimensions(make([]float32, per), append([]int{1}, exampleDims...)...))
	if err != nil {
		return errors.WithMessagef(err, "initializing network %q", net.Scope)
	}
	for _, t := range res {
		t.FinalizeAll()
	}
	return nil
}

// ExampleSize checks the dimensions of one example (at least one, each >= 1) and that n values are
// a whole number of such examples; it returns the values per example and the number of examples.
func ExampleSize(n int, exampleDims ...int) (per, count int, err error) {
	if len(exampleDims) == 0 {
		return 0, 0, errors.New("example dimensions missing")
	}
	per = 1
	for _, d := range exampleDims {
		if d < 1 {
			return 0, 0, errors.Errorf("example dimensions must be >= 1, got %v", exampleDims)
		}
		per *= d
	}
	if n < 0 || n%per != 0 {
		return 0, 0, errors.Errorf("input of %d values is not a whole number of examples of shape %v", n, exampleDims)
	}
	return per, n / per, nil
}
