// Package metrics computes the out-of-distribution (OOD) detection metrics of Lee et al., ICLR 2018,
// "Training Confidence-Calibrated Classifiers for Detecting Out-of-Distribution Samples",
// Appendix B: TNR at 95% TPR, AUROC, AUPR-in, AUPR-out and detection accuracy.
//
// Conventions used by every function in this package:
//
//   - A score is higher for "more in-distribution" (for example the maximum softmax probability).
//   - in holds the scores of in-distribution test samples, the positives; out holds the scores of
//     OOD samples, the negatives.
//   - Threshold rule: a sample is declared in-distribution iff score >= δ.
//   - Ties: scores are grouped by exact float64 equality. All samples with the same score move across
//     the threshold together, so a threshold can only be placed between distinct score values. The
//     candidate thresholds are the distinct scores of in ∪ out (δ = v means "declare in iff score >= v"),
//     plus δ = +∞ (nothing declared in) where a metric needs it.
//   - Every metric is returned in percent (0..100), as in the paper's tables; curves are fractions.
//
// All metrics are computed in O(n log n): the two slices are sorted once and swept from the highest
// score to the lowest. These are the exact values of the definitions, the same as scikit-learn's
// roc_auc_score and average_precision_score; the fields of Report hold them.
//
// # The authors' convention
//
// The paper's tables were computed by calculate_log.py of the authors' code
// (github.com/alinlab/Confident_classifier, adapted from calMetric.py of ODIN's code,
// github.com/facebookresearch/odin). Report.Authors, ComputeAuthors and AuthorsTNRAtTPR reproduce
// it value for value (tested against an independent numpy re-implementation). Its rules:
//
//   - Grid: the thresholds are numpy.arange(start, end, gap) with start and end the minimum and
//     maximum over in ∪ out and gap = (end − start)/200000 (AuthorsGridSteps), the values and their
//     number (200,000 or 200,001) exactly as numpy makes them. end itself is never a threshold.
//     Because the thresholds are equally spaced in score, not placed at the scores, an average over
//     thresholds weighs each operating point by the width of the score interval where it holds.
//   - Ties, which differ by metric: TPR counts in >= δ; the FPR of TNR, AUROC and detection
//     accuracy counts out > δ, so a sample exactly at δ counts as correctly classified whichever
//     set it belongs to (start is always a threshold and always a score); AUPR-in's FPR counts
//     out >= δ; AUPR-out flags q < δ as OOD for both sets.
//   - TNR at TPR 95%: 1 − the mean FPR over the thresholds whose TPR lies in [0.94, 0.96]
//     (AuthorsTPRLow, AuthorsTPRHigh), and 0 when no threshold's TPR does (the code's "corner
//     case", FPR 1), which can happen with fewer than 50 in-distribution scores (TPR steps wider
//     than the window) or when ties make TPR jump across it. Averaging over a TPR range, it can
//     differ from TNRAtTPR by a point or so even for large test sets.
//     ODIN's calMetric.py uses [0.9495, 0.9505] (ODINTPRLow, ODINTPRHigh; AuthorsTNRAtTPR takes
//     the window) on a grid fixed for softmax scores, [0.1, 1) in 100,000 steps for CIFAR-10.
//   - AUROC: Σ (FPR_{k−1} − FPR_k)·TPR_k over the increasing grid with FPR_{−1} = 1, and no closing
//     term: the part of the area beyond the last threshold, FPR_last·TPR_last, is missing, which
//     matters when OOD scores tie at the maximum (saturated softmax). ODIN's code adds that term.
//   - AUPR, with precision from rates: precision = TPR/(TPR + FPR), the precision a test set with
//     equally many in- and out-of-distribution samples would have, whatever the real sizes. AUPR-in
//     sweeps the grid upwards, so recall falls, and adds (R_{k−1} − R_k)·P_k: each drop in recall is
//     weighted by the precision at the higher threshold, where the samples that dropped are already
//     rejected; then R·P at the last threshold, and R_{−1} = 1. AUPR-out does the same with the OOD
//     samples as positives (q < δ) over numpy.arange(end, start, −gap), stopping if TPR + FPR = 0.
//     With equally many in- and out-of-distribution samples and many distinct scores this is
//     within a few hundredths of a point of average precision; with unequal sizes it is not (rates
//     instead of counts). For example, Gaussian scores N(2, 1) for 10,000 in-distribution vs
//     N(0, 1) for 26,032 OOD samples (AUROC 92.3): AUPR-in 84.1 exact vs 92.3 the authors',
//     AUPR-out 96.7 vs 92.3. With few distinct scores the weighting makes further differences.
//   - Detection accuracy: 1 − min over the grid of ½(P_in(q < δ) + P_out(q > δ)), starting from 1.
//   - Values in percent as the code prints them, fraction·100.
//
// numpy.arange fails on a zero step, so when all scores are equal there are no authors' values:
// ComputeAuthors returns an error and Compute leaves Report.Authors nil.
package metrics

import (
	"fmt"
	"math"
	"slices"
)

// Report holds all OOD detection metrics of Appendix B for one (in, out) pair of score sets.
// All metric fields are in percent (0..100).
type Report struct {
	// TNRAtTPR95 is TN/(FP+TN) at the largest threshold δ (among the distinct scores) for which
	// TPR = TP/(TP+FN) >= 95%. See TNRAtTPR.
	TNRAtTPR95 float64 `json:"tnr_at_tpr95"`
	// FPRAtTPR95 is 100 - TNRAtTPR95: the fraction of OOD samples accepted as in-distribution at the
	// same threshold.
	FPRAtTPR95 float64 `json:"fpr_at_tpr95"`
	// FPRAtTPR95OODPositive is the OpenOOD-style "FPR@95": OOD samples are the positive class
	// (scores negated, so a sample is flagged OOD iff score <= t), the threshold is the one at which
	// at least 95% of OOD samples are flagged, and the value is the percentage of in-distribution
	// samples wrongly flagged as OOD. It generally differs from FPRAtTPR95.
	FPRAtTPR95OODPositive float64 `json:"fpr_at_tpr95_ood_positive"`
	// AUROC is the area under the ROC curve; with ties it equals the Mann–Whitney U statistic
	// (each tied in/out pair counts 0.5) divided by NumIn*NumOut.
	AUROC float64 `json:"auroc"`
	// AUPRIn is the area under the precision–recall curve with in-distribution samples as
	// positives (average precision, see AUPR).
	AUPRIn float64 `json:"aupr_in"`
	// AUPROut is the area under the precision–recall curve with OOD samples as positives and the
	// scores negated (average precision, see AUPR).
	AUPROut float64 `json:"aupr_out"`
	// DetectionAcc is 1 - min_δ {0.5 P_in(q < δ) + 0.5 P_out(q >= δ)}; see DetectionAccuracy.
	DetectionAcc float64 `json:"detection_accuracy"`
	// NumIn is the number of in-distribution (positive) scores.
	NumIn int `json:"num_in"`
	// NumOut is the number of OOD (negative) scores.
	NumOut int `json:"num_out"`
	// Authors holds the same metrics as the authors' calculate_log.py computes them (see the
	// package documentation). It is nil in results saved before it existed, and when every score
	// is the same (the authors' code fails there).
	Authors *AuthorsReport `json:"authors,omitempty"`
}

// group is one distinct score value of the sweep: how many positives and negatives have exactly it.
type group struct {
	nPos, nNeg int
}

// sweep is the result of sorting the positive and negative scores once: the distinct score values in
// decreasing order, with the count of positives and negatives at each.
type sweep struct {
	values []float64 // distinct scores, decreasing
	groups []group   // groups[k] belongs to values[k]
	nPos   int
	nNeg   int
}

// checkScores returns an error if s is empty or holds a NaN or infinite value; name is used in the
// message ("in", "out", "pos", "neg").
func checkScores(name string, s []float64) error {
	if len(s) == 0 {
		return fmt.Errorf("metrics: %s is empty", name)
	}
	for i, v := range s {
		if math.IsNaN(v) {
			return fmt.Errorf("metrics: %s[%d] is NaN", name, i)
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("metrics: %s[%d] is %v (scores must be finite)", name, i, v)
		}
	}
	return nil
}

// newSweep validates pos and neg (named posName and negName in errors), sorts copies of them and
// merges them into groups of equal scores in decreasing order.
func newSweep(posName string, pos []float64, negName string, neg []float64) (*sweep, error) {
	if err := checkScores(posName, pos); err != nil {
		return nil, err
	}
	if err := checkScores(negName, neg); err != nil {
		return nil, err
	}
	p := slices.Clone(pos)
	n := slices.Clone(neg)
	slices.Sort(p)
	slices.Sort(n)
	sw := &sweep{nPos: len(p), nNeg: len(n)}
	i, j := len(p)-1, len(n)-1
	for i >= 0 || j >= 0 {
		var v float64
		switch {
		case i < 0:
			v = n[j]
		case j < 0:
			v = p[i]
		default:
			v = max(p[i], n[j])
		}
		var g group
		for i >= 0 && p[i] == v {
			g.nPos++
			i--
		}
		for j >= 0 && n[j] == v {
			g.nNeg++
			j--
		}
		sw.values = append(sw.values, v)
		sw.groups = append(sw.groups, g)
	}
	return sw, nil
}

// flipped returns the sweep for the negated problem: negatives become positives and the scores are
// negated, so the order of the groups is reversed.
func (sw *sweep) flipped() *sweep {
	k := len(sw.groups)
	f := &sweep{
		values: make([]float64, k),
		groups: make([]group, k),
		nPos:   sw.nNeg,
		nNeg:   sw.nPos,
	}
	for i, g := range sw.groups {
		f.values[k-1-i] = -sw.values[i]
		f.groups[k-1-i] = group{nPos: g.nNeg, nNeg: g.nPos}
	}
	return f
}

// auroc returns the AUROC as a fraction: the Mann–Whitney U statistic over nPos*nNeg, which is the
// trapezoidal area under the ROC curve through every distinct threshold.
func (sw *sweep) auroc() float64 {
	// Integer arithmetic on 2U keeps the result exact up to 2^53.
	var twoU, tp float64
	for _, g := range sw.groups {
		// Negatives in this group lose to all positives above them and tie with the positives here.
		twoU += float64(g.nNeg) * (2*tp + float64(g.nPos))
		tp += float64(g.nPos)
	}
	return twoU / 2 / (float64(sw.nPos) * float64(sw.nNeg))
}

// tnrAtTPR returns the TNR (fraction) at the largest distinct-score threshold whose TPR >= tpr.
func (sw *sweep) tnrAtTPR(tpr float64) float64 {
	tp, fp := 0, 0
	for _, g := range sw.groups {
		tp += g.nPos
		fp += g.nNeg
		if float64(tp)/float64(sw.nPos) >= tpr {
			break
		}
	}
	return float64(sw.nNeg-fp) / float64(sw.nNeg)
}

// averagePrecision returns sum_k (R_k - R_{k-1}) P_k over the distinct thresholds (fraction).
func (sw *sweep) averagePrecision() float64 {
	var ap float64
	tp, fp := 0, 0
	for _, g := range sw.groups {
		tp += g.nPos
		fp += g.nNeg
		if g.nPos == 0 {
			continue // recall unchanged: no contribution
		}
		ap += float64(g.nPos) / float64(sw.nPos) * float64(tp) / float64(tp+fp)
	}
	return ap
}

// detectionError returns min_δ {0.5 P_pos(q < δ) + 0.5 P_neg(q >= δ)} over δ ∈ {+∞} ∪ distinct scores.
func (sw *sweep) detectionError() float64 {
	best := 0.5 // δ = +∞: every positive rejected, no negative accepted
	tp, fp := 0, 0
	for _, g := range sw.groups {
		tp += g.nPos
		fp += g.nNeg
		e := 0.5*float64(sw.nPos-tp)/float64(sw.nPos) + 0.5*float64(fp)/float64(sw.nNeg)
		if e < best {
			best = e
		}
	}
	return best
}

// Compute validates in and out and returns every metric of Report, sorting the scores only once.
// It returns an error if in or out is empty or if any score is NaN or ±Inf; the message names the
// slice and the index of the first bad value.
func Compute(in, out []float64) (Report, error) {
	sw, err := newSweep("in", in, "out", out)
	if err != nil {
		return Report{}, err
	}
	fl := sw.flipped()
	tnr := 100 * sw.tnrAtTPR(0.95)
	var authors *AuthorsReport
	// in and out are valid here, so newAuthorsScores fails only when all scores are equal (or their
	// range overflows): the authors' code has no values then.
	if as, err := newAuthorsScores(in, out); err == nil {
		a, err := as.report()
		if err != nil {
			return Report{}, err
		}
		authors = &a
	}
	return Report{
		TNRAtTPR95:            tnr,
		FPRAtTPR95:            100 - tnr,
		FPRAtTPR95OODPositive: 100 - 100*fl.tnrAtTPR(0.95),
		AUROC:                 100 * sw.auroc(),
		AUPRIn:                100 * sw.averagePrecision(),
		AUPROut:               100 * fl.averagePrecision(),
		DetectionAcc:          100 * (1 - sw.detectionError()),
		NumIn:                 len(in),
		NumOut:                len(out),
		Authors:               authors,
	}, nil
}

// TNRAtTPR returns, in percent, the true negative rate TN/(FP+TN) at the largest threshold δ among
// the distinct scores of in ∪ out such that TPR(δ) = #{in >= δ}/len(in) >= tpr; tpr is a fraction in
// (0, 1] (0.95 for the paper's "TNR at 95% TPR").
//
// Because all samples with the same score cross the threshold together, TPR usually jumps past tpr
// rather than hitting it exactly; taking the first (largest) threshold that reaches it is the
// conservative choice. The authors' code instead averages the FPR over the thresholds of a grid
// equally spaced in score whose TPR lies in [0.94, 0.96] (ODIN's code: [0.9495, 0.9505]); see
// AuthorsTNRAtTPR and the package documentation.
func TNRAtTPR(in, out []float64, tpr float64) (float64, error) {
	if !(tpr > 0 && tpr <= 1) {
		return 0, fmt.Errorf("metrics: tpr must be in (0, 1], got %v", tpr)
	}
	sw, err := newSweep("in", in, "out", out)
	if err != nil {
		return 0, err
	}
	return 100 * sw.tnrAtTPR(tpr), nil
}

// AUROC returns, in percent, the area under the ROC curve of in (positives) against out (negatives).
// It equals 100·U/(len(in)·len(out)), with U the Mann–Whitney statistic: the number of (in, out)
// pairs with in > out, plus 0.5 per tied pair; equivalently the trapezoidal area under ROCCurve.
func AUROC(in, out []float64) (float64, error) {
	sw, err := newSweep("in", in, "out", out)
	if err != nil {
		return 0, err
	}
	return 100 * sw.auroc(), nil
}

// AUPR returns, in percent, the area under the precision–recall curve with pos as the positive class
// (higher scores = more positive) and neg as the negative class. For AUPR-in call AUPR(in, out); for
// AUPR-out call AUPR with both slices negated and swapped (Compute does this).
//
// The area is computed as average precision, the step integration used by scikit-learn's
// average_precision_score: AP = Σ_k (R_k − R_{k−1})·P_k over the distinct thresholds in decreasing
// order, with R_0 = 0, R_k and P_k the recall and precision at the k-th threshold. Unlike the
// trapezoidal rule this never interpolates precision linearly between operating points (which is
// optimistic). The authors' code computes another quantity: precision from rates, TPR/(TPR+FPR),
// summed over a threshold grid with each recall drop weighted by the precision at the higher
// threshold; see AuthorsReport and the package documentation.
func AUPR(pos, neg []float64) (float64, error) {
	sw, err := newSweep("pos", pos, "neg", neg)
	if err != nil {
		return 0, err
	}
	return 100 * sw.averagePrecision(), nil
}

// DetectionAccuracy returns, in percent, 1 − min_δ {0.5·P_in(q < δ) + 0.5·P_out(q >= δ)}: the best
// accuracy of a threshold detector when in- and out-of-distribution samples are equally likely.
//
// The paper writes the rule as P_in(q <= δ) + P_out(q > δ); this package uses the ">= δ means in"
// rule everywhere. Over all thresholds (δ ranges over +∞ and every distinct score) both rules realise
// exactly the same set of partitions of the samples, so the minimum, and the metric, are identical.
// The result is always at least 50% (the trivial detectors δ = ±∞).
func DetectionAccuracy(in, out []float64) (float64, error) {
	sw, err := newSweep("in", in, "out", out)
	if err != nil {
		return 0, err
	}
	return 100 * (1 - sw.detectionError()), nil
}

// ROCCurve returns the ROC curve of in (positives) against out (negatives) as fractions: one point
// (FPR, TPR) per threshold, starting with (0, 0) for δ = +∞ and followed by one point for each
// distinct score in decreasing order, the last of which is (1, 1). Both slices have length
// 1 + number of distinct scores.
func ROCCurve(in, out []float64) (fpr, tpr []float64, err error) {
	sw, err := newSweep("in", in, "out", out)
	if err != nil {
		return nil, nil, err
	}
	fpr = make([]float64, 0, len(sw.groups)+1)
	tpr = make([]float64, 0, len(sw.groups)+1)
	fpr = append(fpr, 0)
	tpr = append(tpr, 0)
	tp, fp := 0, 0
	for _, g := range sw.groups {
		tp += g.nPos
		fp += g.nNeg
		fpr = append(fpr, float64(fp)/float64(sw.nNeg))
		tpr = append(tpr, float64(tp)/float64(sw.nPos))
	}
	return fpr, tpr, nil
}

// PRCurve returns the precision–recall curve with pos as positives and neg as negatives, as
// fractions. Like scikit-learn it starts with the point (recall 0, precision 1), then has one point
// per distinct score in decreasing order: recall = TP/len(pos), precision = TP/(TP+FP) with the
// threshold at that score. Recall is non-decreasing and ends at 1. AUPR is Σ (recall[k] −
// recall[k−1])·precision[k] over these points.
func PRCurve(pos, neg []float64) (recall, precision []float64, err error) {
	sw, err := newSweep("pos", pos, "neg", neg)
	if err != nil {
		return nil, nil, err
	}
	recall = make([]float64, 0, len(sw.groups)+1)
	precision = make([]float64, 0, len(sw.groups)+1)
	recall = append(recall, 0)
	precision = append(precision, 1)
	tp, fp := 0, 0
	for _, g := range sw.groups {
		tp += g.nPos
		fp += g.nNeg
		recall = append(recall, float64(tp)/float64(sw.nPos))
		precision = append(precision, float64(tp)/float64(tp+fp))
	}
	return recall, precision, nil
}

// Histogram returns the fraction of values falling in each of bins equal-width bins over [lo, hi]
// (used for Figure 2 style histograms of confidence scores). Bin i covers [e_i, e_{i+1}) with edges
// e_i = lo + (hi−lo)·i/bins, except the last bin, which also includes hi. The fractions are relative
// to len(values): values outside [lo, hi] and NaNs are counted in no bin, so the fractions then sum to
// less than 1. It returns nil if bins < 1 or the range is not finite with lo < hi, and all zeros if
// values is empty.
func Histogram(values []float64, lo, hi float64, bins int) []float64 {
	if bins < 1 || !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	h := make([]float64, bins)
	if len(values) == 0 {
		return h
	}
	width := hi - lo
	edge := func(i int) float64 { return lo + width*float64(i)/float64(bins) }
	for _, v := range values {
		if !(v >= lo && v <= hi) {
			continue
		}
		i := min(int((v-lo)/width*float64(bins)), bins-1)
		// The division may round across an edge: move i until e_i <= v < e_{i+1}.
		for i > 0 && v < edge(i) {
			i--
		}
		for i < bins-1 && v >= edge(i+1) {
			i++
		}
		h[i]++
	}
	n := float64(len(values))
	for i := range h {
		h[i] /= n
	}
	return h
}
