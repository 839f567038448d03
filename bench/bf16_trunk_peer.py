#!/usr/bin/env python3
# Issue 25's reference step in plain PyTorch: a fashion-patches trunk (two 3x3 convolutions with ReLU and
# 2x2 max-pool, a linear layer) and a head, Adam, one training step over 512 patches, float32 against CPU
# autocast bfloat16, interleaved; prints the median wall and processor milliseconds per step and the ratio.
#   /usr/bin/python3 bench/bf16_trunk_peer.py THREADS [cl]     (cl: channels-last model and input)
import time, torch, torch.nn as nn, torch.nn.functional as F, statistics, sys
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)
class Trunk(nn.Module):
    def __init__(s):
        super().__init__(); s.c1 = nn.Conv2d(1, 32, 3, padding=1); s.c2 = nn.Conv2d(32, 64, 3, padding=1); s.fc = nn.Linear(64*3*3, 64)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        return s.fc(x.flatten(1))
m = Trunk(); head = nn.Linear(64, 10); opt = torch.optim.Adam(list(m.parameters()) + list(head.parameters()))
x = torch.randn(512, 1, 14, 14); y = torch.randint(0, 10, (512,))
if len(sys.argv) > 2:
    m = m.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
def step(bf):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf):
        loss = F.cross_entropy(head(m(x)).float(), y)
    opt.zero_grad(); loss.backward(); opt.step()
for bf in (False, True):
    for _ in range(5): step(bf)
t = {False: [], True: []}
for r in range(8):
    for bf in ((False, True) if r % 2 == 0 else (True, False)):
        c0 = time.process_time(); w0 = time.perf_counter()
        for _ in range(10): step(bf)
        t[bf].append(((time.perf_counter() - w0) / 10 * 1000, (time.process_time() - c0) / 10 * 1000))
for bf in (False, True):
    print("bf16" if bf else "fp32", "wall ms/step median %.1f  processor ms/step median %.1f" % (statistics.median(a for a, b in t[bf]), statistics.median(b for a, b in t[bf])))
print("fp32/bf16 processor-time ratio %.2f" % (statistics.median(b for a, b in t[False]) / statistics.median(b for a, b in t[True])))
