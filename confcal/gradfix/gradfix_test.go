package gradfix_test

import (
	"math"
	"testing"

	"github.com/confcal/confcal/confcal/backend"
	_ "github.com/confcal/confcal/confcal/gradfix"
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// The gradient of L = Σ W ⊙ (A B) is dA = W Bᵀ and dB = Aᵀ W; checked against loops.
func TestDotGradientMatchesLoops(t *testing.T) {
	A := [][]float32{{1, 2, 3}, {-1, 0.5, 2}}       // 2x3
	B := [][]float32{{0.5, -1}, {2, 1}, {-3, 0.25}} // 3x2
	W := [][]float32{{1, -2}, {0.5, 3}}             // 2x2
	outs := MustExecOnceN(backend.Must(), func(a, b, w *Node) []*Node {
		loss := ReduceAllSum(Mul(w, Dot(a, b)))
		return Gradient(loss, a, b)
	}, A, B, W)
	dA := tensors.MustCopyFlatData[float32](outs[0])
	dB := tensors.MustCopyFlatData[float32](outs[1])
	for i := range 2 {
		for j := range 3 {
			want := 0.0
			for k := range 2 {
				want += float64(W[i][k] * B[j][k])
			}
			if math.Abs(float64(dA[i*3+j])-want) > 1e-5 {
				t.Errorf("dA[%d,%d]=%v want %v", i, j, dA[i*3+j], want)
			}
		}
	}
	for j := range 3 {
		for k := range 2 {
			want := 0.0
			for i := range 2 {
				want += float64(A[i][j] * W[i][k])
			}
			if math.Abs(float64(dB[j*2+k])-want) > 1e-5 {
				t.Errorf("dB[%d,%d]=%v want %v", j, k, dB[j*2+k], want)
			}
		}
	}
}

// Matrix-vector: c = A b, L = Σ w ⊙ c: dA[i,j] = w[i] b[j], db = Aᵀ w.
func TestDotMatVecGradient(t *testing.T) {
	A := [][]float32{{1, 2}, {3, 4}, {5, 6}}
	b := []float32{0.5, -1}
	w := []float32{1, 2, 3}
	outs := MustExecOnceN(backend.Must(), func(a, b, w *Node) []*Node {
		return Gradient(ReduceAllSum(Mul(w, Dot(a, b))), a, b)
	}, A, b, w)
	dA := tensors.MustCopyFlatData[float32](outs[0])
	db := tensors.MustCopyFlatData[float32](outs[1])
	wantA := []float32{0.5, -1, 1, -2, 1.5, -3}
	wantB := []float32{1 + 6 + 15, 2 + 8 + 18}
	for i := range wantA {
		if dA[i] != wantA[i] {
			t.Fatalf("dA=%v want %v", dA, wantA)
		}
	}
	for i := range wantB {
		if db[i] != wantB[i] {
			t.Fatalf("db=%v want %v", db, wantB)
		}
	}
}

// DotGeneral of two matrices in each storage order: L = Σ W ⊙ C with C[i,k] = Σ_j A[i,j] B[j,k];
// dA[i,j] = Σ_k W[i,k] B[j,k], dB[j,k] = Σ_i A[i,j] W[i,k], checked against loops for A stored
// [i,j] or [j,i] and B stored [j,k] or [k,j].
func TestDotGeneralGradientMatchesLoops(t *testing.T) {
	A := [][]float64{{1, 2, 3}, {-1, 0.5, 2}}       // [i=2, j=3]
	B := [][]float64{{0.5, -1}, {2, 1}, {-3, 0.25}} // [j=3, k=2]
	W := [][]float64{{1, -2}, {0.5, 3}}             // [i, k]
	tr := func(m [][]float64) [][]float64 {
		out := make([][]float64, len(m[0]))
		for c := range out {
			out[c] = make([]float64, len(m))
			for r := range m {
				out[c][r] = m[r][c]
			}
		}
		return out
	}
	for _, aT := range []bool{false, true} {
		for _, bT := range []bool{false, true} {
			a, ca := A, 1
			if aT {
				a, ca = tr(A), 0
			}
			b, cb := B, 0
			if bT {
				b, cb = tr(B), 1
			}
			outs := MustExecOnceN(backend.Must(), func(an, bn, w *Node) []*Node {
				loss := ReduceAllSum(Mul(w, DotGeneral(an, []int{ca}, nil, bn, []int{cb}, nil)))
				return Gradient(loss, an, bn)
			}, a, b, W)
			dA, dB := tensors.MustCopyFlatData[float64](outs[0]), tensors.MustCopyFlatData[float64](outs[1])
			for i := range 2 {
				for j := range 3 {
					want := 0.0
					for k := range 2 {
						want += W[i][k] * B[j][k]
					}
					got := dA[i*3+j]
					if aT {
						got = dA[j*2+i]
					}
					if math.Abs(got-want) > 1e-12 {
						t.Errorf("A transposed %v, B transposed %v: dA[%d,%d] = %v, want %v", aT, bT, i, j, got, want)
					}
				}
			}
			for j := range 3 {
				for k := range 2 {
					want := 0.0
					for i := range 2 {
						want += A[i][j] * W[i][k]
					}
					got := dB[j*2+k]
					if bT {
						got = dB[k*3+j]
					}
					if math.Abs(got-want) > 1e-12 {
						t.Errorf("A transposed %v, B transposed %v: dB[%d,%d] = %v, want %v", aT, bT, j, k, got, want)
					}
				}
			}
		}
	}
}
