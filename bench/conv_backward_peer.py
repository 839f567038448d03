#!/usr/bin/python3
"""The weight gradient of fashion-patches' second convolution (128 patches, 32 -> 64 channels,
7 x 7, 3 x 3) in Debian's PyTorch, float32 and bfloat16, for every layout of input and weight:
aten::convolution_backward alone, median of 7 x 50 calls.
    /usr/bin/python3 bench/conv_backward_peer.py [THREADS]"""
import sys
import time

import torch


def median_ms(weight_layout, input_layout, dtype):
    w = torch.randn(64, 32, 3, 3)
    x = torch.randn(128, 32, 7, 7)
    if weight_layout == "channels-last":
        w = w.to(memory_format=torch.channels_last)
    if input_layout == "channels-last":
        x = x.to(memory_format=torch.channels_last)
    w = w.to(dtype).requires_grad_()
    x = x.to(dtype).requires_grad_()
    g = torch.randn_like(torch.nn.functional.conv2d(x, w, None, padding=1))
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(50):
            torch.ops.aten.convolution_backward(g, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                                                [False, True, False])
        times.append((time.perf_counter() - start) / 50 * 1e3)
    return sorted(times)[3]


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    print("weight gradient, %d thread(s), ms per call" % threads)
    print("| dtype | weight | input | ms |")
    print("|---|---|---|---|")
    for dtype in (torch.float32, torch.bfloat16):
        for wl in ("channels-last", "contiguous"):
            for xl in ("channels-last", "contiguous"):
                print("| %s | %s | %s | %.3f |" % (str(dtype).replace("torch.", ""), wl, xl, median_ms(wl, xl, dtype)))


if __name__ == "__main__":
    main()
