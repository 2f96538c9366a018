package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naive is the reference: the textbook triple loop in float64.
func naive(a, b Matrix) []float64 {
	out := make([]float64, a.Rows*b.Cols)
	for i := range a.Rows {
		for j := range b.Cols {
			var s float64
			for p := range a.Cols {
				s += float64(a.At(i, p)) * float64(b.At(p, j))
			}
			out[i*b.Cols+j] = s
		}
	}
	return out
}

// randomMatrix returns a rows×cols view with the given layout: "row" (row-major), "col"
// (column-major) or "gap" (row-major with padding between rows and a column stride of 2).
func randomMatrix(rng *rand.Rand, rows, cols int, layout string) Matrix {
	var m Matrix
	switch layout {
	case "row":
		m = RowMajor(make([]float32, rows*cols), rows, cols)
	case "col":
		m = RowMajor(make([]float32, rows*cols), cols, rows).T()
	case "gap":
		m = Matrix{Data: make([]float32, rows*(2*cols+3)), Rows: rows, Cols: cols, RowStride: 2*cols + 3, ColStride: 2}
	default:
		panic(layout)
	}
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	return m
}

// withKernel runs f with each micro-kernel this CPU supports.
func withKernel(t *testing.T, f func(t *testing.T)) {
	saved := kern
	defer func() { kern = saved }()
	for _, k := range kernels() {
		kern = k
		t.Run(k.name, f)
	}
}

func TestMulMatchesNaive(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {6, 16, 1}, {12, 32, 5}, {13, 33, 17},
		{7, 300, 2}, {300, 7, 40}, {150, 170, 260}, {257, 65, 513}, {40, 1600, 30},
		{2, 2000, 3}, // wider than blockN
	}
	layouts := []string{"row", "col", "gap"}
	withKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, s := range shapes {
			for _, la := range layouts {
				for _, lb := range layouts {
					for _, workers := range []int{1, 2, 3, 4} {
						a := randomMatrix(rng, s.m, s.k, la)
						b := randomMatrix(rng, s.k, s.n, lb)
						dst := make([]float32, s.m*s.n+3)
						for i := range dst {
							dst[i] = float32(math.NaN()) // Mul must overwrite, not accumulate
						}
						if err := Mul(dst, a, b, workers); err != nil {
							t.Fatal(err)
						}
						want := naive(a, b)
						for i, w := range want {
							tol := 1e-5 * (1 + math.Sqrt(float64(s.k))) * (1 + math.Abs(w))
							if d := math.Abs(float64(dst[i]) - w); !(d <= tol) {
								t.Fatalf("%d×%d·%d×%d (a %s, b %s, %d workers): [%d,%d] = %g, want %g",
									s.m, s.k, s.k, s.n, la, lb, workers, i/s.n, i%s.n, dst[i], w)
							}
						}
						if !math.IsNaN(float64(dst[s.m*s.n])) {
							t.Fatalf("Mul wrote past the product")
						}
					}
				}
			}
		}
	})
}

func TestMulHandValues(t *testing.T) {
	// [1 2; 3 4; 5 6] · [1 0 -1; 2 1 0] = [5 2 -1; 11 4 -3; 17 6 -5]
	a := RowMajor([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	b := RowMajor([]float32{1, 0, -1, 2, 1, 0}, 2, 3)
	want := []float32{5, 2, -1, 11, 4, -3, 17, 6, -5}
	withKernel(t, func(t *testing.T) {
		dst := make([]float32, 9)
		if err := Mul(dst, a, b, 1); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(dst) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", dst, want)
		}
		// The transpose: bᵀ·aᵀ = (a·b)ᵀ.
		if err := Mul(dst, b.T(), a.T(), 2); err != nil {
			t.Fatal(err)
		}
		wantT := []float32{5, 11, 17, 2, 4, 6, -1, -3, -5}
		if fmt.Sprint(dst) != fmt.Sprint(wantT) {
			t.Fatalf("transposed: got %v, want %v", dst, wantT)
		}
	})
}

func TestMulEmptyAndZeroK(t *testing.T) {
	dst := []float32{7, 7, 7, 7}
	a := Matrix{Rows: 2, Cols: 0}
	b := Matrix{Rows: 0, Cols: 2}
	if err := Mul(dst, a, b, 0); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dst) != "[0 0 0 0]" {
		t.Fatalf("k = 0 must give zeros, got %v", dst)
	}
	if err := Mul(nil, Matrix{Rows: 0, Cols: 3}, RowMajor(make([]float32, 6), 3, 2), 0); err != nil {
		t.Fatal(err)
	}
}

func TestMulErrors(t *testing.T) {
	ok := RowMajor(make([]float32, 6), 2, 3)
	tests := []struct {
		name string
		dst  []float32
		a, b Matrix
		want string
	}{
		{"inner", make([]float32, 4), ok, ok, "inner sizes differ"},
		{"short a", make([]float32, 4), RowMajor(make([]float32, 5), 2, 3), ok.T(), "needs 6 elements, data has 5"},
		{"short b", make([]float32, 4), ok, Matrix{Data: make([]float32, 6), Rows: 3, Cols: 2, RowStride: 2, ColStride: 2}, "b: 3×2"},
		{"short dst", make([]float32, 3), ok, ok.T(), "dst has 3 elements"},
		{"negative", make([]float32, 4), Matrix{Rows: -1}, ok, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := append([]float32(nil), tc.dst...)
			for i := range dst {
				dst[i] = 9
			}
			err := Mul(dst, tc.a, tc.b, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			for _, v := range dst {
				if v != 9 {
					t.Fatalf("dst changed on error: %v", dst)
				}
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct{ m, n, workers, pm, pn int }{
		{1000, 1000, 1, 1, 1},
		{1000, 1000, 2, 1, 2}, // a tie: the first found
		{1000, 1000, 4, 2, 2},
		{10, 5000, 2, 1, 2},   // too few rows to cut
		{5000, 10, 4, 4, 1},   // too few columns to cut
		{10, 10, 8, 1, 1},     // one micro-tile
		{3000, 3000, 6, 2, 3}, // odd count: leftover to a side
	}
	saved := kern
	defer func() { kern = saved }()
	kern = kernel{name: "t", mr: 6, nr: 16}
	for _, tc := range tests {
		pm, pn := split(tc.m, tc.n, tc.workers)
		if pm != tc.pm || pn != tc.pn {
			t.Errorf("split(%d, %d, %d) = %d×%d, want %d×%d", tc.m, tc.n, tc.workers, pm, pn, tc.pm, tc.pn)
		}
		if pm*pn > tc.workers {
			t.Errorf("split(%d, %d, %d) uses %d workers", tc.m, tc.n, tc.workers, pm*pn)
		}
	}
}

func TestChunk(t *testing.T) {
	// 100 split in 3 parts aligned to 16: units = 7 → [0,32) [32,64) [64,100).
	want := [][2]int{{0, 32}, {32, 64}, {64, 100}}
	for i, w := range want {
		if lo, hi := chunk(100, 3, i, 16); lo != w[0] || hi != w[1] {
			t.Errorf("chunk %d = [%d, %d), want %v", i, lo, hi, w)
		}
	}
}

// BenchmarkMul reports GFLOP/s for the products of one VGG-13 and simple-CNN layer, on every
// kernel this CPU runs and on all cores.
func BenchmarkMul(b *testing.B) {
	sizes := []struct {
		name    string
		m, n, k int
		ta      bool
	}{
		{"square512", 512, 512, 512, false},
		{"vgg_conv2_fwd", 16 * 32 * 32, 64, 576, false},
		{"vgg_conv2_wgrad", 576, 64, 16 * 32 * 32, true},
		{"vgg_conv8_fwd", 16 * 4 * 4, 512, 4608, false},
		{"cnn_conv2_fwd", 64 * 14 * 14, 256, 3200, false},
	}
	saved := kern
	defer func() { kern = saved }()
	for _, k := range kernels() {
		kern = k
		for _, s := range sizes {
			b.Run(k.name+"/"+s.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				a := randomMatrix(rng, s.m, s.k, "row")
				if s.ta {
					a = randomMatrix(rng, s.m, s.k, "col")
				}
				bm := randomMatrix(rng, s.k, s.n, "row")
				dst := make([]float32, s.m*s.n)
				for b.Loop() {
					if err := Mul(dst, a, bm, 0); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkPack times packing a 144×256 block of A and a 256×1536 block of B in both layouts
// (elements per second as MB/s of float32 reads).
func BenchmarkPack(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, layout := range []string{"row", "col"} {
		a := randomMatrix(rng, 1000, 1000, layout)
		dst := make([]float32, roundUp(blockM, maxMR)*blockK)
		b.Run("A/"+layout, func(b *testing.B) {
			b.SetBytes(4 * blockM * blockK)
			for b.Loop() {
				pack(dst, a, 0, blockM, 0, blockK, kern.mr)
			}
		})
		bm := randomMatrix(rng, 1000, 2000, layout)
		dstB := make([]float32, roundUp(blockN, maxNR)*blockK)
		b.Run("B/"+layout, func(b *testing.B) {
			b.SetBytes(4 * blockN * blockK)
			for b.Loop() {
				pack(dstB, bm.T(), 0, blockN, 0, blockK, kern.nr)
			}
		})
	}
}

func TestCopyRows(t *testing.T) {
	src := make([]float32, 100)
	for i := range src {
		src[i] = float32(i)
	}
	for _, width := range []int{4, 8, 12, 16, 32} {
		dst := make([]float32, 3*width)
		if !copyRows(dst, src, 3, width, 33) {
			continue // no AVX2 here: the callers' loops are used
		}
		for r := range 3 {
			for c := range width {
				if dst[r*width+c] != src[r*33+c] {
					t.Fatalf("width %d: dst[%d,%d] = %g, want %g", width, r, c, dst[r*width+c], src[r*33+c])
				}
			}
		}
	}
	if copyRows(make([]float32, 6), src, 1, 6, 6) {
		t.Fatal("width 6 is not a multiple of 4: copyRows must decline")
	}
}
