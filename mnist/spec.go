package mnist

import (
	"io"

	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/experiment"
)

// Name is the experiment's name (of its output folder, and in its results).
const Name = "mnist"

// Names of the OOD sets of the MNIST experiment.
const (
	OODLetters  = "letters A-J (Go fonts)"
	OODUniform  = "uniform noise"
	OODGaussian = "Gaussian noise"
)

// Presets of the MNIST experiment. "paper" is App. B: all 60,000/10,000 images expanded to
// 3×32×32, the simple CNN with 128 and 256 filters, DCGANs of full width, β = 1, Adam, batch 128,
// lr 0.0002, 50 epochs (a GPU job). "laptop" trains on all 60,000 images and tests on all 10,000
// in about half an hour on 2 CPU cores: the same method and batch size, but one-channel 32×32
// images, a simple CNN of 16 and 32 filters, DCGANs at 1/8 width, a larger learning rate, dropped
// tenfold for the last of 3 epochs (2 epochs for the GANs of Figure 3(c)(d)). "quick" keeps every
// step of the method on a 1,000-image subset with narrow networks and a few epochs, to run in
// minutes on a laptop CPU and in the tests; its numbers show the effects, not the paper's values.
// Every preset sets every key it differs on, so presets do not leak into each other.
var Presets = params.Presets{
	"paper": {
		"train_n": 0, "test_n": 0, "ood_n": 11000, "val_n": 1000, "channels": 3, "cnn_sizes": "128,256,1024,256",
		"batch": 128, "lr": 0.0002, "epochs": 50, "lr_decay_epoch": 0,
		"gan_width": 1.0, "gan_lr": 0.0002, "gan_epochs": 50,
	},
	"laptop": {
		"train_n": 0, "test_n": 0, "ood_n": 10200, "val_n": 200, "channels": 1, "cnn_sizes": "16,32,256,128",
		"batch": 128, "lr": 0.002, "epochs": 3, "lr_decay_epoch": 2,
		"gan_width": 0.125, "gan_lr": 0.0005, "gan_epochs": 2,
	},
	"quick": {
		"train_n": 1000, "test_n": 500, "ood_n": 700, "val_n": 200, "channels": 3, "cnn_sizes": "8,16,64,32",
		"batch": 50, "lr": 0.002, "epochs": 8, "lr_decay_epoch": 0,
		"gan_width": 0.0625, "gan_lr": 0.002, "gan_epochs": 15,
	},
}

// Spec is the MNIST experiment (App. B's MNIST setting) on the pipeline of package experiment:
// the simple CNN trained with cross entropy, with the confidence loss on Gaussian noise as the
// seen OOD set, and with the joint confidence loss (Algorithm 1); letters A–J, uniform and Gaussian
// noise out of distribution; every run resumable, evaluated with the baseline detector, ODIN,
// calibration and guided maps, and reported by package report. Figure 3(c)(d) is RunFigure3.
var Spec = experiment.Spec{Name: Name, Classes: 10, Presets: Presets, LoadData: LoadData,
	Defaults: map[string]any{
		"model": "simplecnn", "cnn_sizes": "128,256,1024,256", "channels": 3, "regimes": "ce,conf-seen,joint",
		"ood_n": 11000, "epochs": 50, "lr_decay_epoch": 0, "gan_epochs": 50,
	}}

// seenN is the number of Gaussian-noise images of the seen OOD training set (fewer with train_n).
const seenN = 10000

// LoadData loads MNIST as cfg says (channels, subsets) and builds the OOD sets: letters A–J, uniform
// and Gaussian noise, ood_n images each (val_n of them for validation), and, for conf-seen and
// kplus1, a separate draw of Gaussian noise as the seen OOD training set.
func LoadData(cfg experiment.Config, log io.Writer) (*experiment.Data, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ch := cfg.Channels
	if ch == 0 {
		ch = 3
	}
	opt := Options{Dir: cfg.DataDir, Download: cfg.Download, Channels: ch, Subset: cfg.DataSubset, Progress: log}
	tr, err := Load("train", opt)
	if err != nil {
		return nil, err
	}
	te, err := Load("test", opt)
	if err != nil {
		return nil, err
	}
	n := cfg.OODN
	if n == 0 {
		n = 10000 + cfg.ValN
	}
	seed := uint64(cfg.Seed)
	letters, err := Letters(n, ch, seed+7)
	if err != nil {
		return nil, err
	}
	ood := map[string]*dataset.Set{OODLetters: letters, OODUniform: UniformNoise(n, ch, seed+8), OODGaussian: GaussianNoise(n, ch, seed+9)}
	sn := seenN
	if cfg.TrainN > 0 {
		sn = min(sn, cfg.TrainN)
	}
	seen := GaussianNoise(sn, ch, seed+5)
	return experiment.NewData(cfg, Name, 10, tr, te, seen, OODGaussian, ood, []string{OODLetters, OODUniform, OODGaussian}, false)
}
