// Package confcal holds the losses of "Training Confidence-Calibrated Classifiers for Detecting
// Out-of-Distribution Samples" (Lee, Lee, Lee and Shin, ICLR 2018) as GoMLX graph functions, and the
// scores its detectors threshold.
//
// Everything is computed from logits with log-softmax (never from probabilities), so the losses stay
// finite for any logit values:
//
//   - KL(U‖p) of the predictive distribution from the uniform one (the term of eq. 1 and eq. 3);
//   - the confidence loss, eq. 1: E_in[-log p(y|x)] + β E_out[KL(U‖p(y|x))];
//   - the discriminator and generator losses of a GAN, eq. 2, and the proposed generator loss, eq. 3:
//     the GAN term plus β KL(U‖p(y|G(z)));
//   - the pull-away term of App. D and the K+1-class loss of App. E;
//   - the detectors' scores: max-softmax (App. A, the baseline) and 1 - p(K+1|x) (App. E).
//
// The trainers that use these losses (Algorithm 1 among them) are in the sub-package train, the
// per-network optimizer in optim, the models in models, and the metrics (App. B) in metrics.
package confcal
