"""PyTorch CPU peer of `confcal bench`: the same models and training steps, timed the same way.

Models (NCHW, 32x32 inputs, as confcal/models): the paper's simple CNN (conv 128/256 5x5, 2x2 max
pools, FC 1024-256-10), VGG-13 with batch norm (Figure 6; FC 512-512-10, dropout 0.5), and the DCGAN
generator/discriminator of App. B. Steps: confidence loss (cross entropy + beta*KL(U||p) on an
equal-size out-of-distribution batch) for the classifiers; one discriminator + one generator update
for the DCGAN. Adam, lr 1e-3. Prints one line per model:

    RESULT model=<name> batch=<n> first_step_s=<s> median_step_ms=<ms> images_per_s=<n>

Run: python3 bench/torch_cpu.py [--threads 2] [--steps 5] [--models simplecnn,dcgan,vgg13]
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def simple_cnn(k=10):
    return nn.Sequential(
        nn.Conv2d(3, 128, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(128, 256, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(256 * 5 * 5, 1024), nn.ReLU(), nn.Linear(1024, 256), nn.ReLU(), nn.Linear(256, k))


def vgg13(k=10):
    layers, c_in = [], 3
    for c in [64, 64, -1, 128, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1]:
        if c < 0:
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
    layers += [nn.Flatten(), nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, k)]
    return nn.Sequential(*layers)


def generator(nz=100, c=3):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, c, 4, 2, 1, bias=False), nn.Sigmoid())


def discriminator(c=3):
    return nn.Sequential(
        nn.Conv2d(c, 128, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
        nn.Conv2d(256, 512, 4, 2, 1, bias=False), nn.BatchNorm2d(512), nn.LeakyReLU(0.2),
        nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Flatten())


def kl_uniform(logits):
    k = logits.shape[1]
    return (-torch.log(torch.tensor(float(k))) - F.log_softmax(logits, 1).mean(1)).mean()


def classifier_step(model, batch):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        x = torch.rand(batch, 3, 32, 32)
        y = torch.randint(0, 10, (batch,))
        ood = torch.rand(batch, 3, 32, 32)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) + kl_uniform(model(ood))
        loss.backward()
        opt.step()
        return loss.item()
    return step


def gan_step(batch, nz=100):
    g, d = generator(nz), discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))

    def step():
        x = torch.rand(batch, 3, 32, 32)
        z = torch.randn(batch, nz, 1, 1)
        fake = g(z)
        opt_d.zero_grad()
        loss_d = F.softplus(-d(x)).mean() + F.softplus(d(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = F.softplus(-d(fake)).mean()
        loss_g.backward()
        opt_g.step()
        return loss_d.item() + loss_g.item()
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--models", default="simplecnn,dcgan,vgg13")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, BLAS: {torch.__config__.show().count('BLAS')} lines in config")
    cases = {"simplecnn": (32, lambda b: classifier_step(simple_cnn(), b)),
             "dcgan": (32, gan_step),
             "vgg13": (8, lambda b: classifier_step(vgg13(), b))}
    for name in args.models.split(","):
        batch, make = cases[name]
        step = make(batch)
        t0 = time.perf_counter()
        step()
        first = time.perf_counter() - t0
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(f"RESULT model={name} batch={batch} first_step_s={first:.3f} median_step_ms={med * 1000:.1f} "
              f"images_per_s={batch / med:.1f}", flush=True)


if __name__ == "__main__":
    main()
