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

// AllRegimes lists every regime in report order.
var AllRegimes = []Regime{CrossEntropy, ConfSeen, ConfGAN, Joint, JointPT, KPlusOne}

// Title is the regime's name as the paper's tables write it.
func (r Regime) Title() string {
	switch r {
	case CrossEntropy:
		return "Cross entropy loss"
	case ConfSeen:
		return "Confidence loss (seen OOD)"
	case ConfGAN:
		return "Confidence loss with original GAN"
	case Joint:
		return "Joint confidence loss"
	case JointPT:
		return "Joint confidence loss + PT"
	case KPlusOne:
		return "K+1 class loss"
	}
	return string(r)
}

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
		ok := false
		for _, r := range AllRegimes {
			if string(r) == p {
				out = append(out, r)
				ok = true
			}
		}
		if !ok {
			names := make([]string, len(AllRegimes))
			for i, r := range AllRegimes {
				names[i] = string(r)
			}
			return nil, fmt.Errorf("regimes: unknown regime %q (known: %s, or all)", p, strings.Join(names, ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("regimes: empty list")
	}
	return out, nil
}
