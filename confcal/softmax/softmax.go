// Package softmax is the project's one host-side softmax: the probabilities and the maximum softmax
// probability of float32 logit rows (as a GoMLX model returns them), computed in float64. The
// detectors (package detect), calibration (package calib) and the experiments all score through it,
// so that every table and figure uses the same numbers.
//
// Conventions used by every function in this package:
//
//   - Temperature: T divides the logits, softmax(z/T)_j = exp(z_j/T) / Σ_k exp(z_k/T). T = 1 is the
//     plain softmax; T > 1 flattens it (ODIN, Liang et al. 2018; temperature scaling, Guo et al.
//     2017), T < 1 sharpens it. T must be finite and > 0: anything else is a programming error and
//     panics.
//   - Stability: the maximum logit m is subtracted before exponentiating, exp((z_j − m)/T), so huge
//     logits neither overflow nor lose the differences between classes. The maximum probability is
//     1 / Σ_k exp((z_k − m)/T), computed without a division by a near-zero numerator.
//   - Float64: the logits are converted to float64 before any arithmetic, so scores close to 1/K
//     (large T) or to 1 (saturated softmax) keep their small differences.
//   - Arg max: the first index of the largest logit (ties go to the lower class); logits are
//     compared as float32, and a NaN never wins a comparison.
//   - Empty rows: Probs gives an empty slice, Max confidence NaN and arg max −1. NaN or infinite
//     logits give NaN probabilities.
package softmax

import (
	"fmt"
	"math"
)

// Probs returns softmax(row/T) in float64: p_j = exp((z_j − m)/T) / Σ_k exp((z_k − m)/T), m the
// maximum logit. An empty row gives an empty slice.
func Probs(row []float32, T float64) []float64 {
	checkTemperature(T)
	p := make([]float64, len(row))
	if len(row) == 0 {
		return p
	}
	m := float64(row[ArgMax(row)])
	var sum float64
	for j, z := range row {
		p[j] = math.Exp((float64(z) - m) / T)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return p
}

// Max returns the maximum softmax probability of row at temperature T,
// conf = max_j softmax(row/T)_j = 1 / Σ_k exp((z_k − z_arg)/T), and arg = ArgMax(row), the class
// it belongs to. An empty row gives NaN and −1.
func Max(row []float32, T float64) (conf float64, arg int) {
	checkTemperature(T)
	arg = ArgMax(row)
	if arg < 0 {
		return math.NaN(), -1
	}
	m := float64(row[arg])
	var sum float64
	for _, z := range row {
		sum += math.Exp((float64(z) - m) / T)
	}
	return 1 / sum, arg
}

// Rows applies Max to each row of logits: conf[i] is row i's maximum softmax probability at
// temperature T (the baseline detector's score q(x) = max_y p(y|x) at T = 1) and pred[i] its
// predicted class. Rows may differ in length.
func Rows(logits [][]float32, T float64) (conf []float64, pred []int) {
	checkTemperature(T)
	conf = make([]float64, len(logits))
	pred = make([]int, len(logits))
	for i, row := range logits {
		conf[i], pred[i] = Max(row, T)
	}
	return conf, pred
}

// ArgMax returns the index of the largest value of row, the first one on ties, or −1 for an empty
// row.
func ArgMax(row []float32) int {
	if len(row) == 0 {
		return -1
	}
	best := 0
	for j, z := range row {
		if z > row[best] {
			best = j
		}
	}
	return best
}

// checkTemperature panics unless T is finite and > 0.
func checkTemperature(T float64) {
	if !(T > 0) || math.IsInf(T, 0) {
		panic(fmt.Sprintf("softmax: temperature must be finite and > 0, got %v", T))
	}
}
