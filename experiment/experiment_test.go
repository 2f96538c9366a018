package experiment

import (
	"math/rand/v2"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/dataset"
)

// blobs makes n 3×32×32 images of `classes` classes: class k is a bright square in one of the
// corners/centre with its own colour, on dim noise; labels 0…classes−1 (or −1 when classes is 0:
// then the images are stripes, an OOD set).
func blobs(n, classes int, seed uint64, name string) *dataset.Set {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &dataset.Set{N: n, C: 3, H: 32, W: 32, Name: name, Source: "test blobs"}
	s.Images = make([]float32, n*3*32*32)
	s.Labels = make([]int, n)
	for i := range n {
		img := s.Image(i)
		for k := range img {
			img[k] = 0.2 * r.Float32()
		}
		if classes == 0 {
			s.Labels[i] = -1
			for c := range 3 {
				for y := range 32 {
					for x := range 32 {
						if (x+y+i)%6 < 3 {
							img[c*1024+y*32+x] += 0.6
						}
					}
				}
			}
			continue
		}
		k := r.IntN(classes)
		s.Labels[i] = k
		x0, y0 := 4+(k%2)*14+r.IntN(3), 4+(k/2)*14+r.IntN(3)
		for y := y0; y < y0+10; y++ {
			for x := x0; x < x0+10; x++ {
				img[(k%3)*1024+y*32+x] = 0.9
			}
		}
	}
	return s
}

func tinyConfig(t *testing.T, settings string) Config {
	t.Helper()
	ctx, err := NewContext(map[string]any{}, params.Presets{"test": {
		"model": "simplecnn", "width": 1.0 / 16, "epochs": 2, "batch": 16, "lr": 0.002, "lr_decay_epoch": 1,
		"gan_width": 1.0 / 16, "gan_z": 8, "gan_lr": 0.002, "gan_epochs": 1, "val_n": 20, "guided_n": 2, "odin": true,
	}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := params.Apply(ctx, settings, nil); err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func tinyData(t *testing.T, cfg Config) *Data {
	t.Helper()
	d, err := NewData(cfg, "blobs", 4, blobs(96, 4, 1, "blobs-train"), blobs(60, 4, 2, "blobs-test"),
		blobs(64, 0, 3, "stripes-train"), "stripes",
		map[string]*dataset.Set{"stripes": blobs(50, 0, 4, "stripes"), "noise": must(dataset.GaussianNoise(50, 3, 32, 32, 5))},
		[]string{"stripes", "noise"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRunAllRegimes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six classifiers")
	}
	cfg := tinyConfig(t, "regimes=all;epochs=1")
	d := tinyData(t, cfg)
	b := backend.Must()
	out := t.TempDir()
	rs, err := Run(b, cfg, d, out, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(AllRegimes) {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		if r.Regime != KPlusOne && len(r.ODIN) != len(d.OODNames) {
			t.Errorf("%s: ODIN results for %d OOD sets", r.Key, len(r.ODIN))
		}
		if r.Guided == "" || r.GuidedMeanAbs["in"] <= 0 {
			t.Errorf("%s: no guided maps (%q, %v)", r.Key, r.Guided, r.GuidedMeanAbs)
		}
		// Both metric conventions are saved, for the baseline detector and for ODIN.
		if r.Baseline["stripes"].Authors == nil || (r.Regime != KPlusOne && r.ODIN["stripes"].Report.Authors == nil) {
			t.Errorf("%s: no authors' metrics saved", r.Key)
		}
		if r.Accuracy < 0 || r.Accuracy > 100 || len(r.Hist["in"]) != HistBins || len(r.ROC["noise"].X) < 2 {
			t.Errorf("%s: accuracy %v, histogram %d bins, ROC %d points", r.Key, r.Accuracy, len(r.Hist["in"]), len(r.ROC["noise"].X))
		}
		t.Logf("%s: acc %.1f ece %.1f/%.1f T=%.2f stripes TNR %.1f val err %.1f epochs %v", r.Key, r.Accuracy, r.ECE, r.ECEScaled, r.Temperature,
			r.Baseline["stripes"].TNRAtTPR95, r.ValError["stripes"], r.EpochSeconds)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Log(string(p)); return len(p), nil }
