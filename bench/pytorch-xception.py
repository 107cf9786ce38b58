#!/usr/bin/env python3
"""The PyTorch peer of npm run bench's training rows: Keras Applications' Xception graph
(keras/src/applications/xception.py: 'valid' stem, blocks 2-4, 8 middle blocks, 13, 14, no conv
biases, BatchNormalization eps 1e-3 / momentum 0.99) in plain torch.nn, timing one Adam step
(forward, cross-entropy, backward, update) per batch, as bench/parts/onnx-training.mjs does.

    /usr/bin/python3 bench/pytorch-xception.py --size 150 --batch 8 [--size 299 --batch 8] [--steps 10] [--threads 2]
        [--device cpu|cuda] [--mode train|infer]

Prints one JSON line: {"torch": version, "threads": n, "rows": [{size, batch, stepMedianMs, stepMs, imagesPerSecond}]}.
Max pooling pads symmetrically (torch's MaxPool2d), where TensorFlow's 'same' pads an even-sized
input at the end only: the same output sizes and cost, windows shifted by one pixel.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def bn(channels):
    # Keras: epsilon 1e-3, momentum 0.99 (torch's momentum is 1 - Keras').
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D: depthwise 3x3 'same' then pointwise 1x1, no bias."""

    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class EntryBlock(nn.Module):
    """Blocks 2-4 and 13: [ReLU] SepConv BN ReLU SepConv BN MaxPool 3x3/2 + (Conv 1x1/2 + BN)."""

    def __init__(self, cin, mid, cout, leading_relu):
        super().__init__()
        self.leading_relu = leading_relu
        self.sep1, self.bn1 = SeparableConv(cin, mid), bn(mid)
        self.sep2, self.bn2 = SeparableConv(mid, cout), bn(cout)
        self.residual, self.residual_bn = nn.Conv2d(cin, cout, 1, stride=2, bias=False), bn(cout)

    def forward(self, x):
        y = F.relu(x) if self.leading_relu else x
        y = F.relu(self.bn1(self.sep1(y)))
        y = self.bn2(self.sep2(y))
        y = F.max_pool2d(y, 3, stride=2, padding=1)
        return y + self.residual_bn(self.residual(x))


class MiddleBlock(nn.Module):
    """Blocks 5-12: 3 x (ReLU, SepConv 728, BN) + identity."""

    def __init__(self, channels=728):
        super().__init__()
        self.seps = nn.ModuleList([SeparableConv(channels, channels) for _ in range(3)])
        self.bns = nn.ModuleList([bn(channels) for _ in range(3)])

    def forward(self, x):
        y = x
        for sep, norm in zip(self.seps, self.bns):
            y = norm(sep(F.relu(y)))
        return y + x


class KerasXception(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32)  # 'valid'
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3, bias=False), bn(64)  # 'valid'
        self.block2 = EntryBlock(64, 128, 128, leading_relu=False)
        self.block3 = EntryBlock(128, 256, 256, leading_relu=True)
        self.block4 = EntryBlock(256, 728, 728, leading_relu=True)
        self.middle = nn.Sequential(*[MiddleBlock() for _ in range(8)])
        self.block13 = EntryBlock(728, 728, 1024, leading_relu=True)
        self.sep14a, self.bn14a = SeparableConv(1024, 1536), bn(1536)
        self.sep14b, self.bn14b = SeparableConv(1536, 2048), bn(2048)
        self.predictions = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.block4(self.block3(self.block2(x)))
        x = self.block13(self.middle(x))
        x = F.relu(self.bn14a(self.sep14a(x)))
        x = F.relu(self.bn14b(self.sep14b(x)))
        return self.predictions(x.mean(dim=(2, 3)))  # logits; the loss applies the softmax


def time_steps(size, batch, steps, warmup, device=torch.device("cpu"), mode="train", classes=10):
    """One Adam step per batch ('train'), or one forward pass in eval mode under no_grad ('infer');
    on CUDA each timing waits for the GPU (torch.cuda.synchronize)."""
    torch.manual_seed(0)
    model = KerasXception(classes).to(device).train(mode == "train")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-7)
    x = (torch.rand(batch, 3, size, size) * 2 - 1).to(device)
    y = torch.randint(0, classes, (batch,)).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + steps):
        sync()
        start = time.perf_counter()
        if mode == "train":
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        else:
            with torch.no_grad():
                model(x)
        sync()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    params = sum(p.numel() for p in model.parameters())
    return {"size": size, "batch": batch, "steps": steps, "stepMedianMs": median, "stepMs": times,
            "imagesPerSecond": batch * 1000 / median, "parameters": params}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, action="append")
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--mode", choices=["train", "infer"], default="train")
    args = parser.parse_args()
    sizes, batches = args.size or [150], args.batch or [8]
    if len(sizes) != len(batches):
        parser.error("give as many --batch as --size (one row each)")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    rows = [time_steps(s, b, args.steps, args.warmup, device, args.mode) for s, b in zip(sizes, batches)]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device,
                      "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None, "mode": args.mode, "rows": rows}))


if __name__ == "__main__":
    main()
