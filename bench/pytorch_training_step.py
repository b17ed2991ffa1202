"""PyTorch reference for `npm run bench:training`: one adversarial-training step at batch N,
the work advprobe's training does per batch, on torchvision's ResNet50 (random weights: speed
does not depend on them), eval mode (batch-norm frozen, as advprobe folds it):
a clean forward, PGD-K (K input-gradient passes with sign steps), a forward at x + δ, and a
weight gradient with one SGD step (momentum 0.9) on the trained parameters.

Reads "step TRAINABLE N CALLS WARMUP" lines (TRAINABLE: all | last-stage | fc) and prints one
JSON line each: the mean ms per step over CALLS consecutive steps after WARMUP of its own.
"""
import json
import sys
import time

import torch
import torchvision

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
attack_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(threads)
model = torchvision.models.resnet50().eval()
loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")
eps = 1 / 255
alpha = 2.5 * eps / attack_steps


def trainable(which):
    for name, p in model.named_parameters():
        bn = ".bn" in name or "downsample.1" in name or name.startswith("bn1")
        chosen = which == "all" or (which == "last-stage" and name.startswith("layer4")) or name.startswith("fc")
        p.requires_grad_(chosen and not bn)  # batch-norm frozen, as advprobe folds it
    return [p for p in model.parameters() if p.requires_grad]


def step(x, y, optimizer):
    with torch.no_grad():
        model(x)  # the clean score
    delta = torch.zeros_like(x)
    for _ in range(attack_steps):
        delta.requires_grad_(True)
        (g,) = torch.autograd.grad(loss_fn(model(x + delta), y), delta)
        delta = (delta + alpha * g.sign()).clamp(-eps, eps).detach()
    with torch.no_grad():
        model(x + delta)  # the adversarial score
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model(x + delta), y).backward()
    optimizer.step()


print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    _, which, batch, calls, warmup = line.split()
    params = trainable(which)
    optimizer = torch.optim.SGD(params, lr=1e-4, momentum=0.9)
    x = torch.rand(int(batch), 3, 224, 224)
    y = torch.zeros(int(batch), dtype=torch.long)
    for _ in range(int(warmup)):
        step(x, y, optimizer)
    t = time.perf_counter()
    for _ in range(int(calls)):
        step(x, y, optimizer)
    ms = (time.perf_counter() - t) * 1000 / int(calls)
    print(json.dumps({"engine": "pytorch", "trainable": which, "batch": int(batch), "ms": ms}), flush=True)
