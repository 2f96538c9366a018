package params_test

import (
	"strings"
	"testing"

	"github.com/confcal/confcal/confcal/params"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

var presets = params.Presets{"quick": {"steps": 10, "lr": 0.1}, "paper": {"steps": 1000, "lr": 0.01}}

func newCtx() *context.Context {
	ctx := context.New()
	ctx.SetParams(map[string]any{params.Key: "quick", "steps": 10, "lr": 0.1, "name": "x"})
	return ctx
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		settings string
		steps    int
		lr       float64
	}{
		{"", 10, 0.1},
		{"preset=paper", 1000, 0.01},
		{"steps=5;preset=paper", 5, 0.01}, // the preset applies first wherever it is
		{" lr=0.5 ; ", 10, 0.5},
	} {
		ctx := newCtx()
		if err := params.Apply(ctx, tc.settings, presets); err != nil {
			t.Fatalf("%q: %v", tc.settings, err)
		}
		if s, lr := context.GetParamOr(ctx, "steps", 0), context.GetParamOr(ctx, "lr", 0.0); s != tc.steps || lr != tc.lr {
			t.Errorf("%q: steps=%d lr=%v, want %d %v", tc.settings, s, lr, tc.steps, tc.lr)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	for settings, want := range map[string]string{
		"preset=huge": "huge",
		"nosuch=1":    "nosuch",
		"steps=abc":   "abc",
		"steps":       "steps",
	} {
		err := params.Apply(newCtx(), settings, presets)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error mentioning %q", settings, err, want)
		}
	}
	if got := presets.Names(); strings.Join(got, ",") != "paper,quick" {
		t.Errorf("Names() = %v", got)
	}
}

// Complete finds a key that one preset sets and another leaves out.
func TestComplete(t *testing.T) {
	newContext := func(p params.Presets) func(string) (*context.Context, error) {
		return func(name string) (*context.Context, error) {
			ctx := newCtx()
			return ctx, params.Apply(ctx, params.Key+"="+name, p)
		}
	}
	type cfg struct {
		Steps int
		LR    float64
	}
	read := func(ctx *context.Context) (cfg, error) {
		return cfg{context.GetParamOr(ctx, "steps", 0), context.GetParamOr(ctx, "lr", 0.0)}, nil
	}
	if err := params.Complete(presets, newContext(presets), read); err != nil {
		t.Errorf("complete presets: %v", err)
	}
	leaky := params.Presets{"quick": {"steps": 10, "lr": 0.5}, "paper": {"steps": 1000}}
	if err := params.Complete(leaky, newContext(leaky), read); err == nil || !strings.Contains(err.Error(), "preset paper applied over preset quick") {
		t.Errorf("a preset that leaves lr out: got %v", err)
	}
}
