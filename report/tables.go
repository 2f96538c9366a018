package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/experiment"
)

// Detector selects the baseline detector's or ODIN's metrics.
type Detector int

// The detectors of the tables.
const (
	Baseline Detector = iota
	ODIN
)

func (d Detector) String() string {
	if d == ODIN {
		return "ODIN"
	}
	return "Baseline"
}

// column is one metric column of a detection table.
type column struct {
	name string
	get  func(x *experiment.RunResult, rep metrics.Report) float64
}

// detectionColumns are the columns of a detection table in this package's exact convention
// (metrics.Report's own fields).
var detectionColumns = []column{
	{"Classification accuracy", func(x *experiment.RunResult, _ metrics.Report) float64 { return x.Accuracy }},
	{"TNR at TPR 95%", func(_ *experiment.RunResult, m metrics.Report) float64 { return m.TNRAtTPR95 }},
	{"AUROC", func(_ *experiment.RunResult, m metrics.Report) float64 { return m.AUROC }},
	{"Detection accuracy", func(_ *experiment.RunResult, m metrics.Report) float64 { return m.DetectionAcc }},
	{"AUPR in", func(_ *experiment.RunResult, m metrics.Report) float64 { return m.AUPRIn }},
	{"AUPR out", func(_ *experiment.RunResult, m metrics.Report) float64 { return m.AUPROut }},
}

// authorsColumns are the same metrics in the authors' convention (metrics.Report.Authors), NaN
// ("–") for results saved without them.
var authorsColumns = []column{
	{"TNR at TPR 95%", authorsField(func(a *metrics.AuthorsReport) float64 { return a.TNRAtTPR95 })},
	{"AUROC", authorsField(func(a *metrics.AuthorsReport) float64 { return a.AUROC })},
	{"Detection accuracy", authorsField(func(a *metrics.AuthorsReport) float64 { return a.DetectionAcc })},
	{"AUPR in", authorsField(func(a *metrics.AuthorsReport) float64 { return a.AUPRIn })},
	{"AUPR out", authorsField(func(a *metrics.AuthorsReport) float64 { return a.AUPROut })},
}

func authorsField(f func(*metrics.AuthorsReport) float64) func(*experiment.RunResult, metrics.Report) float64 {
	return func(_ *experiment.RunResult, m metrics.Report) float64 {
		if m.Authors == nil {
			return math.NaN()
		}
		return f(m.Authors)
	}
}

// metricsOf returns the run's report for an OOD set under a detector.
func metricsOf(x *experiment.RunResult, ood string, det Detector) (metrics.Report, bool) {
	if det == ODIN {
		o, ok := x.ODIN[ood]
		return o.Report, ok
	}
	m, ok := x.Baseline[ood]
	return m, ok
}

// DetectionTable is a Table-1-style markdown table: one row per OOD set, one column per metric, each
// cell "a / b / …" over the regimes, in the exact convention (metrics.ExactCaption). When the chosen runs
// also hold the authors' values, a second table follows with them (metrics.AuthorsCaption), titled
// "<title>, authors' convention". It returns "" when none of the regimes has a run, and the error of
// Pick.
func (r *Results) DetectionTable(title, data, model string, regimes []experiment.Regime, det Detector, onlyUnseen bool) (string, error) {
	any := false
	for _, g := range regimes {
		any = any || len(r.Runs(data, model, g)) > 0
	}
	if !any {
		return "", nil
	}
	t, err := r.detectionTable(title, metrics.ExactCaption, detectionColumns, data, model, regimes, det, onlyUnseen)
	if err != nil {
		return "", err
	}
	if have, err := r.haveAuthors(data, model, regimes, det); err != nil || !have {
		return t, err
	}
	a, err := r.detectionTable(title+", authors' convention", metrics.AuthorsCaption, authorsColumns, data, model, regimes, det, onlyUnseen)
	return t + "\n" + a, err
}

// haveAuthors reports whether any run the table would show holds the authors' values.
func (r *Results) haveAuthors(data, model string, regimes []experiment.Regime, det Detector) (bool, error) {
	names, _ := r.OODNames(data)
	for _, ood := range names {
		for _, g := range regimes {
			x, err := r.Pick(data, model, g, ood)
			if err != nil {
				return false, err
			}
			if x != nil {
				if m, ok := metricsOf(x, ood, det); ok && m.Authors != nil {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// detectionTable writes one detection table: the title line, the convention line, then the rows.
func (r *Results) detectionTable(title, convention string, columns []column, data, model string, regimes []experiment.Regime, det Detector, onlyUnseen bool) (string, error) {
	names, seen := r.OODNames(data)
	titles := make([]string, len(regimes))
	for i, g := range regimes {
		titles[i] = g.Title()
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "**%s** — %s, %s, %s detector; cells: %s%s\n\n%s\n\n", title, dataTitle(data), modelTitle(model), det,
		strings.Join(titles, " / "), standInNote(r.StandIn(data)), convention)
	sb.WriteString("| OOD |")
	for _, c := range columns {
		sb.WriteString(" " + c.name + " |")
	}
	sb.WriteString("\n|---|")
	for range columns {
		sb.WriteString("---|")
	}
	sb.WriteString("\n")
	for _, ood := range names {
		if onlyUnseen && ood == seen {
			continue
		}
		label := ood
		if ood == seen {
			label += " (seen)"
		} else if seen != "" {
			label += " (unseen)"
		}
		fmt.Fprintf(&sb, "| %s |", label)
		for _, c := range columns {
			var cells []string
			for _, g := range regimes {
				x, err := r.Pick(data, model, g, ood)
				if err != nil {
					return "", err
				}
				if x == nil {
					cells = append(cells, "–")
					continue
				}
				m, ok := metricsOf(x, ood, det)
				if !ok {
					cells = append(cells, "–")
					continue
				}
				cells = append(cells, num(c.get(x, m)))
			}
			sb.WriteString(" " + strings.Join(cells, " / ") + " |")
		}
		sb.WriteString("\n")
	}
	return sb.String(), nil
}

// CalibrationTable is Table 3: ECE (%) of cross entropy vs joint confidence loss, without and with
// temperature scaling, one row per data set (the runs with the lowest mean validation error).
func (r *Results) CalibrationTable(model string) string {
	var sb strings.Builder
	rows := 0
	for _, data := range r.Datasets() {
		ce := r.PickOverall(data, model, experiment.CrossEntropy)
		jt := r.PickOverall(data, model, experiment.Joint)
		if ce == nil && jt == nil {
			continue
		}
		if rows == 0 {
			fmt.Fprintf(&sb, "**Table 3** — expected calibration error (%%, M = 20), %s; temperature fitted on held-out in-distribution images\n\n", modelTitle(model))
			sb.WriteString("| In-distribution | CE, without TS | Joint, without TS | CE, with TS | Joint, with TS |\n|---|---|---|---|---|\n")
		}
		rows++
		get := func(x *experiment.RunResult, scaled bool) string {
			if x == nil {
				return "–"
			}
			if scaled {
				return fmt.Sprintf("%s (T = %.2f)", num(x.ECEScaled), x.Temperature)
			}
			return num(x.ECE)
		}
		fmt.Fprintf(&sb, "| %s%s | %s | %s | %s | %s |\n", dataTitle(data), standInNote(r.StandIn(data)), get(ce, false), get(jt, false), get(ce, true), get(jt, true))
	}
	return sb.String()
}

// Markdown returns every table the results allow, with the paper's numbering, for each data set
// and model present, or the first error of DetectionTable.
func (r *Results) Markdown() (string, error) {
	var parts []string
	for _, data := range r.Datasets() {
		for _, model := range r.Models(data) {
			t1 := "Table 1"
			if model == "alexnet" {
				t1 = "Table 4"
			}
			for _, t := range []struct {
				title   string
				regimes []experiment.Regime
				det     Detector
				unseen  bool
			}{
				{t1, []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen}, Baseline, false},
				{"Table 2 (Figure 4)", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, Baseline, true},
				{"Table 5", []experiment.Regime{experiment.Joint, experiment.JointPT}, Baseline, false},
				{"Table 6", []experiment.Regime{experiment.KPlusOne, experiment.ConfSeen}, Baseline, false},
				{"Table 6 (ODIN)", []experiment.Regime{experiment.KPlusOne, experiment.ConfSeen}, ODIN, false},
				{"Figure 7 (ODIN)", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, ODIN, false},
			} {
				// A pairwise comparison is shown only when both regimes have runs, the four-way ones
				// (Table 2, Figure 7) when at least two have.
				have := 0
				for _, g := range t.regimes {
					if len(r.Runs(data, model, g)) > 0 {
						have++
					}
				}
				if have == len(t.regimes) || (len(t.regimes) > 2 && have >= 2) {
					tab, err := r.DetectionTable(t.title, data, model, t.regimes, t.det, t.unseen)
					if err != nil {
						return "", err
					}
					parts = append(parts, tab)
				}
			}
		}
	}
	for _, model := range r.distinct(func(x *experiment.RunResult) string { return x.Model }) {
		if t := r.CalibrationTable(model); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n"), nil
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

func dataTitle(d string) string {
	switch d {
	case "cifar10":
		return "CIFAR-10"
	case "svhn":
		return "SVHN"
	case "mnist":
		return "MNIST"
	}
	return d
}

func modelTitle(m string) string {
	switch m {
	case "vgg13":
		return "VGG-13"
	case "alexnet":
		return "AlexNet"
	case "simplecnn":
		return "simple CNN"
	}
	return m
}

func standInNote(standIn bool) string {
	if standIn {
		return " — STAND-IN DATA (generated, not the real data sets)"
	}
	return ""
}
