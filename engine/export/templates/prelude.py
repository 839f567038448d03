import argparse
import math
import os
import sys
import warnings

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def flat(x):
    """[B, ...] to [B, D]."""
    return x.reshape(x.shape[0], -1)


def activate(x, fn):
    if fn == "gelu":
        return F.gelu(x)
    if fn == "tanh":
        return torch.tanh(x)
    if fn == "sigmoid":
        return torch.sigmoid(x)
    return torch.relu(x)


def patchify(x, p):
    """[B, C, H, W] to [B, (H/p)(W/p), C·p·p] tokens, row-major over the patch grid."""
    b, c, h, w = x.shape
    h, w = h // p, w // p
    return x.reshape(b, c, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(b, h * w, c * p * p)


def token_mask(x, whole_if_empty):
    """Tokens [B, T, D]: [B, T], True for a token and False for padding (an all-zero row, as an
    Embedding leaves id 0). With whole_if_empty, a sequence with no token counts every row."""
    keep = x.abs().sum(-1) > 0
    if whole_if_empty:
        keep = keep | ~keep.any(1, keepdim=True)
    return keep


class Block(nn.Module):
    """A sub-model: a trunk (everything but the last layer) and its own last linear layer. A later
    member of a share group with scope "trunk" owns no trunk: the model hands it the group's
    trunk at each call, so the trunk's weights exist once."""

    def __init__(self, trunk, width, out):
        super().__init__()
        if trunk is not None:
            self.trunk = trunk
        self.head = nn.Linear(width, out)

    def forward(self, x, trunk=None):
        return self.head((trunk if trunk is not None else self.trunk)(x))
