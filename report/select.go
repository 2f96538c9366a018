package report

import (
	"fmt"
	"sort"

	"github.com/confcal/confcal/experiment"
)

// Results indexes the runs of an output folder.
type Results struct {
	runs []*experiment.RunResult
}

// New indexes rs.
func New(rs []*experiment.RunResult) *Results { return &Results{runs: rs} }

// Load reads every run of an output folder (experiment.LoadResults).
func Load(outDir string) (*Results, error) {
	rs, err := experiment.LoadResults(outDir)
	if err != nil {
		return nil, err
	}
	return New(rs), nil
}

// Runs returns the runs of one data set, model and regime.
func (r *Results) Runs(data, model string, regime experiment.Regime) []*experiment.RunResult {
	var out []*experiment.RunResult
	for _, x := range r.runs {
		if x.Data == data && x.Model == model && x.Regime == regime {
			out = append(out, x)
		}
	}
	return out
}

// Pick returns the run of (data, model, regime) chosen for an OOD set (lowest validation detection
// error, experiment.Best), or nil when no run has a validation error for it. It returns the error of
// experiment.Best.
func (r *Results) Pick(data, model string, regime experiment.Regime, ood string) (*experiment.RunResult, error) {
	rs := r.Runs(data, model, regime)
	if len(rs) == 0 {
		return nil, nil
	}
	best, err := experiment.Best(rs, []string{ood})
	if err != nil {
		return nil, fmt.Errorf("choosing the %s run of %s %s for %s: %w", regime, data, model, ood, err)
	}
	return best[ood], nil
}

// PickOverall returns the run of (data, model, regime) with the lowest mean validation detection
// error over its OOD sets (for per-model figures such as calibration), or nil.
func (r *Results) PickOverall(data, model string, regime experiment.Regime) *experiment.RunResult {
	var best *experiment.RunResult
	var bestErr float64
	for _, x := range r.Runs(data, model, regime) {
		var s float64
		for _, v := range x.ValError {
			s += v
		}
		s /= float64(max(1, len(x.ValError)))
		if best == nil || s < bestErr {
			best, bestErr = x, s
		}
	}
	return best
}

// Datasets returns the in-distribution data sets present, sorted.
func (r *Results) Datasets() []string {
	return r.distinct(func(x *experiment.RunResult) string { return x.Data })
}

// Models returns the models present for a data set, sorted.
func (r *Results) Models(data string) []string {
	return r.distinct(func(x *experiment.RunResult) string {
		if x.Data != data {
			return ""
		}
		return x.Model
	})
}

// OODNames returns the OOD sets of a data set in report order, and the seen set's name.
func (r *Results) OODNames(data string) (names []string, seen string) {
	for _, x := range r.runs {
		if x.Data == data {
			if len(x.OODNames) > len(names) {
				names = x.OODNames
			}
			if x.SeenName != "" {
				seen = x.SeenName
			}
		}
	}
	return names, seen
}

// StandIn reports whether any run of the data set used generated stand-in data.
func (r *Results) StandIn(data string) bool {
	for _, x := range r.runs {
		if x.Data == data && x.StandIn {
			return true
		}
	}
	return false
}

func (r *Results) distinct(key func(*experiment.RunResult) string) []string {
	set := map[string]bool{}
	for _, x := range r.runs {
		if k := key(x); k != "" {
			set[k] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Only returns the runs made with the given preset (e.g. "paper" for full-setting runs).
func (r *Results) Only(preset string) *Results {
	var out []*experiment.RunResult
	for _, x := range r.runs {
		if x.Config.Preset == preset {
			out = append(out, x)
		}
	}
	return New(out)
}

// Len is the number of runs.
func (r *Results) Len() int { return len(r.runs) }
