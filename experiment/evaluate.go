package experiment

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/confcal/confcal/confcal/calib"
	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/confcal/softmax"
	"github.com/confcal/confcal/dataset"
)

// evalBatch is the batch size of inference.
const evalBatch = 50

// Evaluate measures a trained classifier: test accuracy, the baseline detector (and ODIN when
// cfg.ODIN) on every OOD set, ECE with and without temperature scaling, score histograms and ROC
// curves, and writes the guided-backprop maps and generator samples as PNGs into the run's directory.
func Evaluate(b backends.Backend, cfg Config, d *Data, t *Trained, log io.Writer) (*RunResult, error) {
	began := time.Now()
	p, err := models.NewPredictor(b, t.Ctx, t.Net, evalBatch)
	if err != nil {
		return nil, err
	}
	logitsOf := func(s *dataset.Set) ([][]float32, error) { return p.Outputs(s.Images, s.C, s.H, s.W) }
	score := detect.Baseline
	if t.Regime.Spec().ExtraClass {
		score = detect.KPlusOne
	}
	r := &RunResult{Key: t.Key, Data: d.Name, StandIn: d.StandIn, Model: cfg.Model, Regime: t.Regime, Config: cfg,
		EpochSeconds: t.EpochSeconds, OODNames: d.OODNames, Baseline: map[string]metrics.Report{}, ValError: map[string]float64{},
		Hist: map[string][]float64{}, ROC: map[string]Curve{}}
	if t.Regime.Spec().Seen {
		r.SeenName = d.SeenName
	}

	testLogits, err := logitsOf(d.Test)
	if err != nil {
		return nil, err
	}
	calLogits, err := logitsOf(d.Calib)
	if err != nil {
		return nil, err
	}
	acc, err := detect.Accuracy(firstK(testLogits, d.Classes), d.Test.Labels)
	if err != nil {
		return nil, err
	}
	r.Accuracy = 100 * acc
	in, inVal := score(testLogits), score(calLogits)
	r.Hist["in"] = metrics.Histogram(in, 0, 1, HistBins)

	// Calibration (Table 3), over the K classes.
	if r.ECE, r.ECEScaled, r.Temperature, err = calibration(firstK(testLogits, d.Classes), d.Test.Labels, firstK(calLogits, d.Classes), d.Calib.Labels); err != nil {
		return nil, err
	}

	for _, name := range d.OODNames {
		ol, err := logitsOf(d.OODTest[name])
		if err != nil {
			return nil, err
		}
		vl, err := logitsOf(d.OODVal[name])
		if err != nil {
			return nil, err
		}
		out := score(ol)
		if r.Baseline[name], err = metrics.Compute(in, out); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		da, err := metrics.DetectionAccuracy(inVal, score(vl))
		if err != nil {
			return nil, fmt.Errorf("%s validation: %w", name, err)
		}
		r.ValError[name] = 100 - da
		r.Hist[name] = metrics.Histogram(out, 0, 1, HistBins)
		fpr, tpr, err := metrics.ROCCurve(in, out)
		if err != nil {
			return nil, err
		}
		r.ROC[name] = thin(fpr, tpr, ROCPoints)
	}
	logf(log, "%s: baseline detector and calibration evaluated (%.1fs)", t.Key, time.Since(began).Seconds())
	if cfg.ODIN && !t.Regime.Spec().ExtraClass {
		began = time.Now()
		if r.ODIN, err = evaluateODIN(b, cfg, d, t); err != nil {
			return nil, err
		}
		logf(log, "%s: ODIN evaluated (%.1fs)", t.Key, time.Since(began).Seconds())
	}
	if t.Generator.Fn != nil {
		if r.Samples, err = writeSamples(b, cfg, d, t); err != nil {
			return nil, err
		}
	}
	if cfg.GuidedN > 0 {
		began = time.Now()
		if r.Guided, r.GuidedMeanAbs, err = writeGuided(b, cfg, d, t); err != nil {
			return nil, err
		}
		logf(log, "%s: guided-backprop maps written (%.1fs)", t.Key, time.Since(began).Seconds())
	}
	return r, nil
}

// calibration returns the ECE (%, 20 bins) on the test logits without and with temperature scaling,
// the temperature fitted on the calibration logits by NLL (Guo et al. 2017).
func calibration(test [][]float32, labels []int, cal [][]float32, calLabels []int) (ece, eceT, temp float64, err error) {
	eceAt := func(T float64) (float64, error) {
		conf, pred := softmax.Rows(test, T)
		correct := make([]bool, len(pred))
		for i := range pred {
			correct[i] = pred[i] == labels[i]
		}
		e, _, err := calib.ECE(conf, correct, 20)
		return e, err
	}
	if ece, err = eceAt(1); err != nil {
		return
	}
	if temp, err = calib.FitTemperature(cal, calLabels); err != nil {
		return
	}
	eceT, err = eceAt(temp)
	return
}

// firstK drops the (K+1)-th logit of a K+1-class classifier; other logits are returned as they are.
func firstK(logits [][]float32, k int) [][]float32 {
	if len(logits) == 0 || len(logits[0]) == k {
		return logits
	}
	out := make([][]float32, len(logits))
	for i, l := range logits {
		out[i] = l[:k]
	}
	return out
}

// thin keeps at most n points of a curve, evenly spaced in index, always the first and last.
func thin(x, y []float64, n int) Curve {
	if len(x) <= n {
		return Curve{X: x, Y: y}
	}
	c := Curve{}
	for k := range n {
		i := int(math.Round(float64(k) * float64(len(x)-1) / float64(n-1)))
		c.X = append(c.X, x[i])
		c.Y = append(c.Y, y[i])
	}
	return c
}

// writeSamples saves an 8×8 grid of generator samples as samples.png in the run's directory.
func writeSamples(b backends.Backend, cfg Config, d *Data, t *Trained) (string, error) {
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5a3))
	s, err := models.Sample(b, t.Ctx, t.Generator, r, 64, cfg.GANZ, 64)
	if err != nil {
		return "", err
	}
	img, err := plots.ImageGrid(s, d.Train.C, d.Train.H, d.Train.W, 8, 2)
	if err != nil {
		return "", err
	}
	png, err := plots.EncodePNG(img)
	if err != nil {
		return "", err
	}
	if err := plots.SavePNG(filepath.Join(t.Dir, "samples.png"), png); err != nil {
		return "", err
	}
	return "samples.png", nil
}
