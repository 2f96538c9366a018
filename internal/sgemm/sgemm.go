// Package sgemm multiplies float32 matrices on the CPU fast: the blocked algorithm of Goto and van
// de Geijn ("Anatomy of high-performance matrix multiplication", 2008) with packed operands, a
// register-blocked micro-kernel in assembly where the CPU has AVX2+FMA (AVX-512 where it has that),
// a portable Go micro-kernel elsewhere, and the output split into tiles that run on all cores.
//
// It is the matrix product behind the project's CPU backend (confcal/backend): every convolution of
// the paper's models (simple CNN, VGG-13, AlexNet, DCGAN; Section 3 and App. B) is im2col plus one
// such product, in the forward pass and in both gradients, so this is where a training step spends
// most of its time.
package sgemm

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Matrix is a strided view of a float32 matrix: element (i, j) is Data[i*RowStride+j*ColStride].
// Strides may take any non-negative values, so a transposed operand is the same data with its
// strides swapped; no copy is made.
type Matrix struct {
	Data                 []float32
	Rows, Cols           int
	RowStride, ColStride int
}

// RowMajor returns the view of data as a rows×cols matrix stored row after row.
func RowMajor(data []float32, rows, cols int) Matrix {
	return Matrix{Data: data, Rows: rows, Cols: cols, RowStride: cols, ColStride: 1}
}

// T returns the transposed view of m (no copy).
func (m Matrix) T() Matrix {
	return Matrix{Data: m.Data, Rows: m.Cols, Cols: m.Rows, RowStride: m.ColStride, ColStride: m.RowStride}
}

// At returns element (i, j).
func (m Matrix) At(i, j int) float32 { return m.Data[i*m.RowStride+j*m.ColStride] }

// check returns an error when the view reaches outside Data or has negative sizes or strides.
func (m Matrix) check(name string) error {
	if m.Rows < 0 || m.Cols < 0 || m.RowStride < 0 || m.ColStride < 0 {
		return fmt.Errorf("sgemm: %s: negative size or stride (%d×%d, strides %d, %d)",
			name, m.Rows, m.Cols, m.RowStride, m.ColStride)
	}
	if m.Rows == 0 || m.Cols == 0 {
		return nil
	}
	if last := (m.Rows-1)*m.RowStride + (m.Cols-1)*m.ColStride; last >= len(m.Data) {
		return fmt.Errorf("sgemm: %s: %d×%d view with strides (%d, %d) needs %d elements, data has %d",
			name, m.Rows, m.Cols, m.RowStride, m.ColStride, last+1, len(m.Data))
	}
	return nil
}

// Blocking of the Goto algorithm: a kc×nc block of B is packed once and reused by every mc×kc
// block of A; the micro-kernel computes an mr×nr tile of C from a packed mr×kc sliver of A and a
// packed kc×nr sliver of B. kc×nr floats of B (16 KiB) stay in L1, mc×kc of A (144 KiB) in L2.
const (
	blockK = 256
	blockM = 144
	blockN = 1536
)

// MinParallelFlops is the size of product (2·m·n·k) under which Mul uses one goroutine: below it
// starting goroutines costs more than it saves.
const MinParallelFlops = 1 << 21

// Mul computes dst = a·b, dst being a.Rows×b.Cols stored row-major in dst (which it overwrites;
// len(dst) must be at least a.Rows·b.Cols). It uses up to workers goroutines (workers ≤ 0 means
// runtime.GOMAXPROCS). It returns an error, and leaves dst untouched, when the shapes disagree or a
// view reaches outside its data.
func Mul(dst []float32, a, b Matrix, workers int) error {
	if err := a.check("a"); err != nil {
		return err
	}
	if err := b.check("b"); err != nil {
		return err
	}
	if a.Cols != b.Rows {
		return fmt.Errorf("sgemm: a is %d×%d and b is %d×%d: inner sizes differ", a.Rows, a.Cols, b.Rows, b.Cols)
	}
	m, n, k := a.Rows, b.Cols, a.Cols
	if len(dst) < m*n {
		return fmt.Errorf("sgemm: dst has %d elements, the %d×%d product needs %d", len(dst), m, n, m*n)
	}
	dst = dst[:m*n]
	if m == 0 || n == 0 {
		return nil
	}
	clear(dst)
	if k == 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if 2*m*n*k < MinParallelFlops {
		workers = 1
	}
	pm, pn := split(m, n, workers)
	if pm*pn == 1 {
		mulTile(dst, n, a, b, 0, m, 0, n)
		return nil
	}
	var wg sync.WaitGroup
	for i := range pm {
		m0, m1 := chunk(m, pm, i, kern.mr)
		for j := range pn {
			n0, n1 := chunk(n, pn, j, kern.nr)
			if m0 >= m1 || n0 >= n1 {
				continue
			}
			wg.Go(func() { mulTile(dst, n, a, b, m0, m1, n0, n1) })
		}
	}
	wg.Wait()
	return nil
}

// split chooses how many row stripes (pm) and column stripes (pn) of the output the workers take:
// as many tiles as workers allow (pm·pn ≤ workers) without cutting below one micro-tile, and among
// those the squarest tiles, so the packing of A and B (repeated once per tile) stays small next to
// the arithmetic.
func split(m, n, workers int) (pm, pn int) {
	pm, pn = 1, 1
	bestAspect := math.Inf(1)
	for i := 1; i <= workers; i++ {
		j := workers / i
		if (i > 1 && m/i < kern.mr) || (j > 1 && n/j < kern.nr) {
			continue
		}
		aspect := math.Abs(math.Log(float64(m) / float64(i) / (float64(n) / float64(j))))
		if i*j > pm*pn || (i*j == pm*pn && aspect < bestAspect) {
			pm, pn, bestAspect = i, j, aspect
		}
	}
	return pm, pn
}

// chunk returns the i-th of parts ranges that cover [0, size), each boundary a multiple of align.
func chunk(size, parts, i, align int) (lo, hi int) {
	units := (size + align - 1) / align
	lo = min(size, (units*i/parts)*align)
	hi = min(size, (units*(i+1)/parts)*align)
	return lo, hi
}

// mulTile computes rows [m0, m1) × columns [n0, n1) of dst = a·b (dst row-major with ldc columns)
// with the Goto loop nest, on the calling goroutine.
func mulTile(dst []float32, ldc int, a, b Matrix, m0, m1, n0, n1 int) {
	k := a.Cols
	ws := getWorkspace()
	defer putWorkspace(ws)
	mr, nr := kern.mr, kern.nr
	for jc := n0; jc < n1; jc += blockN {
		nc := min(blockN, n1-jc)
		for pc := 0; pc < k; pc += blockK {
			kc := min(blockK, k-pc)
			packedB := ws.b[:roundUp(nc, nr)*kc]
			pack(packedB, b.T(), jc, nc, pc, kc, nr)
			for ic := m0; ic < m1; ic += blockM {
				mc := min(blockM, m1-ic)
				packedA := ws.a[:roundUp(mc, mr)*kc]
				pack(packedA, a, ic, mc, pc, kc, mr)
				macroKernel(dst, ldc, packedA, packedB, ic, mc, jc, nc, kc, ws)
			}
		}
	}
}

// macroKernel runs the micro-kernel over every mr×nr tile of the mc×nc block of C at (ic, jc),
// adding packedA·packedB into it. Tiles that stick out of C go through a scratch tile.
func macroKernel(dst []float32, ldc int, packedA, packedB []float32, ic, mc, jc, nc, kc int, ws *workspace) {
	mr, nr := kern.mr, kern.nr
	for jr := 0; jr < nc; jr += nr {
		nn := min(nr, nc-jr)
		bp := packedB[jr*kc : (jr+nr)*kc]
		for ir := 0; ir < mc; ir += mr {
			mm := min(mr, mc-ir)
			ap := packedA[ir*kc : (ir+mr)*kc]
			off := (ic+ir)*ldc + jc + jr
			if mm == mr && nn == nr {
				kern.fn(kc, ap, bp, dst[off:], ldc)
				continue
			}
			tile := ws.tile[:mr*nr]
			clear(tile)
			kern.fn(kc, ap, bp, tile, nr)
			for i := range mm {
				row := dst[off+i*ldc : off+i*ldc+nn]
				for j, v := range tile[i*nr : i*nr+nn] {
					row[j] += v
				}
			}
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// workspace holds one goroutine's packing buffers, sized for the largest kernel.
type workspace struct {
	a, b, tile []float32
}

var workspaces = sync.Pool{New: func() any {
	return &workspace{
		a:    make([]float32, roundUp(blockM, maxMR)*blockK),
		b:    make([]float32, roundUp(blockN, maxNR)*blockK),
		tile: make([]float32, maxMR*maxNR),
	}
}}

func getWorkspace() *workspace  { return workspaces.Get().(*workspace) }
func putWorkspace(w *workspace) { workspaces.Put(w) }
