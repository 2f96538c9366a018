package mnist

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/internal/atomicfile"
)

// Results is what an MNIST run writes to results.json.
type Results struct {
	Config    Config     `json:"config"`
	Backend   string     `json:"backend"`
	TrainN    int        `json:"train_n"`
	TestN     int        `json:"test_n"`
	GAN       *GANResult `json:"gan,omitempty"`
	Benchmark []Row      `json:"benchmark,omitempty"`
}

// File names written into the output directory.
const (
	ResultsFile = "results.json"
	GANFile     = "figure3cd.png"
)

// Update loads dir/results.json if present, applies change and saves it atomically.
func Update(dir string, change func(r *Results)) (string, error) {
	r := &Results{}
	path := filepath.Join(dir, ResultsFile)
	if _, err := os.Stat(path); err == nil {
		if r, err = LoadResults(dir); err != nil {
			return "", err
		}
	}
	change(r)
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return "", err
	}
	return path, atomicfile.WriteFile(path, data, 0o644)
}

// LoadResults reads dir/results.json with an error naming the file.
func LoadResults(dir string) (*Results, error) {
	path := filepath.Join(dir, ResultsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "reading MNIST results")
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, errors.Wrapf(err, "%s is not an MNIST results file", path)
	}
	return &r, nil
}

// GANFigure renders Figure 3(c)(d): 8×8 grids of original-GAN (left) and proposed-GAN (right)
// samples side by side.
func GANFigure(g *GANResult) ([]byte, error) {
	if g == nil {
		return nil, errors.New("no GAN results")
	}
	var grids []image.Image
	for _, s := range []GANSamples{g.Original, g.Proposed} {
		per := g.C * 32 * 32
		imgs := make([][]float32, s.GridN)
		for i := range imgs {
			imgs[i] = s.Grid[i*per : (i+1)*per]
		}
		img, err := plots.ImageGrid(imgs, g.C, 32, 32, 8, 2)
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

// Table renders the benchmark as markdown in the layout of Table 1: one block per OOD set, one row per
// training regime and detector (the baseline max-softmax, and ODIN at its chosen (T, ε)), in the exact
// metric convention (metrics.ExactCaption). When the results hold the authors' values too, a second
// table gives them (metrics.AuthorsCaption; "–" for rows saved without them).
func Table(r *Results) string {
	if len(r.Benchmark) == 0 {
		return ""
	}
	var b strings.Builder
	names := make([]string, 0)
	for name := range r.Benchmark[0].Metrics {
		names = append(names, name)
	}
	sort.Strings(names)
	numIn, numOut := 0, 0
	if len(names) > 0 {
		m := r.Benchmark[0].Metrics[names[0]]
		numIn, numOut = m.NumIn, m.NumOut
	}
	fmt.Fprintf(&b, "MNIST (in-distribution; %d training, %d test images; preset %s, %s). Accuracy on all test images; "+
		"detection on %d MNIST test images against %d images of each OOD set, none of them used to choose ODIN's (T, ε). All values in %%.\n\n%s\n\n",
		r.TrainN, r.TestN, r.Config.Preset, r.Backend, numIn, numOut, metrics.ExactCaption)
	b.WriteString("| OOD set | training | detector | accuracy | TNR at TPR 95% | AUROC | detection acc. | AUPR in | AUPR out |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	type line struct {
		set      string
		regime   Regime
		detector string
		acc      float64
		m        metrics.Report
	}
	var lines []line
	for _, name := range names {
		for _, row := range r.Benchmark {
			lines = append(lines, line{name, row.Regime, "baseline", row.Accuracy, row.Metrics[name]})
			if o, ok := row.ODIN[name]; ok {
				lines = append(lines, line{name, row.Regime, fmt.Sprintf("ODIN (T=%g, ε=%g)", o.T, o.Eps), row.Accuracy, o.Report})
			}
		}
	}
	authors := false
	for _, l := range lines {
		m := l.m
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", l.set, l.regime, l.detector, 100*l.acc,
			m.TNRAtTPR95, m.AUROC, m.DetectionAcc, m.AUPRIn, m.AUPROut)
		authors = authors || m.Authors != nil
	}
	if !authors {
		return b.String()
	}
	fmt.Fprintf(&b, "\nThe same, authors' convention. %s\n\n", metrics.AuthorsCaption)
	b.WriteString("| OOD set | training | detector | TNR at TPR 95% | AUROC | detection acc. | AUPR in | AUPR out |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, l := range lines {
		a := l.m.Authors
		if a == nil {
			fmt.Fprintf(&b, "| %s | %s | %s | – | – | – | – | – |\n", l.set, l.regime, l.detector)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", l.set, l.regime, l.detector,
			a.TNRAtTPR95, a.AUROC, a.DetectionAcc, a.AUPRIn, a.AUPROut)
	}
	return b.String()
}

// GANSummary states Figure 3(c)(d)'s numbers in markdown.
func GANSummary(g *GANResult) string {
	if g == nil {
		return ""
	}
	return fmt.Sprintf("Pre-trained classifier (cross entropy + β·KL on Gaussian noise): test accuracy %.1f%%, mean max-softmax on MNIST test %.3f.\n\n"+
		"| generator | classifier's mean max-softmax on 500 samples | final D / G loss | train time |\n|---|---|---|---|\n"+
		"| original GAN (c) | %.3f | %.3f / %.3f | %.0f s |\n| proposed GAN (d) | %.3f | %.3f / %.3f | %.0f s |\n",
		100*g.ClassifierAccuracy, g.ClassifierDataConfidence,
		g.Original.MeanMaxSoftmax, g.Original.FinalLosses[0], g.Original.FinalLosses[1], g.Original.Seconds,
		g.Proposed.MeanMaxSoftmax, g.Proposed.FinalLosses[0], g.Proposed.FinalLosses[1], g.Proposed.Seconds)
}
