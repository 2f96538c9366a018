package confcal

import (
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/pkg/errors"
)

// KLUniform returns, for each row of logits [batch, K], KL(U‖p) where p = softmax(logits) and U is
// the uniform distribution over the K classes:
//
//	KL(U‖p) = Σ_k (1/K) log((1/K) / p_k) = -log K - (1/K) Σ_k log p_k.
//
// It is computed from log-softmax, so it is finite for any finite logits. The result has shape [batch].
func KLUniform(logits *Node) *Node {
	checkLogits("KLUniform", logits)
	k := logits.Shape().Dimensions[1]
	logP := LogSoftmax(logits, -1)
	return AddScalar(Neg(ReduceMean(logP, -1)), -math.Log(float64(k)))
}

// CrossEntropy returns -log p(y|x) for each row of logits [batch, K] and integer labels [batch],
// computed with log-softmax. The result has shape [batch].
func CrossEntropy(logits, labels *Node) *Node {
	checkLogits("CrossEntropy", logits)
	if labels.Rank() != 1 || labels.Shape().Dimensions[0] != logits.Shape().Dimensions[0] {
		panicf("CrossEntropy: labels must have shape [%d], got %s", logits.Shape().Dimensions[0], labels.Shape())
	}
	if !labels.DType().IsInt() {
		panicf("CrossEntropy: labels must be integers, got %s", labels.DType())
	}
	k := logits.Shape().Dimensions[1]
	logP := LogSoftmax(logits, -1)
	oneHot := OneHot(labels, k, logits.DType())
	return Neg(ReduceSum(Mul(logP, oneHot), -1))
}

// ConfidenceLoss is eq. 1 of the paper on one mini-batch:
//
//	mean_i[-log p(y_i|x_i)] + β mean_j[KL(U‖p(y|x'_j))]
//
// with inLogits [n, K] and labels [n] from the in-distribution and outLogits [m, K] from
// out-of-distribution samples x'. With outLogits nil (or β = 0) it is the plain cross entropy.
func ConfidenceLoss(inLogits, labels, outLogits *Node, beta float64) *Node {
	loss := ReduceAllMean(CrossEntropy(inLogits, labels))
	if outLogits == nil || beta == 0 {
		return loss
	}
	return Add(loss, MulScalar(ReduceAllMean(KLUniform(outLogits)), beta))
}

// DiscriminatorLoss is the discriminator's side of eq. 2, to be minimised:
//
//	-mean[log D(x)] - mean[log(1 - D(G(z)))]
//
// where D = sigmoid of the discriminator's logits, realLogits on in-distribution samples and
// fakeLogits on generated ones. log D = -softplus(-l) and log(1-D) = -softplus(l) keep it stable.
func DiscriminatorLoss(realLogits, fakeLogits *Node) *Node {
	real := ReduceAllMean(Softplus(Neg(flattenLogit(realLogits))))
	fake := ReduceAllMean(Softplus(flattenLogit(fakeLogits)))
	return Add(real, fake)
}

// GeneratorGANLoss is the generator's GAN term on discriminator logits of generated samples.
// With saturating = true it is eq. 2's mean[log(1 - D(G(z)))] exactly as the paper writes it; with
// saturating = false it is the non-saturating form mean[-log D(G(z))] that Goodfellow et al.
// recommend and that the authors' code uses (same fixed point, stronger gradients early on).
func GeneratorGANLoss(fakeLogits *Node, saturating bool) *Node {
	l := flattenLogit(fakeLogits)
	if saturating {
		return Neg(ReduceAllMean(Softplus(l))) // log(1 - sigmoid(l)) = -softplus(l)
	}
	return ReduceAllMean(Softplus(Neg(l))) // -log sigmoid(l) = softplus(-l)
}

// ProposedGeneratorLoss is the generator's loss of eq. 3: the GAN term on the discriminator's logits
// of generated samples plus β mean[KL(U‖p(y|G(z)))] on the classifier's logits of the same samples.
// It pulls the generator towards samples that the discriminator takes for in-distribution but on
// which the classifier is least confident: the boundary of the in-distribution.
func ProposedGeneratorLoss(discFakeLogits, clsFakeLogits *Node, beta float64, saturating bool) *Node {
	loss := GeneratorGANLoss(discFakeLogits, saturating)
	if beta == 0 {
		return loss
	}
	return Add(loss, MulScalar(ReduceAllMean(KLUniform(clsFakeLogits)), beta))
}

// PullAwayTerm is the PT of App. D (Zhao et al., 2017) on a batch of generated samples [M, ...]:
//
//	PT = 1/(M(M-1)) Σ_i Σ_{j≠i} (G(z_i)ᵀG(z_j) / (‖G(z_i)‖‖G(z_j)‖))²
//
// the mean squared cosine similarity of distinct pairs; minimising it spreads the samples out (a
// surrogate for maximising the generator's entropy). Each sample is flattened first.
func PullAwayTerm(samples *Node) *Node {
	m := samples.Shape().Dimensions[0]
	if m < 2 {
		panicf("PullAwayTerm needs at least 2 samples, got shape %s", samples.Shape())
	}
	flat := Reshape(samples, m, -1)
	norm := Sqrt(AddScalar(ReduceSum(Square(flat), -1), 1e-12))
	unit := Div(flat, InsertAxes(norm, -1))
	cos := MatMul(unit, Transpose(unit, 0, 1)) // [M, M]
	// Remove the diagonal terms cos_ii² = (‖u_i‖²)², 1 up to rounding.
	diag := ReduceAllSum(Square(ReduceSum(Square(unit), -1)))
	off := Sub(ReduceAllSum(Square(cos)), diag)
	return DivScalar(off, float64(m*(m-1)))
}

// KPlusOneLoss is eq. 5 of App. E: a classifier with K+1 outputs, the last one the
// "out-of-distribution" class, trained with mean[-log p(y|x)] on in-distribution samples and
// mean[-log p(K+1|x')] on out-of-distribution samples. inLogits and outLogits are [n, K+1] and
// [m, K+1]; labels [n] are in 0..K-1. outLogits may be nil.
func KPlusOneLoss(inLogits, labels, outLogits *Node) *Node {
	loss := ReduceAllMean(CrossEntropy(inLogits, labels))
	if outLogits == nil {
		return loss
	}
	k1 := outLogits.Shape().Dimensions[1]
	logP := LogSoftmax(outLogits, -1)
	// log p(K+1|x) picked with a one-hot mask (a Slice's gradient needs Pad, which the CPU backend lacks).
	mask := make([]float32, k1)
	mask[k1-1] = 1
	lastLogP := ReduceSum(Mul(logP, ConvertDType(Const(logP.Graph(), [][]float32{mask}), logP.DType())), -1)
	return Sub(loss, ReduceAllMean(lastLogP))
}

func checkLogits(fn string, logits *Node) {
	if logits.Rank() != 2 || logits.Shape().Dimensions[1] < 2 {
		panicf("%s: logits must have shape [batch, K] with K >= 2, got %s", fn, logits.Shape())
	}
	if !logits.DType().IsFloat() {
		panicf("%s: logits must be floating point, got %s", fn, logits.DType())
	}
}

// flattenLogit accepts a discriminator's output as [batch] or [batch, 1] and returns [batch].
func flattenLogit(l *Node) *Node {
	switch {
	case l.Rank() == 1:
		return l
	case l.Rank() == 2 && l.Shape().Dimensions[1] == 1:
		return Reshape(l, l.Shape().Dimensions[0])
	}
	panicf("discriminator logits must have shape [batch] or [batch, 1], got %s", l.Shape())
	return nil
}

// panicf raises an error the way GoMLX graph building does: Exec turns the panic into an error.
func panicf(format string, args ...any) {
	panic(errors.Errorf(format, args...))
}
