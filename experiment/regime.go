package experiment

import (
	"fmt"
	"strings"
)

// Regime names a way to train the classifier: the rows of Tables 1, 2, 4, 5 and 6.
type Regime string

// The training regimes of Section 3 and the appendices.
const (
	CrossEntropy Regime = "ce"        // cross entropy only
	ConfSeen     Regime = "conf-seen" // confidence loss (eq. 1) with the explicit "seen" OOD set
	ConfGAN      Regime = "conf-gan"  // confidence loss on samples of a pre-trained original GAN
	Joint        Regime = "joint"     // joint confidence loss (eq. 4, Algorithm 1)
	JointPT      Regime = "joint-pt"  // joint confidence loss with the pull-away term (App. D)
	KPlusOne     Regime = "kplus1"    // K+1-class loss on the seen OOD set (App. E, eq. 5)
)

// RegimeSpec says what a regime trains with; the trainer, the run keys and the reports read it
// instead of switching on the regime.
type RegimeSpec struct {
	// Title is the regime's name as the paper's tables write it.
	Title string
	// KL: the classifier's loss has the β-weighted KL term (β is a hyperparameter of the run).
	KL bool
	// Seen: the out-of-distribution batch comes from the explicit "seen" OOD training set.
	Seen bool
	// PretrainedGAN: the out-of-distribution batch is sampled from an original GAN pre-trained for
	// gan_epochs epochs and then frozen.
	PretrainedGAN bool
	// JointGAN: a generator and discriminator are trained with the classifier (Algorithm 1).
	JointGAN bool
	// PullAway adds the pull-away term of App. D to the generator's loss.
	PullAway bool
	// ExtraClass: the classifier has K+1 outputs, the last one for out-of-distribution (eq. 5).
	ExtraClass bool
}

// UsesGAN reports whether the regime's classifier comes with a generator (its samples are saved).
func (s RegimeSpec) UsesGAN() bool { return s.PretrainedGAN || s.JointGAN }

// Regimes maps every regime to its spec.
var Regimes = map[Regime]RegimeSpec{
	CrossEntropy: {Title: "Cross entropy loss"},
	ConfSeen:     {Title: "Confidence loss (seen OOD)", KL: true, Seen: true},
	ConfGAN:      {Title: "Confidence loss with original GAN", KL: true, PretrainedGAN: true},
	Joint:        {Title: "Joint confidence loss", KL: true, JointGAN: true},
	JointPT:      {Title: "Joint confidence loss + PT", KL: true, JointGAN: true, PullAway: true},
	KPlusOne:     {Title: "K+1 class loss", Seen: true, ExtraClass: true},
}

// AllRegimes lists every regime in report order.
var AllRegimes = []Regime{CrossEntropy, ConfSeen, ConfGAN, Joint, JointPT, KPlusOne}

// Spec returns the regime's spec (the zero spec, titled by the name, for an unknown regime).
func (r Regime) Spec() RegimeSpec {
	if s, ok := Regimes[r]; ok {
		return s
	}
	return RegimeSpec{Title: string(r)}
}

// Title is the regime's name as the paper's tables write it.
func (r Regime) Title() string { return r.Spec().Title }

// ParseRegimes parses a comma-separated list of regime names ("all" for every regime).
func ParseRegimes(s string) ([]Regime, error) {
	if strings.TrimSpace(s) == "all" {
		return AllRegimes, nil
	}
	var out []Regime
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, ok := Regimes[Regime(p)]; !ok {
			names := make([]string, len(AllRegimes))
			for i, r := range AllRegimes {
				names[i] = string(r)
			}
			return nil, fmt.Errorf("regimes: unknown regime %q (known: %s, or all)", p, strings.Join(names, ", "))
		}
		out = append(out, Regime(p))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("regimes: empty list")
	}
	return out, nil
}
