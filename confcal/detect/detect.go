// Package detect turns a trained classifier into an out-of-distribution detector (App. A of the
// paper): it computes the classifier's logits on a data set in inference mode, and the score that a
// threshold δ separates (in-distribution iff score ≥ δ):
//
//   - Baseline: the maximum of the softmax, q(x) = max_y p(y|x) (Hendrycks & Gimpel, 2017), the
//     detector of all the paper's main tables;
//
//   - KPlusOne: 1 - p(K+1|x) for a classifier with an extra out-of-distribution class (App. E).
//
//   - ODIN (odin.go, App. C.3, Figure 7): the maximum softmax at temperature T of the input moved by ε
//     against the gradient of the top class's log-softmax, with (T, ε) chosen on validation data.
//
// Each is also a Detector (detector.go), which runs the network itself: NewBaselineDetector,
// NewKPlusOneDetector, NewODINDetector (or ODIN.At after tuning). Every softmax is computed on the
// host in float64 by package confcal/softmax.
package detect

import (
	"github.com/pkg/errors"

	"github.com/confcal/confcal/confcal/softmax"
)

// Baseline returns max_y softmax(logits)_y for each row (the baseline detector's score; package
// softmax at T = 1).
func Baseline(logits [][]float32) []float64 {
	conf, _ := softmax.Rows(logits, 1)
	return conf
}

// KPlusOne returns 1 - p(K+1|x) for each row, the last logit being the out-of-distribution class.
func KPlusOne(logits [][]float32) []float64 {
	s := make([]float64, len(logits))
	for i, row := range logits {
		p := softmax.Probs(row, 1)
		s[i] = 1 - p[len(p)-1]
	}
	return s
}

// Predictions returns the argmax class of each row (over the first k columns; k <= 0 means all),
// the first one on ties (softmax.ArgMax).
func Predictions(logits [][]float32, k int) []int {
	pred := make([]int, len(logits))
	for i, row := range logits {
		if k > 0 && k < len(row) {
			row = row[:k]
		}
		pred[i] = softmax.ArgMax(row)
	}
	return pred
}

// Accuracy is the fraction of rows whose argmax equals the label.
func Accuracy(logits [][]float32, labels []int) (float64, error) {
	if len(logits) != len(labels) || len(labels) == 0 {
		return 0, errors.Errorf("accuracy needs as many labels as logit rows (> 0), got %d and %d", len(labels), len(logits))
	}
	correct := 0
	for i, p := range Predictions(logits, 0) {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels)), nil
}
