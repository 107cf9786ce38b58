#!/usr/bin/env python3
"""The PyTorch peer of npm run bench's training rows: Keras Applications' Xception graph
(keras/src/applications/xception.py: 'valid' stem, blocks 2-4, 8 middle blocks, 13, 14, no conv
biases, BatchNormalization eps 1e-3 / momentum 0.99) in plain torch.nn, timing one Adam step
(forward, cross-entropy, backward, update) per batch, as bench/parts/onnx-training.mjs does.

    /usr/bin/python3 bench/pytorch-xception.py --size 150 --batch 8 [--size 299 --batch 8] [--steps 10] [--threads 2]
        [--device cpu|cuda] [--mode train|infer|transfer] [--classes 10] [--model keras|small] [--in-channels 3]

--mode transfer is transfer learning as createOnnxTrainer's freezeBackbone runs it: the backbone in
eval mode under torch.no_grad(), one Adam step of the new head (pooled features → Linear).

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
    """Keras Applications' Xception, or (with other widths) the same structure composed as
    xception-ts' entryFlow/middleFlow/exitFlow compose it: MODELS names the variants."""

    def __init__(self, classes, in_channels=3, stem=(32, 64), stem_same=False, entry=(128, 256, 728),
                 middle=(728, 8), exit=(728, 1024), conv=(1536, 2048)):
        super().__init__()
        pad = 1 if stem_same else 0  # 'same' (torch pads symmetrically: the same sizes and cost) or 'valid'
        self.conv1, self.bn1 = nn.Conv2d(in_channels, stem[0], 3, stride=2, padding=pad, bias=False), bn(stem[0])
        self.conv2, self.bn2 = nn.Conv2d(stem[0], stem[1], 3, padding=pad, bias=False), bn(stem[1])
        units, cin = [], stem[1]
        for i, cout in enumerate(entry):
            units.append(EntryBlock(cin, cout, cout, leading_relu=i > 0))
            cin = cout
        self.entry = nn.Sequential(*units)
        self.middle = nn.Sequential(*[MiddleBlock(middle[0]) for _ in range(middle[1])])
        self.block13 = EntryBlock(middle[0], exit[0], exit[1], leading_relu=True)
        self.sep14a, self.bn14a = SeparableConv(exit[1], conv[0]), bn(conv[0])
        self.sep14b, self.bn14b = SeparableConv(conv[0], conv[1]), bn(conv[1])
        self.predictions = nn.Linear(conv[1], classes)

    def features(self, x):
        """The backbone: everything up to the global average pool."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.entry(x)
        x = self.block13(self.middle(x))
        x = F.relu(self.bn14a(self.sep14a(x)))
        x = F.relu(self.bn14b(self.sep14b(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.predictions(self.features(x))  # logits; the loss applies the softmax


# Keras Xception, and the 'small' model of bench:fashion (examples/node-training: 'same' stem, two
# entry units, four middle blocks of 256, a narrower exit flow; 1.9 M parameters).
MODELS = {
    "keras": {},
    "small": {"stem": (32, 64), "stem_same": True, "entry": (128, 256), "middle": (256, 4), "exit": (256, 384), "conv": (512, 768)},
}


def time_steps(size, batch, steps, warmup, device=torch.device("cpu"), mode="train", classes=10, model_name="keras", in_channels=3):
    """One Adam step per batch ('train'); one forward pass in eval mode under no_grad ('infer');
    or transfer learning ('transfer'): the backbone frozen in eval mode under no_grad, one Adam
    step of the new head (global average pool, Dense to `classes`). On CUDA each timing waits for
    the GPU (torch.cuda.synchronize)."""
    torch.manual_seed(0)
    model = KerasXception(classes, in_channels, **MODELS[model_name]).to(device).train(mode == "train")
    if mode == "transfer":
        for p in model.parameters():
            p.requires_grad_(False)
        for p in model.predictions.parameters():
            p.requires_grad_(True)
    trained = model.predictions.parameters() if mode == "transfer" else model.parameters()
    optimizer = torch.optim.Adam(trained, lr=1e-4, eps=1e-7)
    x = (torch.rand(batch, in_channels, size, size) * 2 - 1).to(device)
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
        elif mode == "transfer":
            optimizer.zero_grad(set_to_none=True)
            with torch.no_grad():
                features = model.features(x)
            loss = F.cross_entropy(model.predictions(features), y)
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
    parser.add_argument("--mode", choices=["train", "infer", "transfer"], default="train")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--model", choices=sorted(MODELS), default="keras")
    parser.add_argument("--in-channels", type=int, default=3)
    args = parser.parse_args()
    sizes, batches = args.size or [150], args.batch or [8]
    if len(sizes) != len(batches):
        parser.error("give as many --batch as --size (one row each)")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    rows = [time_steps(s, b, args.steps, args.warmup, device, args.mode, args.classes, args.model, args.in_channels) for s, b in zip(sizes, batches)]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": args.device, "model": args.model,
                      "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None, "mode": args.mode, "rows": rows}))


if __name__ == "__main__":
    main()
