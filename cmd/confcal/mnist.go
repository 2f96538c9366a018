package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"

	"github.com/confcal/confcal/confcal/plots"
	"github.com/confcal/confcal/confcal/store"
	"github.com/confcal/confcal/experiment"
	"github.com/confcal/confcal/mnist"
)

// figure3 is the MNIST experiment's extra part: Figure 3(c)(d) after the regimes' runs.
var figure3 = &extraPart{
	name: "Figure 3(c)(d) (original vs proposed GAN)",
	run: func(b backends.Backend, cfg experiment.Config, d *experiment.Data, dir string, log io.Writer) error {
		g, err := mnist.RunFigure3(b, cfg, d, dir, log)
		if err != nil {
			return err
		}
		return showFigure3(g, dir)
	},
	report: func(dir string) error {
		g, err := store.Read[mnist.Fig3Result](filepath.Join(dir, mnist.Fig3File))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return showFigure3(g, dir)
	},
}

// showFigure3 writes Figure 3(c)(d)'s PNG and prints its summary and path.
func showFigure3(g *mnist.Fig3Result, dir string) error {
	png, err := mnist.Figure3PNG(g)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, mnist.Fig3PNGFile)
	if err := plots.SavePNG(path, png); err != nil {
		return err
	}
	fmt.Println(mnist.Figure3Summary(g))
	fmt.Printf("wrote %s and %s\n\n", filepath.Join(dir, mnist.Fig3File), path)
	return nil
}
