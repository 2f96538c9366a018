package mnist

import (
	"fmt"
	"image"
	"image/draw"
	"io"
	"math/rand/v2"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/confcal/store"
	"github.com/confcal/confcal/experiment"
)

// Files of Figure 3(c)(d) in the output directory.
const (
	Fig3File    = "figure3cd.json"
	Fig3PNGFile = "figure3cd.png"
)

// samplesN is the number of samples of each generator the classifier scores.
const samplesN = 500

// GANSamples describes one trained generator's samples.
type GANSamples struct {
	// Key names the GAN's run (its checkpoint is in runs/<Key>/).
	Key string `json:"key"`
	// MeanMaxSoftmax is the pre-trained classifier's mean confidence on samplesN samples: the number
	// that makes Figure 3(c)(d) checkable (the proposed GAN's should be clearly lower).
	MeanMaxSoftmax float64 `json:"mean_max_softmax"`
	// Grid holds GridN samples (NCHW, [0,1]) for the figure.
	Grid        []float32 `json:"grid"`
	GridN       int       `json:"grid_n"`
	FinalLosses []float64 `json:"final_losses"` // discriminator, generator
	Seconds     float64   `json:"train_seconds"`
}

// Fig3Result is Figure 3(c)(d): samples of the original GAN (eq. 2) and of the proposed GAN (eq. 3,
// against the classifier trained with the confidence loss on Gaussian noise, the conf-seen run).
type Fig3Result struct {
	Config experiment.Config `json:"config"`
	// ClassifierKey names the classifier's run; ClassifierAccuracy is its accuracy on the test images
	// (fraction) and ClassifierDataConfidence its mean max-softmax on them, for scale.
	ClassifierKey            string     `json:"classifier_key"`
	ClassifierAccuracy       float64    `json:"classifier_accuracy"`
	ClassifierDataConfidence float64    `json:"classifier_data_confidence"`
	ClassifierSeconds        float64    `json:"classifier_train_seconds"`
	Original                 GANSamples `json:"original"`
	Proposed                 GANSamples `json:"proposed"`
	C                        int        `json:"channels"`
}

// Validate checks that a result read back is Figure 3(c)(d)'s.
func (r *Fig3Result) Validate() error {
	for _, s := range []GANSamples{r.Original, r.Proposed} {
		if r.C < 1 || s.GridN < 1 || len(s.Grid) != s.GridN*r.C*Size*Size {
			return errors.Errorf("not a Figure 3(c)(d) result: %d channels, a grid of %d samples with %d values", r.C, s.GridN, len(s.Grid))
		}
	}
	return nil
}

// RunFigure3 trains (or loads, from outDir/runs) the confidence-loss classifier of the conf-seen
// regime, the original GAN and the proposed GAN against the frozen classifier, measures the
// classifier's confidence on samples of each, and saves the result as outDir/figure3cd.json.
func RunFigure3(b backends.Backend, cfg experiment.Config, d *experiment.Data, outDir string, log io.Writer) (*Fig3Result, error) {
	runs := filepath.Join(outDir, "runs")
	t, err := experiment.Train(b, cfg, d, experiment.ConfSeen, runs, log)
	if err != nil {
		return nil, err
	}
	res := &Fig3Result{Config: cfg, ClassifierKey: t.Key, ClassifierSeconds: sum(t.EpochSeconds), C: d.Train.C}
	p, err := models.NewPredictor(b, t.Ctx, t.Net, 100)
	if err != nil {
		return nil, err
	}
	logits, err := p.Outputs(d.Test.Images, d.Test.C, d.Test.H, d.Test.W)
	if err != nil {
		return nil, err
	}
	if res.ClassifierAccuracy, err = detect.Accuracy(logits, d.Test.Labels); err != nil {
		return nil, err
	}
	res.ClassifierDataConfidence = mean(detect.Baseline(logits))
	orig, err := experiment.OriginalGAN(b, cfg, d, runs, log)
	if err != nil {
		return nil, err
	}
	prop, err := experiment.ProposedGAN(b, cfg, d, t, runs, log)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 13))
	for _, g := range []struct {
		gan *experiment.GAN
		out *GANSamples
	}{{orig, &res.Original}, {prop, &res.Proposed}} {
		s, err := g.gan.Samples(b, d, r, samplesN)
		if err != nil {
			return nil, err
		}
		sl, err := p.Outputs(s.Images, s.C, s.H, s.W)
		if err != nil {
			return nil, err
		}
		*g.out = GANSamples{Key: g.gan.Key, MeanMaxSoftmax: mean(detect.Baseline(sl)), GridN: 64,
			Grid: s.Images[:64*s.C*s.H*s.W], FinalLosses: g.gan.Losses, Seconds: sum(g.gan.EpochSeconds)}
	}
	if err := t.CheckRestored(); err != nil {
		return nil, err
	}
	return res, store.Write(filepath.Join(outDir, Fig3File), res)
}

// Figure3PNG renders Figure 3(c)(d): 8×8 grids of original-GAN (left) and proposed-GAN (right)
// samples side by side.
func Figure3PNG(g *Fig3Result) ([]byte, error) {
	if g == nil {
		return nil, errors.New("no Figure 3(c)(d) results")
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	var grids []image.Image
	for _, s := range []GANSamples{g.Original, g.Proposed} {
		per := g.C * Size * Size
		imgs := make([][]float32, s.GridN)
		for i := range imgs {
			imgs[i] = s.Grid[i*per : (i+1)*per]
		}
		img, err := plots.ImageGrid(imgs, g.C, Size, Size, 8, 2)
		if err != nil {
			return nil, err
		}
		grids = append(grids, img)
	}
	a, b := grids[0].Bounds(), grids[1].Bounds()
	gap := 24
	out := image.NewRGBA(image.Rect(0, 0, a.Dx()+gap+b.Dx(), max(a.Dy(), b.Dy())))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, a.Sub(a.Min), grids[0], a.Min, draw.Src)
	draw.Draw(out, b.Sub(b.Min).Add(image.Pt(a.Dx()+gap, 0)), grids[1], b.Min, draw.Src)
	return plots.EncodePNG(out)
}

// Figure3Summary states Figure 3(c)(d)'s numbers in markdown.
func Figure3Summary(g *Fig3Result) string {
	if g == nil {
		return ""
	}
	loss := func(s GANSamples) string {
		if len(s.FinalLosses) != 2 {
			return "–"
		}
		return fmt.Sprintf("%.3f / %.3f", s.FinalLosses[0], s.FinalLosses[1])
	}
	return fmt.Sprintf("Pre-trained classifier (cross entropy + β·KL on Gaussian noise, run %s): test accuracy %.1f%%, mean max-softmax on MNIST test %.3f.\n\n"+
		"| generator | classifier's mean max-softmax on %d samples | final D / G loss | train time |\n|---|---|---|---|\n"+
		"| original GAN (c) | %.3f | %s | %.0f s |\n| proposed GAN (d) | %.3f | %s | %.0f s |\n",
		g.ClassifierKey, 100*g.ClassifierAccuracy, g.ClassifierDataConfidence, samplesN,
		g.Original.MeanMaxSoftmax, loss(g.Original), g.Original.Seconds,
		g.Proposed.MeanMaxSoftmax, loss(g.Proposed), g.Proposed.Seconds)
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func mean(v []float64) float64 { return sum(v) / float64(max(1, len(v))) }
