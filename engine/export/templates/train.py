#!/usr/bin/env python3
"""Trains the exported model with plain PyTorch on the data set Particle Studio loaded.

    python3 train.py [--epochs N] [--threads T] [--device cpu|cuda] [--precision fp32|bf16|fp16] [--out trained.pt]
    torchrun --nproc_per_node N train.py [...]     data-parallel (DistributedDataParallel)

data.pt holds the training, validation and test splits exactly as Particle Studio loaded them
(decoded, tokenized and split with the project's seed); the optimiser, learning-rate schedule,
batch size, epochs and seed are the project's "training" section (CONFIG below). Like the
engine, the data stay on the device as whole tensors and each batch is an index_select.

--precision (the project's training.precision by default): bf16 runs the forward pass and the loss
under torch.autocast (CUDA, and CPUs with AVX512_BF16 or AMX), fp16 the same on CUDA with a
GradScaler for loss scaling; the weights stay float32 and so does trained.pt. Where the precision
cannot run, train.py refuses with the engine's reason.

Under torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT set) every process
trains on its share of each global batch of WORLD_SIZE × batch_size samples (gloo on CPU,
nccl on CUDA); rank 0 evaluates and writes the weights.
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import ParticleModel  # noqa: E402

CONFIG = json.loads(r'''@CONFIG@''')


def cpu_info():
    """This CPU's model name and feature flags (/proc/cpuinfo; empty where there is none)."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and not model:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model or "model unknown", flags


def precision_unsupported(precision, device):
    """Why `precision` cannot train on `device` here, in the engine's words (project/Precision.h);
    empty when it can. CPU autocast in bf16 runs anywhere, but emulated it is slower than fp32."""
    if precision == "fp32":
        return ""
    if device.type == "cuda":
        capability = torch.cuda.get_device_capability(device)
        if precision == "bf16" and capability < (8, 0):
            return "bf16 on CUDA needs compute capability 8.0 or later (Ampere); this GPU has %d.%d (use fp16 or " \
                   "fp32)" % capability
        return ""
    if precision == "fp16":
        return "fp16 trains on CUDA devices only: LibTorch 1.13 has no fast fp16 kernels for the CPU (use bf16 or " \
               "fp32 there)"
    model, flags = cpu_info()
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        return ""
    return "bf16 on the CPU needs AVX512_BF16 or AMX; this CPU (%s) has neither (use fp32)" % model


def load_data(path, device):
    d = torch.load(path)
    scale = d.get("x_scale")
    out = {}
    for split in ("train", "val", "test"):
        x = d[split + "_x"]
        if scale is not None and x.dtype == torch.uint8:
            x = x.to(torch.float).div_(scale.item())  # stored as bytes: exactly the engine's x
        out[split] = (x.to(device), d[split + "_y"].to(device))
    return out


def augmenting(c):
    return (c["augment_time_shift"] > 0 or c["augment_freq_warp"] > 0 or c["augment_time_masks"] > 0
            or c["augment_freq_masks"] > 0)


def augment_generator(seed, epoch, rank):
    """The engine's (train/Augment.cpp, augmentGenerator): apart from the epoch's shuffle."""
    s = (seed * 2654435761 + epoch * 40503 + 0x5A17 + rank * 7919) % (1 << 64)
    return torch.Generator().manual_seed(s)


def draw_masks(count, max_width, length, batch, g):
    masked = torch.zeros(batch, length, dtype=torch.bool)
    most = min(max_width, length)
    at = torch.arange(length).unsqueeze(0)
    for _ in range(count):
        width = torch.randint(0, most + 1, (batch,), generator=g)
        start = torch.rand(batch, generator=g).mul((length - width + 1).float()).floor().long()
        masked |= at.ge(start.unsqueeze(1)) & at.lt((start + width).unsqueeze(1))
    return masked


def augment_batch(x, c, g):
    """The engine's augmentation of a training batch [B, C, H, W] (train/Augment.cpp, augmentBatch):
    the same draws in the same order from the same generator, so the same samples."""
    b, ch, h, w = x.shape
    dev = x.device
    if c["augment_freq_warp"] > 0:  # row r reads row r / f, f in [1 - warp, 1 + warp]
        f = torch.rand(b, generator=g).mul(2).sub(1).mul(c["augment_freq_warp"]).add(1)
        rows = torch.arange(h, dtype=torch.float).unsqueeze(0).div(f.unsqueeze(1))
        lo = rows.floor().clamp(0, h - 1)
        frac = rows.sub(lo).clamp(0, 1).view(b, 1, h, 1).to(dev, x.dtype)
        lo_idx = lo.long()
        hi_idx = (lo_idx + 1).clamp_max(h - 1)
        below = x.gather(2, lo_idx.view(b, 1, h, 1).to(dev).expand(b, ch, h, w))
        above = x.gather(2, hi_idx.view(b, 1, h, 1).to(dev).expand(b, ch, h, w))
        x = below + (above - below) * frac
    if c["augment_time_shift"] > 0:  # column t reads column t - s, wrapping around
        most = c["augment_time_shift"]
        s = torch.randint(-most, most + 1, (b,), generator=g)
        cols = torch.arange(w).unsqueeze(0).sub(s.unsqueeze(1)).remainder(w)
        x = x.gather(3, cols.view(b, 1, 1, w).to(dev).expand(b, ch, h, w))
    if c["augment_time_masks"] > 0:
        m = draw_masks(c["augment_time_masks"], c["augment_time_mask_width"], w, b, g)
        x = x.masked_fill(m.view(b, 1, 1, w).to(dev), 0.0)
    if c["augment_freq_masks"] > 0:
        m = draw_masks(c["augment_freq_masks"], c["augment_freq_mask_width"], h, b, g)
        x = x.masked_fill(m.view(b, 1, h, 1).to(dev), 0.0)
    return x


def scheduled_lr(c, step, steps_per_epoch):
    """The engine's schedule (project/TrainingSpec.cpp, scheduledLr)."""
    lr = c["lr"]
    total = max(1, steps_per_epoch * c["epochs"])
    if c["schedule"] == "step":
        epoch = step // steps_per_epoch if steps_per_epoch > 0 else 0
        lr *= c["gamma"] ** (epoch // c["step_size"])
    elif c["schedule"] == "cosine":
        after = max(0, step - c["warmup_steps"])
        span = max(1, total - c["warmup_steps"])
        lr *= 0.5 * (1.0 + math.cos(math.pi * min(1.0, after / span)))
    if c["warmup_steps"] > 0 and step < c["warmup_steps"]:
        lr *= (step + 1) / c["warmup_steps"]
    return lr


def make_optimizer(c, params):
    if c["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"],
                               nesterov=c["nesterov"] and c["momentum"] > 0, weight_decay=c["weight_decay"])
    if c["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=c["lr"], weight_decay=c["weight_decay"])
    return torch.optim.Adam(params, lr=c["lr"], weight_decay=c["weight_decay"])


def aux_loss(model):
    """The gate Combines' load-balancing terms of the last forward pass."""
    terms = [m.aux_loss for m in model.modules() if getattr(m, "aux_loss", None) is not None]
    return sum(terms) if terms else 0.0


@torch.no_grad()
def hold_frozen(model, c):
    """What Particle Studio holds still: a frozen node's weights get no gradient, and with kept LoRA
    adapters an adapted node trains its adapters only. Returns the weights that train."""
    for name, p in model.named_parameters():
        node = name.split(".", 1)[0]
        if node in c["frozen"] or (c["adapters_kept"] and node in c["adapted"] and ".lora." not in name):
            p.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def train_mode(model, c):
    """Training mode, but frozen nodes evaluate (batch norm keeps its statistics), as in the engine."""
    model.train()
    for node in c["frozen"]:
        if node in model._modules:
            model._modules[node].eval()


def evaluate(model, x, y, batch, c):
    model.eval()
    loss, correct = 0.0, 0
    for start in range(0, x.shape[0], batch):
        logits = model(x[start:start + batch])
        loss += F.cross_entropy(logits, y[start:start + batch], reduction="sum").item()
        correct += (logits.argmax(1) == y[start:start + batch]).sum().item()
    train_mode(model, c)
    n = max(1, x.shape[0])
    return loss / n, correct / n


def main():
    c = dict(CONFIG)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=c["epochs"])
    parser.add_argument("--batch-size", type=int, default=c["batch_size"], help="per process")
    parser.add_argument("--lr", type=float, default=c["lr"])
    parser.add_argument("--seed", type=int, default=c["seed"])
    parser.add_argument("--threads", type=int, default=c["threads"] or os.cpu_count(),
                        help="CPU threads per process (default: the project's, else every core)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"),
                        help="of the forward pass and the loss (default: the project's, %s)" % c["precision"])
    parser.add_argument("--data", default=os.path.join(HERE, "data.pt"))
    parser.add_argument("--weights", help="start from these weights (e.g. weights.pt) instead of a fresh model")
    parser.add_argument("--out", default=os.path.join(HERE, "trained.pt"), help="where rank 0 writes the weights")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line at the end")
    args = parser.parse_args()
    c.update(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    if device.type == "cpu":
        torch.set_num_threads(max(1, args.threads))
    precision = args.precision or c["precision"]
    why = precision_unsupported(precision, device)
    if why:
        sys.exit("%s: %s" % ("--precision " + precision if args.precision else "training.precision", why))
    # Autocast computes in bf16/fp16 where it pays and keeps float32 where it must (the loss, the
    # reductions); the parameters and the optimiser's state stay float32.
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = (lambda: torch.autocast(device.type, dtype=low)) if low else contextlib.nullcontext
    scaler = torch.cuda.amp.GradScaler(enabled=precision == "fp16")  # fp16 gradients underflow
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    data = load_data(args.data, device)
    train_x, train_y = data["train"]
    torch.manual_seed(c["seed"])
    model = ParticleModel()
    model.fit(train_x)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    model.to(device)
    train_mode(model, c)
    trained = hold_frozen(model, c)
    if c["adapted"] and not c["adapters_kept"] and rank == 0:
        print("note: LoRA adapters were merged into %s, which train whole here (export with --keep-adapters "
              "to train the adapters only)" % ", ".join(c["adapted"]), flush=True)
    net = model
    if world > 1:  # rank 0's initial weights are broadcast; gradients are averaged in buckets
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(c, trained)

    n = train_x.shape[0]
    batch = min(c["batch_size"], n)
    global_batch = batch * world
    steps_per_epoch = (n + global_batch - 1) // global_batch
    step, seen, train_seconds = 0, 0, 0.0
    log = (lambda *a: print(*a, flush=True)) if rank == 0 else (lambda *a: None)
    log("%s: %d train / %d validation / %d test samples, %d process(es) × batch %d, %s, %s, %d thread(s)"
        % (c["name"], n, data["val"][0].shape[0], data["test"][0].shape[0], world, batch, device, precision,
           torch.get_num_threads()))
    for epoch in range(c["epochs"]):
        g = torch.Generator().manual_seed(c["seed"] * 1000003 + epoch + 1)
        perm = torch.randperm(n, generator=g).to(device)
        augment_g = augment_generator(c["seed"], epoch, rank) if augmenting(c) else None
        loss_sum, correct, count = 0.0, 0, 0
        start = time.perf_counter()
        for b in range(steps_per_epoch):
            block = perm[b * global_batch:(b + 1) * global_batch]
            idx = block[rank * batch:(rank + 1) * batch]
            if idx.numel() == 0:  # the last global batch may not reach every rank
                idx = block[-1:]
            xb, yb = train_x.index_select(0, idx), train_y.index_select(0, idx)
            if augment_g is not None:  # training batches only, as the engine does
                if xb.dim() != 4:
                    sys.exit("augmentation needs samples shaped [C, H, W]; this data set's are %s"
                             % list(xb.shape[1:]))
                xb = augment_batch(xb, c, augment_g)
            for group in optimizer.param_groups:
                group["lr"] = scheduled_lr(c, step, steps_per_epoch)
            optimizer.zero_grad()
            with autocast():
                logits = net(xb)
                loss = F.cross_entropy(logits, yb, label_smoothing=c["label_smoothing"]) + aux_loss(model)
            value = loss.item()
            if not math.isfinite(value):
                sys.exit("training diverged: the loss became %s at step %d" % (value, step + 1))
            scaler.scale(loss).backward()
            if c["grad_clip"] > 0:
                scaler.unscale_(optimizer)  # the norm of the true gradients
                torch.nn.utils.clip_grad_norm_(trained, c["grad_clip"])
            scaler.step(optimizer)  # skipped when an fp16 gradient overflowed (the scale then shrinks)
            scaler.update()
            step += 1
            loss_sum += value * idx.numel()
            correct += (logits.detach().argmax(1) == yb).sum().item()
            count += idx.numel()
        seconds = time.perf_counter() - start
        train_seconds += seconds
        seen += count * world
        if rank == 0:
            val_loss, val_acc = evaluate(model, *data["val"], min(1024, batch), c)
            log("epoch %d/%d: train loss %.4f, val loss %.4f, val accuracy %.2f%%, %.0f samples/s"
                % (epoch + 1, c["epochs"], loss_sum / max(1, count), val_loss, 100 * val_acc, count * world / seconds))
    summary = {"name": c["name"], "processes": world, "epochs": c["epochs"], "train_seconds": train_seconds,
               "samples_per_second": seen / train_seconds if train_seconds > 0 else 0.0, "device": str(device),
               "threads": torch.get_num_threads(), "precision": precision}
    if rank == 0:
        summary["test_loss"], summary["test_accuracy"] = evaluate(model, *data["test"], min(1024, batch), c)
        torch.save(model.state_dict(), args.out)
        log("test accuracy %.2f%%, %.0f samples/s over %.1f s of training; weights in %s"
            % (100 * summary["test_accuracy"], summary["samples_per_second"], train_seconds, args.out))
        if args.json:
            print(json.dumps(summary), flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
