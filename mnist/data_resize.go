package mnist

// Bilinear resizing of the 28×28 digits to 32×32, as the authors' code does with torchvision's
// transforms.Scale(32) (= Resize), which calls PIL's Image.resize((32, 32), BILINEAR) on the 8-bit
// image.
//
// For enlargement PIL's bilinear filter is the triangle filter with support 1 on pixel centres:
// output pixel x samples the input at u = (x+0.5)·in/out − 0.5 and mixes the two neighbouring
// pixels with weights 1−frac(u) and frac(u); at the borders, where one neighbour falls outside, PIL
// renormalises the remaining weights, which equals clamping u to [0, in−1]. That is what resize
// does, separably (rows, then columns), so it matches PIL up to PIL's arithmetic: PIL works in 8-bit
// fixed point and rounds to an integer after each of its two passes, so its result differs from
// this float32 one by at most about 1/255 per pixel (ToTensor then divides by 255). A constant image
// stays exactly constant and the total intensity scales by about (out/in)².

// resizeTaps are, for each output coordinate, the two input indices and their weights.
type resizeTaps struct {
	i0, i1 []int
	w0, w1 []float32
}

func newResizeTaps(in, out int) resizeTaps {
	t := resizeTaps{i0: make([]int, out), i1: make([]int, out), w0: make([]float32, out), w1: make([]float32, out)}
	scale := float64(in) / float64(out)
	for x := 0; x < out; x++ {
		u := (float64(x)+0.5)*scale - 0.5
		if u < 0 {
			u = 0
		}
		if u > float64(in-1) {
			u = float64(in - 1)
		}
		i0 := int(u)
		f := u - float64(i0)
		i1 := min(i0+1, in-1)
		t.i0[x], t.i1[x] = i0, i1
		t.w0[x], t.w1[x] = float32(1-f), float32(f)
	}
	return t
}

// resizer resizes inH×inW single-channel float32 images to outH×outW; tmp is scratch space, so a
// resizer must not be shared between goroutines.
type resizer struct {
	inH, inW, outH, outW int
	rows, cols           resizeTaps
	tmp                  []float32 // inH × outW
}

func newResizer(inH, inW, outH, outW int) *resizer {
	return &resizer{
		inH: inH, inW: inW, outH: outH, outW: outW,
		rows: newResizeTaps(inH, outH),
		cols: newResizeTaps(inW, outW),
		tmp:  make([]float32, inH*outW),
	}
}

// resize writes the resized src (inH×inW, row-major) to dst (outH×outW).
func (r *resizer) resize(dst, src []float32) {
	// Horizontal pass: inH rows of outW.
	for y := 0; y < r.inH; y++ {
		s := src[y*r.inW : (y+1)*r.inW]
		t := r.tmp[y*r.outW : (y+1)*r.outW]
		for x := range t {
			t[x] = r.cols.w0[x]*s[r.cols.i0[x]] + r.cols.w1[x]*s[r.cols.i1[x]]
		}
	}
	// Vertical pass.
	for y := 0; y < r.outH; y++ {
		a := r.tmp[r.rows.i0[y]*r.outW : (r.rows.i0[y]+1)*r.outW]
		b := r.tmp[r.rows.i1[y]*r.outW : (r.rows.i1[y]+1)*r.outW]
		w0, w1 := r.rows.w0[y], r.rows.w1[y]
		d := dst[y*r.outW : (y+1)*r.outW]
		for x := range d {
			d[x] = w0*a[x] + w1*b[x]
		}
	}
}
