package confcal

import (
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// MaxSoftmax is the baseline detector's score of App. A (Hendrycks & Gimpel): q(x) = max_y p(y|x),
// for logits [batch, K]. With temperature T ≠ 1 it is max_y softmax(logits/T), the score ODIN
// thresholds. The result has shape [batch].
func MaxSoftmax(logits *Node, temperature float64) *Node {
	checkLogits("MaxSoftmax", logits)
	if temperature != 1 {
		logits = DivScalar(logits, temperature)
	}
	return Exp(ReduceMax(LogSoftmax(logits, -1), -1))
}

// NotOODClassScore is the K+1-class detector's score of App. E: 1 - p(K+1|x) for logits [batch, K+1]
// whose last column is the out-of-distribution class. The result has shape [batch].
func NotOODClassScore(logits *Node) *Node {
	checkLogits("NotOODClassScore", logits)
	k1 := logits.Shape().Dimensions[1]
	p := Softmax(logits, -1)
	last := Reshape(Slice(p, AxisRange(), AxisElem(k1-1)), logits.Shape().Dimensions[0])
	return OneMinus(last)
}
