package toy2d

import (
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/softmax"
	"github.com/confcal/confcal/confcal/train"
)

// Fig1Panel is one classifier of Figure 1: trained with the confidence loss on out-of-distribution
// points from one box, and its confidence map over [-BoxWide, BoxWide]².
type Fig1Panel struct {
	Box float64      `json:"box"`
	OOD [][2]float64 `json:"ood"`
	// TestAccuracy is the accuracy on fresh in-distribution test points.
	TestAccuracy float64 `json:"test_accuracy"`
	// NearConfidentShare is the share of grid points inside [-BoxNear, BoxNear]² and farther than
	// FarSigma sigmas from both classes where max-softmax > 0.9: overconfidence around the data, the
	// paper's claim about Figure 1(b) versus 1(d).
	NearConfidentShare float64 `json:"near_confident_share"`
	// FarConfidentShare is the same share over the whole grid [-BoxWide, BoxWide]² (beyond FarSigma
	// sigmas). Far outside the near box a ReLU network extrapolates linearly, so this can stay high
	// for the near-box model too (see the notebook).
	FarConfidentShare float64 `json:"far_confident_share"`
	// NearMeanConfidence and FarMeanConfidence are the mean max-softmax over those grid points
	// (0.5 = uniform for 2 classes).
	NearMeanConfidence float64 `json:"near_mean_confidence"`
	FarMeanConfidence  float64 `json:"far_mean_confidence"`
	// Confidence is the max-softmax over the grid (row-major, x fastest, from (-half, -half)).
	Confidence []float64 `json:"confidence"`
	// Class0Prob is p(y=0|x) over the same grid: the decision map of Figure 1(b)(d).
	Class0Prob   []float64 `json:"class0_prob"`
	FinalLoss    float64   `json:"final_loss"`
	TrainSeconds float64   `json:"train_seconds"`
}

// Fig1Result holds both panels of Figure 1 and the data they were trained on.
type Fig1Result struct {
	Config   Config       `json:"config"`
	Backend  string       `json:"backend"`
	Train    [][2]float64 `json:"train_x"`
	TrainY   []int        `json:"train_y"`
	GridHalf float64      `json:"grid_half"`
	GridN    int          `json:"grid_n"`
	Wide     Fig1Panel    `json:"wide"` // Figure 1(a)(b): OOD from [-50,50]²
	Near     Fig1Panel    `json:"near"` // Figure 1(c)(d): OOD from [-20,20]²
}

// RunFig1 trains the two classifiers of Figure 1 and measures their confidence maps. Progress lines
// go to log (nil for none).
func RunFig1(b backends.Backend, cfg Config, log io.Writer) (*Fig1Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := cfg.Fig1
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 1))
	data := f.Classes.Sample(r, f.NPerClass)
	test := f.Classes.Sample(r, 500)
	res := &Fig1Result{Config: cfg, Backend: b.Name(), Train: data.X, TrainY: data.Y, GridHalf: f.BoxWide.Half, GridN: cfg.Grid}
	grid := GridPoints(f.BoxWide.Half, cfg.Grid)
	for i, box := range []Box{f.BoxWide, f.BoxNear} {
		ood, err := RejectionSample(r, f.Classes, box, f.Margin, f.OODN)
		if err != nil {
			return nil, errors.Wrapf(err, "figure 1, box [-%g,%g]²", box.Half, box.Half)
		}
		panel, err := trainFig1Panel(b, cfg, r, data, test, ood, grid, log, i)
		if err != nil {
			return nil, errors.Wrapf(err, "figure 1, box [-%g,%g]²", box.Half, box.Half)
		}
		panel.Box = box.Half
		if i == 0 {
			res.Wide = *panel
		} else {
			res.Near = *panel
		}
	}
	return res, nil
}

func trainFig1Panel(b backends.Backend, cfg Config, r *rand.Rand, data, test Labelled, ood, grid [][2]float64,
	log io.Writer, idx int) (*Fig1Panel, error) {
	f := cfg.Fig1
	ctx, err := loop.NewContext(int64(cfg.Seed + idx))
	if err != nil {
		return nil, err
	}
	net := cfg.mlp(models.ClassifierScope, 2)
	step, err := train.Classifier(b, ctx, train.ClassifierConfig{
		Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: f.LR}, Beta: cfg.Beta})
	if err != nil {
		return nil, err
	}
	oodT := pointsTensor(ood)
	start := time.Now()
	losses, err := runSteps("figure 1 "+[]string{"(b) wide box", "(d) near box"}[idx], ctx, step, 1, f.Steps, log, func() ([]any, error) {
		x, y := batchOf(r, data, f.Batch)
		return []any{x, y, oodT}, nil
	})
	if err != nil {
		return nil, err
	}
	p := &Fig1Panel{OOD: ood, FinalLoss: losses[0], TrainSeconds: time.Since(start).Seconds()}

	logits, err := evalClassifier(b, ctx, net, test.X)
	if err != nil {
		return nil, err
	}
	if p.TestAccuracy, err = detect.Accuracy(logits, test.Y); err != nil {
		return nil, err
	}
	if logits, err = evalClassifier(b, ctx, net, grid); err != nil {
		return nil, err
	}
	p.Confidence = detect.Baseline(logits)
	p.Class0Prob = make([]float64, len(logits))
	var near, far regionStats
	for i, row := range logits {
		p.Class0Prob[i] = softmax.Probs(row, 1)[0]
		if f.Classes.MinDistance(grid[i]) <= f.FarSigma {
			continue
		}
		far.add(p.Confidence[i])
		if math.Abs(grid[i][0]) <= f.BoxNear.Half && math.Abs(grid[i][1]) <= f.BoxNear.Half {
			near.add(p.Confidence[i])
		}
	}
	if near.n == 0 {
		return nil, errors.Errorf("no grid point of [-%g,%g]² lies %g sigmas away from the classes: enlarge fig1_box_near or lower fig1_far_sigma",
			f.BoxNear.Half, f.BoxNear.Half, f.FarSigma)
	}
	p.NearConfidentShare, p.NearMeanConfidence = near.share(), near.mean()
	p.FarConfidentShare, p.FarMeanConfidence = far.share(), far.mean()
	return p, nil
}

// regionStats accumulates the confidence over a set of grid points.
type regionStats struct {
	n, confident int
	sum          float64
}

func (r *regionStats) add(conf float64) {
	r.n++
	r.sum += conf
	if conf > 0.9 {
		r.confident++
	}
}

func (r regionStats) share() float64 { return float64(r.confident) / float64(r.n) }
func (r regionStats) mean() float64  { return r.sum / float64(r.n) }
