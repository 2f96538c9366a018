package toy2d

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
	"gonum.org/v1/plot/vg"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/loop"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/confcal/train"
)

// Explore is one run of the notebook's interactive explorer: a classifier of Figure 1 (the two
// Gaussian classes, the confidence loss of eq. 1) trained on OODN out-of-distribution points
// rejection-sampled from [-Box, Box]², with weight Beta, small enough to retrain in seconds on a CPU.
// The classes, the rejection margin, the batch size and the learning rate are Figure 1's (Config).
type Explore struct {
	Box  float64 // half-width of the OOD box
	Beta float64 // β of eq. 1 (0: plain cross entropy)
	OODN int     // number of OOD points
	Seed int     // data, OOD points and initialisation

	Hidden int     // units in each hidden layer (Config.Layers of them)
	Steps  int     // Adam steps
	Grid   int     // points per axis of the confidence map
	View   float64 // the map covers [-View, View]²
}

// Ranges of the explorer's settings (the notebook's sliders use them).
const (
	ExploreMinBox, ExploreMaxBox   = 5, 50
	ExploreMaxBeta                 = 4
	ExploreMinOOD, ExploreMaxOOD   = 1, 400
	ExploreMinSeed, ExploreMaxSeed = 1, 100
)

// DefaultExplore is Figure 1(c)(d)'s setting (100 OOD points from [-20,20]², β = 1, seed 42) with
// a small network (2×64 units, 400 steps): about two seconds of training on a 2-core CPU. The map
// covers Figure 1's whole plane, [-50,50]².
func DefaultExplore() Explore {
	return Explore{Box: 20, Beta: 1, OODN: 100, Seed: 42, Hidden: 64, Steps: 400, Grid: 81, View: 50}
}

// Validate checks the settings and names the first bad one.
func (e Explore) Validate() error {
	switch {
	case !(e.Box >= ExploreMinBox && e.Box <= ExploreMaxBox):
		return errors.Errorf("explore: box half-width must be in [%d, %d], got %v", ExploreMinBox, ExploreMaxBox, e.Box)
	case !(e.Beta >= 0 && e.Beta <= ExploreMaxBeta):
		return errors.Errorf("explore: beta must be in [0, %d], got %v", ExploreMaxBeta, e.Beta)
	case e.OODN < ExploreMinOOD || e.OODN > ExploreMaxOOD:
		return errors.Errorf("explore: number of OOD points must be in [%d, %d], got %d", ExploreMinOOD, ExploreMaxOOD, e.OODN)
	case e.Hidden < 1 || e.Steps < 1 || e.Grid < 2:
		return errors.Errorf("explore: hidden, steps must be >= 1 and grid >= 2, got %d, %d, %d", e.Hidden, e.Steps, e.Grid)
	case !(e.View > 0) || math.IsInf(e.View, 0):
		return errors.Errorf("explore: view must be a finite number > 0, got %v", e.View)
	}
	return nil
}

// ExploreResult is a trained explorer classifier and its confidence map.
type ExploreResult struct {
	Explore
	// Confidence is the max-softmax over the Grid×Grid points of [-View, View]² (row-major, x fastest).
	Confidence []float64
	// TestAccuracy is the accuracy on fresh in-distribution points.
	TestAccuracy float64
	// NearConfidentShare is the share of grid points inside Figure 1's near box [-fig1_box_near,
	// fig1_box_near]² and beyond fig1_far_sigma sigmas of both classes where the classifier is
	// confident (> 0.9): the quantity of Figure 1's claim (low with OOD points near the data).
	NearConfidentShare float64
	Seconds            float64 // training and evaluation
	PNG                []byte  // the confidence map with the classes and the OOD points
}

// Summary is one line: the settings and what they gave.
func (r *ExploreResult) Summary() string {
	return fmt.Sprintf("box [-%g,%g]², β = %g, %d OOD points, seed %d: test accuracy %.3f, confident (> 0.9) on %.1f%% of the near square beyond 4σ; trained in %.1f s",
		r.Box, r.Box, r.Beta, r.OODN, r.Seed, r.TestAccuracy, 100*r.NearConfidentShare, r.Seconds)
}

// RunExplore trains the explorer's classifier with the settings e on Figure 1's data (cfg) and draws
// its confidence map.
//
// It trains as Figure 1 does (the same step, train.Classifier, on the same loop) with fewer units
// and steps, and writes nothing to results.json.
func RunExplore(b backends.Backend, cfg Config, e Explore) (*ExploreResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	f := cfg.Fig1
	r := rand.New(rand.NewPCG(uint64(e.Seed), 7))
	data := f.Classes.Sample(r, f.NPerClass)
	test := f.Classes.Sample(r, 500)
	ood, err := RejectionSample(r, f.Classes, Box{e.Box}, f.Margin, e.OODN)
	if err != nil {
		return nil, errors.Wrap(err, "explore")
	}

	ctx, err := loop.NewContext(int64(e.Seed))
	if err != nil {
		return nil, err
	}
	hidden := make([]int, cfg.Layers)
	for i := range hidden {
		hidden[i] = e.Hidden
	}
	net := models.Net{Scope: models.ClassifierScope, Fn: models.MLP(hidden, 2)}
	step, err := train.Classifier(b, ctx, train.ClassifierConfig{
		Net: net, Opt: optim.Adam{Scope: net.Scope, LearningRate: f.LR}, Beta: e.Beta})
	if err != nil {
		return nil, err
	}
	oodT := pointsTensor(ood)
	if _, err := runSteps("explore", ctx, step, 1, e.Steps, nil, func() ([]any, error) {
		x, y := batchOf(r, data, f.Batch)
		return []any{x, y, oodT}, nil
	}); err != nil {
		return nil, err
	}

	pred, err := models.NewPredictor(b, ctx, net, 2048)
	if err != nil {
		return nil, err
	}
	res := &ExploreResult{Explore: e}
	logits, err := pred.Outputs(flatten(test.X), 2)
	if err != nil {
		return nil, err
	}
	if res.TestAccuracy, err = detect.Accuracy(logits, test.Y); err != nil {
		return nil, err
	}
	grid := GridPoints(e.View, e.Grid)
	if logits, err = pred.Outputs(flatten(grid), 2); err != nil {
		return nil, err
	}
	res.Confidence = detect.Baseline(logits)
	near, confident := 0, 0
	for i, p := range grid {
		if f.Classes.MinDistance(p) > f.FarSigma && math.Abs(p[0]) <= f.BoxNear.Half && math.Abs(p[1]) <= f.BoxNear.Half {
			near++
			if res.Confidence[i] > 0.9 {
				confident++
			}
		}
	}
	if near > 0 {
		res.NearConfidentShare = float64(confident) / float64(near)
	}
	if res.PNG, err = explorePNG(res, data, ood); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// explorePNG draws the confidence map with the training points, the OOD points and the OOD box.
func explorePNG(r *ExploreResult, data Labelled, ood [][2]float64) ([]byte, error) {
	g := plots.Grid{XMin: -r.View, XMax: r.View, YMin: -r.View, YMax: r.View, NX: r.Grid, NY: r.Grid, Values: r.Confidence}
	layers := append(classLayers(data.X, data.Y),
		plots.Points{Label: "OOD training points", XY: clip(ood, r.View), Color: green, Radius: 2, Shape: "triangle"})
	title := fmt.Sprintf("max-softmax confidence: %d OOD points from [-%g,%g]², β = %g, seed %d", r.OODN, r.Box, r.Box, r.Beta, r.Seed)
	hm, err := plots.Heatmap(title, "max p(y|x)", g, 0.5, 1, layers...)
	if err != nil {
		return nil, err
	}
	setSquare(hm, r.View)
	if r.Box < r.View {
		if err := markSquare(hm, r.Box, color.White); err != nil {
			return nil, err
		}
	}
	return plots.PNG(hm, 6.5*vg.Inch, 5.5*vg.Inch)
}
