package models

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/confcal/confcal/confcal/nn"
)

// Image models take NCHW images [batch, channels, 32, 32] with values in [0, 1], as the paper's
// experiments (MNIST expanded to 3×32×32, CIFAR-10, SVHN), and are built from confcal/nn layers
// (GoMLX's native convolution and pooling ops), so the same graph trains on the project's CPU
// backend and on XLA (cuDNN on a GPU). Their ReLUs are nn.ReLUCtx: guided ReLUs when
// the context parameter nn.ParamGuidedReLU is set (for guided-backpropagation maps, package
// saliency), with the same forward values.

// SimpleCNN is the paper's "simple CNN" (App. B; Figure 2 and the MNIST classifier of Figure 3(c)(d)):
// two 5×5 stride-1 convolutions of conv1 and conv2 filters (paper: 128 and 256), each followed by
// ReLU and 2×2 max pooling of stride 2, then three fully-connected layers (fc1, fc2, classes).
func SimpleCNN(classes, conv1, conv2, fc1, fc2 int) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		checkImages("SimpleCNN", x)
		h := nn.MaxPool2D(nn.ReLUCtx(ctx, nn.Conv2D(ctx.In("conv_0"), x, nn.ConvConfig{Out: conv1, Kernel: 5})), 2, 2, 0)
		h = nn.MaxPool2D(nn.ReLUCtx(ctx, nn.Conv2D(ctx.In("conv_1"), h, nn.ConvConfig{Out: conv2, Kernel: 5})), 2, 2, 0)
		h = flatten(h)
		h = nn.ReLUCtx(ctx, Dense(ctx.In("fc_0"), h, fc1))
		h = nn.ReLUCtx(ctx, Dense(ctx.In("fc_1"), h, fc2))
		return Dense(ctx.In("fc_2"), h, classes)
	}
}

// VGG13Config is VGG-13's convolutional part (paper Figure 6): 3×3 convolutions with the given
// filters, -1 marking a 2×2 max pooling of stride 2.
var VGG13Config = []int{64, 64, -1, 128, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1}

// VGG13 is the VGGNet of 13 layers of the paper (Figure 6): ten 3×3 convolutions (padding 1) each
// followed by batch normalisation and ReLU, five 2×2 max poolings, then three fully-connected layers
// (512, 512, classes) with ReLU and dropout of rate 0.5 (keep probability 0.5) before each of the
// first two. width scales the filter counts (1 for the paper; smaller for quick CPU runs).
//
// It takes 32×32 images; the shape after each block (its convolutions and max pooling) is checked
// when the graph is built, so another input size fails at the first block, with a message naming it.
func VGG13(classes int, width float64) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		checkRank4("VGG13", x)
		batch := x.Shape().Dimensions[0]
		h, size, filters, block := x, 32, 0, 1
		var layers []string
		for i, c := range VGG13Config {
			if c < 0 {
				h = nn.MaxPool2D(h, 2, 2, 0)
				size /= 2
				name := fmt.Sprintf("block %d (%s, max pool)", block, strings.Join(layers, ", "))
				assertBlock("VGG13", name, h, batch, filters, size, size)
				block, layers = block+1, nil
				continue
			}
			lctx := ctx.In(fmt.Sprintf("conv_%d", i))
			filters = scaled(c, width)
			h = nn.Conv2D(lctx, h, nn.ConvConfig{Out: filters, Kernel: 3, Padding: 1})
			h = nn.ReLUCtx(ctx, nn.BatchNorm(lctx.In("bn"), h))
			layers = append(layers, fmt.Sprintf("conv_%d", i))
		}
		h = flatten(h)
		fc := scaled(512, width)
		h = nn.Dropout(ctx, nn.ReLUCtx(ctx, Dense(ctx.In("fc_0"), h, fc)), 0.5)
		h = nn.Dropout(ctx, nn.ReLUCtx(ctx, Dense(ctx.In("fc_1"), h, fc)), 0.5)
		h = Dense(ctx.In("fc_2"), h, classes)
		assertBlock("VGG13", "classifier (fc_0, fc_1, fc_2)", h, batch, classes)
		return h
	}
}

// AlexNet is the paper's AlexNet for 32×32 images (App. B, Table 4): five convolutions of 64, 192,
// 384, 256 and 256 filters (the first two 5×5, each followed by a 3×3 max pooling of stride 2; the
// others 3×3, the last followed by a 2×2 max pooling of stride 2), ReLU after each, then fully-
// connected layers of 2048 and 1024 units and the classes, with dropout 0.5 before each of the first
// two. width scales every layer.
func AlexNet(classes int, width float64) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		checkImages("AlexNet", x)
		conv := func(i int, h *Node, c, k int) *Node {
			return nn.ReLUCtx(ctx, nn.Conv2D(ctx.In(fmt.Sprintf("conv_%d", i)), h, nn.ConvConfig{Out: scaled(c, width), Kernel: k, Padding: k / 2}))
		}
		h := nn.MaxPool2D(conv(0, x, 64, 5), 3, 2, 0)
		h = nn.MaxPool2D(conv(1, h, 192, 5), 3, 2, 0)
		h = conv(2, h, 384, 3)
		h = conv(3, h, 256, 3)
		h = nn.MaxPool2D(conv(4, h, 256, 3), 2, 2, 0)
		h = flatten(h)
		h = nn.ReLUCtx(ctx, Dense(ctx.In("fc_0"), nn.Dropout(ctx, h, 0.5), scaled(2048, width)))
		h = nn.ReLUCtx(ctx, Dense(ctx.In("fc_1"), nn.Dropout(ctx, h, 0.5), scaled(1024, width)))
		return Dense(ctx.In("fc_2"), h, classes)
	}
}

// DCGANGenerator is the DCGAN generator of App. B for 32×32 images: z [batch, zDim] goes through four
// 4×4 transposed convolutions of 512, 256, 128 and `channels` filters (the first from 1×1 to 4×4,
// the others of stride 2 and padding 1: 4→8→16→32), batch norm and ReLU after the first three, and a
// sigmoid at the end so images are in [0, 1] like the data. width scales the hidden filter counts.
// The shape after each block is checked when the graph is built.
func DCGANGenerator(channels int, width float64) Fn {
	return func(ctx *context.Context, z *Node) *Node {
		if z.Rank() != 2 {
			panic(fmt.Errorf("DCGANGenerator takes latent codes [batch, dim], got %s", z.Shape()))
		}
		batch := z.Shape().Dimensions[0]
		h := Reshape(z, batch, z.Shape().Dimensions[1], 1, 1)
		c := scaled(512, width)
		h = nn.ConvTranspose2D(ctx.In("deconv_0"), h, nn.ConvConfig{Out: c, Kernel: 4, NoBias: true})
		h = nn.ReLUCtx(ctx, nn.BatchNorm(ctx.In("bn_0"), h))
		assertBlock("DCGANGenerator", "block 1 (deconv_0, bn_0)", h, batch, c, 4, 4)
		for i, c := range []int{scaled(256, width), scaled(128, width)} {
			h = nn.ConvTranspose2D(ctx.In(fmt.Sprintf("deconv_%d", i+1)), h, nn.ConvConfig{Out: c, Kernel: 4, Stride: 2, Padding: 1, NoBias: true})
			h = nn.ReLUCtx(ctx, nn.BatchNorm(ctx.In(fmt.Sprintf("bn_%d", i+1)), h))
			assertBlock("DCGANGenerator", fmt.Sprintf("block %d (deconv_%d, bn_%d)", i+2, i+1, i+1), h, batch, c, 8<<i, 8<<i)
		}
		h = nn.ConvTranspose2D(ctx.In("deconv_3"), h, nn.ConvConfig{Out: channels, Kernel: 4, Stride: 2, Padding: 1, NoBias: true})
		assertBlock("DCGANGenerator", "output (deconv_3)", h, batch, channels, 32, 32)
		return Sigmoid(h)
	}
}

// DCGANDiscriminator is the DCGAN discriminator of App. B: four 4×4 convolutions of 128, 256, 512 and
// 1 filters (stride 2 and padding 1 for the first three: 32→16→8→4; the last 4×4 valid to 1×1),
// batch norm after the 2nd and 3rd, LeakyReLU (slope 0.2) after the first three. It returns logits
// [batch] (the losses apply the sigmoid in their stable log forms).
//
// It takes 32×32 images; the shape after each block is checked when the graph is built, so another
// input size fails at the first block, with a message naming it.
func DCGANDiscriminator(width float64) Fn {
	return func(ctx *context.Context, x *Node) *Node {
		checkRank4("DCGANDiscriminator", x)
		batch := x.Shape().Dimensions[0]
		h := x
		for i, c := range []int{128, 256, 512} {
			lctx := ctx.In(fmt.Sprintf("conv_%d", i))
			c = scaled(c, width)
			h = nn.Conv2D(lctx, h, nn.ConvConfig{Out: c, Kernel: 4, Stride: 2, Padding: 1, NoBias: true})
			if i > 0 {
				h = nn.BatchNorm(lctx.In("bn"), h)
			}
			h = nn.LeakyReLU(h, 0.2)
			assertBlock("DCGANDiscriminator", fmt.Sprintf("block %d (conv_%d)", i+1, i), h, batch, c, 16>>i, 16>>i)
		}
		h = nn.Conv2D(ctx.In("conv_3"), h, nn.ConvConfig{Out: 1, Kernel: 4, NoBias: true})
		assertBlock("DCGANDiscriminator", "output (conv_3)", h, batch, 1, 1, 1)
		return Reshape(h, batch)
	}
}

func scaled(c int, width float64) int {
	return max(1, int(float64(c)*width+0.5))
}

func flatten(x *Node) *Node {
	return Reshape(x, x.Shape().Dimensions[0], -1)
}

func checkImages(model string, x *Node) {
	checkRank4(model, x)
	if d := x.Shape().Dimensions; d[2] != 32 || d[3] != 32 {
		panic(fmt.Errorf("%s is built for 32×32 images (the paper's), got %s", model, x.Shape()))
	}
}

func checkRank4(model string, x *Node) {
	if x.Rank() != 4 {
		panic(fmt.Errorf("%s takes images [batch, channels, height, width], got %s", model, x.Shape()))
	}
}

// assertBlock panics, naming the model and the block, unless h has the dimensions want: a wrong
// layer or input size fails when the graph is built, with a readable message, as the AssertDims
// after each block of GoMLX's examples/cifar models.
func assertBlock(model, block string, h *Node, want ...int) {
	if got := h.Shape().Dimensions; !slices.Equal(got, want) {
		panic(fmt.Errorf("%s %s: output dimensions %v, want %v (the model is built for 32×32 images)", model, block, got, want))
	}
}
