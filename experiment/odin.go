package experiment

import (
	"fmt"
	"math"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/confcal/confcal/confcal/detect"
	"github.com/confcal/confcal/confcal/metrics"
	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/confcal/saliency"
	"github.com/confcal/confcal/dataset"
)

// evaluateODIN runs the ODIN detector (App. C.3, Figure 7) on every OOD set: (T, ε) chosen on the
// grid T ∈ {1,10,100,500,1000} × ε ∈ {0,1e-4,1e-3,1e-2} by the detection error between the
// calibration images and the OOD set's validation images, then the test metrics at that choice.
func evaluateODIN(b backends.Backend, cfg Config, d *Data, t *Trained) (map[string]ODINResult, error) {
	o, err := detect.NewODIN(b, t.Ctx, t.Net, evalBatch)
	if err != nil {
		return nil, err
	}
	dims := []int{d.Test.C, d.Test.H, d.Test.W}
	var grid []detect.ODINParams
	for _, T := range cfg.ODINTemperatures {
		for _, e := range cfg.ODINEpsilons {
			grid = append(grid, detect.ODINParams{T: T, Eps: e})
		}
	}
	index := map[detect.ODINParams]int{}
	for i, p := range grid {
		index[p] = i
	}
	inVal, err := o.GridScores(d.Calib.Images, grid, dims...)
	if err != nil {
		return nil, fmt.Errorf("ODIN on the calibration images: %w", err)
	}
	inTest := map[detect.ODINParams][]float64{}
	out := map[string]ODINResult{}
	for _, name := range d.OODNames {
		outVal, err := o.GridScores(d.OODVal[name].Images, grid, dims...)
		if err != nil {
			return nil, fmt.Errorf("ODIN on %s: %w", name, err)
		}
		best, _, err := detect.SelectODIN(grid, func(p detect.ODINParams) ([]float64, []float64, error) {
			return inVal[index[p]], outVal[index[p]], nil
		})
		if err != nil {
			return nil, fmt.Errorf("ODIN on %s: %w", name, err)
		}
		p := best.ODINParams
		if inTest[p] == nil {
			if inTest[p], err = o.Scores(d.Test.Images, p.T, p.Eps, dims...); err != nil {
				return nil, err
			}
		}
		os, err := o.Scores(d.OODTest[name].Images, p.T, p.Eps, dims...)
		if err != nil {
			return nil, err
		}
		rep, err := metrics.Compute(inTest[p], os)
		if err != nil {
			return nil, fmt.Errorf("ODIN on %s: %w", name, err)
		}
		out[name] = ODINResult{T: p.T, Eps: p.Eps, ValError: best.DetectionError, Report: rep}
	}
	return out, nil
}

// writeGuided saves Figure 5's panel for the run as guided.png: one row per set (in-distribution
// test images, then each OOD set), cfg.GuidedN images each, every image followed by its guided
// gradient map of the top-1 class (mid-grey = 0; one scale for the whole panel, the largest |g|).
// It returns the file name and the mean |g| per set (the paper: confidence-loss models have
// "almost zero gradients" on OOD images).
func writeGuided(b backends.Backend, cfg Config, d *Data, t *Trained) (string, map[string]float64, error) {
	m, err := saliency.New(b, t.Ctx, t.Net, evalBatch, true)
	if err != nil {
		return "", nil, err
	}
	sets := []*dataset.Set{d.Test}
	names := []string{"in"}
	for _, n := range d.OODNames {
		sets = append(sets, d.OODTest[n])
		names = append(names, n)
	}
	var images, maps [][]float32
	meanAbs := map[string]float64{}
	for k, s := range sets {
		n := min(cfg.GuidedN, s.N)
		per := s.C * s.H * s.W
		ms, _, err := m.Maps(s.Images[:n*per], s.C, s.H, s.W)
		if err != nil {
			return "", nil, err
		}
		var sum float64
		for i := range n {
			images = append(images, s.Image(i))
			maps = append(maps, ms[i])
			for _, v := range ms[i] {
				sum += math.Abs(float64(v))
			}
		}
		meanAbs[names[k]] = sum / float64(max(1, n*per))
		for i := n; i < cfg.GuidedN; i++ { // keep the rows aligned
			images = append(images, make([]float32, per))
			maps = append(maps, make([]float32, per))
		}
	}
	scale := saliency.MaxAbs(maps...)
	var tiles [][]float32
	for i := range images {
		tiles = append(tiles, images[i], saliency.Signed(maps[i], scale))
	}
	img, err := plots.ImageGrid(tiles, d.Test.C, d.Test.H, d.Test.W, 2*cfg.GuidedN, 2)
	if err != nil {
		return "", nil, err
	}
	png, err := plots.EncodePNG(img)
	if err != nil {
		return "", nil, err
	}
	if err := plots.SavePNG(filepath.Join(t.Dir, "guided.png"), png); err != nil {
		return "", nil, err
	}
	return "guided.png", meanAbs, nil
}
