// Command confcal runs the experiments of "Training Confidence-Calibrated Classifiers for Detecting
// Out-of-Distribution Samples" (Lee et al., ICLR 2018) headless, writing results and figures to files.
//
//	confcal toy2d [-set "preset=quick;fig1_steps=500"] [-out dir] [-figs 1,3]
//	confcal toy2d -report [-out dir]     (re-render figures and tables from results.json)
//	confcal mnist [-set "preset=laptop"] [-out dir] [-no-extra] [-sweep [-shard i/n]] [-report]
//	confcal cifar10 [-set "preset=quick;standin=true"] [-out dir] [-sweep [-shard i/n]] [-report]
//	    (-sweep without -shard in a Slurm array task or a Kubernetes Indexed Job pod: the scheduler's shard)
//	confcal svhn    (the same flags)
//	confcal bench [-models simplecnn,dcgan,vgg13] [-steps 5]
//	confcal gpubench [-batch 128] [-steps 50] [-warmup 3] [-models vgg13conf,joint] [-json FILE]
//
// Hyperparameters are GoMLX context parameters, set with -set as in GoMLX's examples; preset=quick
// (the default, CPU minutes) or preset=paper selects the paper's setting. The backend is the pure-Go
// CPU one unless GOMLX_BACKEND says otherwise (e.g. xla:/abs/path/pjrt_c_api_cuda_plugin.so).
package main

import (
	"fmt"
	"os"

	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/mnist"
)

func usage() {
	fmt.Fprintln(os.Stderr, `usage: confcal <experiment> [flags]

experiments:
  toy2d    Figures 1 and 3(a)(b): the 2D Gaussian toy (confidence maps, original vs proposed GAN)
  mnist    MNIST in distribution (letters, noise OOD): the regimes' tables, and Figure 3(c)(d) (original vs proposed DCGAN)
  cifar10  Section 3 with CIFAR-10 in distribution: Tables 1–6, Figures 2, 4, 5, 7 (regimes, sweep, ODIN, ECE)
  svhn     the same with SVHN in distribution
  bench    time one training step of the paper's CNNs (simple CNN, DCGAN, VGG-13) on the backend in use
  gpubench time the VGG-13 confidence-loss step and the Algorithm 1 joint step at batch 128 (GPU; docs/gpu.md)

Run "confcal <experiment> -h" for its flags.`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "toy2d":
		err = runToy2D(os.Args[2:])
	case "mnist":
		err = runImages(mnist.Spec, os.Args[2:], figure3)
	case "cifar10":
		err = runImages(experiment.CIFAR10, os.Args[2:], nil)
	case "svhn":
		err = runImages(experiment.SVHN, os.Args[2:], nil)
	case "bench":
		err = runBench(os.Args[2:])
	case "gpubench":
		err = runGPUBench(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "confcal: unknown experiment %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "confcal %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
