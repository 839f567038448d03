#!/usr/bin/env python3
"""Same work, side by side: trains a project with the engine (`particle train`) and with its
exported train.py (`particle export`, plain PyTorch) — same model, data, batch, optimiser, schedule,
seed, threads and precision — and prints both samples/s, the ratio and both test accuracies.

    /usr/bin/python3 bench/export_peer.py [--project P] [--epochs 1] [--threads 2] [--precision fp32|bf16|fp16]
                                          [--device cpu|cuda] [--cli build/bin/particle]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--project", default=os.path.join(root, "resources/examples/fashion-patches.particle.json"))
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--cli", default=os.path.join(root, "build/bin/particle"))
parser.add_argument("--device", default="cpu")
parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                    help="for both trainers (particle train --precision, train.py --precision)")
args = parser.parse_args()


def run(command, **kw):
    """Runs one trainer; a refusal (e.g. a precision this machine lacks) ends here with its exit code,
    the trainer's own message above it."""
    done = subprocess.run(command, **kw)
    if done.returncode != 0:
        sys.exit("export_peer: %s exited with %d" % (" ".join(command[:2]), done.returncode))
    return done


with tempfile.TemporaryDirectory() as tmp:
    common = ["--epochs", str(args.epochs), "--threads", str(args.threads), "--precision", args.precision]
    run([args.cli, "train", args.project, "--out", tmp + "/engine", "--device", args.device] + common,
        stdout=subprocess.DEVNULL)
    with open(tmp + "/engine/summary.json") as f:
        engine = json.load(f)
    run([args.cli, "export", args.project, "--out", tmp + "/export"], stdout=subprocess.DEVNULL)
    out = run([sys.executable, tmp + "/export/train.py", "--json", "--device", args.device] + common,
              stdout=subprocess.PIPE, text=True).stdout
    peer = json.loads(out.strip().splitlines()[-1])

name = os.path.basename(args.project).replace(".particle.json", "")
print("%s, %d epoch(s), %d thread(s), %s, %s" % (name, args.epochs, args.threads, args.device, args.precision))
print("| trainer | samples/s | test accuracy |\n|---|---|---|")
print("| engine (`particle train`) | %.0f | %.2f%% |" % (engine["samples_per_second"], 100 * engine["test_accuracy"]))
print("| exported train.py (PyTorch eager) | %.0f | %.2f%% |" % (peer["samples_per_second"], 100 * peer["test_accuracy"]))
print("ratio engine / exported PyTorch = %.2f (goal >= 1.2 at the same precision)"
      % (engine["samples_per_second"] / peer["samples_per_second"]))
