package toy2d

import (
	"bytes"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
)

// TestExplore trains the explorer's small classifier as the notebook's sliders set it and checks
// Figure 1's effect on it: with the OOD points drawn from the near box [-20,20]² the classifier is
// confident on a small part of the square around the data beyond 4σ; with the same number drawn from
// the whole plane [-50,50]² on a much larger part. Same settings, same map.
func TestExplore(t *testing.T) {
	cfg := defaultConfig(t)
	near := DefaultExplore()
	wide := near
	wide.Box = 50
	var rs []*ExploreResult
	for _, e := range []Explore{near, wide, near} {
		r, err := RunExplore(backend.Must(), cfg, e)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r.Summary())
		rs = append(rs, r)
	}
	if rs[0].TestAccuracy < 0.95 || rs[1].TestAccuracy < 0.95 {
		t.Errorf("test accuracy %.3f and %.3f, want >= 0.95", rs[0].TestAccuracy, rs[1].TestAccuracy)
	}
	if n, w := rs[0].NearConfidentShare, rs[1].NearConfidentShare; !(n < 0.05 && w > n+0.05) {
		t.Errorf("near-square confident share: near box %.3f, wide box %.3f; want < 0.05 and at least 0.05 more", n, w)
	}
	if !slices.Equal(rs[0].Confidence, rs[2].Confidence) {
		t.Error("the same settings gave two different maps")
	}
	img, err := png.Decode(bytes.NewReader(rs[0].PNG))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("map is %v, want at least 400×300", b)
	}
	if !strings.Contains(rs[1].Summary(), "box [-50,50]², β = 1, 100 OOD points, seed 42") {
		t.Errorf("summary %q does not name the settings", rs[1].Summary())
	}
}

func TestExploreValidate(t *testing.T) {
	cfg := defaultConfig(t)
	for _, tc := range []struct {
		edit func(*Explore)
		want string
	}{
		{func(e *Explore) { e.Box = 4 }, "box half-width"},
		{func(e *Explore) { e.Box = 51 }, "box half-width"},
		{func(e *Explore) { e.Beta = -1 }, "beta"},
		{func(e *Explore) { e.OODN = 0 }, "OOD points"},
		{func(e *Explore) { e.OODN = 401 }, "OOD points"},
		{func(e *Explore) { e.Grid = 1 }, "grid"},
		{func(e *Explore) { e.View = 0 }, "view"},
	} {
		e := DefaultExplore()
		tc.edit(&e)
		if _, err := RunExplore(backend.Must(), cfg, e); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RunExplore(%+v) error = %v, want one naming %q", e, err, tc.want)
		}
	}
}
