package mnist

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/models"
	"github.com/confcal/confcal/confcal/optim"
	"github.com/confcal/confcal/confcal/params"
)

func TestBadSettingsAreClearErrors(t *testing.T) {
	for set, want := range map[string]string{
		"channels=2":        "channels",
		"beta=-1":           "beta",
		"batch=1":           "batch",
		"gan_width=0":       "gan_width",
		"lr=-0.1":           "lr",
		"gan_beta1=1.5":     "gan_beta1",
		"ood_n=0":           "ood_n",
		"cls_conv1=0":       "cls_conv1",
		"gan_epochs=0":      "gan_epochs",
		"train_n=-5":        "train_n",
		"epochs=0":          "epochs",
		"cls_fc2=0":         "cls_fc2",
		"gan_batch=0":       "gan_batch",
		"test_n=-1":         "test_n",
		"gan_z=0":           "gan_z",
		"cls_conv2=-1":      "cls_conv2",
		"cls_fc1=0":         "cls_fc1",
		"channels=0":        "channels",
		"val_n=0":           "val_n",
		"lr_decay=0":        "lr_decay",
		"lr_decay_epoch=-1": "lr_decay_epoch",
	} {
		ctx, err := NewContext("quick")
		if err != nil {
			t.Fatal(err)
		}
		if err := params.Apply(ctx, set, Presets); err != nil {
			t.Fatalf("%s: %v", set, err)
		}
		if _, err := ConfigFromContext(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %q", set, err, want)
		}
	}
}

func TestPaperPreset(t *testing.T) {
	ctx, err := NewContext("paper")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// App. B: simple CNN 128/256 filters, β = 1, Adam, batch 128, lr 0.0002, 50 epochs, all data, 3×32×32.
	if c.Conv1 != 128 || c.Conv2 != 256 || c.Beta != 1 || c.Batch != 128 || c.LR != 0.0002 || c.Epochs != 50 ||
		c.TrainN != 0 || c.TestN != 0 || c.Channels != 3 || c.GANWidth != 1 || c.GANZ != 100 {
		t.Errorf("paper preset differs from App. B: %+v", c)
	}
}

// The laptop preset uses every MNIST image (the paper's data) and stays smaller than the paper's networks.
func TestLaptopPreset(t *testing.T) {
	ctx, err := NewContext("laptop")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.TrainN != 0 || c.TestN != 0 || c.OODN != 10000 || c.Batch != 128 || c.Beta != 1 {
		t.Errorf("laptop preset must use all 60,000/10,000 images, 10,000 OOD images, batch 128 and β = 1: %+v", c)
	}
	if c.Conv1 >= 128 || c.Conv2 >= 256 || c.GANWidth >= 1 || c.Epochs >= 50 {
		t.Errorf("laptop preset is not smaller than the paper's: %+v", c)
	}
}

// lr_decay_epoch drops the classifier's learning rate from that epoch on, and only the classifier's.
func TestLearningRateDecay(t *testing.T) {
	ctx, err := NewContext("quick")
	if err != nil {
		t.Fatal(err)
	}
	if err := params.Apply(ctx, "train_n=40;test_n=20;ood_n=10;val_n=5;batch=20;epochs=2;lr=0.002;lr_decay_epoch=1;lr_decay=0.1", Presets); err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for regime, want := range map[Regime]float64{CrossEntropy: 0.0002, JointConfidence: 0.0002} {
		tc, err := d.classifier(backend.Must(), cfg, regime, nil)
		if err != nil {
			t.Fatal(err)
		}
		if lr, err := optim.LearningRate(tc.ctx, models.ClassifierScope); err != nil || math.Abs(lr-want) > 1e-9 {
			t.Errorf("%s: classifier learning rate after training %v (%v), want %v", regime, lr, err, want)
		}
		if regime == JointConfidence {
			if lr, err := optim.LearningRate(tc.ctx, models.GeneratorScope); err != nil || math.Abs(lr-cfg.GANLR) > 1e-9 {
				t.Errorf("generator learning rate %v (%v), want it unchanged at %v", lr, err, cfg.GANLR)
			}
		}
	}
}

// A preset gives the same configuration whatever preset it is applied over.
func TestPresetsAreComplete(t *testing.T) {
	if err := params.Complete(Presets, NewContext, ConfigFromContext); err != nil {
		t.Error(err)
	}
}

func TestReportsFromSavedResults(t *testing.T) {
	dir := t.TempDir()
	rows := []Row{
		{Regime: CrossEntropy, Accuracy: 0.9, Metrics: map[string]metrics.Report{"letters": {TNRAtTPR95: 12.5, AUROC: 80}}},
		{Regime: JointConfidence, Accuracy: 0.91, Metrics: map[string]metrics.Report{"letters": {TNRAtTPR95: 55, AUROC: 93.25,
			Authors: &metrics.AuthorsReport{TNRAtTPR95: 54.5, AUROC: 93.125, DetectionAcc: 88, AUPRIn: 91, AUPROut: 95}}},
			ODIN: map[string]ODINResult{"letters": {T: 1000, Eps: 0.001, Report: metrics.Report{TNRAtTPR95: 61, AUROC: 95.5}}}},
	}
	grid := make([]float32, 64*3*32*32)
	for i := range grid {
		grid[i] = float32(i%7) / 7
	}
	g := &GANResult{C: 3, Original: GANSamples{Grid: grid, GridN: 64, FinalLosses: []float64{1, 2}},
		Proposed: GANSamples{Grid: grid, GridN: 64, FinalLosses: []float64{1, 2}}}
	if _, err := Update(dir, func(r *Results) { r.Benchmark = rows }); err != nil {
		t.Fatal(err)
	}
	if _, err := Update(dir, func(r *Results) { r.GAN = g }); err != nil {
		t.Fatal(err)
	}
	r, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.GAN == nil || len(r.Benchmark) != 2 {
		t.Fatalf("Update lost a part: gan=%v rows=%d", r.GAN != nil, len(r.Benchmark))
	}
	table := Table(r)
	// The exact table, then the authors' values ("–" for the rows saved without them), each with
	// its convention.
	for _, want := range []string{"| letters | cross entropy | baseline | 90.0 | 12.5 | 80.0 |",
		"| letters | joint confidence loss (Algorithm 1) | baseline | 91.0 | 55.0 | 93.2 |",
		"| letters | joint confidence loss (Algorithm 1) | ODIN (T=1000, ε=0.001) | 91.0 | 61.0 | 95.5 |",
		metrics.ExactCaption, metrics.AuthorsCaption, "| letters | cross entropy | baseline | – | – | – | – | – |",
		"| letters | joint confidence loss (Algorithm 1) | baseline | 54.5 | 93.1 | 88.0 | 91.0 | 95.0 |",
		"| letters | joint confidence loss (Algorithm 1) | ODIN (T=1000, ε=0.001) | – | – | – | – | – |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	png, err := GANFigure(r.GAN)
	if err != nil || len(png) < 1000 {
		t.Fatalf("GAN figure: %d bytes, %v", len(png), err)
	}
	if _, err := LoadResults(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("missing results should be an error")
	}
	_ = os.WriteFile(filepath.Join(dir, ResultsFile), []byte("{"), 0o644)
	if _, err := LoadResults(dir); err == nil || !strings.Contains(err.Error(), ResultsFile) {
		t.Errorf("corrupt results: %v", err)
	}
}
