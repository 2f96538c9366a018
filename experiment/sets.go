package experiment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/confcal/confcal/cifar"
	"github.com/confcal/confcal/confcal/params"
	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/oodsets"
	"github.com/confcal/confcal/svhn"
)

// The specs of the two in-distribution experiments live here rather than in packages cifar and
// svhn because each uses the other's data (CIFAR-10 in → SVHN is an OOD set and vice versa): the
// data packages stay free of each other.

// Names of the OOD sets in the reports.
const (
	OODSVHN         = "SVHN"
	OODCIFAR10      = "CIFAR-10"
	OODTinyImageNet = "TinyImageNet"
	OODLSUN         = "LSUN"
	OODGaussian     = "Gaussian"
)

// presets shared by both experiments. "paper" is App. B with the hyperparameters fixed at a common
// choice (β = 1, batch 128, lr 0.0002 — the sweep chooses them per OOD set). "quick" keeps every
// step of the method but runs in minutes on a laptop CPU and in the tests: 640 training images, the
// paper's simple CNN (its Figure 2 model) with 1/8 of the filters instead of VGG-13 (a narrowed
// VGG-13 with batch norm did not get above chance in so few steps), DCGANs at 1/16 width, four
// epochs, 50 validation images per OOD set and a 2×2 ODIN grid (T ∈ {1, 1000}, ε ∈ {0, 0.001}).
// Its numbers show the pipeline, not the paper's values.
var presets = params.Presets{
	"paper": {
		"model": "vgg13", "width": 1.0, "train_n": 0, "test_n": 0, "ood_n": 0, "val_n": 1000,
		"epochs": 100, "batch": 128, "lr": 0.0002, "lr_decay_epoch": 60,
		"gan_width": 1.0, "gan_epochs": 100, "odin": true, "guided_n": 4,
		"regimes": "ce,conf-seen,conf-gan,joint,joint-pt,kplus1",
	},
	"quick": {
		"model": "simplecnn", "width": 0.125, "train_n": 640, "test_n": 240, "ood_n": 150, "val_n": 50,
		"epochs": 4, "batch": 32, "lr": 0.002, "lr_decay_epoch": 3,
		"gan_width": 0.0625, "gan_lr": 0.002, "gan_epochs": 2, "guided_n": 4,
		"odin": true, "odin_t": "1,1000", "odin_eps": "0,0.001",
		"regimes": "ce,conf-seen,conf-gan,joint",
	},
}

// CIFAR10 is the experiment with CIFAR-10 in distribution: SVHN's training split is the seen OOD
// set; SVHN's test split, TinyImageNet, LSUN and Gaussian noise are the OOD test sets.
var CIFAR10 = Spec{Name: "cifar10", Classes: 10, Defaults: map[string]any{}, Presets: presets,
	LoadData: func(cfg Config, log io.Writer) (*Data, error) { return loadImages(cfg, "cifar10", log) }}

// SVHN is the experiment with SVHN in distribution: CIFAR-10's training split is the seen OOD set;
// CIFAR-10's test split, TinyImageNet, LSUN and Gaussian noise are the OOD test sets.
var SVHN = Spec{Name: "svhn", Classes: 10, Defaults: map[string]any{}, Presets: presets,
	LoadData: func(cfg Config, log io.Writer) (*Data, error) { return loadImages(cfg, "svhn", log) }}

// standInSizes are the sizes of generated stand-ins: the config's subset sizes, or the real sets'.
func standInSizes(cfg Config, realTrain, realTest int) (train, test, ood int) {
	train, test, ood = realTrain, realTest, 10000
	if cfg.TrainN > 0 {
		train = cfg.TrainN
	}
	if cfg.TestN > 0 {
		test = cfg.TestN
	}
	if cfg.OODN > 0 {
		ood = cfg.OODN
	}
	return max(train, 5), max(test, 2*cfg.ValN+2), max(ood, 2*cfg.ValN+2)
}

// StandInDir is where generated stand-in files are written and read: $CONFCAL_DATA/standin/… or the
// user cache's confcal/standin/…, one folder per size and seed.
func StandInDir(cfg Config, what string, sizes ...int) (string, error) {
	root, err := dataset.CacheDir("", "standin")
	if err != nil {
		return "", err
	}
	name := what
	for _, s := range sizes {
		name += fmt.Sprintf("-%d", s)
	}
	return filepath.Join(root, fmt.Sprintf("%s-seed%d-v%d", name, cfg.Seed, standInVersion)), nil
}

// loadImages loads the in-distribution data set `in` and the OOD sets, from the real files (data_dir,
// the cache, downloads) or, with cfg.StandIn, from generated stand-ins written in the real formats
// (and read back by the same readers).
func loadImages(cfg Config, in string, log io.Writer) (*Data, error) {
	var cifarOpt cifar.Options
	var svhnOpt svhn.Options
	var oodOpt oodsets.Options
	if cfg.StandIn {
		// CIFAR-10 and SVHN stand-ins at the sizes the run uses (both serve as in or out).
		cTrain, cTest, nOOD := standInSizes(cfg, 50000, 10000)
		sTrain, sTest, _ := standInSizes(cfg, 73257, 26032)
		dirs := map[string]string{}
		for _, w := range []struct {
			what  string
			sizes []int
			write func(dir string) error
		}{
			{"cifar10", []int{cTrain, cTest}, func(dir string) error {
				_, err := cifar.WriteStandIn(dir, cTrain, cTest, uint64(cfg.Seed))
				return err
			}},
			{"svhn", []int{sTrain, sTest}, func(dir string) error { return svhn.WriteStandIn(dir, sTrain, sTest, uint64(cfg.Seed)) }},
			{"tinyimagenet", []int{nOOD}, func(dir string) error {
				_, err := oodsets.WriteStandIn(dir, oodsets.TinyImageNet, nOOD, uint64(cfg.Seed))
				return err
			}},
			{"lsun", []int{nOOD}, func(dir string) error {
				_, err := oodsets.WriteStandIn(dir, oodsets.LSUN, nOOD, uint64(cfg.Seed))
				return err
			}},
		} {
			dir, err := StandInDir(cfg, w.what, w.sizes...)
			if err != nil {
				return nil, err
			}
			done := filepath.Join(dir, "COMPLETE")
			if _, err := os.Stat(done); err != nil {
				logf(log, "writing generated %s stand-in files (NOT the real data) to %s", w.what, dir)
				if err := w.write(dir); err != nil {
					return nil, fmt.Errorf("writing the %s stand-in: %w", w.what, err)
				}
				if err := os.WriteFile(done, []byte("stand-in files written completely\n"), 0o644); err != nil {
					return nil, err
				}
			}
			dirs[w.what] = dir
		}
		cifarOpt.Dir, svhnOpt.Dir = dirs["cifar10"], dirs["svhn"]
		oodOpt.Dir = dirs["tinyimagenet"]
		lsunOpt := oodOpt
		lsunOpt.Dir = dirs["lsun"]
		return assemble(cfg, in, cifarOpt, svhnOpt, oodOpt, lsunOpt, true)
	}
	cifarOpt = cifar.Options{Dir: cfg.DataDir, Download: cfg.Download, Progress: log, Subset: cfg.DataSubset}
	svhnOpt = svhn.Options{Dir: cfg.DataDir, Download: cfg.Download, Progress: log, Subset: cfg.DataSubset}
	oodOpt = oodsets.Options{Dir: cfg.DataDir, Download: cfg.Download, Progress: log, Subset: cfg.DataSubset}
	return assemble(cfg, in, cifarOpt, svhnOpt, oodOpt, oodOpt, false)
}

// assemble loads every set and builds the run's Data.
func assemble(cfg Config, in string, co cifar.Options, so svhn.Options, tinyOpt, lsunOpt oodsets.Options, standIn bool) (*Data, error) {
	load := map[string]func(split string) (*dataset.Set, error){
		"cifar10": func(split string) (*dataset.Set, error) { return cifar.Load(split, co) },
		"svhn":    func(split string) (*dataset.Set, error) { return svhn.Load(split, so) },
	}
	other, otherName := "svhn", OODSVHN
	if in == "svhn" {
		other, otherName = "cifar10", OODCIFAR10
	}
	train, err := load[in]("train")
	if err != nil {
		return nil, err
	}
	test, err := load[in]("test")
	if err != nil {
		return nil, err
	}
	seen, err := load[other]("train")
	if err != nil {
		return nil, err
	}
	otherTest, err := load[other]("test")
	if err != nil {
		return nil, err
	}
	tiny, err := oodsets.Load(oodsets.TinyImageNet, tinyOpt)
	if err != nil {
		return nil, err
	}
	lsun, err := oodsets.Load(oodsets.LSUN, lsunOpt)
	if err != nil {
		return nil, err
	}
	nNoise := 10000
	if cfg.OODN > 0 {
		nNoise = cfg.OODN
	}
	ood := map[string]*dataset.Set{
		otherName:       otherTest,
		OODTinyImageNet: tiny,
		OODLSUN:         lsun,
		OODGaussian:     oodsets.GaussianNoise(nNoise, uint64(cfg.Seed)+99),
	}
	return NewData(cfg, in, 10, train, test, seen, otherName, ood, []string{otherName, OODTinyImageNet, OODLSUN, OODGaussian}, standIn)
}

// standInVersion changes whenever a stand-in generator changes, so that stand-ins written by an
// older version are not reused from the cache.
const standInVersion = 2
