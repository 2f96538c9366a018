// Package report turns saved experiment results (experiment.RunResult files) into the paper's
// tables and figures for the CIFAR-10 and SVHN experiments: Table 1 (cross entropy vs confidence
// loss), Table 2 / Figure 4 (the four ways of training, unseen OOD sets), Table 3 (ECE with and
// without temperature scaling), Table 4 (AlexNet), Table 5 (joint loss with and without the
// pull-away term), Table 6 (K+1 class vs confidence loss), Figure 2 (max-softmax histograms and
// ROC curves), Figure 5 (guided gradient maps) and Figure 7 (ODIN vs baseline). Nothing is
// retrained: notebooks and the command line call it on an output folder.
//
// Where several runs of a (data set, model, regime) exist (a hyperparameter sweep), each OOD set's
// row uses the run with the lowest validation detection error on that set, as App. B does.
//
// Every detection table says which metric convention it shows (package metrics): first the exact
// one (metrics.ExactCaption), then, for results that hold them, the same cells as the authors'
// code computed them (metrics.AuthorsCaption), which is how the paper's own tables were made.
// Figures 4 and 7 plot the exact values.
package report
