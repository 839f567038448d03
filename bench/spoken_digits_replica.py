#!/usr/bin/env python3
# A PyTorch replica of resources/examples/spoken-digits (the features as engine/data/kinds/AudioFolder.cpp
# computes them, the bands, shared trunk, heads, concat, Adam + cosine, batch 64, a random tenth held
# out) with the augmentations tried for issue 26 (docs/SPEECH.md, "Augmentation"). One thread; prints
# one JSON line per run. Not the engine: its figures are a guide, the engine measures.
#   python3 bench/spoken_digits_replica.py --seed 0 --epochs 40 --warp 0.15 --shift 10
#   --noise LO HI [--noise-p P]: white or pink noise mixed into the waveform at LO-HI dB SNR (the clip as it is against the noise)
import argparse, glob, json, math, os, sys, time, wave
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("SPOKEN_DIGITS", os.path.join(HERE, "..", "data", "spoken-digits"))
CACHE = os.environ.get("REPLICA_CACHE", "/tmp")
WORDS = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]  # sorted class folders
SR, N = 16000, 15840
WIN, HOP, NFFT, MELS = 400, 160, 512, 64

def load_waves(split):
    cache = os.path.join(CACHE, "spoken-digits-%s.npz" % split)
    if os.path.exists(cache):
        z = np.load(cache); return z["x"], z["y"]
    xs, ys = [], []
    for ci, w in enumerate(sorted(os.listdir(os.path.join(ROOT, split)))):
        for f in sorted(glob.glob(os.path.join(ROOT, split, w, "*.wav"))):
            with wave.open(f) as r:
                a = np.frombuffer(r.readframes(r.getnframes()), dtype=np.int16).astype(np.float32) / 32768
            b = np.zeros(N, np.float32); b[:min(N, len(a))] = a[:N]
            xs.append(b); ys.append(ci)
    x, y = np.stack(xs), np.array(ys)
    np.savez(cache, x=x, y=y); return x, y

def melfb():
    mel = lambda hz: 2595 * math.log10(1 + hz / 700)
    inv = lambda m: 700 * (10 ** (m / 2595) - 1)
    top = mel(SR / 2)
    edges = [inv(top * i / (MELS + 1)) for i in range(MELS + 2)]
    bins = NFFT // 2 + 1
    f = torch.arange(bins, dtype=torch.float64) * SR / NFFT
    w = torch.zeros(MELS, bins, dtype=torch.float64)
    for m in range(MELS):
        lo, mid, hi = edges[m:m + 3]
        w[m] = torch.clamp(torch.minimum((f - lo) / (mid - lo), (hi - f) / (hi - mid)), min=0)
    return w.float()
FB = melfb()
HANN = torch.hann_window(WIN)

def logmel(w):
    s = torch.stft(w, NFFT, HOP, WIN, HANN, center=True, pad_mode="reflect", return_complex=True)
    p = s.abs().square()
    m = torch.matmul(p.transpose(1, 2), FB.t()).transpose(1, 2)
    m = (m + 1e-6).log().flatten(1)
    m = (m - m.mean(1, keepdim=True)) / m.std(1, unbiased=False, keepdim=True).clamp_min(1e-5)
    return m.view(-1, 1, MELS, 1 + N // HOP)

class Trunk(nn.Module):
    def __init__(s, ch):
        super().__init__(); s.layers = nn.ModuleList(); c0 = 1
        for c in ch: s.layers.append(nn.Conv2d(c0, c, 3, padding=1)); c0 = c
    def forward(s, x):
        for l in s.layers: x = F.max_pool2d(torch.relu(l(x)), 2)
        return x.amax((2, 3))
class Bands(nn.Module):
    def __init__(s, ch=(16, 32, 64), bands=4):
        super().__init__(); s.bands = bands; s.trunk = Trunk(ch)
        s.heads = nn.ModuleList([nn.Linear(ch[-1], 64) for _ in range(bands)]); s.cls = nn.Linear(64 * bands, 10)
    def forward(s, x):
        h = MELS // s.bands
        return s.cls(torch.cat([s.heads[i](s.trunk(x[:, :, i * h:(i + 1) * h])) for i in range(s.bands)], 1))

def pink(b, n, g):
    w = torch.randn(b, n, generator=g)
    f = torch.fft.rfft(w); k = torch.arange(f.shape[1]).clamp_min(1).float()
    return torch.fft.irfft(f / k.sqrt(), n)

def augment(x, wav, a, g):
    """x: features [B,1,64,T]; wav: waveforms [B,N] or None."""
    B, _, H, T = x.shape
    if a.noise and wav is not None:
        lo, hi = a.noise
        snr = lo + (hi - lo) * torch.rand(B, 1, generator=g)
        kind = torch.randint(0, 2, (B, 1), generator=g)
        nz = torch.where(kind == 0, torch.randn(B, N, generator=g), pink(B, N, g))
        ps = wav.square().mean(1, keepdim=True); pn = nz.square().mean(1, keepdim=True)
        on = (torch.rand(B, 1, generator=g) < a.noise_p).float()
        wav = wav + on * nz * (ps / pn / 10 ** (snr / 10)).sqrt()
        x = logmel(wav)
    if a.warp > 0:
        fac = 1 + a.warp * (2 * torch.rand(B, generator=g) - 1)
        # resample the frequency axis: row r reads row r / fac
        rows = torch.arange(H).float()[None, :] / fac[:, None]  # [B,H]
        gy = rows / (H - 1) * 2 - 1
        grid = torch.stack([torch.linspace(-1, 1, T)[None, None, :].expand(B, H, T), gy[:, :, None].expand(B, H, T)], -1)
        x = F.grid_sample(x, grid, align_corners=True, padding_mode="border")
    if a.shift > 0:
        s = torch.randint(-a.shift, a.shift + 1, (B,), generator=g)
        idx = (torch.arange(T)[None, :] - s[:, None]) % T
        x = torch.gather(x, 3, idx[:, None, None, :].expand(B, 1, H, T))
    for _ in range(a.tmasks):
        w = torch.randint(0, a.tmask_w + 1, (B,), generator=g); st = (torch.rand(B, generator=g) * (T - w + 1)).long()
        t = torch.arange(T)[None, :]; m = (t >= st[:, None]) & (t < (st + w)[:, None])
        x = x.masked_fill(m[:, None, None, :], 0.0)
    for _ in range(a.fmasks):
        w = torch.randint(0, a.fmask_w + 1, (B,), generator=g); st = (torch.rand(B, generator=g) * (H - w + 1)).long()
        r = torch.arange(H)[None, :]; m = (r >= st[:, None]) & (r < (st + w)[:, None])
        x = x.masked_fill(m[:, None, :, None], 0.0)
    return x

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0); p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--lr", type=float, default=0.002); p.add_argument("--shift", type=int, default=0)
    p.add_argument("--tmasks", type=int, default=0); p.add_argument("--tmask-w", type=int, default=10)
    p.add_argument("--fmasks", type=int, default=0); p.add_argument("--fmask-w", type=int, default=8)
    p.add_argument("--warp", type=float, default=0); p.add_argument("--noise", type=float, nargs=2)
    p.add_argument("--noise-p", type=float, default=1.0); p.add_argument("--tag", default="")
    p.add_argument("--smooth", type=float, default=0.0); p.add_argument("--mixup", type=float, default=0.0)
    p.add_argument("--wd", type=float, default=0.0)
    a = p.parse_args()
    xw, y = load_waves("train"); tw, ty = load_waves("test")
    xw, y, tw, ty = map(torch.from_numpy, (xw, y, tw, ty))
    X, TX = logmel(xw), logmel(tw)
    g = torch.Generator().manual_seed(a.seed)
    perm = torch.randperm(len(y), generator=g); nv = round(0.1 * len(y))
    vi, ti = perm[:nv], perm[nv:]
    torch.manual_seed(a.seed)
    m = Bands()
    opt = torch.optim.AdamW(m.parameters(), a.lr, weight_decay=a.wd) if a.wd > 0 else torch.optim.Adam(m.parameters(), a.lr)
    n = len(ti); spe = (n + 63) // 64; total = spe * a.epochs; step = 0
    ga = torch.Generator().manual_seed(a.seed * 7919 + 17)
    t0 = time.time()
    for ep in range(a.epochs):
        m.train(); pe = ti[torch.randperm(n, generator=g)]
        for b in range(spe):
            idx = pe[b * 64:(b + 1) * 64]
            lr = a.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            for gr in opt.param_groups: gr["lr"] = lr
            xb = augment(X[idx], xw[idx] if a.noise else None, a, ga)
            yb = y[idx]
            if a.mixup > 0:
                lam = float(np.random.default_rng(step + a.seed * 100003).beta(a.mixup, a.mixup))
                pi = torch.randperm(len(idx), generator=ga)
                out = m(lam * xb + (1 - lam) * xb[pi])
                loss = lam * F.cross_entropy(out, yb, label_smoothing=a.smooth) + (1 - lam) * F.cross_entropy(out, yb[pi], label_smoothing=a.smooth)
            else:
                loss = F.cross_entropy(m(xb), yb, label_smoothing=a.smooth)
            opt.zero_grad(); loss.backward(); opt.step(); step += 1
    secs = time.time() - t0
    m.eval()
    with torch.no_grad():
        va = (m(X[vi]).argmax(1) == y[vi]).float().mean().item()
        te = (m(TX).argmax(1) == ty).float().mean().item()
    r = dict(vars(a), val=round(100 * va, 2), test=round(100 * te, 2), secs=round(secs))
    print(json.dumps(r), flush=True)

main()
