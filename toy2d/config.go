package toy2d

import (
	"math"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/params"
)

// DefaultPreset is the preset of the command line and the notebook: the paper's own setting, which
// takes about 6 minutes on a 2-core CPU and shows both claims on (almost) every seed
// (docs/toy2d-results.md has the 10-seed table).
const DefaultPreset = "paper"

// Presets of the 2D toy. "paper" is Section 2 and App. B as written (MLPs of 2×500 ReLU units;
// Figure 3: 100-d prior, β = 1, Adam, batch 400, lr 0.002, 100 epochs); "quick" keeps the method and
// the shapes of the figures but trains narrower networks for fewer steps, to run in a minute on a
// laptop CPU. Its Figure 3(b) is often too weak to show the paper's effect: use it to try settings,
// not to judge the method.
var Presets = params.Presets{
	"paper": {
		"hidden": 500, "fig1_steps": 3000, "fig3_n": 5000, "fig3_epochs": 100, "fig3_pretrain_epochs": 100, "grid": 201,
	},
	"quick": {
		"hidden": 128, "fig1_steps": 1000, "fig3_n": 2000, "fig3_epochs": 80, "fig3_pretrain_epochs": 20, "grid": 101,
	},
}

// NewContext returns a context holding every hyperparameter of the 2D experiments, set to the
// preset ("quick" or "paper"); override any of them with params.Apply(ctx, "name=value;...", Presets).
func NewContext(preset string) (*context.Context, error) {
	ctx := context.New()
	ctx.SetParams(map[string]any{
		params.Key: preset,
		"seed":     int(42),
		"hidden":   500, // units in each of the 2 hidden layers (paper: 500)
		"layers":   2,   // hidden layers (paper: 2)
		"beta":     1.0, // β of the confidence loss and of the proposed GAN (paper: 1)
		"grid":     201, // grid resolution of the confidence maps (points per axis)

		// Figure 1: two Gaussian classes at (±fig1_offset, 0), confidence loss with fig1_ood_n
		// out-of-distribution points rejection-sampled (fig1_margin sigmas away from both classes)
		// from [-fig1_box_wide, fig1_box_wide]² (a) and [-fig1_box_near, fig1_box_near]² (c).
		"fig1_offset":    6.0,
		"fig1_sigma":     2.0,
		"fig1_n":         500, // training points per class
		"fig1_ood_n":     100, // paper: 100
		"fig1_box_wide":  50.0,
		"fig1_box_near":  20.0,
		"fig1_margin":    3.0,
		"fig1_steps":     3000,
		"fig1_batch":     128,
		"fig1_lr":        0.001,
		"fig1_far_sigma": 4.0, // "far from both classes" in the claim check: beyond this many sigmas

		// Figure 3(a)(b): target = two Gaussians at (±fig3_offset, 0); classifier pre-trained with CE +
		// β KL on points rejection-sampled from [-fig3_box, fig3_box]²; original vs proposed GAN.
		"fig3_offset":          4.0,
		"fig3_sigma":           1.0,
		"fig3_n":               5000, // training points per component (an epoch is 2·fig3_n/fig3_batch steps)
		"fig3_box":             10.0, // paper: [-10,10]²
		"fig3_margin":          3.0,
		"fig3_z":               100, // latent dimension (paper: 100)
		"fig3_batch":           400, // paper: 400
		"fig3_lr":              0.002,
		"fig3_epochs":          100,
		"fig3_pretrain_epochs": 100,
		"fig3_pretrain_lr":     0.002,
		"fig3_adam_beta1":      0.5, // GAN Adam β1 (DCGAN's; the classifier uses 0.9)
		"fig3_samples":         1000,
		"fig3_saturating":      false, // true: generator minimises log(1-D(G(z))) as eq. 2 writes it
	})
	if err := params.Apply(ctx, params.Key+"="+preset, Presets); err != nil {
		return nil, err
	}
	return ctx, nil
}

// Config is the typed, validated view of the context's hyperparameters.
type Config struct {
	Preset string  `json:"preset"`
	Seed   int     `json:"seed"`
	Hidden int     `json:"hidden"`
	Layers int     `json:"layers"`
	Beta   float64 `json:"beta"`
	Grid   int     `json:"grid"`

	Fig1 Fig1Config `json:"fig1"`
	Fig3 Fig3Config `json:"fig3"`
}

// Fig1Config holds Figure 1's settings.
type Fig1Config struct {
	Classes   Mixture `json:"classes"`
	NPerClass int     `json:"n_per_class"`
	OODN      int     `json:"ood_n"`
	BoxWide   Box     `json:"box_wide"`
	BoxNear   Box     `json:"box_near"`
	Margin    float64 `json:"margin_sigmas"`
	Steps     int     `json:"steps"`
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	FarSigma  float64 `json:"far_sigmas"`
}

// Fig3Config holds Figure 3(a)(b)'s settings.
type Fig3Config struct {
	Target         Mixture `json:"target"`
	NPerClass      int     `json:"n_per_class"`
	Box            Box     `json:"box"`
	Margin         float64 `json:"margin_sigmas"`
	Z              int     `json:"z_dim"`
	Batch          int     `json:"batch"`
	LR             float64 `json:"lr"`
	Epochs         int     `json:"epochs"`
	PretrainEpochs int     `json:"pretrain_epochs"`
	PretrainLR     float64 `json:"pretrain_lr"`
	AdamBeta1      float64 `json:"adam_beta1"`
	Samples        int     `json:"samples"`
	Saturating     bool    `json:"saturating"`
}

// ConfigFromContext reads and validates the hyperparameters; every error names the parameter.
func ConfigFromContext(ctx *context.Context) (Config, error) {
	f := func(k string) float64 { return context.GetParamOr(ctx, k, math.NaN()) }
	i := func(k string) int { return context.GetParamOr(ctx, k, -1) }
	c := Config{
		Preset: context.GetParamOr(ctx, params.Key, ""),
		Seed:   i("seed"), Hidden: i("hidden"), Layers: i("layers"), Beta: f("beta"), Grid: i("grid"),
		Fig1: Fig1Config{
			Classes: Mixture{{Mean: [2]float64{-f("fig1_offset"), 0}, Sigma: f("fig1_sigma")},
				{Mean: [2]float64{f("fig1_offset"), 0}, Sigma: f("fig1_sigma")}},
			NPerClass: i("fig1_n"), OODN: i("fig1_ood_n"),
			BoxWide: Box{f("fig1_box_wide")}, BoxNear: Box{f("fig1_box_near")}, Margin: f("fig1_margin"),
			Steps: i("fig1_steps"), Batch: i("fig1_batch"), LR: f("fig1_lr"), FarSigma: f("fig1_far_sigma"),
		},
		Fig3: Fig3Config{
			Target: Mixture{{Mean: [2]float64{-f("fig3_offset"), 0}, Sigma: f("fig3_sigma")},
				{Mean: [2]float64{f("fig3_offset"), 0}, Sigma: f("fig3_sigma")}},
			NPerClass: i("fig3_n"), Box: Box{f("fig3_box")}, Margin: f("fig3_margin"), Z: i("fig3_z"),
			Batch: i("fig3_batch"), LR: f("fig3_lr"), Epochs: i("fig3_epochs"),
			PretrainEpochs: i("fig3_pretrain_epochs"), PretrainLR: f("fig3_pretrain_lr"),
			AdamBeta1: f("fig3_adam_beta1"), Samples: i("fig3_samples"),
			Saturating: context.GetParamOr(ctx, "fig3_saturating", false),
		},
	}
	return c, c.Validate()
}

// Validate checks every setting and names the first bad one.
func (c Config) Validate() error {
	positive := []struct {
		name string
		v    float64
	}{
		{"fig1_box_wide", c.Fig1.BoxWide.Half}, {"fig1_box_near", c.Fig1.BoxNear.Half}, {"fig3_box", c.Fig3.Box.Half},
		{"fig1_lr", c.Fig1.LR}, {"fig3_lr", c.Fig3.LR}, {"fig3_pretrain_lr", c.Fig3.PretrainLR},
		{"fig1_far_sigma", c.Fig1.FarSigma},
	}
	for _, p := range positive {
		if !(p.v > 0) || math.IsInf(p.v, 0) {
			return errors.Errorf("%s must be a finite number > 0, got %v", p.name, p.v)
		}
	}
	counts := []struct {
		name string
		v    int
		min  int
	}{
		{"hidden", c.Hidden, 1}, {"layers", c.Layers, 1}, {"grid", c.Grid, 2},
		{"fig1_n", c.Fig1.NPerClass, 1}, {"fig1_ood_n", c.Fig1.OODN, 1}, {"fig1_steps", c.Fig1.Steps, 1},
		{"fig1_batch", c.Fig1.Batch, 1}, {"fig3_n", c.Fig3.NPerClass, 1}, {"fig3_z", c.Fig3.Z, 1},
		{"fig3_batch", c.Fig3.Batch, 2}, {"fig3_epochs", c.Fig3.Epochs, 1}, {"fig3_pretrain_epochs", c.Fig3.PretrainEpochs, 1},
		{"fig3_samples", c.Fig3.Samples, 1},
	}
	for _, p := range counts {
		if p.v < p.min {
			return errors.Errorf("%s must be >= %d, got %d", p.name, p.min, p.v)
		}
	}
	if !(c.Beta >= 0) || math.IsInf(c.Beta, 0) {
		return errors.Errorf("beta (β) must be a finite number >= 0, got %v", c.Beta)
	}
	if !(c.Fig1.Margin >= 0) || !(c.Fig3.Margin >= 0) {
		return errors.Errorf("fig1_margin and fig3_margin must be >= 0, got %v and %v", c.Fig1.Margin, c.Fig3.Margin)
	}
	if !(c.Fig3.AdamBeta1 > 0 && c.Fig3.AdamBeta1 < 1) {
		return errors.Errorf("fig3_adam_beta1 must be in (0,1), got %v", c.Fig3.AdamBeta1)
	}
	if err := c.Fig1.Classes.Validate(); err != nil {
		return errors.Wrap(err, "fig1 classes (fig1_offset, fig1_sigma)")
	}
	if err := c.Fig3.Target.Validate(); err != nil {
		return errors.Wrap(err, "fig3 target (fig3_offset, fig3_sigma)")
	}
	if c.Fig3.Box.Half <= c.Fig3.Target.maxExtent(c.Fig3.Margin) {
		return errors.Errorf("fig3_box = %g leaves no room outside the target's %g-sigma region: make it larger", c.Fig3.Box.Half, c.Fig3.Margin)
	}
	return nil
}

func (m Mixture) maxExtent(sigmas float64) float64 {
	e := 0.0
	for _, g := range m {
		e = math.Max(e, math.Max(math.Abs(g.Mean[0]), math.Abs(g.Mean[1]))+sigmas*g.Sigma)
	}
	return e
}
