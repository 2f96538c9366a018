// Package calib measures and improves the calibration of a classifier's confidence, as in
// Appendix C.2 (Table 3) of Lee et al., ICLR 2018, "Training Confidence-Calibrated Classifiers for
// Detecting Out-of-Distribution Samples": the expected calibration error (ECE, Naeini et al. 2015)
// over M equal-width confidence bins, and temperature scaling (Guo et al. 2017), which divides the
// logits by a single scalar T > 0 fitted by minimising the negative log-likelihood on held-out data.
//
// Everything is plain Go on float64 (logits may come in as float32, as a GoMLX model returns them).
// The confidences and predictions that ECE takes come from package confcal/softmax (softmax.Rows at
// T = 1, or at the fitted temperature).
package calib

import (
	"fmt"
	"math"
)

// Temperature search range of FitTemperature; the fitted value is clamped to it.
const (
	minTemperature = 0.05
	maxTemperature = 20
)

// Bin is one confidence bin of the ECE: samples whose confidence q satisfies Lo < q <= Hi (the first
// bin also holds q = 0).
type Bin struct {
	// Lo and Hi are the bin's edges, (m−1)/M and m/M.
	Lo, Hi float64
	// Count is |B_m|, the number of samples in the bin.
	Count int
	// Accuracy is acc(B_m), the fraction of the bin's samples that are correctly classified
	// (0 for an empty bin).
	Accuracy float64
	// Confidence is conf(B_m), the mean confidence of the bin's samples (0 for an empty bin).
	Confidence float64
}

// ECE returns the expected calibration error, in percent,
//
//	ECE = Σ_m |B_m|/n · |acc(B_m) − conf(B_m)|,
//
// where B_m holds the samples whose confidence falls in ((m−1)/M, m/M], M = bins, exactly as in
// App. C.2 of the paper; a confidence of exactly 0 goes into the first bin, and a confidence exactly
// on an edge m/M (as float64(m)/float64(M)) goes into bin m. correct[i] tells whether sample i was
// classified correctly (arg max prediction equals the label). The table lists all M bins in order,
// with fractions (not percent) and empty bins included.
//
// It returns an error if the slices differ in length or are empty, if bins < 1, or if a confidence
// is NaN or outside [0, 1].
func ECE(confidence []float64, correct []bool, bins int) (ece float64, table []Bin, err error) {
	if len(confidence) != len(correct) {
		return 0, nil, fmt.Errorf("calib: ECE got %d confidences but %d correctness flags",
			len(confidence), len(correct))
	}
	if len(confidence) == 0 {
		return 0, nil, fmt.Errorf("calib: ECE of no samples")
	}
	if bins < 1 {
		return 0, nil, fmt.Errorf("calib: ECE needs bins >= 1, got %d", bins)
	}
	for i, q := range confidence {
		if !(q >= 0 && q <= 1) { // also catches NaN
			return 0, nil, fmt.Errorf("calib: confidence[%d] = %v is not in [0, 1]", i, q)
		}
	}
	M := float64(bins)
	edge := func(m int) float64 { return float64(m) / M }
	table = make([]Bin, bins)
	for m := range table {
		table[m].Lo = edge(m)
		table[m].Hi = edge(m + 1)
	}
	confSum := make([]float64, bins)
	nCorrect := make([]int, bins)
	for i, q := range confidence {
		// Bin index m (0-based) such that edge(m) < q <= edge(m+1); q = 0 goes to bin 0.
		m := min(max(int(math.Ceil(q*M))-1, 0), bins-1)
		for m > 0 && q <= edge(m) {
			m--
		}
		for m < bins-1 && q > edge(m+1) {
			m++
		}
		table[m].Count++
		confSum[m] += q
		if correct[i] {
			nCorrect[m]++
		}
	}
	n := float64(len(confidence))
	for m := range table {
		b := &table[m]
		if b.Count == 0 {
			continue
		}
		c := float64(b.Count)
		b.Accuracy = float64(nCorrect[m]) / c
		b.Confidence = confSum[m] / c
		ece += c / n * math.Abs(b.Accuracy-b.Confidence)
	}
	return 100 * ece, table, nil
}

// dataset is a validated copy of logits and labels in float64, row-major.
type dataset struct {
	z      []float64 // n×k logits
	labels []int
	n, k   int
}

// newDataset validates logits and labels: equal, non-zero number of rows; all rows of the same,
// non-zero length; labels in range; finite logits.
func newDataset(logits [][]float32, labels []int) (*dataset, error) {
	if len(logits) != len(labels) {
		return nil, fmt.Errorf("calib: %d logit rows but %d labels", len(logits), len(labels))
	}
	if len(logits) == 0 {
		return nil, fmt.Errorf("calib: no samples")
	}
	k := len(logits[0])
	if k == 0 {
		return nil, fmt.Errorf("calib: logits[0] is empty")
	}
	d := &dataset{z: make([]float64, 0, len(logits)*k), labels: labels, n: len(logits), k: k}
	for i, row := range logits {
		if len(row) != k {
			return nil, fmt.Errorf("calib: ragged logits: row %d has %d entries, row 0 has %d", i, len(row), k)
		}
		if labels[i] < 0 || labels[i] >= k {
			return nil, fmt.Errorf("calib: labels[%d] = %d is out of range [0, %d)", i, labels[i], k)
		}
		for j, z := range row {
			v := float64(z)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("calib: logits[%d][%d] = %v is not finite", i, j, v)
			}
			d.z = append(d.z, v)
		}
	}
	return d, nil
}

// nll returns the mean negative log-likelihood of softmax(β·z), β = 1/T, using log-sum-exp.
func (d *dataset) nll(beta float64) float64 {
	var total float64
	for i := 0; i < d.n; i++ {
		row := d.z[i*d.k : (i+1)*d.k]
		zmax := math.Inf(-1)
		for _, z := range row {
			zmax = max(zmax, z)
		}
		var s float64
		for _, z := range row {
			s += math.Exp(beta * (z - zmax))
		}
		// −log p_y = log Σ_j exp(β z_j) − β z_y = log s + β (zmax − z_y).
		total += math.Log(s) + beta*(zmax-row[d.labels[i]])
	}
	return total / float64(d.n)
}

// derivatives returns the first and second derivatives of nll with respect to β:
// mean(E_p[z] − z_y) and mean(Var_p[z]) ≥ 0 (the NLL is convex in β).
func (d *dataset) derivatives(beta float64) (g, h float64) {
	for i := 0; i < d.n; i++ {
		row := d.z[i*d.k : (i+1)*d.k]
		zmax := math.Inf(-1)
		for _, z := range row {
			zmax = max(zmax, z)
		}
		var s, m1, m2 float64
		for _, z := range row {
			e := math.Exp(beta * (z - zmax))
			s += e
			m1 += e * z
			m2 += e * z * z
		}
		mean := m1 / s
		g += mean - row[d.labels[i]]
		h += max(m2/s-mean*mean, 0)
	}
	return g / float64(d.n), h / float64(d.n)
}

// NLL returns the mean negative log-likelihood −(1/n) Σ_i log softmax(logits_i / T)[labels_i],
// computed in float64 with log-sum-exp. It returns an error for no samples, a length mismatch,
// ragged or empty rows, a label out of range, a non-finite logit, or a temperature that is not a
// finite positive number.
func NLL(logits [][]float32, labels []int, temperature float64) (float64, error) {
	if !(temperature > 0) || math.IsInf(temperature, 0) {
		return 0, fmt.Errorf("calib: temperature must be finite and > 0, got %v", temperature)
	}
	d, err := newDataset(logits, labels)
	if err != nil {
		return 0, err
	}
	return d.nll(1 / temperature), nil
}

// FitTemperature returns the temperature T > 0 that minimises the mean NLL of softmax(logits/T)
// against labels (temperature scaling, Guo et al. 2017); use it on held-out data, then compute
// confidences with softmax.Rows(logits, T) (package confcal/softmax).
//
// The NLL is convex in β = 1/T, hence unimodal in log T. The search is a golden-section search on
// log T over [log 0.05, log 20], followed by safeguarded Newton steps in β (using the analytic first
// and second derivatives) that are kept only while they stay inside the range, shrink |dNLL/dβ| and
// do not increase the NLL beyond rounding error. If the minimum lies outside [0.05, 20] the result is the nearest end of the range.
//
// It returns an error for no samples, a length mismatch, ragged or empty rows, a label out of range
// or a non-finite logit.
func FitTemperature(logits [][]float32, labels []int) (float64, error) {
	d, err := newDataset(logits, labels)
	if err != nil {
		return 0, err
	}
	f := func(logT float64) float64 { return d.nll(math.Exp(-logT)) }

	// Golden-section search on log T.
	a, b := math.Log(minTemperature), math.Log(maxTemperature)
	invPhi := (math.Sqrt(5) - 1) / 2
	x1 := b - invPhi*(b-a)
	x2 := a + invPhi*(b-a)
	f1, f2 := f(x1), f(x2)
	for b-a > 1e-7 {
		if f1 <= f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - invPhi*(b-a)
			f1 = f(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + invPhi*(b-a)
			f2 = f(x2)
		}
	}
	temp, fBest := math.Exp(x1), f1
	if f2 < f1 {
		temp, fBest = math.Exp(x2), f2
	}
	// The loop never evaluates the ends; prefer them if the minimum is at the boundary.
	for _, e := range []float64{minTemperature, maxTemperature} {
		if fe := d.nll(1 / e); fe < fBest {
			temp, fBest = e, fe
		}
	}

	// Newton polish in β = 1/T, where the NLL is convex: solve dNLL/dβ = 0. Near the optimum the NLL
	// itself is flat to rounding error, so a step is judged by the derivative: it is kept only if it
	// stays in range and shrinks |dNLL/dβ| without raising the NLL beyond rounding.
	beta := 1 / temp
	g, h := d.derivatives(beta)
	for range 30 {
		if !(h > 0) || g == 0 {
			break
		}
		next := beta - g/h
		if !(next >= 1/maxTemperature && next <= 1/minTemperature) {
			break
		}
		gNext, hNext := d.derivatives(next)
		fNext := d.nll(next)
		if !(math.Abs(gNext) < math.Abs(g)) || fNext > fBest+1e-12*math.Max(1, math.Abs(fBest)) {
			break
		}
		step := math.Abs(next - beta)
		beta, g, h, temp = next, gNext, hNext, 1/next
		fBest = min(fBest, fNext)
		if step <= 1e-13*beta {
			break
		}
	}
	return min(max(temp, minTemperature), maxTemperature), nil
}
