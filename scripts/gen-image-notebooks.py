"""Writes notebooks/cifar10.ipynb and notebooks/svhn.ipynb (the same story for both in-distribution sets)."""
import json, os

here = os.path.dirname(os.path.abspath(__file__))

def md(s): return {"cell_type": "markdown", "metadata": {}, "source": s.strip("\n")}
def code(s): return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s.strip("\n")}

def notebook(spec, title, inname, other, seenname):
    cells = []
    cells.append(md(f"""
# {title}: Section 3 of Lee et al. (ICLR 2018), cell by cell

{inname} is the in-distribution data set. The out-of-distribution (OOD) sets are {other}'s test split, TinyImageNet
(resize), LSUN (resize) and Gaussian noise; {other}'s *training* split is the "seen" OOD set of the confidence loss.
Everything else is unseen. Detection uses the in-distribution test images as positives, with the metrics of App. B in %.

The cells tell the story of Section 3:

1. **Table 1 / Figure 2.** Cross entropy vs the confidence loss (eq. 1) trained with the seen OOD set.
2. **Table 2 / Figure 4.** Four ways of training, compared on the unseen sets: cross entropy, confidence loss with
   the seen set, confidence loss on samples of a pre-trained original GAN, and the joint confidence loss
   (eq. 4, Algorithm 1), where the GAN is trained together with the classifier.
3. **Table 3.** Calibration: ECE with and without temperature scaling.
4. **Figure 5.** Guided-backprop gradient maps.
5. **Figure 7.** The ODIN detector vs the baseline detector.

**Data.** The real data sets ({inname}, {other}, TinyImageNet-resize, LSUN-resize) are read from `data_dir`, or from the
cache (`$CONFCAL_DATA`), or downloaded with `download=true`. **When they are not there, as on our CI machines that
cannot reach them, the notebook falls back to GENERATED STAND-IN data** written in exactly the real file formats and
read back by the same readers. Every output then says *stand-in*: those numbers exercise the pipeline and show the
effects on synthetic images; they are not the paper's numbers.

**Settings.** The cells run the **quick** preset: the paper's simple CNN at 1/8 of its width (a narrowed VGG-13
does not learn in so few steps), 640 training images, four epochs, DCGANs at 1/16 width, on the project's CPU
backend (about a minute). Run a cell as `%% --set="preset=paper"` for App. B's setting (full
VGG-13, all images, 100 epochs with lr × 0.1 at epoch 60, every regime — a GPU job), or override single
hyperparameters, e.g. `%% --set="epochs=10;beta=0.5"`. A finished run (`out/{spec}-<preset>/runs/<key>/result.json`)
is not retrained: rerunning a cell only re-reads it, and an interrupted run resumes from its last epoch's checkpoint.
"""))
    cells.append(code('!*go mod edit -replace github.com/confcal/confcal="${GONB_DIR}/.." -require github.com/confcal/confcal@v0.0.0-00010101000000-000000000000'))
    cells.append(code(f"""
import (
	"flag"
	"fmt"
	"os"

	"github.com/confcal/confcal/confcal/backend"
	"github.com/confcal/confcal/confcal/nbutil"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/dataset"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/report"
)

var flagSet = flag.String("set", "", `hyperparameters: "preset=paper" for the paper's setting, or e.g. "epochs=10"`)

var spec = experiment.{"CIFAR10" if spec=="cifar10" else "SVHN"}

// setup returns the configuration (quick preset, then -set), the data (real, or generated stand-ins
// when the real files are missing) and the output directory.
func setup() (experiment.Config, *experiment.Data, string) {{
	cfg, err := spec.Config(*flagSet)
	check(err)
	d, cfg, err := spec.LoadOrStandIn(cfg, os.Stdout)
	check(err)
	out := nbutil.OutDir(spec.OutName(cfg))
	what := "real data"
	if d.StandIn {{
		what = "GENERATED STAND-IN DATA (not the real data sets)"
	}}
	fmt.Printf("preset %s, backend %s, %s: %d training / %d test images, OOD sets %v, output %s\\n",
		cfg.Preset, backend.Must().Name(), what, d.Train.N, d.Test.N, d.OODNames, out)
	return cfg, d, out
}}

// train runs (or loads) the given regimes and returns the report over the output folder.
func train(cfg experiment.Config, d *experiment.Data, out string, regimes ...experiment.Regime) *report.Results {{
	log := nbutil.NewTraining() // progress bars and loss curves
	for _, g := range regimes {{
		_, err := experiment.RunOne(backend.Must(), cfg, d, g, out, log)
		check(err)
	}}
	r, err := report.Load(out)
	check(err)
	return r
}}

func showPNG(png []byte, err error) {{
	check(err)
	if png != nil {{
		nbutil.PNG(png)
	}}
}}

func showMD(md string, err error) {{
	check(err)
	nbutil.Markdown(md)
}}

func check(err error) {{
	if err != nil {{
		fmt.Fprintf(os.Stderr, "error: %v\\n", err)
		os.Exit(1)
	}}
}}
"""))
    cells.append(md(f"""
## The data

Sixteen images of each set: the {inname} training images, then each OOD test set.
"""))
    cells.append(code("""
%%
_, d, _ := setup()
show := func(title string, s *dataset.Set) {
	imgs := make([][]float32, min(16, s.N))
	for i := range imgs {
		imgs[i] = s.Image(i)
	}
	img, err := plots.ImageGrid(imgs, s.C, s.H, s.W, 16, 2)
	check(err)
	png, err := plots.EncodePNG(img)
	check(err)
	nbutil.Markdown(fmt.Sprintf("**%s** (%s)", title, s.Source))
	nbutil.PNG(png)
}
show("in-distribution, training", d.Train)
for _, name := range d.OODNames {
	show(name, d.OODTest[name])
}
"""))
    cells.append(md(f"""
## Table 1 and Figure 2: cross entropy vs confidence loss

Two VGG-13 classifiers: one with cross entropy only, one with the confidence loss (eq. 1),
$E_{{in}}[-\\log P_\\theta(y|x)] + \\beta E_{{out}}[KL(\\mathcal U(y)\\,\\|\\,P_\\theta(y|x))]$, with {seenname}'s training
images as the OOD samples. The baseline detector thresholds the maximum softmax value. Cells read
"cross entropy / confidence loss".
"""))
    cells.append(code(f"""
%%
cfg, d, out := setup()
r := train(cfg, d, out, experiment.CrossEntropy, experiment.ConfSeen)
showMD(r.DetectionTable("Table 1", d.Name, cfg.Model, []experiment.Regime{{experiment.CrossEntropy, experiment.ConfSeen}}, report.Baseline, false))
showPNG(r.Figure2(d.Name, cfg.Model))
"""))
    cells.append(md(f"""
**What to see.** On the *seen* set ({seenname}) the confidence loss pushes the OOD softmax towards uniform (its
histogram moves to the left, to 1/K = 0.1), so detection becomes near perfect, while classification accuracy stays.
The paper's point is what happens on the *unseen* sets: the explicit OOD set helps only where it resembles them —
which motivates generating the OOD samples instead (next cell).
"""))
    cells.append(md("""
## Table 2 and Figure 4: four ways of training, on the unseen OOD sets

Added here: the confidence loss on samples of an **original GAN** pre-trained on the in-distribution images, and the
**joint confidence loss**: a DCGAN whose generator minimises $\\log(1-D(G(z))) + \\beta KL(\\mathcal U\\|P_\\theta(y|G(z)))$
(eq. 3) is trained with the classifier, one step each per iteration (Algorithm 1), so that its samples lie on the
boundary of the in-distribution. Cells read "cross entropy / seen set / original GAN / joint".
"""))
    cells.append(code("""
%%
cfg, d, out := setup()
r := train(cfg, d, out, experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint)
showMD(r.DetectionTable("Table 2", d.Name, cfg.Model, []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, report.Baseline, true))
showPNG(r.Figure4(d.Name, cfg.Model))
for _, g := range []experiment.Regime{experiment.ConfGAN, experiment.Joint} {
	if x := r.PickOverall(d.Name, cfg.Model, g); x != nil && x.Samples != "" {
		png, err := os.ReadFile(out + "/runs/" + x.Key + "/" + x.Samples)
		check(err)
		nbutil.Markdown("**Generator samples: " + g.Title() + "**")
		nbutil.PNG(png)
	}
}
"""))
    cells.append(md("""
**What to see.** In the paper the joint confidence loss is the best on the unseen sets, without losing accuracy: its
generator's samples surround the in-distribution instead of imitating one other data set. The samples of the
original GAN look like the training images; those of the joint training are off the data, on its boundary.
"""))
    cells.append(md("""
## Table 3: calibration

Expected calibration error (M = 20 bins) of the max-softmax confidence on the test images, for cross entropy and the
joint confidence loss, without and with temperature scaling (Guo et al. 2017; the temperature is fitted by NLL on
held-out in-distribution images, the calibration split).
"""))
    cells.append(code("""
%%
cfg, _, out := setup()
r, err := report.Load(out)
check(err)
nbutil.Markdown(r.CalibrationTable(cfg.Model))
"""))
    cells.append(md("""
## Figure 5: guided gradient maps

For each model, one row per set (in-distribution test images, then each OOD set): every image followed by the
guided-backprop map of its top-1 class (mid-grey = zero gradient, one scale per panel). The paper observes that a
classifier trained with the confidence loss has almost zero gradients on OOD images — it "ignores" them. The numbers
under each panel are the mean |gradient| per set.
"""))
    cells.append(code("""
%%
cfg, d, out := setup()
r, err := report.Load(out)
check(err)
for _, g := range r.Figure5(out, d.Name, cfg.Model) {
	png, err := os.ReadFile(g.Path)
	check(err)
	nbutil.Markdown("**" + g.Title + "**")
	nbutil.PNG(png)
}
for _, reg := range []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.Joint} {
	if x := r.PickOverall(d.Name, cfg.Model, reg); x != nil {
		s := fmt.Sprintf("%s — mean |guided gradient|: in %.3g", reg.Title(), x.GuidedMeanAbs["in"])
		for _, n := range x.OODNames {
			s += fmt.Sprintf(", %s %.3g", n, x.GuidedMeanAbs[n])
		}
		nbutil.Markdown(s)
	}
}
"""))
    cells.append(md("""
## Figure 7: ODIN vs the baseline detector

ODIN (Liang et al. 2018) divides the logits by a temperature T and moves the input by ε against the gradient of the
top softmax score; T ∈ {1, 10, 100, 500, 1000} and ε ∈ {0, 0.0001, 0.001, 0.01} are chosen per OOD set on its
validation images (App. C.3). The paper finds the confidence-loss models gain from ODIN too.
"""))
    cells.append(code("""
%%
cfg, d, out := setup()
r, err := report.Load(out)
check(err)
showMD(r.DetectionTable("Figure 7 (ODIN)", d.Name, cfg.Model, []experiment.Regime{experiment.CrossEntropy, experiment.ConfSeen, experiment.ConfGAN, experiment.Joint}, report.ODIN, false))
showPNG(r.Figure7(d.Name, cfg.Model))
"""))
    cells.append(md(f"""
## Full-setting results, when present

A full run (`go run ./cmd/confcal {spec} -set "preset=paper"` on a GPU, or its App. B sweep with
`-sweep -shard i/n` over several machines) writes to `out/{spec}-paper/`. This cell shows its tables and figures when
that folder exists — nothing is retrained here.
"""))
    cells.append(code(f"""
%%
dir := nbutil.OutDir("{spec}-paper")
r, err := report.Load(dir)
if err != nil || r.Only("paper").Len() == 0 {{
	nbutil.Markdown("No full-setting results in " + dir + " yet.")
	return
}}
r = r.Only("paper")
showMD(r.Markdown())
for _, m := range r.Models("{spec}") {{
	showPNG(r.Figure2("{spec}", m))
	showPNG(r.Figure4("{spec}", m))
	showPNG(r.Figure7("{spec}", m))
}}
"""))
    for i, c in enumerate(cells):
        # As in toy2d.ipynb: sources as lists of lines, fixed cell ids (Jupyter adds random ones to cells
        # without an id when it saves them).
        c["source"] = c["source"].splitlines(keepends=True)
        c["id"] = f"cell-{i:02d}"
    nb = {"cells": cells, "metadata": kernel_metadata(), "nbformat": 4, "nbformat_minor": 5}
    return nb

def kernel_metadata():
    """The metadata of notebooks/toy2d.ipynb: what the GoNB kernel reports (kernelspec, language_info), which
    Jupyter compares with the file's when it opens a notebook. `go run ./cmd/nbexec -metadata notebooks/*.ipynb`
    writes it from the kernel and TestNotebookMetadata checks it."""
    with open(os.path.join(here, "..", "notebooks", "toy2d.ipynb")) as f:
        md = json.load(f)["metadata"]
    return {k: md[k] for k in ("kernelspec", "language_info")}

for spec, title, inname, other in [("cifar10", "CIFAR-10", "CIFAR-10", "SVHN"), ("svhn", "SVHN", "SVHN", "CIFAR-10")]:
    nb = notebook(spec, title, inname, other, other)
    with open(os.path.join(here, "..", "notebooks", f"{spec}.ipynb"), "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
print("ok")
