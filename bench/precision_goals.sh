#!/bin/sh
# Issue 25's speed goals in one run on this machine, in the order they are read in
# docs/BENCHMARKS.md: the step's breakdown and the matmul peak (bench_step), fashion-patches
# 5 epochs in fp32 and in bf16 (samples/s, test accuracy, achieved GFLOP/s), the engine against
# its exported train.py at each precision, and the seed-model and in-app benchmarks.
# The fp32 fraction of the peak is measured in interleaved pairs as well — the peak, a 5-epoch fp32
# run, the peak again, PAIRS times (3) — so that both sides of each fraction see the same machine:
# on a shared virtual machine the peak moves between runs with the clock and the neighbours.
#   bench/precision_goals.sh [OUT]      (builds nothing: build bench_step, bench_seed, bench_gui
#                                        and particle first)
#   PAIRS=5 bench/precision_goals.sh    more pairs
set -eu
cd "$(dirname "$0")/.."
out=${1:-/tmp/precision-goals}
project=resources/examples/fashion-patches.particle.json
rm -rf "$out"
mkdir -p "$out"
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

pairs=${PAIRS:-3}
# The matmul peak measured now, on the quiet machine, into a cache of this run's own (a peak
# cached earlier under load would flatter the fraction); the runs below read it from there.
export XDG_CACHE_HOME="$out/cache"
echo "== matmul peak (particle info)"
build/bin/particle info --threads 2 | grep peak_

echo "== where a training step goes (bench_step)"
build/bin/bench_step --steps 40 --profile-steps 10
echo "== the 2×2 max-pool and its ReLU alone, LibTorch's against ChannelsLastPool (bench_step --op pool)"
build/bin/bench_step --op pool --steps 50 --repeats 5

for precision in fp32 bf16; do
  echo "== particle train, 5 epochs, $precision"
  build/bin/particle train "$project" --epochs 5 --threads 2 --precision "$precision" --out "$out/$precision" \
    | grep -E "^epoch [0-9]+/|test accuracy|samples/s" | tail -3
done

# The fp32 fraction in pairs: each run between two measurements of the peak, each measurement in
# a fresh cache of its own (particle info measures what is missing; the run reads the one before).
echo "== fp32 fraction of the peak, $pairs interleaved pairs (peak, particle train fp32, peak)"
for i in $(seq "$pairs"); do
  XDG_CACHE_HOME="$out/pair$i/before" build/bin/particle info --threads 2 > /dev/null
  XDG_CACHE_HOME="$out/pair$i/before" build/bin/particle train "$project" --epochs 5 --threads 2 --precision fp32 \
    --out "$out/pair$i/fp32" > "$out/pair$i/train.log"
  XDG_CACHE_HOME="$out/pair$i/after" build/bin/particle info --threads 2 > /dev/null
  echo "pair $i done $(date -u '+%H:%M:%S UTC')"
done
/usr/bin/python3 - "$out" "$pairs" <<'EOF'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def peak(cache):
    doc = json.load(open("%s/particle-studio/peak.json" % cache))
    e = next(e for e in doc["entries"] if e["precision"] == "fp32")
    return e["gflops"], e.get("route", "?"), e.get("routes", {})
fractions = []
print("| pair | peak before (route; other) | samples/s | achieved GFLOP/s | peak after | of the mean peak (of before / after) |")
print("|---|---|---|---|---|---|")
for i in range(1, pairs + 1):
    s = json.load(open("%s/pair%d/fp32/summary.json" % (out, i)))
    achieved = 3 * s["flops_per_sample"] * s["samples_per_second"] / 1e9
    before, route, routes = peak("%s/pair%d/before" % (out, i))
    before = s.get("peak_gflops") or before  # the figure the run read as it started
    after = peak("%s/pair%d/after" % (out, i))[0]
    mean = (before + after) / 2
    fractions.append(achieved / mean)
    others = "".join("; %s %.1f" % (k, v) for k, v in sorted(routes.items()) if k != route)
    print("| %d | %.1f (%s%s) | %.0f | %.1f | %.1f | **%.1f%%** (%.1f%% / %.1f%%) |" % (
        i, before, route, others, s["samples_per_second"], achieved, after,
        100 * achieved / mean, 100 * achieved / before, 100 * achieved / after))
print("fp32 fraction of the peak over %d pairs: median %.1f%%, range %.1f-%.1f%% (goal >= 60%%)" % (
    pairs, 100 * statistics.median(fractions), 100 * min(fractions), 100 * max(fractions)))
EOF
/usr/bin/python3 - "$out" <<'EOF'
import json, sys
runs = {p: json.load(open("%s/%s/summary.json" % (sys.argv[1], p))) for p in ("fp32", "bf16")}
for p, s in runs.items():
    achieved = 3 * s["flops_per_sample"] * s["samples_per_second"] / 1e9
    peak = s.get("peak_gflops", 0)
    print("%s: %.0f samples/s, test accuracy %.2f%%, %.1f GFLOP/s achieved%s" % (
        p, s["samples_per_second"], 100 * s["test_accuracy"], achieved,
        ", %.0f%% of the %s peak %.0f GFLOP/s" % (100 * achieved / peak, p, peak) if peak else ""))
f, b = runs["fp32"], runs["bf16"]
print("bf16 / fp32 samples/s = %.2f (goal >= 1.6); test accuracy difference %.2f points (goal within 0.3)" % (
    b["samples_per_second"] / f["samples_per_second"], 100 * (b["test_accuracy"] - f["test_accuracy"])))
EOF

for precision in fp32 bf16; do
  echo "== engine vs exported train.py, $precision"
  /usr/bin/python3 bench/export_peer.py --epochs 1 --threads 2 --precision "$precision"
done

echo "== seed model (bench_seed)"
build/bin/bench_seed --threads 2 --epochs 3 --repeats 3
echo "== in-app training (bench_gui)"
# 7 pairs, alternating which run goes first (about 3 minutes): a pair's ratio moves by several per
# cent with the machine's other load, and the pairs say how busy the rest of the machine was.
QT_QPA_PLATFORM=offscreen build/bin/bench_gui --epochs 1 --repeats 7
echo "== done $(date -u '+%H:%M UTC')"
