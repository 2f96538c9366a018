package experiment

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/store"
)

// ResultFile is the name of a finished run's result in its directory (runs/<key>/result.json).
const ResultFile = "result.json"

// RunResult is everything measured on one trained classifier: what the paper's tables and figures
// are made of. Percentages as in the paper.
type RunResult struct {
	Key      string `json:"key"`
	Data     string `json:"data"`
	StandIn  bool   `json:"standin"`
	Model    string `json:"model"`
	Regime   Regime `json:"regime"`
	SeenName string `json:"seen,omitempty"`
	Config   Config `json:"config"`
	// OODNames lists the OOD sets in report order.
	OODNames []string `json:"ood_names"`

	Accuracy     float64   `json:"accuracy"` // test classification accuracy (%)
	EpochSeconds []float64 `json:"epoch_seconds"`

	// Baseline holds the baseline detector's metrics on each OOD set's test split (in-distribution
	// test images = positives); ValError its detection error (100 − detection accuracy, %) on the
	// validation split, the criterion for choosing hyperparameters (App. B).
	Baseline map[string]metrics.Report `json:"baseline"`
	ValError map[string]float64        `json:"val_error"`
	// ODIN holds, per OOD set, the ODIN parameters chosen on the validation split and the test metrics.
	ODIN map[string]ODINResult `json:"odin,omitempty"`

	// ECE (%, M = 20 bins) of the max-softmax confidence on the test images, without and with
	// temperature scaling (the temperature fitted on the calibration images).
	ECE         float64 `json:"ece"`
	ECEScaled   float64 `json:"ece_temperature_scaled"`
	Temperature float64 `json:"temperature"`

	// Hist holds the score histograms (HistBins bins over [0,1], fractions) of the test images ("in")
	// and of each OOD test split (Figure 2).
	Hist map[string][]float64 `json:"histograms"`
	// ROC holds each OOD set's ROC curve (Figure 2), thinned to at most ROCPoints points.
	ROC map[string]Curve `json:"roc"`

	// Guided and Samples are PNG files in the run's directory: guided-backprop maps (Figure 5) and
	// generator samples (regimes with a GAN); empty when not made.
	Guided string `json:"guided_png,omitempty"`
	// GuidedMeanAbs is the mean |guided gradient| per set ("in" and each OOD set) of those images.
	GuidedMeanAbs map[string]float64 `json:"guided_mean_abs,omitempty"`
	Samples       string             `json:"samples_png,omitempty"`
}

// ODINResult is the ODIN detector on one OOD set.
type ODINResult struct {
	T        float64        `json:"temperature"`
	Eps      float64        `json:"epsilon"`
	ValError float64        `json:"val_error"`
	Report   metrics.Report `json:"test"`
}

// Curve is a curve of (X, Y) points.
type Curve struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// HistBins and ROCPoints size the saved histograms and ROC curves.
const (
	HistBins  = 40
	ROCPoints = 201
)

// Validate checks that a result read back is a run's result.
func (r *RunResult) Validate() error {
	if r.Key == "" || r.Regime == "" {
		return errors.New("not a run result (no key or regime)")
	}
	return nil
}

// LoadResults reads every finished run under outDir/runs (sorted by key). A directory without
// results is an error naming it, as is a corrupt result file.
func LoadResults(outDir string) ([]*RunResult, error) {
	paths, err := filepath.Glob(filepath.Join(outDir, "runs", "*", ResultFile))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no results in %s (run the experiment first)", filepath.Join(outDir, "runs"))
	}
	sort.Strings(paths)
	var out []*RunResult
	for _, p := range paths {
		r, err := store.Read[RunResult](p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Best returns, for each OOD set, the run among rs (of one data set, model and regime) with the lowest
// validation detection error on that set (App. B: hyperparameters chosen per OOD set on its 1,000
// validation images); ties go to the first in rs.
func Best(rs []*RunResult, oodNames []string) (map[string]*RunResult, error) {
	if len(rs) == 0 {
		return nil, errors.New("no runs to choose from")
	}
	best := map[string]*RunResult{}
	for _, n := range oodNames {
		for _, r := range rs {
			v, ok := r.ValError[n]
			if !ok {
				continue
			}
			if b := best[n]; b == nil || v < b.ValError[n] {
				best[n] = r
			}
		}
	}
	return best, nil
}
