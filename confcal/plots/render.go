package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/confcal/confcal/internal/atomicfile"
)

// dpi is the resolution of rendered plots: a 6x4.5 inch plot (vg.Inch units) is 576x432 pixels.
const dpi = 96

// maxPixels bounds the size of any image this package creates.
const maxPixels = 1 << 27

// ImageGap is the width in pixels of the white gap between the tiles of an ImageGrid.
const ImageGap = 2

// ImageGrid tiles images into a grid of cols columns (fewer if there are fewer images) and as many rows as
// needed, in row-major order, separated by ImageGap white pixels (no outer border). Each image is
// channels x height x width (CHW layout, channels 1 or 3) with values in [0,1] (clipped), and each of its pixels
// becomes a scale x scale block. The result is an *image.Gray for one channel and an *image.RGBA for three.
// Used for grids of GAN samples (Figure 3(c)(d)).
func ImageGrid(images [][]float32, channels, height, width, cols, scale int) (image.Image, error) {
	if len(images) == 0 {
		return nil, errors.New("plots: image grid has no images")
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("plots: image grid channels is %d, want 1 or 3", channels)
	}
	if height < 1 || width < 1 || cols < 1 || scale < 1 {
		return nil, fmt.Errorf("plots: image grid needs positive height, width, cols and scale, got %d, %d, %d, %d", height, width, cols, scale)
	}
	cols = min(cols, len(images))
	rows := (len(images) + cols - 1) / cols
	tw, th := int64(width)*int64(scale), int64(height)*int64(scale)
	W := int64(cols)*tw + int64(cols-1)*ImageGap
	H := int64(rows)*th + int64(rows-1)*ImageGap
	if tw > maxPixels || th > maxPixels || W*H > maxPixels {
		return nil, fmt.Errorf("plots: image grid would be %dx%d pixels, more than %d", W, H, maxPixels)
	}
	size := channels * height * width
	for i, img := range images {
		if len(img) != size {
			return nil, fmt.Errorf("plots: image %d has %d values, want channels*height*width=%d*%d*%d=%d", i, len(img), channels, height, width, size)
		}
		for j, v := range img {
			if math.IsNaN(float64(v)) {
				return nil, fmt.Errorf("plots: image %d value %d is NaN", i, j)
			}
		}
	}
	rect := image.Rect(0, 0, int(W), int(H))
	var out image.Image
	var gray *image.Gray
	var rgba *image.RGBA
	if channels == 1 {
		gray = image.NewGray(rect)
		for i := range gray.Pix {
			gray.Pix[i] = 0xff
		}
		out = gray
	} else {
		rgba = image.NewRGBA(rect)
		for i := range rgba.Pix {
			rgba.Pix[i] = 0xff
		}
		out = rgba
	}
	plane := height * width
	for i, img := range images {
		x0 := (i % cols) * (int(tw) + ImageGap)
		y0 := (i / cols) * (int(th) + ImageGap)
		for y := range height {
			for x := range width {
				k := y*width + x
				for dy := range scale {
					py := y0 + y*scale + dy
					for dx := range scale {
						px := x0 + x*scale + dx
						if gray != nil {
							gray.Pix[gray.PixOffset(px, py)] = toByte(img[k])
						} else {
							o := rgba.PixOffset(px, py)
							rgba.Pix[o] = toByte(img[k])
							rgba.Pix[o+1] = toByte(img[plane+k])
							rgba.Pix[o+2] = toByte(img[2*plane+k])
						}
					}
				}
			}
		}
	}
	return out, nil
}

func toByte(v float32) uint8 {
	return uint8(math.Round(255 * math.Min(math.Max(float64(v), 0), 1)))
}

// checkSize validates a plot size and returns it in pixels.
func checkSize(what string, width, height vg.Length) error {
	w, h := float64(width)/72*dpi, float64(height)/72*dpi
	if !(w >= 1) || !(h >= 1) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return fmt.Errorf("plots: %s size %gx%g pt is not a positive finite size of at least one pixel", what, float64(width), float64(height))
	}
	if w*h > maxPixels {
		return fmt.Errorf("plots: %s size %gx%g pt would be more than %d pixels", what, float64(width), float64(height), maxPixels)
	}
	return nil
}

// PNG renders p as a width x height PNG (at 96 dots per inch; vg.Inch and vg.Centimeter convert).
func PNG(p *plot.Plot, width, height vg.Length) ([]byte, error) {
	if p == nil {
		return nil, errors.New("plots: PNG of a nil plot")
	}
	return Row(width, height, p)
}

// Row renders the plots side by side, each width x height, into one PNG whose data areas line up (plot.Align),
// e.g. Figure 3(a)(b).
func Row(width, height vg.Length, ps ...*plot.Plot) ([]byte, error) {
	return Tiles(width, height, ps)
}

// Tiles renders rows of plots, each plot width x height, into one PNG whose data areas line up
// (plot.Align), e.g. Figure 1(a)–(d) over the whole plane above the same panels zoomed in. Every row
// must have the same number of plots.
func Tiles(width, height vg.Length, rows ...[]*plot.Plot) (out []byte, err error) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return nil, errors.New("plots: no plots to render")
	}
	cols := len(rows[0])
	for r, row := range rows {
		if len(row) != cols {
			return nil, fmt.Errorf("plots: row %d has %d plots, row 0 has %d", r, len(row), cols)
		}
		for i, p := range row {
			if p == nil {
				return nil, fmt.Errorf("plots: plot %d of row %d is nil", i, r)
			}
		}
	}
	if err := checkSize("plot", width, height); err != nil {
		return nil, err
	}
	totalW, totalH := width*vg.Length(cols), height*vg.Length(len(rows))
	if err := checkSize("figure", totalW, totalH); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("plots: rendering failed: %v", r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(totalW, totalH), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(c)
	if len(rows) == 1 && cols == 1 {
		rows[0][0].Draw(dc)
	} else {
		tiles := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Points(6), PadY: vg.Points(6)}
		canvases := plot.Align(rows, tiles, dc)
		for r, row := range rows {
			for i, p := range row {
				p.Draw(canvases[r][i])
			}
		}
	}
	return EncodePNG(c.Image())
}

// EncodePNG encodes img as PNG.
func EncodePNG(img image.Image) ([]byte, error) {
	if img == nil {
		return nil, errors.New("plots: encoding a nil image")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// SavePNG writes the PNG bytes to path atomically (a temporary file renamed into place), creating the parent
// directory if needed. It refuses data that does not start with the PNG signature.
func SavePNG(path string, png []byte) error {
	if !bytes.HasPrefix(png, pngSignature) {
		return fmt.Errorf("plots: refusing to save %d bytes that are not a PNG to %s", len(png), path)
	}
	return atomicfile.WriteFile(path, png, 0o644)
}
