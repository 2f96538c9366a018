package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/experiment"
)

func run(key string, regime experiment.Regime, acc, tnrSVHN, tnrLSUN, valSVHN, valLSUN float64) *experiment.RunResult {
	rep := func(tnr float64) metrics.Report {
		return metrics.Report{TNRAtTPR95: tnr, AUROC: tnr/2 + 50, DetectionAcc: tnr/4 + 50, AUPRIn: 90, AUPROut: 10 + tnr/2}
	}
	h := make([]float64, experiment.HistBins)
	h[len(h)-1] = 1
	return &experiment.RunResult{
		Key: key, Data: "cifar10", Model: "vgg13", Regime: regime, SeenName: "SVHN",
		OODNames: []string{"SVHN", "LSUN"}, Accuracy: acc,
		Baseline: map[string]metrics.Report{"SVHN": rep(tnrSVHN), "LSUN": rep(tnrLSUN)},
		ValError: map[string]float64{"SVHN": valSVHN, "LSUN": valLSUN},
		ODIN:     map[string]experiment.ODINResult{"SVHN": {T: 1000, Eps: 0.001, Report: rep(tnrSVHN + 1)}, "LSUN": {T: 10, Report: rep(tnrLSUN + 2)}},
		ECE:      18.45, ECEScaled: 7.07, Temperature: 1.5,
		Hist: map[string][]float64{"in": h, "SVHN": h, "LSUN": h},
		ROC:  map[string]experiment.Curve{"SVHN": {X: []float64{0, 0.5, 1}, Y: []float64{0, 0.9, 1}}, "LSUN": {X: []float64{0, 1}, Y: []float64{0, 1}}},
	}
}

func testResults() *Results {
	return New([]*experiment.RunResult{
		// Two cross-entropy runs (a sweep): the first is better on SVHN's validation split, the second on LSUN's.
		run("ce-a", experiment.CrossEntropy, 80.14, 13.7, 20, 10, 40),
		run("ce-b", experiment.CrossEntropy, 79.0, 11, 14.0, 30, 20),
		run("conf", experiment.ConfSeen, 80.56, 99.8, 10.5, 1, 45),
		run("joint", experiment.Joint, 80.0, 50, 60, 5, 5),
	})
}

func TestTable1PicksPerOODSet(t *testing.T) {
	r := testResults()
	tab := r.DetectionTable("Table 1", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen}, Baseline, false)
	for _, want := range []string{
		"| SVHN (seen) | 80.1 / 80.6 | 13.7 / 99.8 | 56.9 / 99.9 |", // ce-a chosen for SVHN
		"| LSUN (unseen) | 79.0 / 80.6 | 14.0 / 10.5 |",             // ce-b chosen for LSUN
		"Cross entropy loss / Confidence loss (seen OOD)",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	odin := r.DetectionTable("Figure 7", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy}, ODIN, false)
	if !strings.Contains(odin, "| SVHN (seen) | 80.1 | 14.7 |") {
		t.Errorf("ODIN table:\n%s", odin)
	}
	if r.DetectionTable("x", "cifar10", "vgg13", []experiment.Regime{experiment.KPlusOne}, Baseline, false) != "" {
		t.Error("a table without runs is not empty")
	}
	unseen := r.DetectionTable("Table 2", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, Baseline, true)
	if strings.Contains(unseen, "SVHN") || !strings.Contains(unseen, "| LSUN (unseen) | 79.0 / 80.6 / – / 80.0 |") {
		t.Errorf("Table 2:\n%s", unseen)
	}
	cal := r.CalibrationTable("vgg13")
	if !strings.Contains(cal, "| CIFAR-10 | 18.4 | 18.4 | 7.1 (T = 1.50) | 7.1 (T = 1.50) |") {
		t.Errorf("Table 3:\n%s", cal)
	}
}

func TestWriteReportAndFigures(t *testing.T) {
	out := t.TempDir()
	r := testResults()
	for _, x := range r.runs {
		if err := experiment.WriteResult(filepath.Join(out, "runs", x.Key), x); err != nil {
			t.Fatal(err)
		}
	}
	path, err := Write(out)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(path)
	for _, want := range []string{"Table 1", "Table 2 (Figure 4)", "Table 3", "figures/figure2_cifar10_vgg13.png", "figures/figure4_cifar10_vgg13.png", "figures/figure7_cifar10_vgg13.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, f := range []string{"figure2", "figure4", "figure7"} {
		b, err := os.ReadFile(filepath.Join(out, "figures", f+"_cifar10_vgg13.png"))
		if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
			t.Errorf("%s: %d bytes, %v", f, len(b), err)
		}
	}
	if _, err := Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Errorf("empty folder: %v", err)
	}
}
