#!/usr/bin/python3
"""Writes TorchScript modules for the TorchScript node (torch.jit.save of scripted modules), with
Debian's python3-torch and, for the ResNet-18, python3-torchvision. Random initial weights: the
files are examples of a user's own module, not pretrained networks.

    scripts/make-modules.py OUT_DIR [--only patch-cnn|resnet18] [--in-channels 1] [--width 64]

writes OUT_DIR/patch-cnn.pt (a small CNN with batch norm, 7 k parameters) and OUT_DIR/resnet18.pt
(torchvision's ResNet-18 with a first convolution for `--in-channels` and `--width` outputs,
about 11 M parameters, 45 MB). Both take images [B, C, H, W] of any size and return [B, width].
The example resources/examples/torchscript-patches.particle.json reads ../modules/patch-cnn.pt,
which scripts/setup.sh writes with this script.
"""

import argparse
import os
import sys

import torch
from torch import nn


class PatchCNN(nn.Module):
    """Two convolutions with batch norm, a global average and a linear layer."""

    def __init__(self, in_channels: int, width: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(32, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.features(x), 1))


def patch_cnn(in_channels, width):
    return PatchCNN(in_channels, width)


def resnet18(in_channels, width):
    try:
        import torchvision
    except ImportError:
        sys.exit("make-modules: the ResNet-18 needs torchvision (Debian: apt-get install python3-torchvision)")
    model = torchvision.models.resnet18(num_classes=width)
    # A patch has `in_channels` channels (1 for Fashion-MNIST), not RGB.
    model.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


MODULES = {"patch-cnn": patch_cnn, "resnet18": resnet18}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--only", choices=sorted(MODULES), help="write this module only")
    parser.add_argument("--in-channels", type=int, default=1)
    parser.add_argument("--width", type=int, default=64, help="outputs per sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name, make in MODULES.items():
        if args.only and name != args.only:
            continue
        torch.manual_seed(args.seed)
        scripted = torch.jit.script(make(args.in_channels, args.width).eval())
        path = os.path.join(args.out_dir, name + ".pt")
        torch.jit.save(scripted, path)
        count = sum(p.numel() for p in scripted.parameters())
        print(f"{path}: {count:,} parameters")


if __name__ == "__main__":
    main()
