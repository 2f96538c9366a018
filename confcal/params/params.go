// Package params applies hyperparameter settings to a GoMLX context the way GoMLX's examples do
// (`-set "name=value;name2=value2"`, see ui/commandline), plus named presets: every experiment of
// the project has a "quick" preset (minutes on a laptop CPU) and a "paper" preset (the paper's
// setting, App. B), selected with the setting preset=NAME and then overridden by the other settings.
package params

import (
	"reflect"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/ui/commandline"
	"github.com/pkg/errors"
)

// Key is the setting that selects a preset.
const Key = "preset"

// Presets maps a preset's name to the parameter values it sets.
type Presets map[string]map[string]any

// Names returns the preset names, sorted.
func (p Presets) Names() []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Apply applies settings ("k=v;k2=v2", as GoMLX's -set flag) to ctx. A preset=NAME entry, wherever it
// appears, applies that preset first; the other entries then override it. Unknown parameters,
// values of the wrong type and unknown presets are errors that name the setting.
func Apply(ctx *context.Context, settings string, presets Presets) error {
	var rest []string
	preset := ""
	for _, s := range strings.Split(settings, ";") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if k, v, ok := strings.Cut(s, "="); ok && strings.TrimSpace(k) == Key {
			preset = strings.TrimSpace(v)
			continue
		}
		rest = append(rest, s)
	}
	if preset != "" {
		values, ok := presets[preset]
		if !ok {
			return errors.Errorf("unknown preset %q (known: %s)", preset, strings.Join(presets.Names(), ", "))
		}
		ctx.SetParams(values)
		ctx.SetParam(Key, preset)
	}
	if len(rest) == 0 {
		return nil
	}
	if _, err := commandline.ParseContextSettings(ctx, strings.Join(rest, ";")); err != nil {
		return errors.Wrapf(err, "bad setting in %q", settings)
	}
	return nil
}

// Complete checks that every preset gives the same configuration whichever preset's context it is
// applied over, as the commands and notebooks do (they start from a default preset and apply -set on
// top): a key set by one preset and left out by another would leak from the first into the second.
// newContext returns a context set to a preset, config reads the configuration from a context.
func Complete[C any](presets Presets, newContext func(preset string) (*context.Context, error),
	config func(*context.Context) (C, error)) error {
	for _, name := range presets.Names() {
		ctx, err := newContext(name)
		if err != nil {
			return err
		}
		want, err := config(ctx)
		if err != nil {
			return err
		}
		for _, from := range presets.Names() {
			ctx, err := newContext(from)
			if err != nil {
				return err
			}
			if err := Apply(ctx, Key+"="+name, presets); err != nil {
				return err
			}
			got, err := config(ctx)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, want) {
				return errors.Errorf("preset %s applied over preset %s gives %+v, want %+v", name, from, got, want)
			}
		}
	}
	return nil
}
