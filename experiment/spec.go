package experiment

import (
	"io"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/params"
)

// Spec describes an in-distribution data set's experiment (package cifar or svhn): its name,
// its hyperparameter defaults and presets, and how to load its data and OOD sets.
type Spec struct {
	Name     string
	Classes  int
	Defaults map[string]any
	Presets  params.Presets
	// LoadData loads the data of a run (real, or generated stand-ins when cfg.StandIn).
	LoadData func(cfg Config, log io.Writer) (*Data, error)
}

// NewContext returns a context with Defaults, the spec's defaults and the preset.
func (s Spec) NewContext(preset string) (*context.Context, error) {
	return NewContext(s.Defaults, s.Presets, preset)
}

// Config applies settings ("name=value;…", preset=NAME first) on top of the quick preset and
// returns the validated config.
func (s Spec) Config(settings string) (Config, error) {
	ctx, err := s.NewContext("quick")
	if err != nil {
		return Config{}, err
	}
	if err := params.Apply(ctx, settings, s.Presets); err != nil {
		return Config{}, err
	}
	return ConfigFromContext(ctx)
}
