package experiment

import (
	"fmt"

	"github.com/confcal/confcal/dataset"
)

// Data is what a run trains and tests on: the in-distribution splits, the "seen" OOD training set
// (the other in-distribution data set's training split, Section 3.1) and the OOD test sets, each
// split into validation images (for choosing hyperparameters and the ODIN parameters, App. B) and
// test images.
type Data struct {
	Name    string // "cifar10" or "svhn"
	Classes int
	Train   *dataset.Set
	// Calib is the in-distribution validation split (taken from the test set): it calibrates the
	// temperature (Table 3) and is the positive side of the validation detection error.
	Calib, Test *dataset.Set
	// Seen is the explicit OOD training set of conf-seen and kplus1; SeenName the OOD test set it
	// corresponds to (reported as "(seen)").
	Seen     *dataset.Set
	SeenName string
	// OODVal and OODTest map an OOD set's name to its validation and test images.
	OODVal, OODTest map[string]*dataset.Set
	// OODNames lists the OOD sets in report order.
	OODNames []string
	// StandIn is true when the data are generated stand-ins, not the real data sets.
	StandIn bool
}

// NewData splits the test set and each OOD set as cfg says (val_n validation images each, subsets
// of train_n/test_n/ood_n) and returns the run's data.
func NewData(cfg Config, name string, classes int, train, test, seen *dataset.Set, seenName string, ood map[string]*dataset.Set, oodNames []string, standIn bool) (*Data, error) {
	if train == nil || test == nil {
		return nil, fmt.Errorf("%s: missing train or test split", name)
	}
	for _, s := range []*dataset.Set{train, test} {
		if err := s.Check(); err != nil {
			return nil, err
		}
		if s.N == 0 {
			return nil, fmt.Errorf("%s: set %q has no images", name, s.Name)
		}
		for i, l := range s.Labels {
			if l < 0 || l >= classes {
				return nil, fmt.Errorf("%s: image %d has label %d, want 0…%d", s.Name, i, l, classes-1)
			}
		}
	}
	d := &Data{Name: name, Classes: classes, Train: train.Subset(cfg.TrainN, uint64(cfg.Seed)),
		SeenName: seenName, OODVal: map[string]*dataset.Set{}, OODTest: map[string]*dataset.Set{},
		OODNames: oodNames, StandIn: standIn}
	var err error
	t := test.Subset(cfg.TestN, uint64(cfg.Seed)+1)
	if d.Calib, d.Test, err = t.Split(min(cfg.ValN, t.N/2), uint64(cfg.Seed)+2); err != nil {
		return nil, err
	}
	if d.Test.N == 0 {
		return nil, fmt.Errorf("%s: set %q leaves no test images after the %d validation images", name, test.Name, d.Calib.N)
	}
	if seen != nil {
		if err := seen.Check(); err != nil {
			return nil, err
		}
		if seen.N == 0 {
			return nil, fmt.Errorf("%s: the seen OOD set %q has no images", name, seen.Name)
		}
		if seen.C != train.C || seen.H != train.H || seen.W != train.W {
			return nil, fmt.Errorf("%s: the seen OOD set %q is %d×%d×%d, the in-distribution images %d×%d×%d", name, seen.Name, seen.C, seen.H, seen.W, train.C, train.H, train.W)
		}
		d.Seen = seen.Subset(cfg.TrainN, uint64(cfg.Seed)+3)
	}
	for k, n := range oodNames {
		s, ok := ood[n]
		if !ok {
			return nil, fmt.Errorf("%s: OOD set %q missing", name, n)
		}
		if err := s.Check(); err != nil {
			return nil, err
		}
		if s.C != train.C || s.H != train.H || s.W != train.W {
			return nil, fmt.Errorf("%s: OOD set %q is %d×%d×%d, the in-distribution images %d×%d×%d", name, n, s.C, s.H, s.W, train.C, train.H, train.W)
		}
		s = s.Subset(cfg.OODN, uint64(cfg.Seed)+10+uint64(k))
		if s.N < 2 {
			return nil, fmt.Errorf("%s: OOD set %q has %d images, want at least 2", name, n, s.N)
		}
		if d.OODVal[n], d.OODTest[n], err = s.Split(min(cfg.ValN, s.N/2), uint64(cfg.Seed)+20+uint64(k)); err != nil {
			return nil, err
		}
	}
	return d, nil
}
