// Package experiment runs the image experiments of Lee et al. (ICLR 2018) — Section 3's CIFAR-10
// and SVHN in distribution (specs CIFAR10 and SVHN), TinyImageNet, LSUN, Gaussian noise and each
// other's test split out of distribution, and MNIST (mnist.Spec: the same pipeline with its own
// data) — and saves everything the paper's tables and figures need.
//
//   - Training regimes (Regime): cross entropy; the confidence loss (eq. 1) with the "seen" OOD set;
//     the confidence loss on samples of a pre-trained original GAN; the joint confidence loss (eq. 4,
//     Algorithm 1); joint + pull-away term (App. D); the K+1-class loss (App. E, eq. 5).
//   - Regimes maps each regime to what it trains with (RegimeSpec); one training path (Train) on
//     the project's one loop (package loop): Adam with lr × lr_decay from epoch lr_decay_epoch
//     (App. B: × 0.1 at 60 of 100), one checkpoint per epoch written atomically, and resumption: a
//     killed run restarted with the same settings goes on from its last epoch and ends with the
//     same weights as an uninterrupted one. OriginalGAN and ProposedGAN train the DCGANs of eq. 2
//     and eq. 3 (Figure 3) the same way.
//   - Hyperparameters (the Param* constants, Defaults, Config) are defined once, in one table.
//   - Evaluation (Evaluate): accuracy; the baseline detector and ODIN (App. C.3, grid chosen on the
//     validation split) on every OOD set with all App. B metrics; validation detection error per OOD
//     set (App. B's selection criterion); ECE (M = 20) with and without temperature scaling
//     (Table 3); score histograms and ROC curves (Figure 2); guided-backprop maps (Figure 5);
//     generator samples.
//   - The App. B hyperparameter sweep (Grid, Sweep) over β, batch size and learning rate, split into
//     shards (i/n) that share nothing but the output folder, resumable trial by trial.
//
// Each run lives in <out>/runs/<key>/ (checkpoint.bin, result.json, PNGs); package report turns a
// folder of runs into the tables and figures. The specs live here, not in packages cifar and svhn,
// because each experiment uses the other's data set as OOD data.
package experiment
