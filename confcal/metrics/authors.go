package metrics

import (
	"fmt"
	"math"
	"slices"
)

// AuthorsGridSteps is the number of steps of the threshold grid of the authors' calculate_log.py:
// the step is (max − min)/AuthorsGridSteps over all scores.
const AuthorsGridSteps = 200000

// The TPR windows over which "TNR at TPR 95%" averages: the authors' calculate_log.py uses
// [AuthorsTPRLow, AuthorsTPRHigh], ODIN's calMetric.py [ODINTPRLow, ODINTPRHigh]. Both are closed.
const (
	AuthorsTPRLow  = 0.94
	AuthorsTPRHigh = 0.96
	ODINTPRLow     = 0.9495
	ODINTPRHigh    = 0.9505
)

// One-line captions for tables of these metrics, saying which convention the values follow: every
// table shows one of them.
const (
	// ExactCaption heads tables of Report's own fields.
	ExactCaption = "Metrics in the exact convention (package metrics, as scikit-learn): every distinct score is a " +
		"threshold, TNR at the first threshold with TPR ≥ 95%, AUPR = average precision (precision from counts)."
	// AuthorsCaption heads tables of Report.Authors.
	AuthorsCaption = "Metrics in the authors' convention (calculate_log.py of the paper's code, which made the paper's " +
		"tables): thresholds on a 200,000-step grid, TNR averaged over the thresholds with TPR in [94%, 96%], " +
		"AUPR with precision from rates, TPR/(TPR+FPR)."
)

// AuthorsReport holds the metrics of Report as the authors' code computes them (calculate_log.py,
// see the package documentation for every rule). All fields are in percent (0..100).
type AuthorsReport struct {
	// TNRAtTPR95 is 100·(1 − mean FPR) over the grid thresholds with TPR in [0.94, 0.96], and 0
	// when no grid threshold has.
	TNRAtTPR95 float64 `json:"tnr_at_tpr95"`
	// AUROC is the step sum Σ (FPR_{k−1} − FPR_k)·TPR_k over the increasing grid, FPR_{−1} = 1,
	// without a closing term.
	AUROC float64 `json:"auroc"`
	// DetectionAcc is 100·(1 − min over the grid of ½(P_in(q < δ) + P_out(q > δ))).
	DetectionAcc float64 `json:"detection_accuracy"`
	// AUPRIn is the area under the precision–recall curve with in-distribution samples as positives
	// and precision from rates, TPR/(TPR+FPR).
	AUPRIn float64 `json:"aupr_in"`
	// AUPROut is the same with OOD samples as positives (q < δ flags OOD), over the decreasing grid.
	AUPROut float64 `json:"aupr_out"`
}

// authorsScores are the two score sets sorted in increasing order, with the grid's range.
type authorsScores struct {
	in, out    []float64 // sorted, increasing
	start, end float64   // min and max over in ∪ out
	gap        float64   // (end − start)/AuthorsGridSteps
}

// newAuthorsScores validates in and out and prepares the grid. It fails where numpy.arange fails:
// when every score is the same (zero step) or the range overflows or underflows.
func newAuthorsScores(in, out []float64) (*authorsScores, error) {
	if err := checkScores("in", in); err != nil {
		return nil, err
	}
	if err := checkScores("out", out); err != nil {
		return nil, err
	}
	s := &authorsScores{in: slices.Clone(in), out: slices.Clone(out)}
	slices.Sort(s.in)
	slices.Sort(s.out)
	s.start = min(s.in[0], s.out[0])
	s.end = max(s.in[len(s.in)-1], s.out[len(s.out)-1])
	s.gap = (s.end - s.start) / AuthorsGridSteps
	if !(s.gap > 0) || math.IsInf(s.gap, 0) || math.IsInf(s.end-s.start, 0) {
		return nil, fmt.Errorf("metrics: the authors' threshold grid needs min < max over all scores with a finite, "+
			"representable step; got min %v, max %v", s.start, s.end)
	}
	return s, nil
}

// arange is numpy.arange(start, stop, step) for float64 arguments, value for value: its length is
// ⌈(stop − start)/step⌉, its first values start and start+step, and value i ≥ 2 is start + i·δ
// with δ = (start+step) − start (numpy's fill of a float64 range).
type arange struct {
	start, next, delta float64
	n                  int
}

func newArange(start, stop, step float64) (arange, error) {
	l := math.Ceil((stop - start) / step)
	if math.IsNaN(l) || l > 4*AuthorsGridSteps {
		return arange{}, fmt.Errorf("metrics: arange(%v, %v, %v) has %v values", start, stop, step, l)
	}
	a := arange{start: start, n: max(0, int(l))}
	a.next = start + step
	a.delta = a.next - start
	return a, nil
}

// at returns value i (0 <= i < n).
func (a arange) at(i int) float64 {
	switch i {
	case 0:
		return a.start
	case 1:
		return a.next
	}
	// The conversion keeps the product rounded on its own (no fused multiply-add), as in numpy.
	return a.start + float64(float64(i)*a.delta)
}

// ascending runs the increasing grid numpy.arange(start, end, gap) and calls f with, for each
// threshold δ, the numbers of in-scores below δ and of out-scores below δ and at most δ.
func (s *authorsScores) ascending(f func(inLT, outLT, outLE int)) error {
	g, err := newArange(s.start, s.end, s.gap)
	if err != nil {
		return err
	}
	inLT, outLT, outLE := 0, 0, 0
	for i := range g.n {
		d := g.at(i)
		for inLT < len(s.in) && s.in[inLT] < d {
			inLT++
		}
		for outLT < len(s.out) && s.out[outLT] < d {
			outLT++
		}
		for outLE < len(s.out) && s.out[outLE] <= d {
			outLE++
		}
		f(inLT, outLT, outLE)
	}
	return nil
}

// tnr returns the authors' TNR (fraction) averaged over the grid thresholds with lo <= TPR <= hi:
// TPR counts in >= δ, FPR counts out > δ. Without such a threshold it returns 0, the code's
// "corner case" (FPR 1).
func (s *authorsScores) tnr(lo, hi float64) (float64, error) {
	nIn, nOut := float64(len(s.in)), float64(len(s.out))
	var fpr, total float64
	err := s.ascending(func(inLT, _, outLE int) {
		tpr := float64(len(s.in)-inLT) / nIn
		if tpr <= hi && tpr >= lo {
			fpr += float64(len(s.out)-outLE) / nOut
			total++
		}
	})
	if err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, nil
	}
	return 1 - fpr/total, nil
}

// report computes every field of AuthorsReport (fractions are turned into percent as the code
// prints them: value·100).
func (s *authorsScores) report() (AuthorsReport, error) {
	nIn, nOut := float64(len(s.in)), float64(len(s.out))
	tnr, err := s.tnr(AuthorsTPRLow, AuthorsTPRHigh)
	if err != nil {
		return AuthorsReport{}, err
	}

	// One increasing sweep for AUROC, AUPR-in and the detection error, each accumulated in the
	// code's order.
	var auroc float64
	fprTemp := 1.0
	var auprIn float64
	recallTemp := 1.0
	var recall, precision float64
	detErr := 1.0
	err = s.ascending(func(inLT, outLT, outLE int) {
		tpr := float64(len(s.in)-inLT) / nIn // in >= δ
		fprGT := float64(len(s.out)-outLE) / nOut
		auroc += float64((fprTemp - fprGT) * tpr)
		fprTemp = fprGT

		detErr = min(detErr, (float64(inLT)/nIn+fprGT)/2)

		fpGE := float64(len(s.out)-outLT) / nOut // out >= δ
		if tpr+fpGE == 0 {
			return
		}
		precision = tpr / (tpr + fpGE)
		recall = tpr
		auprIn += float64((recallTemp - recall) * precision)
		recallTemp = recall
	})
	if err != nil {
		return AuthorsReport{}, err
	}
	auprIn += float64(recall * precision)

	// AUPR-out: the decreasing grid numpy.arange(end, start, −gap); OOD flagged iff q < δ.
	g, err := newArange(s.end, s.start, -s.gap)
	if err != nil {
		return AuthorsReport{}, err
	}
	var auprOut float64
	recallTemp, recall, precision = 1, 0, 0
	inLT, outLT := len(s.in), len(s.out)
	for i := range g.n {
		d := g.at(i)
		for inLT > 0 && s.in[inLT-1] >= d {
			inLT--
		}
		for outLT > 0 && s.out[outLT-1] >= d {
			outLT--
		}
		fp := float64(inLT) / nIn
		tp := float64(outLT) / nOut
		if tp+fp == 0 {
			break
		}
		precision = tp / (tp + fp)
		recall = tp
		auprOut += float64((recallTemp - recall) * precision)
		recallTemp = recall
	}
	auprOut += float64(recall * precision)

	return AuthorsReport{
		TNRAtTPR95:   tnr * 100,
		AUROC:        auroc * 100,
		DetectionAcc: (1 - detErr) * 100,
		AUPRIn:       auprIn * 100,
		AUPROut:      auprOut * 100,
	}, nil
}

// ComputeAuthors returns the metrics as the authors' calculate_log.py computes them from the same
// scores (in: in-distribution, out: OOD; higher = more in-distribution). It returns an error if in
// or out is empty, holds NaN or ±Inf, or if all scores are equal (numpy.arange fails on the zero
// step there, so the authors' code gives no values either).
func ComputeAuthors(in, out []float64) (AuthorsReport, error) {
	s, err := newAuthorsScores(in, out)
	if err != nil {
		return AuthorsReport{}, err
	}
	return s.report()
}

// AuthorsTNRAtTPR returns, in percent, 100·(1 − mean FPR) over the thresholds of the authors' grid
// whose TPR lies in [lo, hi] (TPR counts in >= δ, FPR counts out > δ), and 0 when none does.
// (AuthorsTPRLow, AuthorsTPRHigh) gives AuthorsReport.TNRAtTPR95; (ODINTPRLow, ODINTPRHigh) gives
// ODIN's narrower window on the same grid (ODIN's calMetric.py itself uses a fixed grid over
// [0.1, 1) for CIFAR-10's maximum softmax). Errors as ComputeAuthors, and for 0 <= lo <= hi <= 1
// not holding.
func AuthorsTNRAtTPR(in, out []float64, lo, hi float64) (float64, error) {
	if !(lo >= 0 && lo <= hi && hi <= 1) {
		return 0, fmt.Errorf("metrics: TPR window [%v, %v] must satisfy 0 <= lo <= hi <= 1", lo, hi)
	}
	s, err := newAuthorsScores(in, out)
	if err != nil {
		return 0, err
	}
	tnr, err := s.tnr(lo, hi)
	return tnr * 100, err
}
