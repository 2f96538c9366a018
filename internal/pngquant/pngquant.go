// Package pngquant re-encodes PNG images with a palette of at most 256 colours (median cut), for
// figures stored in the repository (docs/notebooks/*.html): gonum/plot's heatmaps have tens of
// thousands of colours and compress poorly; with a palette they take about a third of the bytes and
// look the same. An image with at most 256 colours keeps them exactly.
package pngquant

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sort"
)

// Shrink returns data re-encoded as a paletted PNG of at most maxColors colours (2..256), or data
// itself when that is not smaller. It fails when data is not a PNG.
func Shrink(data []byte, maxColors int) ([]byte, error) {
	if maxColors < 2 || maxColors > 256 {
		return nil, fmt.Errorf("pngquant: maxColors must be in [2, 256], got %d", maxColors)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("pngquant: %w", err)
	}
	b := img.Bounds()
	hist := map[color.NRGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			hist[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	pal := Palette(hist, maxColors)
	out := image.NewPaletted(b, pal)
	index := make(map[color.NRGBA]uint8, len(hist))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("pngquant: %w", err)
	}
	if buf.Len() >= len(data) {
		return data, nil
	}
	return buf.Bytes(), nil
}

// Palette returns at most n colours for the histogram hist (colour → pixel count) by median cut:
// starting from one box holding every colour, it splits the box with the widest channel range at the
// pixel-weighted median of that channel until there are n boxes (or none can be split), and takes
// each box's pixel-weighted mean. With at most n colours in hist it returns them exactly.
func Palette(hist map[color.NRGBA]int, n int) color.Palette {
	type entry struct {
		c [4]uint8
		n int
	}
	all := make([]entry, 0, len(hist))
	for c, k := range hist {
		all = append(all, entry{[4]uint8{c.R, c.G, c.B, c.A}, k})
	}
	// A fixed order, so that the same image gives the same palette.
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].c, all[j].c
		return a[0] < b[0] || a[0] == b[0] && (a[1] < b[1] || a[1] == b[1] && (a[2] < b[2] || a[2] == b[2] && a[3] < b[3]))
	})
	toColor := func(c [4]uint8) color.NRGBA { return color.NRGBA{R: c[0], G: c[1], B: c[2], A: c[3]} }
	if len(all) <= n {
		pal := make(color.Palette, len(all))
		for i, e := range all {
			pal[i] = toColor(e.c)
		}
		return pal
	}
	widest := func(box []entry) (channel, width int) {
		for ch := range 4 {
			lo, hi := 255, 0
			for _, e := range box {
				lo, hi = min(lo, int(e.c[ch])), max(hi, int(e.c[ch]))
			}
			if hi-lo > width {
				channel, width = ch, hi-lo
			}
		}
		return channel, width
	}
	boxes := [][]entry{all}
	for len(boxes) < n {
		best, bestCh, bestWidth := -1, 0, 0
		for i, box := range boxes {
			if len(box) < 2 {
				continue
			}
			if ch, w := widest(box); w > bestWidth {
				best, bestCh, bestWidth = i, ch, w
			}
		}
		if best < 0 {
			break
		}
		box := boxes[best]
		sort.SliceStable(box, func(i, j int) bool { return box[i].c[bestCh] < box[j].c[bestCh] })
		total := 0
		for _, e := range box {
			total += e.n
		}
		cut, acc := 1, 0
		for i, e := range box {
			if acc += e.n; 2*acc >= total {
				cut = min(max(i+1, 1), len(box)-1)
				break
			}
		}
		boxes[best] = box[:cut]
		boxes = append(boxes, box[cut:])
	}
	pal := make(color.Palette, 0, len(boxes))
	for _, box := range boxes {
		var sum [4]int
		total := 0
		for _, e := range box {
			for ch := range 4 {
				sum[ch] += int(e.c[ch]) * e.n
			}
			total += e.n
		}
		var c [4]uint8
		for ch := range 4 {
			c[ch] = uint8((sum[ch] + total/2) / total)
		}
		pal = append(pal, toColor(c))
	}
	return pal
}
