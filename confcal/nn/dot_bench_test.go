//go:build linux || darwin

package nn

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/confcal/confcal/confcal/backend"
)

// BenchmarkDotFormulations measures how the speed of simplego's DotGeneral (float32) depends on the
// way a matrix product is formulated, for the exact products of the benchmark models' convolutions
// (cmd/confcal bench: simplecnn and vgg13 per network application, dcgan's discriminator and
// generator; vgg13_convI is entry I of models.VGG13Config) and of their gradients. Run it with, e.g.,
//
//	go test ./confcal/nn -run '^$' -bench 'DotFormulations/vgg13_conv7' -benchtime 3x
//
// Every convolution is one product C[P,R] = X[P,Q]·Y[Q,R] three times over:
//
//	fwd: cols[M,K]·W[K,N]          (P,Q,R) = (M,K,N)
//	dA:  V[M,N]·Wᵀ[N,K]            (P,Q,R) = (M,N,K)
//	dW:  colsᵀ[K,M]·V[M,N]         (P,Q,R) = (K,M,N)
//
// with M = B·Ho·Wo (output pixels; B·H·W input pixels for a transposed convolution), K = k·k·Cin
// (Cin) and N = Cout (k·k·Cout). Each product is timed in these formulations (the inputs are fed in
// the layout each one wants, so a name like "TN" times the product alone; "+T" adds the explicit
// Transpose op our graphs would need to get that layout):
//
//	NN     Dot(X[P,Q], Y[Q,R])                            contraction: X's last axis, Y's first
//	NT     DotGeneral(X[P,Q] {1}, Yt[R,Q] {1})            contraction on the last axis of both
//	TN     DotGeneral(Xt[Q,P] {0}, Y[Q,R] {0})            contraction on the first axis of both
//	TN+T   Dot(Transpose(Xt), Y)                          what gradfix does for dW = colsᵀ·V
//	NN+T   Dot(X, Transpose(Yt))                          what gradfix does for dA = V·Wᵀ
//	NNb2   X as [2, P/2, Q] (batch axis 0) times Y broadcast to [2, Q, R]: the P rows in 2 chunks
//	NTb2   the same with Yt [2, R, Q]
//	TNkb2  Xt as [2, Q/2, P] and Y as [2, Q/2, R], batch axis 0, contraction axis 1, then
//	       ReduceSum over the 2 partial products: the contraction in 2 chunks
//	T      Transpose of X[P,Q] alone (the copy an explicit transpose costs)
//
// and the NN/NT/TN forms also with simplego's problem-size choice forced ("/small", "/large"
// suffix: backend options dotgeneral_small, dotgeneral_large), to show which of its two code paths
// each shape takes by default (large iff P·R > 16·32·32) and how fast each would be. Reported:
// ms/op, GFLOP/s = 2·P·Q·R / time (for "T", GB/s of the matrix moved instead) and cores = the
// process's CPU time (user + system, getrusage) over the wall time: about 1 for a product computed
// on one core, up to 2 on this project's 2-core machine when simplego's workers share it (read it
// on an otherwise idle machine).
func BenchmarkDotFormulations(b *testing.B) {
	for _, l := range benchConvLayers() {
		for _, p := range l.products() {
			for _, v := range dotVariants {
				if v.name == "NNb2" || v.name == "NTb2" {
					if p.P%2 != 0 {
						continue
					}
				}
				if v.name == "TNkb2" && p.Q%2 != 0 {
					continue
				}
				paths := []string{""}
				if v.name == "NN" || v.name == "NT" || v.name == "TN" {
					paths = append(paths, "small", "large")
				}
				for _, path := range paths {
					name := fmt.Sprintf("%s/%s_%dx%dx%d/%s", l.name, p.name, p.P, p.Q, p.R, v.name)
					cfg := backend.Default
					if path != "" {
						name += "/" + path
						cfg += ",dotgeneral_" + path
					}
					b.Run(name, func(b *testing.B) { benchDotVariant(b, cfg, p, v) })
				}
			}
		}
	}
}

// dotProduct is one product C[P,R] = X[P,Q]·Y[Q,R] of a convolution.
type dotProduct struct {
	name    string
	P, Q, R int
}

// benchConvLayer is one convolution of a benchmark model: (M, K, N) as in BenchmarkDotFormulations.
type benchConvLayer struct {
	name    string
	M, K, N int
}

// products returns the forward product and the two gradient products of the layer.
func (l benchConvLayer) products() []dotProduct {
	return []dotProduct{
		{"fwd", l.M, l.K, l.N},
		{"dA", l.M, l.N, l.K},
		{"dW", l.K, l.M, l.N},
	}
}

// benchConvLayers returns the convolutions of cmd/confcal bench's models with their batch sizes.
func benchConvLayers() []benchConvLayer {
	conv := func(name string, b, cin, h, cout, k, s, p int) benchConvLayer {
		o := convOutSize(h, k, s, p, 1)
		return benchConvLayer{name, b * o * o, k * k * cin, cout}
	}
	convT := func(name string, b, cin, h, cout, k int) benchConvLayer {
		return benchConvLayer{name, b * h * h, cin, k * k * cout}
	}
	layers := []benchConvLayer{
		conv("simplecnn_conv0", 32, 3, 32, 128, 5, 1, 0),
		conv("simplecnn_conv1", 32, 128, 14, 256, 5, 1, 0),
		conv("dcganD_conv0", 32, 3, 32, 128, 4, 2, 1),
		conv("dcganD_conv1", 32, 128, 16, 256, 4, 2, 1),
		conv("dcganD_conv2", 32, 256, 8, 512, 4, 2, 1),
		conv("dcganD_conv3", 32, 512, 4, 1, 4, 1, 0),
		convT("dcganG_deconv0", 32, 100, 1, 512, 4),
		convT("dcganG_deconv1", 32, 512, 4, 256, 4),
		convT("dcganG_deconv2", 32, 256, 8, 128, 4),
		convT("dcganG_deconv3", 32, 128, 16, 3, 4),
	}
	cin, h := 3, 32
	for i, c := range []int{64, 64, -1, 128, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1} {
		if c < 0 {
			h /= 2
			continue
		}
		layers = append(layers, conv(fmt.Sprintf("vgg13_conv%d", i), 8, cin, h, c, 3, 1, 1))
		cin = c
	}
	return layers
}

// dotVariant is one formulation of C[P,R] = X[P,Q]·Y[Q,R]: the layouts of its two inputs and the
// graph computing the product (or, for "T", the transpose) from them.
type dotVariant struct {
	name string
	// lhsT and rhsT: whether the inputs are fed transposed (Xt [Q,P], Yt [R,Q]).
	lhsT, rhsT bool
	transpose  bool // times Transpose(X) only
	fn         func(x, y *Node) *Node
}

var dotVariants = []dotVariant{
	{name: "NN", fn: func(x, y *Node) *Node { return Dot(x, y) }},
	{name: "NT", rhsT: true, fn: func(x, yt *Node) *Node { return DotGeneral(x, []int{1}, nil, yt, []int{1}, nil) }},
	{name: "TN", lhsT: true, fn: func(xt, y *Node) *Node { return DotGeneral(xt, []int{0}, nil, y, []int{0}, nil) }},
	{name: "TN+T", lhsT: true, fn: func(xt, y *Node) *Node { return Dot(Transpose(xt, 0, 1), y) }},
	{name: "NN+T", rhsT: true, fn: func(x, yt *Node) *Node { return Dot(x, Transpose(yt, 0, 1)) }},
	{name: "NNb2", fn: func(x, y *Node) *Node {
		p, q, r := x.Shape().Dimensions[0], x.Shape().Dimensions[1], y.Shape().Dimensions[1]
		x2 := Reshape(x, 2, p/2, q)
		y2 := BroadcastToDims(Reshape(y, 1, q, r), 2, q, r)
		return Reshape(DotGeneral(x2, []int{2}, []int{0}, y2, []int{1}, []int{0}), p, r)
	}},
	{name: "NTb2", rhsT: true, fn: func(x, yt *Node) *Node {
		p, q, r := x.Shape().Dimensions[0], x.Shape().Dimensions[1], yt.Shape().Dimensions[0]
		x2 := Reshape(x, 2, p/2, q)
		y2 := BroadcastToDims(Reshape(yt, 1, r, q), 2, r, q)
		return Reshape(DotGeneral(x2, []int{2}, []int{0}, y2, []int{2}, []int{0}), p, r)
	}},
	{name: "TNkb2", lhsT: true, fn: func(xt, y *Node) *Node {
		q, p, r := xt.Shape().Dimensions[0], xt.Shape().Dimensions[1], y.Shape().Dimensions[1]
		x2 := Reshape(xt, 2, q/2, p)
		y2 := Reshape(y, 2, q/2, r)
		return ReduceSum(DotGeneral(x2, []int{1}, []int{0}, y2, []int{1}, []int{0}), 0)
	}},
	{name: "T", transpose: true, fn: func(x, _ *Node) *Node { return Transpose(x, 0, 1) }},
}

// randF32 returns a float32 tensor of the given dimensions, uniform in [-1, 1).
func randF32(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*rng.Float32() - 1
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// benchDotVariant times v for the product p on the backend configured by cfg.
func benchDotVariant(b *testing.B, cfg string, p dotProduct, v dotVariant) {
	be, err := backend.NewWithConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(p.P), uint64(p.Q*p.R)))
	x := randF32(rng, p.P, p.Q)
	if v.lhsT {
		x = randF32(rng, p.Q, p.P)
	}
	y := randF32(rng, p.Q, p.R)
	if v.rhsT {
		y = randF32(rng, p.R, p.Q)
	}
	// The inputs are put on the backend once, so that the timing is the graph's alone.
	for _, t := range []*tensors.Tensor{x, y} {
		t.MustMaterializeOnDevice(be, false, backends.DeviceNum(0))
	}
	exec := MustNewExec(be, v.fn)
	defer exec.Finalize()
	exec.MustExec(x, y)[0].FinalizeAll() // compile and warm the buffer pools
	b.ResetTimer()
	cpu0 := cpuSeconds(b)
	start := time.Now()
	for b.Loop() {
		exec.MustExec(x, y)[0].FinalizeAll()
	}
	wall := time.Since(start).Seconds()
	sec := wall / float64(b.N)
	b.ReportMetric(sec*1e3, "ms/op")
	b.ReportMetric((cpuSeconds(b)-cpu0)/wall, "cores")
	if v.transpose {
		b.ReportMetric(float64(4*p.P*p.Q)/sec/1e9, "GB/s")
	} else {
		b.ReportMetric(2*float64(p.P)*float64(p.Q)*float64(p.R)/sec/1e9, "GFLOP/s")
	}
}

// cpuSeconds returns the CPU time (user + system) the process has used so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
