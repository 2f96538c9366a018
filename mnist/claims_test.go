package mnist

import (
	"testing"

	"github.com/confcal/confcal/confcal/backend"
)

// Figure 3(c)(d)'s claim, made checkable: the pre-trained classifier is much less confident on the
// proposed GAN's samples than on the original GAN's. Measured on the quick preset (seed 42, 2-core
// CPU): see the log line of the test.
func TestFigure3cdClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier and two DCGANs (a few minutes on 2 cores)")
	}
	cfg, err := Spec.Config("")
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadData(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	g, err := RunFigure3(backend.Must(), cfg, d, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("classifier accuracy %.3f, confidence on data %.3f, on original %.3f, on proposed %.3f",
		g.ClassifierAccuracy, g.ClassifierDataConfidence, g.Original.MeanMaxSoftmax, g.Proposed.MeanMaxSoftmax)
	if g.ClassifierAccuracy < 0.8 {
		t.Errorf("classifier test accuracy %.3f, want >= 0.8 even in the quick setting", g.ClassifierAccuracy)
	}
	if !(g.Proposed.MeanMaxSoftmax < g.Original.MeanMaxSoftmax-0.2) {
		t.Errorf("proposed-GAN samples get mean confidence %.3f, original-GAN samples %.3f: want the proposed clearly lower",
			g.Proposed.MeanMaxSoftmax, g.Original.MeanMaxSoftmax)
	}
	if g.Original.GridN != 64 || len(g.Original.Grid) != 64*d.Train.C*32*32 {
		t.Errorf("sample grid of %d images (%d values)", g.Original.GridN, len(g.Original.Grid))
	}
	// A second call loads every network from its checkpoint and measures the same.
	again, err := RunFigure3(backend.Must(), cfg, d, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Original.MeanMaxSoftmax != g.Original.MeanMaxSoftmax || again.Proposed.MeanMaxSoftmax != g.Proposed.MeanMaxSoftmax ||
		again.ClassifierAccuracy != g.ClassifierAccuracy || again.Proposed.FinalLosses[1] != g.Proposed.FinalLosses[1] {
		t.Errorf("reloaded from the checkpoints: %+v vs %+v", again.Proposed, g.Proposed)
	}
}
