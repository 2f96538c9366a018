package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// refConv2D is PyTorch's conv2d written as nested loops: x [B, Cin, H, W], w [Cout, Cin, k, k].
func refConv2D(x, w arr, s, p, d int) arr {
	bs, cin, h, wi := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	cout, k := w.dims[0], w.dims[2]
	ho := (h+2*p-d*(k-1)-1)/s + 1
	wo := (wi+2*p-d*(k-1)-1)/s + 1
	out := newArr(bs, cout, ho, wo)
	for b := 0; b < bs; b++ {
		for o := 0; o < cout; o++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					sum := 0.0
					for c := 0; c < cin; c++ {
						for ki := 0; ki < k; ki++ {
							for kj := 0; kj < k; kj++ {
								iy, ix := oy*s-p+ki*d, ox*s-p+kj*d
								if iy < 0 || iy >= h || ix < 0 || ix >= wi {
									continue
								}
								sum += x.data[x.at4(b, c, iy, ix)] * w.data[w.at4(o, c, ki, kj)]
							}
						}
					}
					out.data[out.at4(b, o, oy, ox)] = sum
				}
			}
		}
	}
	return out
}

// convCase is one convolution configuration: x [B, Cin, H, W], w [Cout, Cin, K, K].
type convCase struct {
	B, Cin, H, W, Cout, K, S, P, D int
}

func (c convCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_w%dx%dx%dx%d_s%d_p%d_d%d", c.B, c.Cin, c.H, c.W, c.Cout, c.Cin, c.K, c.K, c.S, c.P, c.D)
}

func (c convCase) conv(in []*Node) *Node { return Conv2DOp(in[0], in[1], c.S, c.P, c.D) }

var convForwardCases = []convCase{
	{B: 1, Cin: 1, H: 5, W: 7, Cout: 2, K: 3, S: 1, P: 0, D: 1},
	{B: 3, Cin: 3, H: 6, W: 9, Cout: 4, K: 3, S: 2, P: 1, D: 1},
	{B: 2, Cin: 3, H: 9, W: 7, Cout: 2, K: 5, S: 1, P: 2, D: 1},
	{B: 3, Cin: 1, H: 10, W: 8, Cout: 3, K: 3, S: 1, P: 1, D: 2},
	{B: 1, Cin: 3, H: 8, W: 11, Cout: 5, K: 4, S: 2, P: 1, D: 1},
	{B: 2, Cin: 3, H: 7, W: 5, Cout: 2, K: 1, S: 1, P: 0, D: 1}, // 1x1: no gather at all
	{B: 2, Cin: 3, H: 7, W: 6, Cout: 2, K: 1, S: 2, P: 0, D: 1},
	{B: 1, Cin: 2, H: 4, W: 5, Cout: 3, K: 1, S: 1, P: 1, D: 1}, // 1x1 with a zero border
	{B: 3, Cin: 2, H: 9, W: 10, Cout: 3, K: 3, S: 2, P: 2, D: 2},
	{B: 1, Cin: 3, H: 4, W: 6, Cout: 2, K: 4, S: 1, P: 0, D: 1}, // kernel as tall as the image
	{B: 2, Cin: 1, H: 8, W: 9, Cout: 1, K: 5, S: 2, P: 0, D: 1}, // stride leaves the last column unread
	{B: 1, Cin: 3, H: 5, W: 5, Cout: 2, K: 3, S: 3, P: 2, D: 1}, // stride larger than the kernel
	{B: 2, Cin: 3, H: 7, W: 8, Cout: 4, K: 5, S: 1, P: 2, D: 2},
}

func TestConv2DOpForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range convForwardCases {
		t.Run(c.String(), func(t *testing.T) {
			x := randArr(rng, c.B, c.Cin, c.H, c.W)
			w := randArr(rng, c.Cout, c.Cin, c.K, c.K)
			got := evalOp(t, c.conv, x, w)
			assertClose(t, "Conv2DOp", got, refConv2D(x, w, c.S, c.P, c.D), 1e-12)
		})
	}
}

// TestConv2DOpFloat32 checks the float32 path (the dtype of the models) and compares with GoMLX's own
// ConvGeneral on the same backend.
func TestConv2DOpFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := convCase{B: 2, Cin: 3, H: 9, W: 8, Cout: 4, K: 3, S: 2, P: 1, D: 1}
	x := randArr(rng, c.B, c.Cin, c.H, c.W)
	w := randArr(rng, c.Cout, c.Cin, c.K, c.K)
	want := refConv2D(x, w, c.S, c.P, c.D)
	outs := MustNewExec(testBackend(t), func(x, w *Node) (*Node, *Node) {
		x32, w32 := ConvertDType(x, dtypes.Float32), ConvertDType(w, dtypes.Float32)
		ours := Conv2DOp(x32, w32, c.S, c.P, c.D)
		theirs := Convolve(x32, w32).ChannelsAxis(timage.ChannelsFirst).
			Strides(c.S).PaddingPerDim([][2]int{{c.P, c.P}, {c.P, c.P}}).Done()
		return ConvertDType(ours, dtypes.Float64), ConvertDType(theirs, dtypes.Float64)
	}).MustExec(x.tensor(), w.tensor())
	assertClose(t, "Conv2DOp float32", fromTensor(outs[0]), want, 1e-5)
	assertClose(t, "ConvGeneral float32", fromTensor(outs[1]), want, 1e-5)
}

var convGradCases = []convCase{
	{B: 1, Cin: 1, H: 5, W: 6, Cout: 2, K: 3, S: 1, P: 0, D: 1},
	{B: 2, Cin: 3, H: 6, W: 5, Cout: 2, K: 3, S: 2, P: 1, D: 1},
	{B: 1, Cin: 2, H: 7, W: 6, Cout: 2, K: 3, S: 1, P: 2, D: 2},
	{B: 2, Cin: 3, H: 6, W: 7, Cout: 2, K: 4, S: 2, P: 1, D: 1},
	{B: 3, Cin: 1, H: 5, W: 4, Cout: 2, K: 1, S: 1, P: 0, D: 1},
	{B: 1, Cin: 2, H: 7, W: 7, Cout: 1, K: 5, S: 1, P: 2, D: 1},
}

// TestConv2DOpGradient checks dL/dx and dL/dw against central differences (exact up to rounding: L is
// bilinear) and that forward and gradient use only supported ops.
func TestConv2DOpGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range convGradCases {
		t.Run(c.String(), func(t *testing.T) {
			x := randArr(rng, c.B, c.Cin, c.H, c.W)
			w := randArr(rng, c.Cout, c.Cin, c.K, c.K)
			ops := checkGradients(t, rng, c.conv, 1e-3, 1e-8, x, w)
			t.Logf("ops: %s", ops)
		})
	}
}

// TestConvUnsupportedOps builds forward+gradient graphs of both ops and both layers (float32, as
// the models) and requires every op in them to be supported by the project's backend; it also
// checks that UnsupportedOps does report ops a backend lacks.
func TestConvUnsupportedOps(t *testing.T) {
	b := testBackend(t)
	graphs := map[string]func(g *Graph) []*Node{
		"Conv2DOp": func(g *Graph) []*Node {
			x := Parameter(g, "x", shapes.Make(dtypes.Float32, 2, 3, 9, 8))
			w := Parameter(g, "w", shapes.Make(dtypes.Float32, 4, 3, 3, 3))
			return Gradient(ReduceAllSum(Conv2DOp(x, w, 2, 1, 1)), x, w)
		},
		"ConvTranspose2DOp": func(g *Graph) []*Node {
			x := Parameter(g, "x", shapes.Make(dtypes.Float32, 2, 3, 5, 4))
			w := Parameter(g, "w", shapes.Make(dtypes.Float32, 3, 4, 4, 4))
			return Gradient(ReduceAllSum(ConvTranspose2DOp(x, w, 2, 1)), x, w)
		},
	}
	for name, build := range graphs {
		g := NewGraph(b, name)
		build(g)
		if bad := UnsupportedOps(g, b); len(bad) > 0 {
			t.Errorf("%s forward+gradient uses unsupported ops %v (all ops: %s)", name, bad, opNames(g))
		}
		t.Logf("%s forward+gradient ops: %s", name, opNames(g))
		if bad := UnsupportedOps(g, withoutOps(b, backends.OpTypeConvGeneral, backends.OpTypeReverse)); fmt.Sprint(bad) != "[ConvGeneral Reverse]" {
			t.Errorf("%s: UnsupportedOps with ConvGeneral and Reverse removed = %v", name, bad)
		}
		g.Finalize()
	}

	// The layers, with the gradient with respect to their variables, built by a context.Exec.
	for _, layer := range []string{"Conv2D", "ConvTranspose2D"} {
		ctx := context.New()
		ctx.SetParam(context.ParamInitialSeed, int64(7))
		exec := context.MustNewExec(b, ctx, func(ctx *context.Context, x *Node) []*Node {
			cfg := ConvConfig{Out: 4, Kernel: 3, Stride: 2, Padding: 1}
			var y *Node
			if layer == "Conv2D" {
				y = Conv2D(ctx.In("layer"), x, cfg)
			} else {
				y = ConvTranspose2D(ctx.In("layer"), x, cfg)
			}
			loss := ReduceAllSum(Mul(y, y))
			wts := ctx.GetVariableByScopeAndName("/layer", "weights").ValueGraph(x.Graph())
			bias := ctx.GetVariableByScopeAndName("/layer", "biases").ValueGraph(x.Graph())
			return Gradient(loss, x, wts, bias)
		})
		x := tensors.FromShape(shapes.Make(dtypes.Float32, 2, 3, 6, 5))
		_, g, err := exec.ExecWithGraph(x)
		if err != nil {
			t.Fatalf("%s: %v", layer, err)
		}
		if bad := UnsupportedOps(g, b); len(bad) > 0 {
			t.Errorf("%s layer forward+gradient uses unsupported ops %v", layer, bad)
		}
		t.Logf("%s layer forward+gradient ops: %s", layer, opNames(g))
	}
}

// TestConv2DLayer checks the variables of Conv2D (shapes, PyTorch's initialisation bounds) and its
// output against the reference with those variables.
func TestConv2DLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, noBias := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBias=%v", noBias), func(t *testing.T) {
			cfg := ConvConfig{Out: 16, Kernel: 3, Padding: 1, NoBias: noBias} // Stride, Dilation: 0 -> 1
			x := randArr(rng, 2, 5, 6, 7)
			ctx := context.New()
			ctx.SetParam(context.ParamInitialSeed, int64(11))
			out := context.MustNewExec(testBackend(t), ctx, func(ctx *context.Context, x *Node) *Node {
				return Conv2D(ctx.In("conv"), x, cfg)
			}).MustExec(x.tensor())[0]
			w := checkUniformVariable(t, ctx, "/conv", "weights", []int{16, 5, 3, 3}, 1/math.Sqrt(5*3*3))
			want := refConv2D(x, w, 1, 1, 1)
			if noBias {
				if v := ctx.GetVariableByScopeAndName("/conv", "biases"); v != nil {
					t.Fatalf("NoBias: biases variable created")
				}
			} else {
				bias := checkUniformVariable(t, ctx, "/conv", "biases", []int{16}, 1/math.Sqrt(5*3*3))
				addBiasRef(want, bias)
			}
			assertClose(t, "Conv2D", fromTensor(out), want, 1e-12)
		})
	}
}

// addBiasRef adds bias[c] to every y[b, c, :, :].
func addBiasRef(y, bias arr) {
	hw := y.dims[2] * y.dims[3]
	for i := range y.data {
		y.data[i] += bias.data[(i/hw)%y.dims[1]]
	}
}

// checkUniformVariable checks that the variable scope/name exists with the given dimensions, its
// values within ±bound and spread over it (for a uniform draw, the largest |value| of n values
// is above bound·(1 - 5/n) with probability > 99%), and returns its value.
func checkUniformVariable(t *testing.T, ctx *context.Context, scope, name string, dims []int, bound float64) arr {
	t.Helper()
	v := ctx.GetVariableByScopeAndName(scope, name)
	if v == nil {
		t.Fatalf("variable %s/%s not created", scope, name)
	}
	a := fromTensor(v.MustValue())
	if fmt.Sprint(a.dims) != fmt.Sprint(dims) {
		t.Fatalf("variable %s/%s has dims %v, want %v", scope, name, a.dims, dims)
	}
	largest := 0.0
	for _, x := range a.data {
		largest = math.Max(largest, math.Abs(x))
	}
	if n := float64(len(a.data)); largest > bound || largest < bound*(1-5/n) {
		t.Errorf("variable %s/%s: max |value| = %.4g, want in [%.4g, %.4g] for U(±%.4g)",
			scope, name, largest, bound*(1-5/n), bound, bound)
	}
	return a
}

// TestConvShapeErrors checks that invalid shapes are rejected with errors naming them.
func TestConvShapeErrors(t *testing.T) {
	b := testBackend(t)
	cases := []struct {
		name   string
		x, w   []int
		fn     func(x, w *Node) *Node
		errHas string
	}{
		{"channels", []int{1, 3, 8, 8}, []int{4, 2, 3, 3}, func(x, w *Node) *Node { return Conv2DOp(x, w, 1, 0, 1) }, "(Float64)[1 3 8 8]"},
		{"rank", []int{3, 8, 8}, []int{4, 3, 3, 3}, func(x, w *Node) *Node { return Conv2DOp(x, w, 1, 0, 1) }, "x must be"},
		{"too small", []int{1, 3, 2, 8}, []int{4, 3, 3, 3}, func(x, w *Node) *Node { return Conv2DOp(x, w, 1, 0, 1) }, "empty output"},
		{"too small strided", []int{1, 3, 8, 2}, []int{4, 3, 3, 3}, func(x, w *Node) *Node { return Conv2DOp(x, w, 2, 0, 1) }, "empty output"},
		{"stride", []int{1, 3, 8, 8}, []int{4, 3, 3, 3}, func(x, w *Node) *Node { return Conv2DOp(x, w, 0, 0, 1) }, "stride=0"},
		{"non-square", []int{1, 3, 8, 8}, []int{4, 3, 3, 2}, func(x, w *Node) *Node { return Conv2DOp(x, w, 1, 0, 1) }, "square"},
		{"transpose channels", []int{1, 3, 4, 4}, []int{4, 3, 3, 3}, func(x, w *Node) *Node { return ConvTranspose2DOp(x, w, 1, 0) }, "[Cin, Cout, k, k]"},
		{"transpose padding", []int{1, 3, 2, 2}, []int{3, 3, 3, 3}, func(x, w *Node) *Node { return ConvTranspose2DOp(x, w, 1, 2) }, "empty output"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exec := MustNewExec(b, c.fn)
			_, err := exec.Exec(tensors.FromShape(shapes.Make(dtypes.Float64, c.x...)),
				tensors.FromShape(shapes.Make(dtypes.Float64, c.w...)))
			if err == nil {
				t.Fatalf("no error for x %v, w %v", c.x, c.w)
			}
			if msg := err.Error(); !strings.Contains(msg, c.errHas) {
				t.Fatalf("error %q does not mention %q", msg, c.errHas)
			}
		})
	}
}

// BenchmarkConv2D times, in float32 on the project's backend, the two convolutions of the MNIST
// simple CNN: our Conv2DOp forward, forward+backward (L = Σ out and its gradients with respect to
// x and w) and GoMLX's ConvGeneral forward, reporting ms/op and GFLOP/s (forward:
// 2·B·Cout·Ho·Wo·Cin·k² flops; forward+backward: 3 times that).
func BenchmarkConv2D(b *testing.B) {
	for _, c := range []convCase{
		{B: 32, Cin: 3, H: 32, W: 32, Cout: 128, K: 5, S: 1, P: 0, D: 1},
		{B: 32, Cin: 128, H: 14, W: 14, Cout: 256, K: 5, S: 1, P: 0, D: 1},
	} {
		ho, wo := convOutSize(c.H, c.K, c.S, c.P, c.D), convOutSize(c.W, c.K, c.S, c.P, c.D)
		flops := 2.0 * float64(c.B*c.Cout*ho*wo*c.Cin*c.K*c.K)
		rng := rand.New(rand.NewPCG(9, 10))
		x := toF32(randArr(rng, c.B, c.Cin, c.H, c.W))
		w := toF32(randArr(rng, c.Cout, c.Cin, c.K, c.K))
		variants := []struct {
			name  string
			flops float64
			fn    func(x, w *Node) []*Node
		}{
			{"ours_forward", flops, func(x, w *Node) []*Node {
				return []*Node{Conv2DOp(x, w, c.S, c.P, c.D)}
			}},
			{"ours_forward_backward", 3 * flops, func(x, w *Node) []*Node {
				loss := ReduceAllSum(Conv2DOp(x, w, c.S, c.P, c.D)) // an output, so the forward runs too
				return append([]*Node{loss}, Gradient(loss, x, w)...)
			}},
			{"convgeneral_forward", flops, func(x, w *Node) []*Node {
				return []*Node{Convolve(x, w).ChannelsAxis(timage.ChannelsFirst).Strides(c.S).NoPadding().Done()}
			}},
		}
		for _, v := range variants {
			b.Run(c.String()+"/"+v.name, func(b *testing.B) {
				exec := MustNewExec(testBackend(b), v.fn)
				defer exec.Finalize()
				exec.MustExec(x, w) // compile
				b.ResetTimer()
				start := time.Now()
				for b.Loop() {
					for _, out := range exec.MustExec(x, w) {
						out.FinalizeAll()
					}
				}
				sec := time.Since(start).Seconds() / float64(b.N)
				b.ReportMetric(sec*1e3, "ms/op")
				b.ReportMetric(v.flops/sec/1e9, "GFLOP/s")
			})
		}
	}
}

// toF32 returns a as a float32 tensor.
func toF32(a arr) *tensors.Tensor {
	f := make([]float32, len(a.data))
	for i, v := range a.data {
		f[i] = float32(v)
	}
	return tensors.FromFlatDataAndDimensions(f, a.dims...)
}
