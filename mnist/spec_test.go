package mnist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/confcal/store"
	"github.com/confcal/confcal/experiment"
)

func TestBadSettingsAreClearErrors(t *testing.T) {
	for set, want := range map[string]string{
		"channels=2":               "channels",
		"beta=-1":                  "beta",
		"batch=1":                  "batch",
		"gan_width=0":              "gan_width",
		"lr=-0.1":                  "lr",
		"gan_beta1=1.5":            "gan_beta1",
		"ood_n=100":                "ood_n",
		"cnn_sizes=0,16,64,32":     "cnn_sizes",
		"cnn_sizes=8,16":           "cnn_sizes",
		"cnn_sizes=8,16,64,3.5":    "cnn_sizes",
		"gan_epochs=0":             "gan_epochs",
		"train_n=-5":               "train_n",
		"epochs=0":                 "epochs",
		"test_n=-1":                "test_n",
		"gan_z=0":                  "gan_z",
		"val_n=0":                  "val_n",
		"lr_decay=0":               "lr_decay",
		"lr_decay_epoch=-1":        "lr_decay_epoch",
		"regimes=ce,nonsense":      "nonsense",
		"preset=nonsense":          "nonsense",
		"unknown_key=1":            "unknown_key",
		"model=resnet":             "model",
		"odin_t=0,1":               "odin_t",
		"sweep_batch=64.5":         "sweep_batch",
		"pt_weight=-1":             "pt_weight",
		"channels=3;cnn_sizes=a,b": "cnn_sizes",
	} {
		if _, err := Spec.Config(set); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %q", set, err, want)
		}
	}
}

// The presets say what their documentation says.
func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		preset          string
		channels, epoch int
		sizes           string
		trainN, testN   int
	}{
		{"paper", 3, 50, "128,256,1024,256", 0, 0},
		{"laptop", 1, 3, "16,32,256,128", 0, 0},
		{"quick", 3, 8, "8,16,64,32", 1000, 500},
	} {
		c, err := Spec.Config("preset=" + tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channels != tc.channels || c.Epochs != tc.epoch || c.CNNSizes != tc.sizes || c.TrainN != tc.trainN || c.TestN != tc.testN ||
			c.Model != "simplecnn" || len(c.Regimes) != 3 || c.Regimes[2] != experiment.Joint {
			t.Errorf("%s: %+v", tc.preset, c)
		}
	}
	c, _ := Spec.Config("preset=laptop")
	if c.DecayEpoch != 2 || c.DecayFactor != 0.1 || c.GANEpochs != 2 || c.GANWidth != 0.125 {
		t.Errorf("laptop: lr decay at %d ×%g, GANs %d epochs at width %g", c.DecayEpoch, c.DecayFactor, c.GANEpochs, c.GANWidth)
	}
}

// A preset gives the same configuration whatever preset it is applied over.
func TestPresetsAreComplete(t *testing.T) {
	newCtx := func(p string) (*context.Context, error) { return Spec.NewContext(p) }
	if err := params.Complete(Presets, newCtx, experiment.ConfigFromContext); err != nil {
		t.Error(err)
	}
}

func TestFigure3Results(t *testing.T) {
	dir := t.TempDir()
	grid := make([]float32, 64*3*32*32)
	for i := range grid {
		grid[i] = float32(i%7) / 7
	}
	g := &Fig3Result{C: 3, ClassifierKey: "conf-seen_x", ClassifierAccuracy: 0.934,
		Original: GANSamples{Grid: grid, GridN: 64, FinalLosses: []float64{1, 2}, MeanMaxSoftmax: 0.741},
		Proposed: GANSamples{Grid: grid, GridN: 64, FinalLosses: []float64{1.5, 2.5}, MeanMaxSoftmax: 0.332}}
	p := filepath.Join(dir, Fig3File)
	if err := store.Write(p, g); err != nil {
		t.Fatal(err)
	}
	r, err := store.Read[Fig3Result](p)
	if err != nil {
		t.Fatal(err)
	}
	png, err := Figure3PNG(r)
	if err != nil || len(png) < 1000 {
		t.Fatalf("figure: %d bytes, %v", len(png), err)
	}
	for _, want := range []string{"test accuracy 93.4%", "| original GAN (c) | 0.741 | 1.000 / 2.000 |", "| proposed GAN (d) | 0.332 | 1.500 / 2.500 |"} {
		if s := Figure3Summary(r); !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	_ = os.WriteFile(p, []byte(`{"channels": 3, "original": {"grid_n": 64}}`), 0o644)
	if _, err := store.Read[Fig3Result](p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("a result without samples: %v, want an error naming %s", err, p)
	}
}
