package report

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/internal/atomicfile"
)

// panel sizes of the figures.
const (
	panelW = 11 * vg.Centimeter
	panelH = 8 * vg.Centimeter
)

// Figure2 draws Figure 2 for a data set and model: histograms of the maximum softmax value on the
// in-distribution test images and each OOD set for (a) cross entropy and (b) the confidence loss,
// and (c) their ROC curves (cross entropy dashed). It returns nil without error when either regime
// has no run.
func (r *Results) Figure2(data, model string) ([]byte, error) {
	ce := r.PickOverall(data, model, experiment.CrossEntropy)
	cf := r.PickOverall(data, model, experiment.ConfSeen)
	if ce == nil || cf == nil {
		return nil, nil
	}
	names, _ := r.OODNames(data)
	hist := func(x *experiment.RunResult, title string) (*plot.Plot, error) {
		series := []plots.Series{{Label: dataTitle(data) + " (in)", Lo: 0, Hi: 1, Fractions: x.Hist["in"]}}
		for _, n := range names {
			if h, ok := x.Hist[n]; ok {
				series = append(series, plots.Series{Label: n, Lo: 0, Hi: 1, Fractions: h})
			}
		}
		return plots.Histograms(title, "maximum value of softmax", series...)
	}
	a, err := hist(ce, "(a) cross entropy loss")
	if err != nil {
		return nil, err
	}
	b, err := hist(cf, "(b) confidence loss")
	if err != nil {
		return nil, err
	}
	var curves []plots.Curve
	for i, n := range names {
		for _, x := range []*experiment.RunResult{ce, cf} {
			c, ok := x.ROC[n]
			if !ok {
				continue
			}
			label := n + ", confidence"
			if x == ce {
				label = n + ", cross entropy"
			}
			curves = append(curves, plots.Curve{Label: label, X: c.X, Y: c.Y, Color: colorN(i), Dashes: x == ce})
		}
	}
	c, err := plots.Lines("(c) ROC curves", "false positive rate", "true positive rate", curves...)
	if err != nil {
		return nil, err
	}
	return plots.Row(panelW, panelH, a, b, c)
}

// Figure4 draws Figure 4: TNR at TPR 95%, AUROC and detection accuracy of the baseline detector on
// each unseen OOD set for the four ways of training. nil without error when no regime has a run.
func (r *Results) Figure4(data, model string) ([]byte, error) {
	regimes := []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}
	names, seen := r.OODNames(data)
	var groups []string
	for _, n := range names {
		if n != seen {
			groups = append(groups, n)
		}
	}
	return r.bars(data, model, groups, regimes, []Detector{Baseline}, "")
}

// Figure7 draws Figure 7: the baseline detector vs ODIN (TNR at TPR 95%, AUROC, detection accuracy)
// for cross entropy and the joint confidence loss on every OOD set.
func (r *Results) Figure7(data, model string) ([]byte, error) {
	names, _ := r.OODNames(data)
	return r.bars(data, model, names, []experiment.Regime{experiment.CrossEntropy, experiment.Joint}, []Detector{Baseline, ODIN}, "")
}

func (r *Results) bars(data, model string, groups []string, regimes []experiment.Regime, dets []Detector, _ string) ([]byte, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	var ps []*plot.Plot
	for _, col := range detectionColumns[1:4] {
		var series []plots.BarSeries
		for _, g := range regimes {
			for _, det := range dets {
				vals := make([]float64, len(groups))
				found := false
				for i, n := range groups {
					x, err := r.Pick(data, model, g, n)
					if err != nil {
						return nil, err
					}
					if x != nil {
						if m, ok := metricsOf(x, n, det); ok {
							vals[i] = col.get(x, m)
							found = true
						}
					}
				}
				if !found {
					continue
				}
				label := g.Title()
				if len(dets) > 1 {
					label += ", " + det.String()
				}
				series = append(series, plots.BarSeries{Label: label, Values: vals})
			}
		}
		if len(series) == 0 {
			return nil, nil
		}
		p, err := plots.Bars(col.name, col.name+" (%)", groups, series...)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return plots.Row(panelW, panelH, ps...)
}

// GuidedMap is a saved Figure 5 panel: the guided-backprop maps of one run.
type GuidedMap struct {
	Title string
	Path  string
}

// Figure5 lists the guided gradient maps (Figure 5) saved by the cross-entropy and joint-confidence
// runs of a data set and model, with the results folder outDir.
func (r *Results) Figure5(outDir, data, model string) []GuidedMap {
	var out []GuidedMap
	for _, g := range []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.Joint} {
		if x := r.PickOverall(data, model, g); x != nil && x.Guided != "" {
			out = append(out, GuidedMap{Title: g.Title(), Path: filepath.Join(outDir, "runs", x.Key, x.Guided)})
		}
	}
	return out
}

// Write writes outDir/report.md (every table, links to the figures) and the figures as PNGs under
// outDir/figures, atomically; it returns the report's path.
func Write(outDir string) (string, error) {
	r, err := Load(outDir)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString("# Results\n\nGenerated from " + filepath.Join(outDir, "runs") + " by package report.\n\n")
	md, err := r.Markdown()
	if err != nil {
		return "", err
	}
	sb.WriteString(md)
	for _, data := range r.Datasets() {
		for _, model := range r.Models(data) {
			for _, f := range []struct {
				name string
				fn   func(string, string) ([]byte, error)
			}{{"figure2", r.Figure2}, {"figure4", r.Figure4}, {"figure7", r.Figure7}} {
				png, err := f.fn(data, model)
				if err != nil {
					return "", fmt.Errorf("%s %s %s: %w", f.name, data, model, err)
				}
				if png == nil {
					continue
				}
				rel := filepath.Join("figures", fmt.Sprintf("%s_%s_%s.png", f.name, data, model))
				if err := plots.SavePNG(filepath.Join(outDir, rel), png); err != nil {
					return "", err
				}
				fmt.Fprintf(&sb, "\n![%s, %s, %s](%s)\n", f.name, dataTitle(data), modelTitle(model), rel)
			}
			for _, g := range r.Figure5(outDir, data, model) {
				if _, err := os.Stat(g.Path); err == nil {
					rel, _ := filepath.Rel(outDir, g.Path)
					fmt.Fprintf(&sb, "\n![Figure 5, guided gradients, %s, %s](%s)\n", dataTitle(data), g.Title, rel)
				}
			}
		}
	}
	path := filepath.Join(outDir, "report.md")
	return path, atomicfile.WriteFile(path, []byte(sb.String()), 0o644)
}

func colorN(i int) color.Color { return plots.PaletteColor(i) }
