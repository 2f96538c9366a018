package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// convCase is a 2-D convolution: sizes, parameters and the axis layout.
type convCase struct {
	b, cin, cout, h, w, kh, kw int
	st, lo, hi, dil, kdil      [2]int
	layout                     string // "NCHW" (kernel OIHW), "NHWC" (kernel HWIO) or "CNHW" (kernel IOHW, output CNHW)
}

// axesOf returns the ConvolveAxesConfig and the input, kernel and output dimensions of c.
func (c convCase) axesOf() (ax backends.ConvolveAxesConfig, xd, wd []int) {
	switch c.layout {
	case "NHWC":
		ax = backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 3, InputSpatial: []int{1, 2},
			KernelInputChannels: 2, KernelOutputChannels: 3, KernelSpatial: []int{0, 1},
			OutputBatch: 0, OutputChannels: 3, OutputSpatial: []int{1, 2}}
		return ax, []int{c.b, c.h, c.w, c.cin}, []int{c.kh, c.kw, c.cin, c.cout}
	case "CNHW":
		ax = backends.ConvolveAxesConfig{InputBatch: 1, InputChannels: 0, InputSpatial: []int{2, 3},
			KernelInputChannels: 0, KernelOutputChannels: 1, KernelSpatial: []int{2, 3},
			OutputBatch: 1, OutputChannels: 0, OutputSpatial: []int{2, 3}}
		return ax, []int{c.cin, c.b, c.h, c.w}, []int{c.cin, c.cout, c.kh, c.kw}
	}
	ax = backends.ConvolveAxesConfig{InputBatch: 0, InputChannels: 1, InputSpatial: []int{2, 3},
		KernelInputChannels: 1, KernelOutputChannels: 0, KernelSpatial: []int{2, 3},
		OutputBatch: 0, OutputChannels: 1, OutputSpatial: []int{2, 3}}
	return ax, []int{c.b, c.cin, c.h, c.w}, []int{c.cout, c.cin, c.kh, c.kw}
}

// referenceConv computes ConvGeneral by its definition, in float64: out[b, co, o] = Σ x[b, ci, i]
// w[ci, co, k] over the i with i·dil = o·st − lo + k·kdil.
func referenceConv(c convCase, x, w []float32) (out []float64, od []int) {
	ax, xd, wd := c.axesOf()
	size := func(j, s, k int) int {
		return ((s-1)*c.dil[j]+1+c.lo[j]+c.hi[j]-(k-1)*c.kdil[j]-1)/c.st[j] + 1
	}
	oh, ow := size(0, c.h, c.kh), size(1, c.w, c.kw)
	od = make([]int, 4)
	od[ax.OutputBatch], od[ax.OutputChannels], od[ax.OutputSpatial[0]], od[ax.OutputSpatial[1]] = c.b, c.cout, oh, ow
	at := func(dims []int, idx map[int]int) int {
		off := 0
		for a, d := range dims {
			off = off*d + idx[a]
		}
		return off
	}
	out = make([]float64, c.b*c.cout*oh*ow)
	for bi := range c.b {
		for co := range c.cout {
			for oy := range oh {
				for ox := range ow {
					var sum float64
					for ci := range c.cin {
						for ky := range c.kh {
							for kx := range c.kw {
								qy := oy*c.st[0] - c.lo[0] + ky*c.kdil[0]
								qx := ox*c.st[1] - c.lo[1] + kx*c.kdil[1]
								if qy < 0 || qx < 0 || qy%c.dil[0] != 0 || qx%c.dil[1] != 0 || qy/c.dil[0] >= c.h || qx/c.dil[1] >= c.w {
									continue
								}
								xi := at(xd, map[int]int{ax.InputBatch: bi, ax.InputChannels: ci, ax.InputSpatial[0]: qy / c.dil[0], ax.InputSpatial[1]: qx / c.dil[1]})
								wi := at(wd, map[int]int{ax.KernelInputChannels: ci, ax.KernelOutputChannels: co, ax.KernelSpatial[0]: ky, ax.KernelSpatial[1]: kx})
								sum += float64(x[xi]) * float64(w[wi])
							}
						}
					}
					out[at(od, map[int]int{ax.OutputBatch: bi, ax.OutputChannels: co, ax.OutputSpatial[0]: oy, ax.OutputSpatial[1]: ox})] = sum
				}
			}
		}
	}
	return out, od
}

// TestCPUConvGeneral checks the cpu backend's ConvGeneral against the definition and against plain
// simplego, over layouts, kernels 1–5 (odd and even, non-square), strides, paddings (negative ones
// crop), kernel and input dilations, batch sizes 1 and 3 and H ≠ W, and that the fast path ran.
func TestCPUConvGeneral(t *testing.T) {
	cpu, plain := cpuAndPlain(t)
	rng := rand.New(rand.NewPCG(7, 8))
	values := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	var cases []convCase
	for _, layout := range []string{"NCHW", "NHWC", "CNHW"} {
		for k := 1; k <= 5; k++ {
			for st := 1; st <= 3; st++ {
				for p := 0; p <= 2; p++ {
					b := 1 + 2*((k+st+p)%2)
					cases = append(cases,
						convCase{b: b, cin: 3, cout: 4, h: 9, w: 7, kh: k, kw: k, st: [2]int{st, st}, lo: [2]int{p, p}, hi: [2]int{p, p}, dil: [2]int{1, 1}, kdil: [2]int{1 + p%2, 1 + p%2}, layout: layout},
						convCase{b: b, cin: 2, cout: 3, h: 6, w: 5, kh: k, kw: k, st: [2]int{st, st}, lo: [2]int{p, p}, hi: [2]int{p, p}, dil: [2]int{2, 2}, kdil: [2]int{1, 1}, layout: layout})
				}
			}
		}
		cases = append(cases,
			convCase{b: 3, cin: 2, cout: 2, h: 8, w: 6, kh: 4, kw: 2, st: [2]int{2, 1}, lo: [2]int{1, 0}, hi: [2]int{2, 1}, dil: [2]int{1, 3}, kdil: [2]int{2, 1}, layout: layout},
			convCase{b: 2, cin: 3, cout: 2, h: 7, w: 9, kh: 2, kw: 3, st: [2]int{1, 2}, lo: [2]int{-1, 1}, hi: [2]int{0, -1}, dil: [2]int{1, 1}, kdil: [2]int{1, 2}, layout: layout},
			convCase{b: 2, cin: 3, cout: 2, h: 7, w: 9, kh: 2, kw: 3, st: [2]int{1, 1}, lo: [2]int{-1, 2}, hi: [2]int{1, -2}, dil: [2]int{2, 3}, kdil: [2]int{1, 2}, layout: layout},
			// At least 64 output pixels per image (NCHW: one product per image).
			convCase{b: 3, cin: 5, cout: 4, h: 12, w: 10, kh: 3, kw: 3, st: [2]int{1, 1}, lo: [2]int{1, 1}, hi: [2]int{1, 1}, dil: [2]int{1, 1}, kdil: [2]int{1, 1}, layout: layout},
			convCase{b: 1, cin: 2, cout: 3, h: 17, w: 11, kh: 4, kw: 2, st: [2]int{1, 1}, lo: [2]int{0, 0}, hi: [2]int{0, 0}, dil: [2]int{1, 1}, kdil: [2]int{1, 1}, layout: layout},
			// Wider channels.
			convCase{b: 2, cin: 64, cout: 5, h: 5, w: 4, kh: 3, kw: 3, st: [2]int{1, 1}, lo: [2]int{1, 1}, hi: [2]int{1, 1}, dil: [2]int{1, 1}, kdil: [2]int{1, 1}, layout: layout},
			convCase{b: 3, cin: 70, cout: 4, h: 4, w: 3, kh: 2, kw: 3, st: [2]int{1, 1}, lo: [2]int{1, 2}, hi: [2]int{0, 1}, dil: [2]int{2, 1}, kdil: [2]int{1, 1}, layout: layout},
			convCase{b: 2, cin: 64, cout: 3, h: 9, w: 8, kh: 2, kw: 2, st: [2]int{1, 1}, lo: [2]int{0, 0}, hi: [2]int{0, 0}, dil: [2]int{1, 1}, kdil: [2]int{1, 1}, layout: layout})
	}
	for _, c := range cases {
		ax, xd, wd := c.axesOf()
		if ((c.h-1)*c.dil[0]+1+c.lo[0]+c.hi[0]-(c.kh-1)*c.kdil[0]-1) < 0 || ((c.w-1)*c.dil[1]+1+c.lo[1]+c.hi[1]-(c.kw-1)*c.kdil[1]-1) < 0 {
			continue // the kernel does not fit
		}
		name := fmt.Sprintf("%+v", c)
		x, w := values(prod(xd)), values(prod(wd))
		f := func(xn, wn *Node) *Node {
			return ConvGeneral(xn, wn, ax, c.st[:], [][2]int{{c.lo[0], c.hi[0]}, {c.lo[1], c.hi[1]}}, c.dil[:], c.kdil[:], 1, 1)
		}
		want, od := referenceConv(c, x, w)
		fast0, _ := CPUOpCounts(backends.OpTypeConvGeneral)
		got := MustExecOnce(cpu, f, tensors.FromFlatDataAndDimensions(x, xd...), tensors.FromFlatDataAndDimensions(w, wd...))
		if fast1, _ := CPUOpCounts(backends.OpTypeConvGeneral); fast1 != fast0+1 {
			t.Errorf("%s: the fast ConvGeneral did not run", name)
		}
		if fmt.Sprint(got.Shape().Dimensions) != fmt.Sprint(od) {
			t.Fatalf("%s: output %s, expected dimensions %v", name, got.Shape(), od)
		}
		simple := MustExecOnce(plain, f, tensors.FromFlatDataAndDimensions(x, xd...), tensors.FromFlatDataAndDimensions(w, wd...))
		gf, sf := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](simple)
		for i, r := range want {
			if math.Abs(float64(gf[i])-r) > 1e-4*(1+math.Abs(r)) {
				t.Fatalf("%s: cpu [%d] = %g, definition %g", name, i, gf[i], r)
			}
			if math.Abs(float64(sf[i])-r) > 1e-4*(1+math.Abs(r)) {
				t.Fatalf("%s: simplego [%d] = %g, definition %g", name, i, sf[i], r)
			}
		}
	}
}

// TestCPUConvReversedKernel checks convolutions whose kernel is a Reverse along its spatial axes
// (the cpu backend reads the kernel taps in reverse instead of reversing): against the definition
// with the kernel reversed by hand, through the fast path and, with channel groups, through
// simplego's executor on a reversed copy.
func TestCPUConvReversedKernel(t *testing.T) {
	cpu, _ := cpuAndPlain(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []convCase{
		{b: 2, cin: 3, cout: 4, h: 7, w: 6, kh: 3, kw: 2, st: [2]int{1, 2}, lo: [2]int{2, 1}, hi: [2]int{1, 1}, dil: [2]int{1, 1}, kdil: [2]int{1, 2}, layout: "NCHW"},
		{b: 1, cin: 2, cout: 3, h: 5, w: 4, kh: 4, kw: 4, st: [2]int{1, 1}, lo: [2]int{2, 2}, hi: [2]int{2, 2}, dil: [2]int{2, 2}, kdil: [2]int{1, 1}, layout: "NHWC"},
		{b: 3, cin: 2, cout: 2, h: 6, w: 6, kh: 2, kw: 3, st: [2]int{2, 1}, lo: [2]int{0, 1}, hi: [2]int{1, 0}, dil: [2]int{1, 2}, kdil: [2]int{1, 1}, layout: "CNHW"},
	} {
		ax, xd, wd := c.axesOf()
		x := make([]float32, prod(xd))
		w := make([]float32, prod(wd))
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		// w reversed by hand along the kernel's spatial axes.
		wr := make([]float32, len(w))
		str := []int{wd[1] * wd[2] * wd[3], wd[2] * wd[3], wd[3], 1}
		for i := range w {
			idx := []int{i / str[0], i / str[1] % wd[1], i / str[2] % wd[2], i % wd[3]}
			for _, a := range ax.KernelSpatial {
				idx[a] = wd[a] - 1 - idx[a]
			}
			wr[idx[0]*str[0]+idx[1]*str[1]+idx[2]*str[2]+idx[3]] = w[i]
		}
		want, _ := referenceConv(c, x, wr)
		pads := [][2]int{{c.lo[0], c.hi[0]}, {c.lo[1], c.hi[1]}}
		got := MustExecOnce(cpu, func(xn, wn *Node) *Node {
			return ConvGeneral(xn, Reverse(wn, ax.KernelSpatial...), ax, c.st[:], pads, c.dil[:], c.kdil[:], 1, 1)
		}, tensors.FromFlatDataAndDimensions(x, xd...), tensors.FromFlatDataAndDimensions(w, wd...))
		for i, v := range tensors.MustCopyFlatData[float32](got) {
			if math.Abs(float64(v)-want[i]) > 1e-4*(1+math.Abs(want[i])) {
				t.Fatalf("%+v: [%d] = %g, want %g", c, i, v, want[i])
			}
		}
	}
	// Channel groups (2 groups of 2 input channels, kernel [Cout=4, 2, 3, 3]): simplego's executor
	// on the reversed kernel; compared with the two halves convolved separately.
	x := make([]float32, 1*4*5*5)
	w := make([]float32, 4*2*3*3)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	ax, _, _ := (convCase{layout: "NCHW"}).axesOf()
	outs := MustExecOnceN(cpu, func(xn, wn *Node) []*Node {
		wr := Reverse(wn, 2, 3)
		grouped := ConvGeneral(xn, wr, ax, []int{1, 1}, nil, nil, []int{1, 1}, 2, 1)
		half := func(i int) *Node {
			xi := Slice(xn, AxisRange(), AxisRange(2*i, 2*i+2))
			wi := Slice(wn, AxisRange(2*i, 2*i+2))
			return ConvGeneral(xi, Reverse(wi, 2, 3), ax, []int{1, 1}, nil, nil, nil, 1, 1)
		}
		return []*Node{grouped, Concatenate([]*Node{half(0), half(1)}, 1)}
	}, tensors.FromFlatDataAndDimensions(x, 1, 4, 5, 5), tensors.FromFlatDataAndDimensions(w, 4, 2, 3, 3))
	g, h := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
	for i := range h {
		if math.Abs(float64(g[i]-h[i])) > 1e-4*(1+math.Abs(float64(h[i]))) {
			t.Fatalf("grouped [%d] = %g, per group %g", i, g[i], h[i])
		}
	}
}
