#!/usr/bin/env python3
"""PyTorch peer of `confcal gpubench`: the same networks and training steps, timed the same way.

Networks (NCHW 3x32x32 inputs, as confcal/models):
  * VGG-13 with batch norm (models.VGG13(10, 1)): ten 3x3 convolutions (padding 1) each followed by
    BatchNorm2d and ReLU, five 2x2 max pools, then Linear 512-512-10 with ReLU and Dropout(0.5)
    after each of the first two;
  * DCGAN generator (models.DCGANGenerator(3, 1)): z [B, 100] -> 4x4 transposed convolutions of 512
    (1x1 -> 4x4), 256, 128 (stride 2, padding 1) with BatchNorm2d + ReLU, then 3 channels and a
    sigmoid; no biases;
  * DCGAN discriminator (models.DCGANDiscriminator(1)): 4x4 convolutions of 128, 256, 512 (stride 2,
    padding 1; batch norm after the 2nd and 3rd; LeakyReLU 0.2) and 1 (4x4 valid) -> logits [B].

Steps (confcal/train, confcal/losses.go):
  * vgg13conf: Adam(lr 1e-3) on CE(C(x), y) + beta * KL(U || softmax(C(x_ood))), with C applied
    separately to x and x_ood (two forwards, as train.Classifier);
  * joint (train.Joint, Algorithm 1), with fake = G(z1) computed once (training mode):
      1. D: softplus(-D(x)).mean() + softplus(D(fake.detach())).mean(), Adam(2e-4, betas 0.5/0.999);
      2. G: softplus(-D(fake)).mean() [non-saturating] + beta * KL(U || C(fake)), through the updated
         D and the classifier in training mode; only G's weights change, Adam(2e-4, betas 0.5/0.999);
      3. C: CE(C(x), y) + beta * KL(U || C(G(z2).detach())) on fresh samples of the updated G,
         Adam(1e-3).
KL(U || p) = -log K - mean_k log_softmax(logits)_k, as confcal.KLUniform.

Implementations: eager, and torch.compile of each network (reported "unavailable" where this torch has
no torch.compile, "error" with the exception where it fails). Device: CUDA if available, else CPU.

Timing: the first step (network construction + first run; cuDNN autotuning and torch.compile included),
--warmup untimed steps, then --steps timed steps; every step reads its losses back with .item(), which
waits for the GPU. Inputs are a pool of 2 random batches made on the device beforehand, as gpubench.
Prints per implementation and step:

  RESULT impl=<torch-eager|torch-compile> model=<vgg13conf|joint> backend=<cuda|cpu> batch=B
         first_step_s=S median_ms=M p90_ms=P images_per_s=N        (images/s: in-distribution images)

With --compare FILE (gpubench's JSON) it also prints confcal's numbers beside these and the ratios.

Run: python3 bench/torch_gpu.py [--batch 128] [--steps 50] [--warmup 3] [--models vgg13conf,joint]
     [--impls eager,compile] [--json FILE] [--compare gpubench.json]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 10
LATENT = 100
VGG13_CFG = [64, 64, -1, 128, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1]


def scaled(c, width):
    return max(1, int(c * width + 0.5))


def vgg13(width=1.0, k=NUM_CLASSES):
    layers, c_in = [], 3
    for c in VGG13_CFG:
        if c < 0:
            layers.append(nn.MaxPool2d(2, 2))
        else:
            c = scaled(c, width)
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
    fc = scaled(512, width)
    layers += [nn.Flatten(), nn.Linear(c_in, fc), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(fc, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, k)]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    def __init__(self, width=1.0, channels=3):
        super().__init__()
        c1, c2, c3 = scaled(512, width), scaled(256, width), scaled(128, width)
        self.main = nn.Sequential(
            nn.ConvTranspose2d(LATENT, c1, 4, 1, 0, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.ConvTranspose2d(c2, c3, 4, 2, 1, bias=False), nn.BatchNorm2d(c3), nn.ReLU(),
            nn.ConvTranspose2d(c3, channels, 4, 2, 1, bias=False), nn.Sigmoid())

    def forward(self, z):
        return self.main(z.view(z.shape[0], LATENT, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, width=1.0, channels=3):
        super().__init__()
        c1, c2, c3 = scaled(128, width), scaled(256, width), scaled(512, width)
        self.main = nn.Sequential(
            nn.Conv2d(channels, c1, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(c1, c2, 4, 2, 1, bias=False), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),
            nn.Conv2d(c2, c3, 4, 2, 1, bias=False), nn.BatchNorm2d(c3), nn.LeakyReLU(0.2),
            nn.Conv2d(c3, 1, 4, 1, 0, bias=False))

    def forward(self, x):
        return self.main(x).view(x.shape[0])


def kl_uniform(logits):
    """Batch mean of KL(U || softmax(logits)) = -log K - mean_k log p_k (confcal.KLUniform)."""
    return (-math.log(logits.shape[1]) - F.log_softmax(logits, dim=1).mean(dim=1)).mean()


def confidence_loss(in_logits, y, out_logits, beta):
    """Eq. 1 on one batch (confcal.ConfidenceLoss)."""
    return F.cross_entropy(in_logits, y) + beta * kl_uniform(out_logits)


def n_params(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def set_requires_grad(m, flag):
    for p in m.parameters():
        p.requires_grad_(flag)


def build(model, impl, args, dev):
    """Returns (step function, {network: trainable parameters}, loss names)."""
    mf = torch.channels_last if args.channels_last else torch.contiguous_format

    def prep(m):
        m = m.to(dev).train()
        return m.to(memory_format=mf) if args.channels_last else m

    def wrap(m):
        return torch.compile(m) if impl == "compile" else m

    B, beta, g = args.batch, args.beta, torch.Generator(device=dev).manual_seed(args.seed)

    def images():
        return torch.rand(B, 3, 32, 32, device=dev, generator=g).contiguous(memory_format=mf)

    def labels():
        return torch.randint(0, NUM_CLASSES, (B,), device=dev, generator=g)

    def latent():
        return torch.randn(B, LATENT, device=dev, generator=g)

    C = prep(vgg13(args.width))
    Cf = wrap(C)
    opt_c = torch.optim.Adam(C.parameters(), lr=1e-3)
    if model == "vgg13conf":
        pool = [(images(), labels(), images()) for _ in range(2)]
        it = [0]

        def step():
            x, y, x_ood = pool[it[0] % len(pool)]
            it[0] += 1
            loss = confidence_loss(Cf(x), y, Cf(x_ood), beta)
            opt_c.zero_grad(set_to_none=True)
            loss.backward()
            opt_c.step()
            return [loss]
        return step, {"classifier": n_params(C)}, ["classifier"]

    G, D = prep(Generator(args.width)), prep(Discriminator(args.width))
    Gf, Df = wrap(G), wrap(D)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    pool = [(images(), labels(), latent(), latent()) for _ in range(2)]
    it = [0]

    def step():
        x, y, z1, z2 = pool[it[0] % len(pool)]
        it[0] += 1
        # 1. Discriminator on real x and on G(z1), detached.
        fake = Gf(z1).contiguous(memory_format=mf)
        loss_d = F.softplus(-Df(x)).mean() + F.softplus(Df(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # 2. Generator: non-saturating GAN term through the updated D + beta KL through C; only G learns.
        set_requires_grad(D, False)
        set_requires_grad(C, False)
        loss_g = F.softplus(-Df(fake)).mean() + beta * kl_uniform(Cf(fake))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        set_requires_grad(D, True)
        set_requires_grad(C, True)
        # 3. Classifier: eq. 1 on fresh samples of the updated generator.
        fake2 = Gf(z2).detach().contiguous(memory_format=mf)
        loss_c = confidence_loss(Cf(x), y, Cf(fake2), beta)
        opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        opt_c.step()
        return [loss_d, loss_g, loss_c]
    return step, {"discriminator": n_params(D), "generator": n_params(G), "classifier": n_params(C)}, \
        ["discriminator", "generator", "classifier"]


def stats(ms):
    s = sorted(ms)
    p90 = s[max(0, math.ceil(0.9 * len(s)) - 1)]
    return statistics.median(s), p90, statistics.fmean(s), s[0]


def run_one(model, impl, args, dev):
    res = {"impl": "torch-" + impl, "model": model, "backend": dev.type, "batch": args.batch,
           "width": args.width, "warmup": args.warmup, "steps": args.steps}
    if impl == "compile" and not hasattr(torch, "compile"):
        res["status"] = "unavailable"
        res["error"] = f"torch {torch.__version__} has no torch.compile"
        print(f"RESULT impl=torch-compile model={model} status=unavailable (torch {torch.__version__} has no torch.compile)",
              flush=True)
        return res

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    try:
        sync()
        t0 = time.perf_counter()
        step, params, names = build(model, impl, args, dev)
        first = [float(t.item()) for t in step()]
        sync()
        res["first_step_s"] = time.perf_counter() - t0
        res["loss_names"], res["first_losses"], res["trainable_params"] = names, first, params
        print(f"[{res['impl']} {model}] first step (construction + first run{', torch.compile' if impl == 'compile' else ''}): "
              f"{res['first_step_s']:.2f} s, losses {names}={[round(v, 4) for v in first]}", flush=True)
        for _ in range(args.warmup):
            [t.item() for t in step()]
        times, last = [], None
        for _ in range(args.steps):
            t = time.perf_counter()
            last = [float(v.item()) for v in step()]  # .item() waits for the step to finish
            times.append((time.perf_counter() - t) * 1000.0)
        if not all(math.isfinite(v) for v in last):
            raise RuntimeError(f"non-finite losses {last}")
    except Exception as e:  # a failing implementation (e.g. an inductor crash) is reported, not fatal
        traceback.print_exc()
        res["status"] = "error"
        res["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
        print(f"RESULT impl={res['impl']} model={model} status=error ({res['error']})", flush=True)
        return res
    med, p90, mean, mn = stats(times)
    res.update(status="ok", last_losses=last, median_ms=med, p90_ms=p90, mean_ms=mean, min_ms=mn,
               images_per_s=args.batch / (med / 1000.0))
    if dev.type == "cuda":
        res["max_memory_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30
    print(f"[{res['impl']} {model}] last losses {last}; trainable parameters {res['trainable_params']}")
    print(f"[{res['impl']} {model}] {args.steps} steps: median {med:.2f} ms, p90 {p90:.2f} ms, mean {mean:.2f} ms, "
          f"min {mn:.2f} ms; {res['images_per_s']:.1f} images/s (in-distribution images, {args.batch} per step)")
    print(f"RESULT impl={res['impl']} model={model} backend={dev.type} batch={args.batch} "
          f"first_step_s={res['first_step_s']:.2f} median_ms={med:.3f} p90_ms={p90:.3f} "
          f"images_per_s={res['images_per_s']:.1f}", flush=True)
    return res


def compare(path, results):
    """Prints confcal's results (gpubench JSON) beside PyTorch's, with step-time ratios."""
    try:
        with open(path) as f:
            go = {r["model"]: r for r in json.load(f).get("results", [])}
    except (OSError, ValueError) as e:
        print(f"compare: cannot read {path}: {e}")
        return
    print(f"\n== confcal ({path}) vs PyTorch: median step time ratio confcal/torch (< 1: confcal faster)")
    print(f"{'model':<10} {'impl':<14} {'first_s':>8} {'median_ms':>10} {'p90_ms':>9} {'images/s':>10} {'ratio':>7}")
    for model in sorted({r["model"] for r in results} | set(go)):
        g = go.get(model)
        if g:
            print(f"{model:<10} {'confcal':<14} {g['first_step_s']:8.2f} {g['median_ms']:10.3f} {g['p90_ms']:9.3f} "
                  f"{g['images_per_s']:10.1f} {'':>7}")
        for r in results:
            if r["model"] != model:
                continue
            if r.get("status") != "ok":
                print(f"{model:<10} {r['impl']:<14} {r.get('status', '?'):>8}")
                continue
            ratio = f"{g['median_ms'] / r['median_ms']:7.2f}" if g else f"{'-':>7}"
            print(f"{model:<10} {r['impl']:<14} {r['first_step_s']:8.2f} {r['median_ms']:10.3f} {r['p90_ms']:9.3f} "
                  f"{r['images_per_s']:10.1f} {ratio}")
            if g:
                print(f"RATIO model={model} confcal_over_{r['impl'].replace('-', '_')}={g['median_ms'] / r['median_ms']:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=128, help="in-distribution batch (plus as many OOD/generated)")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--models", default="vgg13conf,joint")
    ap.add_argument("--impls", default="eager,compile", help="eager, compile (torch.compile of each network)")
    ap.add_argument("--width", type=float, default=1.0, help="width multiplier (1: the paper's networks)")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="auto", help="auto (cuda if available), cuda or cpu")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    ap.add_argument("--channels-last", type=int, default=-1, help="1: NHWC memory format; -1: on for CUDA only")
    ap.add_argument("--tf32", choices=["default", "on", "off"], default="default",
                    help="default keeps PyTorch's (TF32 on for cuDNN convolutions, off for matrix products)")
    ap.add_argument("--json", default="", help="also write the results as JSON to this file")
    ap.add_argument("--compare", default="", help="gpubench JSON to print beside these results, with ratios")
    args = ap.parse_args()
    if args.batch < 2 or args.steps < 1 or args.warmup < 0:
        ap.error("need --batch >= 2, --steps >= 1, --warmup >= 0")

    dev = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if args.device == "auto" else args.device))
    if args.channels_last < 0:
        args.channels_last = 1 if dev.type == "cuda" else 0
    if dev.type == "cpu":
        torch.set_num_threads(args.threads or os.cpu_count() or 1)
    else:
        torch.backends.cudnn.benchmark = True
        if args.tf32 != "default":
            torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
            torch.backends.cuda.matmul.allow_tf32 = args.tf32 == "on"
    torch.manual_seed(args.seed)
    print(f"torch_gpu: torch {torch.__version__}, python {sys.version.split()[0]}, device {dev}", end="")
    if dev.type == "cuda":
        print(f" ({torch.cuda.get_device_name(dev)}), CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
              f"cudnn.benchmark=True, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}, "
              f"matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}", end="")
    else:
        print(f", {torch.get_num_threads()} threads", end="")
    print(f", channels_last={bool(args.channels_last)}")
    print(f"torch_gpu: batch {args.batch} (+{args.batch} OOD/generated), width {args.width:g}, warm-up {args.warmup}, "
          f"timed steps {args.steps}, float32", flush=True)

    results = []
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model not in ("vgg13conf", "joint"):
            ap.error(f"unknown model {model!r} (known: vgg13conf, joint)")
        for impl in [i.strip() for i in args.impls.split(",") if i.strip()]:
            if impl not in ("eager", "compile"):
                ap.error(f"unknown implementation {impl!r} (known: eager, compile)")
            results.append(run_one(model, impl, args, dev))
            if args.json:  # rewrite after each run, so a later timeout keeps the earlier numbers
                with open(args.json, "w") as f:
                    json.dump({"torch": torch.__version__, "device": str(dev), "results": results}, f, indent=2)
    if args.compare:
        compare(args.compare, results)
    return 0 if all(r.get("status") in ("ok", "unavailable") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
