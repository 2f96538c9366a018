package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/store"
	"github.com/confcal/confcal/experiment"
)

func run(key string, regime experiment.Regime, acc, tnrSVHN, tnrLSUN, valSVHN, valLSUN float64) *experiment.RunResult {
	// The authors' values differ from the exact ones (here by fixed offsets, so that the two tables
	// can be told apart).
	rep := func(tnr float64) metrics.Report {
		return metrics.Report{TNRAtTPR95: tnr, AUROC: tnr/2 + 50, DetectionAcc: tnr/4 + 50, AUPRIn: 90, AUPROut: 10 + tnr/2,
			Authors: &metrics.AuthorsReport{TNRAtTPR95: tnr - 1, AUROC: tnr/2 + 49, DetectionAcc: tnr/4 + 51, AUPRIn: 80, AUPROut: 20 + tnr/2}}
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

// must returns a function that returns s, failing t on err.
func must(t *testing.T) func(s string, err error) string {
	return func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
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

// Pick chooses per OOD set by validation error (ce-a: 10 on SVHN; ce-b: 20 on LSUN), and nothing,
// without an error, where there is no run.
func TestPick(t *testing.T) {
	r := testResults()
	for _, c := range []struct {
		regime   experiment.Regime
		ood, key string
	}{
		{experiment.CrossEntropy, "SVHN", "ce-a"},
		{experiment.CrossEntropy, "LSUN", "ce-b"},
		{experiment.ConfSeen, "LSUN", "conf"},
		{experiment.KPlusOne, "LSUN", ""},
		{experiment.CrossEntropy, "Gaussian", ""},
	} {
		x, err := r.Pick("cifar10", "vgg13", c.regime, c.ood)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if x != nil {
			got = x.Key
		}
		if got != c.key {
			t.Errorf("Pick(%s, %s) = run %q, want %q", c.regime, c.ood, got, c.key)
		}
	}
}

func TestTable1PicksPerOODSet(t *testing.T) {
	r := testResults()
	tab := must(t)(r.DetectionTable("Table 1", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen}, Baseline, false))
	for _, want := range []string{
		"| SVHN (seen) | 80.1 / 80.6 | 13.7 / 99.8 | 56.9 / 99.9 |", // ce-a chosen for SVHN
		"| LSUN (unseen) | 79.0 / 80.6 | 14.0 / 10.5 |",             // ce-b chosen for LSUN
		"Cross entropy loss / Confidence loss (seen OOD)",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	odin := must(t)(r.DetectionTable("Figure 7", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy}, ODIN, false))
	if !strings.Contains(odin, "| SVHN (seen) | 80.1 | 14.7 |") {
		t.Errorf("ODIN table:\n%s", odin)
	}
	if must(t)(r.DetectionTable("x", "cifar10", "vgg13", []experiment.Regime{experiment.KPlusOne}, Baseline, false)) != "" {
		t.Error("a table without runs is not empty")
	}
	unseen := must(t)(r.DetectionTable("Table 2", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, Baseline, true))
	if strings.Contains(unseen, "SVHN") || !strings.Contains(unseen, "| LSUN (unseen) | 79.0 / 80.6 / – / 80.0 |") {
		t.Errorf("Table 2:\n%s", unseen)
	}
	// Each table says its convention; the authors' values follow in their own table, without the
	// accuracy column: ce-a for SVHN gives TNR 12.7, AUROC 55.9, detection 54.4, AUPR 80, 26.9.
	if !strings.Contains(tab, metrics.ExactCaption) {
		t.Errorf("Table 1 does not state its convention:\n%s", tab)
	}
	_, authors, ok := strings.Cut(tab, "**Table 1, authors' convention**")
	if !ok || !strings.Contains(authors, metrics.AuthorsCaption) {
		t.Fatalf("no authors' table after Table 1:\n%s", tab)
	}
	for _, want := range []string{
		"| OOD | TNR at TPR 95% | AUROC | Detection accuracy | AUPR in | AUPR out |",
		"| SVHN (seen) | 12.7 / 98.8 | 55.9 / 98.9 | 54.4 / 76.0 | 80.0 / 80.0 | 26.9 / 69.9 |",
	} {
		if !strings.Contains(authors, want) {
			t.Errorf("authors' table lacks %q:\n%s", want, authors)
		}
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
		if err := store.Write(filepath.Join(out, "runs", x.Key, experiment.ResultFile), x); err != nil {
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

// TestOldResultsShowOneConvention checks results saved before the authors' values existed: the
// exact table, labelled, and no authors' table.
func TestOldResultsShowOneConvention(t *testing.T) {
	r := testResults()
	for _, x := range r.runs {
		for k, m := range x.Baseline {
			m.Authors = nil
			x.Baseline[k] = m
		}
	}
	tab := must(t)(r.DetectionTable("Table 1", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen}, Baseline, false))
	if !strings.Contains(tab, metrics.ExactCaption) || strings.Contains(tab, "authors' convention") {
		t.Errorf("Table 1 of old results:\n%s", tab)
	}
	// ODIN's results still have them.
	odin := must(t)(r.DetectionTable("Figure 7", "cifar10", "vgg13", []experiment.Regime{experiment.CrossEntropy}, ODIN, false))
	if !strings.Contains(odin, "**Figure 7, authors' convention**") {
		t.Errorf("Figure 7:\n%s", odin)
	}
}

// TestMarkdownListsEachOODSetOnce is the regression test for docs/cifar-svhn.md's SVHN Table 2,
// which listed every OOD set twice: the report's tables never repeat a row, and each table has its
// own title and header. (The report was right; the Figure 7 rows had been pasted under Table 2
// without their title.)
func TestMarkdownListsEachOODSetOnce(t *testing.T) {
	md := must(t)(testResults().Markdown())
	tables := markdownTables(md)
	if len(tables) < 4 {
		t.Fatalf("%d tables in:\n%s", len(tables), md)
	}
	for _, tab := range tables {
		checkRowsOnce(t, "report", tab)
	}
	if !strings.Contains(md, "**Table 2 (Figure 4)**") || !strings.Contains(md, "**Figure 7 (ODIN)**") {
		t.Errorf("titles missing:\n%s", md)
	}
}

// TestDocTablesListEachOODSetOnce checks the tables of docs/cifar-svhn.md, which are copied from
// report.md, for repeated rows.
func TestDocTablesListEachOODSetOnce(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "cifar-svhn.md"))
	if err != nil {
		t.Fatal(err)
	}
	tables := markdownTables(string(b))
	if len(tables) == 0 {
		t.Fatal("no tables in docs/cifar-svhn.md")
	}
	for _, tab := range tables {
		if strings.HasPrefix(tab[0], "| OOD |") {
			checkRowsOnce(t, "docs/cifar-svhn.md", tab)
		}
	}
}

// markdownTables returns the runs of consecutive lines that start with "|".
func markdownTables(md string) [][]string {
	var tables [][]string
	var cur []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") {
			cur = append(cur, line)
			continue
		}
		if len(cur) > 0 {
			tables = append(tables, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		tables = append(tables, cur)
	}
	return tables
}

// checkRowsOnce fails if two rows of a table have the same first cell.
func checkRowsOnce(t *testing.T, where string, table []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, row := range table {
		first := strings.TrimSpace(strings.Split(row, "|")[1])
		if seen[first] {
			t.Errorf("%s: row %q twice in the table starting %q", where, first, table[0])
		}
		seen[first] = true
	}
}
