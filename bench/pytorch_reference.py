"""PyTorch reference for `npm run bench`: torchvision ResNet50 (random weights: speed does
not depend on them), eval mode, parameters frozen so only the input gradient is computed.

Prints one JSON line per measurement: {"engine": "pytorch", "batch": n, "what":
"forward"|"step", "ms": [...]} so the Node benchmark can interleave it with its own.
Reads commands from stdin ("forward N CALLS WARMUP" / "step N CALLS WARMUP"): WARMUP
calls, then CALLS consecutive ones timed as one block (the mean per call is printed), so one
warm process serves the run and its thread pool is awake while it is timed.
"""
import json
import sys
import time

import torch
import torchvision

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
model = torchvision.models.resnet50().eval()
for p in model.parameters():
    p.requires_grad_(False)
loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")


def forward(x):
    with torch.no_grad():
        model(x)


def step(x):
    x = x.clone().requires_grad_(True)
    loss = loss_fn(model(x), torch.zeros(x.shape[0], dtype=torch.long))
    (grad,) = torch.autograd.grad(loss, x)
    return grad


print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    what, batch, calls, warmup = line.split()
    x = torch.rand(int(batch), 3, 224, 224)
    fn = forward if what == "forward" else step
    for _ in range(int(warmup)):
        fn(x)
    t = time.perf_counter()
    for _ in range(int(calls)):
        fn(x)
    ms = (time.perf_counter() - t) * 1000 / int(calls)
    print(json.dumps({"engine": "pytorch", "what": what, "batch": int(batch), "ms": ms}), flush=True)
