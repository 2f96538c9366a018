package cifar

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/confcal/confcal/dataset"
)

// standInClass is how StandIn draws a class: the hue of the object (degrees), its shape and the
// orientation of the stripes across it (degrees; 0 = horizontal stripes).
type standInClass struct {
	hue    float64
	square bool
	angle  float64
}

// standInClasses: five hues, each shared by a disc and a square whose stripes run across each
// other (horizontal and vertical); which shape gets which stripes alternates from hue to hue, so
// that within a hue either cue tells the two classes apart, but neither does across hues.
var standInClasses = [NumClasses]standInClass{
	{0, false, 0}, {0, true, 90},
	{72, false, 90}, {72, true, 0},
	{144, false, 0}, {144, true, 90},
	{216, false, 90}, {216, true, 0},
	{288, false, 0}, {288, true, 90},
}

// StandIn returns n generated 3×32×32 images of ten learnable classes, a stand-in for CIFAR-10
// where it cannot be downloaded; it is NOT CIFAR-10 and results on it say nothing about the paper's.
// Each image is a disc or a square (rotated by up to 10°) of a class hue (five hues 72° apart, ±15°
// jitter, random saturation and brightness) crossed by horizontal or vertical stripes (±6°, random
// period of 5–7 pixels and phase), at a random position and size, on a random dull background with
// a brightness gradient, half the time with a small blob of a random colour as a distractor, and
// with Gaussian pixel noise. Classes 2k and 2k+1 share a hue and differ in both shape and stripes;
// class c is (hue, shape, stripes): 0 (0°, disc, horizontal), 1 (0°, square, vertical), 2 (72°,
// disc, vertical), 3 (72°, square, horizontal), 4 (144°, disc, horizontal), 5 (144°, square,
// vertical), 6 (216°, disc, vertical), 7 (216°, square, horizontal), 8 (288°, disc, horizontal),
// 9 (288°, square, vertical). Colour alone thus gets at most half of the images right (a linear
// classifier on the pixels gets about that); the stripes and the shape need a convolution. The
// labels are balanced (n/10 each, the first n mod 10 classes one more) in random order. Values are
// multiples of 1/255, so that the images survive WriteArchive and Load exactly.
//
// The set is named "cifar10-standin-train" or "cifar10-standin-test" and its Source starts with
// StandInMarker. It is deterministic in (n, split, seed); train and test images differ. It panics
// if n < 0 or split is not "train" or "test".
func StandIn(n int, split string, seed uint64) *dataset.Set {
	if n < 0 {
		panic(fmt.Sprintf("cifar.StandIn: n = %d < 0", n))
	}
	if _, err := SplitFiles(split); err != nil {
		panic("cifar.StandIn: " + err.Error())
	}
	var h uint64 = 0xcbf29ce484222325 // FNV-1a of the split's name: a stream per split
	for _, b := range []byte(split) {
		h = (h ^ uint64(b)) * 0x100000001b3
	}
	stream := splitmix(seed ^ h)
	// Balanced labels in random order.
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % NumClasses
	}
	rand.New(rand.NewPCG(stream, 0x1abe1)).Shuffle(n, func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })

	images := make([]float32, n*ImageBytes)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				rng := rand.New(rand.NewPCG(stream, splitmix(uint64(i)+0x9e37)))
				drawStandIn(images[i*ImageBytes:(i+1)*ImageBytes], standInClasses[labels[i]], rng)
			}
		})
	}
	wg.Wait()
	return &dataset.Set{
		Images: images, Labels: labels,
		N: n, C: ImageChannels, H: ImageSide, W: ImageSide,
		Name: "cifar10-standin-" + split,
		Source: fmt.Sprintf("%s: %d images of 10 synthetic classes (hue, shape, stripe orientation), split %s, seed %d",
			StandInMarker, n, split, seed),
	}
}

// splitmix is SplitMix64's mixing function.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hsv returns the RGB of hue h (degrees), saturation s and value v (both in [0,1]).
func hsv(h, s, v float64) [3]float64 {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return [3]float64{r + m, g + m, b + m}
}

// drawStandIn draws one image of class k into img (3×32×32).
func drawStandIn(img []float32, k standInClass, rng *rand.Rand) {
	const side = ImageSide
	uni := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }

	// Background: a dull colour with a linear brightness gradient.
	bg := hsv(uni(0, 360), uni(0, 0.35), uni(0.25, 0.75))
	gAngle := uni(0, 2*math.Pi)
	gAmp := uni(0, 0.2)
	gx, gy := math.Cos(gAngle)*gAmp/side, math.Sin(gAngle)*gAmp/side

	// The object.
	cx, cy := uni(11, 21), uni(11, 21)
	r := uni(7, 11)
	rot := uni(-10, 10) * math.Pi / 180
	cr, sr := math.Cos(rot), math.Sin(rot)
	half := r * 0.886 // a square of about the disc's area
	fg := hsv(k.hue+uni(-15, 15), uni(0.55, 1), uni(0.6, 1))
	theta := (k.angle + uni(-6, 6)) * math.Pi / 180
	// Stripes vary along the normal of their direction: horizontal stripes vary with y.
	nx, ny := -math.Sin(theta), math.Cos(theta)
	period := uni(5, 7)
	phase := uni(0, 2*math.Pi)

	// The distractor.
	hasBlob := rng.IntN(2) == 0
	bx, by, br := uni(2, 30), uni(2, 30), uni(1.5, 3)
	blob := hsv(uni(0, 360), uni(0.3, 1), uni(0.3, 1))

	noise := uni(0.02, 0.06)
	plane := side * side
	for y := range side {
		for x := range side {
			px, py := float64(x)+0.5, float64(y)+0.5
			shade := 1 + (px-side/2)*gx + (py-side/2)*gy
			var col [3]float64
			for c := range 3 {
				col[c] = bg[c] * shade
			}
			dx, dy := px-cx, py-cy
			var cover float64
			if k.square {
				u, v := cr*dx+sr*dy, -sr*dx+cr*dy
				cover = half - max(math.Abs(u), math.Abs(v))
			} else {
				cover = r - math.Hypot(dx, dy)
			}
			cover = min(1, max(0, cover+0.5))
			if cover > 0 {
				stripe := 0.5 + 0.5*math.Sin(2*math.Pi*(px*nx+py*ny)/period+phase)
				bright := 0.25 + 0.75*stripe
				for c := range 3 {
					col[c] = (1-cover)*col[c] + cover*fg[c]*bright
				}
			}
			if hasBlob {
				if b := min(1, max(0, br-math.Hypot(px-bx, py-by)+0.5)); b > 0 {
					for c := range 3 {
						col[c] = (1-b)*col[c] + b*blob[c]
					}
				}
			}
			for c := range 3 {
				v := col[c] + noise*rng.NormFloat64()
				img[c*plane+y*side+x] = byteToFloat[byte(math.Round(min(1, max(0, v))*255))]
			}
		}
	}
}

// WriteStandIn writes StandIn(nTrain, "train", seed) and StandIn(nTest, "test", seed) as a
// cifar-10-binary.tar.gz in dir (WriteArchive; its readme carries StandInMarker, so Load names
// what it reads from it as a stand-in) and returns the file's path. nTrain must be at least 5 (one
// image a training batch) and nTest at least 1. Load(split, Options{Dir: dir}) then returns the
// same images and labels as StandIn.
func WriteStandIn(dir string, nTrain, nTest int, seed uint64) (path string, err error) {
	if nTrain < len(TrainBatchFiles) || nTest < 1 {
		return "", fmt.Errorf("cifar.WriteStandIn: %d training and %d test images, want at least %d and 1", nTrain, nTest, len(TrainBatchFiles))
	}
	path = filepath.Join(dir, ArchiveName)
	if err := WriteArchive(path, StandIn(nTrain, "train", seed), StandIn(nTest, "test", seed)); err != nil {
		return "", err
	}
	return path, nil
}
