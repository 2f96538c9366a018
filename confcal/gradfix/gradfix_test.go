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
