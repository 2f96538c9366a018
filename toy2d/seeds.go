package toy2d

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/confcal/confcal/confcal/store"
	"github.com/gomlx/gomlx/backends"
	"github.com/pkg/errors"
)

// SeedDir is the sub-directory of a multi-seed run's output directory that holds one seed's
// results.json and figures.
func SeedDir(dir string, seed int) string { return filepath.Join(dir, fmt.Sprintf("seed-%d", seed)) }

// RunSeeds runs the selected figures once per seed, the configuration otherwise unchanged, and writes
// each seed's results.json and figures to SeedDir(dir, seed). A seed whose results.json already holds
// the selected figures for exactly this configuration is read back instead of trained again, so an
// interrupted run resumes where it stopped. It returns the results in the order of seeds.
func RunSeeds(b backends.Backend, cfg Config, seeds []int, fig1, fig3 bool, dir string, log io.Writer) ([]*Results, error) {
	if len(seeds) == 0 {
		return nil, errors.New("RunSeeds: no seeds")
	}
	if !fig1 && !fig3 {
		return nil, errors.New("RunSeeds: no figure selected")
	}
	var all []*Results
	for _, seed := range seeds {
		c := cfg
		c.Seed = seed
		sdir := SeedDir(dir, seed)
		res, err := loadSeed(sdir, c, fig1, fig3)
		if err != nil {
			return nil, err
		}
		if res == nil {
			res = &Results{}
			if log != nil {
				fmt.Fprintf(log, "seed %d\n", seed)
			}
			if fig1 {
				if res.Fig1, err = RunFig1(b, c, log); err != nil {
					return nil, errors.WithMessagef(err, "seed %d", seed)
				}
			}
			if fig3 {
				if res.Fig3, err = RunFig3(b, c, log); err != nil {
					return nil, errors.WithMessagef(err, "seed %d", seed)
				}
			}
			if err := store.Write(filepath.Join(sdir, ResultsFile), res); err != nil {
				return nil, err
			}
			if _, err := WriteFigures(res, sdir); err != nil {
				return nil, err
			}
		} else if log != nil {
			fmt.Fprintf(log, "seed %d: read back from %s\n", seed, filepath.Join(sdir, ResultsFile))
		}
		all = append(all, res)
	}
	return all, nil
}

// loadSeed returns the saved results of sdir if they hold the selected figures for exactly cfg
// (only those figures), nil if there are none to reuse.
func loadSeed(sdir string, cfg Config, fig1, fig3 bool) (*Results, error) {
	path := filepath.Join(sdir, ResultsFile)
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	r, err := Load(path)
	if err != nil {
		return nil, err
	}
	same := func(c Config) bool { return reflect.DeepEqual(c, cfg) }
	if (fig1 && (r.Fig1 == nil || !same(r.Fig1.Config))) || (fig3 && (r.Fig3 == nil || !same(r.Fig3.Config))) {
		return nil, nil
	}
	out := &Results{}
	if fig1 {
		out.Fig1 = r.Fig1
	}
	if fig3 {
		out.Fig3 = r.Fig3
	}
	return out, nil
}

// SeedTable returns, as markdown, one row per run of the figures' numbers and whether each run shows
// the paper's claim (Fig1Result.Claim, Fig3Result.Claim), with the count of runs that do.
func SeedTable(runs []*Results) string {
	var b strings.Builder
	var f1, f3 []*Results
	for _, r := range runs {
		if r.Fig1 != nil {
			f1 = append(f1, r)
		}
		if r.Fig3 != nil {
			f3 = append(f3, r)
		}
	}
	if len(f1) > 0 {
		c := f1[0].Fig1.Config
		fmt.Fprintf(&b, "**Figure 1** (preset %s, %s): share of grid points farther than %gσ from both classes where max-softmax > 0.9, "+
			"for the model trained on OOD points from [-%g,%g]² (b) and from [-%g,%g]² (d). The claim (Fig1Result.Claim): inside [-%g,%g]², (d) ≤ %g × (b).\n\n",
			c.Preset, f1[0].Fig1.Backend, c.Fig1.FarSigma, c.Fig1.BoxWide.Half, c.Fig1.BoxWide.Half, c.Fig1.BoxNear.Half, c.Fig1.BoxNear.Half,
			c.Fig1.BoxNear.Half, c.Fig1.BoxNear.Half, ConfidentMaxShare)
		fmt.Fprintf(&b, "| seed | inside [-%g,%g]²: (b) | (d) | over [-%g,%g]²: (b) | (d) | accuracy (b) / (d) | claim | train time |\n",
			c.Fig1.BoxNear.Half, c.Fig1.BoxNear.Half, c.Fig1.BoxWide.Half, c.Fig1.BoxWide.Half)
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		holds, wideLower := 0, 0
		for _, r := range f1 {
			f := r.Fig1
			cl := f.Claim()
			if cl.Holds {
				holds++
			}
			if f.Near.FarConfidentShare < f.Wide.FarConfidentShare {
				wideLower++
			}
			fmt.Fprintf(&b, "| %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% / %.1f%% | %s | %.0f s |\n", f.Config.Seed,
				100*f.Wide.NearConfidentShare, 100*f.Near.NearConfidentShare, 100*f.Wide.FarConfidentShare, 100*f.Near.FarConfidentShare,
				100*f.Wide.TestAccuracy, 100*f.Near.TestAccuracy, yesNo(cl.Holds), f.Wide.TrainSeconds+f.Near.TrainSeconds)
		}
		fmt.Fprintf(&b, "\nFigure 1's claim holds on %d of %d seeds. Over the whole plane [-%g,%g]², (d) is confident on less than (b) on %d of %d seeds "+
			"(far from every training point a ReLU network extrapolates linearly).\n\n", holds, len(f1), c.Fig1.BoxWide.Half, c.Fig1.BoxWide.Half, wideLower, len(f1))
	}
	if len(f3) > 0 {
		c := f3[0].Fig3.Config
		fmt.Fprintf(&b, "**Figure 3(a)(b)** (preset %s, %s; β = %g, batch %d, %d epochs): where the GANs' samples fall and the pre-trained classifier's "+
			"mean max-softmax on them. The claim (Fig3Result.Claim): proposed ≤ original − %g in mean max-softmax, lower density, ≥ %g%% inside [-%g,%g]².\n\n",
			c.Preset, f3[0].Fig3.Backend, c.Beta, c.Fig3.Batch, c.Fig3.Epochs, ConfidenceGap, 100*MinInsideBox, c.Fig3.Box.Half, c.Fig3.Box.Half)
		b.WriteString("| seed | classifier accuracy | mean max-softmax: original | proposed | gap | mean log-density: original | proposed | within 2σ of a mode: original | proposed | claim | train time |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
		holds := 0
		for _, r := range f3 {
			f := r.Fig3
			o, p := f.OriginalStats, f.ProposedStats
			cl := f.Claim()
			if cl.Holds {
				holds++
			}
			fmt.Fprintf(&b, "| %d | %.1f%% | %.3f | %.3f | %.3f | %.2f | %.2f | %.1f%% | %.1f%% | %s | %.0f s |\n", f.Config.Seed,
				100*f.ClassifierAccuracy, o.MeanMaxSoftmax, p.MeanMaxSoftmax, o.MeanMaxSoftmax-p.MeanMaxSoftmax, o.MeanLogDensity, p.MeanLogDensity,
				100*o.HighDensityShare, 100*p.HighDensityShare, yesNo(cl.Holds), f.Seconds.Pretrain+f.Seconds.Original+f.Seconds.Proposed)
		}
		fmt.Fprintf(&b, "\nFigure 3(b)'s claim holds on %d of %d seeds.\n", holds, len(f3))
	}
	return b.String()
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
