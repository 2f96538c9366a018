package detect

import (
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/softmax"
)

// ODIN is the detector of Liang et al. (2018) used in the paper's App. C.3 (Figure 7): temperature
// scaling plus input perturbation. For an input x with predicted class ŷ = argmax_y f_y(x) it computes
//
//	x' = x − ε·sign(−∇_x log S_ŷ(x; T)),   S_y(x; T) = exp(f_y(x)/T) / Σ_j exp(f_j(x)/T),
//
// and the score max_y S_y(x'; T) (in-distribution iff score ≥ δ). The perturbation moves x by ε per
// input value in the direction that raises the temperature-scaled softmax of the predicted class.
//
// The network runs in inference mode (no dropout, batch norm with its running statistics, plain
// ReLUs even if guided ReLUs are switched on in the context) and no variable is changed. T and ε are
// runtime scalar inputs of the compiled graphs, so the whole grid ODINGrid runs on one compilation
// of each.
//
// Conventions, following the paper's formula rather than the authors' PyTorch code: sign(0) = 0
// (an input value whose gradient is exactly zero is not moved; Liang et al.'s code moves it by −ε),
// the perturbation is applied to the inputs as given (that code divides it by the per-channel
// standard deviation of its input normalisation; this project's images are unnormalised values in
// [0, 1]), and x' is not clipped to [0, 1].
type ODIN struct {
	dirExec   *context.Exec // (x, T) -> sign(−∇_x log S_ŷ(x; T))
	fwdExec   *context.Exec // (x, sign, ε) -> x' = x − ε·sign, f(x')
	batchSize int
}

// NewODIN compiles (lazily, on first use) the ODIN graphs of net for batches of batchSize examples;
// every later call must use the same example dimensions (each graph is compiled once, and a second
// shape is an error). The network must map a batch [batchSize, ...] to logits [batchSize, K] with
// K ≥ 2, and every example's logits must depend on that example only (true in inference mode).
//
// There are two graphs, both with runtime scalar inputs: one computes the perturbation direction
// sign(−∇_x log S_ŷ(x; T)) for a temperature T (a forward and a backward pass), the other the
// perturbed input x' and its logits for a noise magnitude ε (a forward pass). GridScores computes the
// direction once per temperature and the unperturbed logits (ε = 0, the same for every T) once.
func NewODIN(b backends.Backend, ctx *context.Context, net models.Net, batchSize int) (*ODIN, error) {
	if batchSize < 1 {
		return nil, errors.Errorf("ODIN batch size must be >= 1, got %d", batchSize)
	}
	checkLogits := func(logits *Node) {
		if logits.Rank() != 2 || logits.Shape().Dimensions[0] != batchSize || logits.Shape().Dimensions[1] < 2 {
			panic(errors.Errorf("ODIN needs logits [%d, K>=2], the network gives %s", batchSize, logits.Shape()))
		}
	}
	dirExec, err := context.NewExec(b, ctx, func(ctx *context.Context, x, temp *Node) *Node {
		logits := net.Infer(ctx, x)
		checkLogits(logits)
		logS := LogSoftmax(Div(logits, ConvertDType(temp, logits.DType())), -1)
		top := ArgMax(logits, -1)
		oneHot := StopGradient(OneHot(top, logits.Shape().Dimensions[1], logits.DType()))
		// Σ_i log S_ŷi(x_i; T): example i's input gradient is that of its own term.
		grad := Gradient(ReduceAllSum(Mul(logS, oneHot)), x)[0]
		return Sign(Neg(grad))
	})
	if err != nil {
		return nil, err
	}
	fwdExec, err := context.NewExec(b, ctx, func(ctx *context.Context, x, sign, eps *Node) []*Node {
		xp := Sub(x, Mul(ConvertDType(eps, x.DType()), sign))
		logits := net.Infer(ctx, xp)
		checkLogits(logits)
		return []*Node{xp, logits}
	})
	if err != nil {
		return nil, err
	}
	// One graph each for every (T, ε): a second compilation would be a bug (the cache limit turns it
	// into an error).
	dirExec.SetMaxCache(1)
	fwdExec.SetMaxCache(1)
	return &ODIN{dirExec: dirExec, fwdExec: fwdExec, batchSize: batchSize}, nil
}

// Perturb runs ODIN on x, a flat float32 array of n examples of the given example dimensions, with
// temperature T > 0 and noise magnitude ε ≥ 0. It returns the perturbed inputs x' (same layout as x)
// and the logits f(x') of each example (not divided by T). The last batch is padded with zeros and
// the padding dropped. With ε = 0 no gradient is computed and x' = x.
func (o *ODIN) Perturb(x []float32, T, eps float64, exampleDims ...int) (xPrime []float32, logits [][]float32, err error) {
	grid := []ODINParams{{T: T, Eps: eps}}
	xPrime = make([]float32, 0, len(x))
	err = o.run(x, grid, exampleDims, func(_ int, xp []float32, l [][]float32) {
		xPrime = append(xPrime, xp...)
		logits = append(logits, l...)
	})
	if err != nil {
		return nil, nil, err
	}
	return xPrime, logits, nil
}

// Scores returns the ODIN score max_y S_y(x'; T) of each example of x (see Perturb for the layout),
// computed in float64 from the logits of x' (softmax.Rows at temperature T). With ε = 0 and T = 1
// it is the baseline score.
func (o *ODIN) Scores(x []float32, T, eps float64, exampleDims ...int) ([]float64, error) {
	s, err := o.GridScores(x, []ODINParams{{T: T, Eps: eps}}, exampleDims...)
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// GridScores returns the ODIN scores of the examples of x at every point of grid: scores[p][i] is
// example i's score at grid[p], the same as Scores(x, grid[p].T, grid[p].Eps). It needs one forward
// and backward pass per distinct temperature with some ε > 0, one forward pass per grid point with
// ε > 0, and one forward pass for all the points with ε = 0.
func (o *ODIN) GridScores(x []float32, grid []ODINParams, exampleDims ...int) ([][]float64, error) {
	scores := make([][]float64, len(grid))
	err := o.run(x, grid, exampleDims, func(p int, _ []float32, l [][]float32) {
		conf, _ := softmax.Rows(l, grid[p].T)
		scores[p] = append(scores[p], conf...)
	})
	if err != nil {
		return nil, err
	}
	return scores, nil
}

// run calls emit(p, x', logits) for each batch of x and each grid point p in turn, without the
// padding of the last batch.
func (o *ODIN) run(x []float32, grid []ODINParams, exampleDims []int, emit func(p int, xp []float32, logits [][]float32)) error {
	if len(grid) == 0 {
		return errors.New("ODIN needs at least one (T, ε)")
	}
	for _, p := range grid {
		if err := p.check(); err != nil {
			return err
		}
	}
	per, err := exampleSize(len(x), exampleDims)
	if err != nil {
		return err
	}
	n := len(x) / per
	buf := make([]float32, o.batchSize*per)
	dims := append([]int{o.batchSize}, exampleDims...)
	zeros := tensors.FromFlatDataAndDimensions(make([]float32, o.batchSize*per), dims...)
	defer zeros.FinalizeAll()
	for start := 0; start < n; start += o.batchSize {
		end := min(start+o.batchSize, n)
		clear(buf)
		copy(buf, x[start*per:end*per])
		xb := tensors.FromFlatDataAndDimensions(buf, dims...)
		err := o.runBatch(xb, zeros, grid, func(p int, xp, flat []float32) {
			k := len(flat) / o.batchSize
			logits := make([][]float32, end-start)
			for i := range logits {
				logits[i] = flat[i*k : (i+1)*k : (i+1)*k]
			}
			emit(p, xp[:(end-start)*per:(end-start)*per], logits)
		})
		xb.FinalizeAll()
		if err != nil {
			return err
		}
	}
	return nil
}

// runBatch evaluates one full batch at every grid point, computing each temperature's direction and
// the ε = 0 result once.
func (o *ODIN) runBatch(xb, zeros *tensors.Tensor, grid []ODINParams, emit func(p int, xp, logits []float32)) error {
	type result struct{ xp, logits []float32 }
	dirs := map[float64]*tensors.Tensor{}
	defer func() {
		for _, d := range dirs {
			d.FinalizeAll()
		}
	}()
	var unperturbed *result
	for p, pt := range grid {
		if pt.Eps == 0 && unperturbed != nil {
			emit(p, unperturbed.xp, unperturbed.logits)
			continue
		}
		sign := zeros
		if pt.Eps > 0 {
			if dirs[pt.T] == nil {
				res, err := o.dirExec.Exec(xb, float32(pt.T))
				if err != nil {
					return err
				}
				dirs[pt.T] = res[0]
			}
			sign = dirs[pt.T]
		}
		res, err := o.fwdExec.Exec(xb, sign, float32(pt.Eps))
		if err != nil {
			return err
		}
		r := &result{xp: tensors.MustCopyFlatData[float32](res[0]), logits: tensors.MustCopyFlatData[float32](res[1])}
		for _, t := range res {
			t.FinalizeAll()
		}
		if pt.Eps == 0 {
			unperturbed = r
		}
		emit(p, r.xp, r.logits)
	}
	return nil
}

// exampleSize is models.ExampleSize for a non-empty input.
func exampleSize(n int, exampleDims []int) (int, error) {
	per, count, err := models.ExampleSize(n, exampleDims...)
	if err == nil && count == 0 {
		err = errors.Errorf("input of %d values holds no example of shape %v", n, exampleDims)
	}
	return per, err
}

// ODINParams is one point (T, ε) of ODIN's hyper-parameter grid.
type ODINParams struct {
	T, Eps float64
}

// check returns an error unless T is finite and > 0 and ε finite and >= 0.
func (p ODINParams) check() error {
	if !(p.T > 0) || math.IsInf(p.T, 0) {
		return errors.Errorf("ODIN temperature must be finite and > 0, got %v", p.T)
	}
	if !(p.Eps >= 0) || math.IsInf(p.Eps, 0) {
		return errors.Errorf("ODIN noise magnitude ε must be finite and >= 0, got %v", p.Eps)
	}
	return nil
}

// ODINTemperatures returns the paper's temperatures for ODIN (App. C.3): {1, 10, 100, 500, 1000}.
func ODINTemperatures() []float64 { return []float64{1, 10, 100, 500, 1000} }

// ODINEpsilons returns the paper's noise magnitudes for ODIN (App. C.3): {0, 0.0001, 0.001, 0.01}.
func ODINEpsilons() []float64 { return []float64{0, 0.0001, 0.001, 0.01} }

// ODINGrid returns the paper's 20 grid points, temperature-major: (1, 0), (1, 1e-4), ..., (1000, 0.01).
func ODINGrid() []ODINParams {
	var grid []ODINParams
	for _, t := range ODINTemperatures() {
		for _, e := range ODINEpsilons() {
			grid = append(grid, ODINParams{T: t, Eps: e})
		}
	}
	return grid
}

// ODINChoice is a grid point with its detection error on the validation data.
type ODINChoice struct {
	ODINParams
	// DetectionError is 100 − metrics.DetectionAccuracy of the validation scores, in percent.
	DetectionError float64
}

// SelectODIN evaluates every grid point with scores, which returns the in-distribution and the
// out-of-distribution validation scores for that point, and returns the point of least detection
// error (100 − metrics.DetectionAccuracy, in percent) together with every point's error, in grid
// order. Ties go to the first point in grid order (with ODINGrid: the lower temperature, then the
// smaller ε). It stops at the first error of scores or of the metric.
func SelectODIN(grid []ODINParams, scores func(p ODINParams) (in, out []float64, err error)) (best ODINChoice, all []ODINChoice, err error) {
	if len(grid) == 0 {
		return ODINChoice{}, nil, errors.New("SelectODIN needs at least one grid point")
	}
	for i, p := range grid {
		in, out, err := scores(p)
		if err != nil {
			return ODINChoice{}, nil, errors.WithMessagef(err, "ODIN scores at T=%v, ε=%v", p.T, p.Eps)
		}
		acc, err := metrics.DetectionAccuracy(in, out)
		if err != nil {
			return ODINChoice{}, nil, errors.WithMessagef(err, "ODIN detection accuracy at T=%v, ε=%v", p.T, p.Eps)
		}
		c := ODINChoice{ODINParams: p, DetectionError: 100 - acc}
		all = append(all, c)
		if i == 0 || c.DetectionError < best.DetectionError {
			best = c
		}
	}
	return best, all, nil
}

// Tune runs SelectODIN over grid (ODINGrid if nil) with this detector's scores (GridScores) of the
// validation sets xIn (in-distribution) and xOut (out-of-distribution), both of the given example
// dimensions.
func (o *ODIN) Tune(grid []ODINParams, xIn, xOut []float32, exampleDims ...int) (best ODINChoice, all []ODINChoice, err error) {
	if grid == nil {
		grid = ODINGrid()
	}
	in, err := o.GridScores(xIn, grid, exampleDims...)
	if err != nil {
		return ODINChoice{}, nil, err
	}
	out, err := o.GridScores(xOut, grid, exampleDims...)
	if err != nil {
		return ODINChoice{}, nil, err
	}
	index := make(map[ODINParams]int, len(grid))
	for i, p := range grid {
		if _, dup := index[p]; !dup {
			index[p] = i
		}
	}
	return SelectODIN(grid, func(p ODINParams) ([]float64, []float64, error) {
		i := index[p]
		return in[i], out[i], nil
	})
}
