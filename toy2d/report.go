package toy2d

import (
	"fmt"
	"strings"
)

// Summary returns the numbers behind the claims of Section 2 as markdown tables.
func Summary(r *Results) string {
	var b strings.Builder
	if f := r.Fig1; f != nil {
		c := f.Config.Fig1
		fmt.Fprintf(&b, "**Figure 1** (preset %s, %s; %d OOD points, MLP %d×%d, %d steps): share of grid points more than %gσ from both classes where max-softmax > 0.9\n\n",
			f.Config.Preset, f.Backend, c.OODN, f.Config.Layers, f.Config.Hidden, c.Steps, c.FarSigma)
		fmt.Fprintf(&b, "| OOD training box | test accuracy | confident share inside [-%g,%g]² | mean confidence there | confident share over [-%g,%g]² | train time |\n",
			c.BoxNear.Half, c.BoxNear.Half, c.BoxWide.Half, c.BoxWide.Half)
		b.WriteString("|---|---|---|---|---|---|\n")
		for _, p := range []Fig1Panel{f.Wide, f.Near} {
			fmt.Fprintf(&b, "| [-%g,%g]² | %.1f%% | %.1f%% | %.3f | %.1f%% | %.1f s |\n", p.Box, p.Box, 100*p.TestAccuracy,
				100*p.NearConfidentShare, p.NearMeanConfidence, 100*p.FarConfidentShare, p.TrainSeconds)
		}
		fmt.Fprintf(&b, "\nThe paper's claim (inside [-%g,%g]², (d) confident on at most %g× the share of (b)): %s.\n\n",
			c.BoxNear.Half, c.BoxNear.Half, ConfidentMaxShare, claimText(f.Claim()))
	}
	if f := r.Fig3; f != nil {
		c := f.Config.Fig3
		fmt.Fprintf(&b, "**Figure 3(a)(b)** (preset %s, %s; β = %g, batch %d, lr %g, %d epochs; classifier accuracy %.1f%%, mean confidence on OOD of the box %.3f)\n\n",
			f.Config.Preset, f.Backend, f.Config.Beta, c.Batch, c.LR, c.Epochs, 100*f.ClassifierAccuracy, f.ClassifierOODConfidence)
		b.WriteString("| samples | mean log-density | within 2σ of a mode | inside the box | mode shares | classifier's mean max-softmax | train time |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		row := func(name string, s SampleStats, secs float64) {
			shares := make([]string, len(s.ModeShares))
			for i, v := range s.ModeShares {
				shares[i] = fmt.Sprintf("%.2f", v)
			}
			t := "–"
			if secs > 0 {
				t = fmt.Sprintf("%.1f s", secs)
			}
			fmt.Fprintf(&b, "| %s | %.2f | %.1f%% | %.1f%% | %s | %.3f | %s |\n", name, s.MeanLogDensity, 100*s.HighDensityShare,
				100*s.InsideBoxShare, strings.Join(shares, " / "), s.MeanMaxSoftmax, t)
		}
		row("target data", f.DataStats, 0)
		row("original GAN", f.OriginalStats, f.Seconds.Original)
		row("proposed GAN", f.ProposedStats, f.Seconds.Proposed)
		fmt.Fprintf(&b, "\nThe paper's claim (the classifier at least %g less confident on proposed than on original samples, which lie in lower density inside the box): %s.\n",
			ConfidenceGap, claimText(f.Claim()))
	}
	return b.String()
}

func claimText(c Claim) string {
	if c.Holds {
		return "holds — " + c.Why
	}
	return "**does not hold** — " + c.Why
}
