#!/usr/bin/env bash
# The GPU path, in one short run (docs/EXPORT.md, "GPU check"):
#   scripts/gpu-check.sh [cuda|cpu] [EPOCHS]        default: cuda when PyTorch sees one, else cpu
# 1. configures the engine, the CLI and the engine tests against the LibTorch that this machine's
#    PyTorch ships (torch.utils.cmake_prefix_path; upstream 2.x wheels carry it, Debian's
#    python3-torch does not, and then Debian's libtorch-dev is used) in build-gpu/, no app;
# 2. builds them and runs the engine tests (their projects say device "auto": the GPU when there is one);
# 3. prints `particle info` (every CUDA device LibTorch sees, with name and memory);
# 4. trains fashion-patches with the engine and with its exported train.py on the same device,
#    same model, data, batch, optimiser and threads (bench/export_peer.py), and prints both, in each
#    precision (training.precision): fp32, bf16 and fp16 on cuda; on cpu fp32, and bf16 where the CPU
#    has AVX512_BF16 or AMX (fp16 trains on CUDA only).
# It runs where no GPU exists (cpu), so it is tested here. Figures go to docs/BENCHMARKS.md.
# PARTICLE_PYTHON chooses the Python; $OUT, when set, receives gpu-check.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
python=""
for candidate in ${PARTICLE_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c "import torch" 2>/dev/null; then python="$candidate"; break; fi
done
[[ -n "$python" ]] || { echo "gpu-check: no Python with PyTorch (set PARTICLE_PYTHON)" >&2; exit 3; }
device="${1:-$("$python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}"
epochs="${2:-1}"
build="${PARTICLE_GPU_BUILD_DIR:-$here/build-gpu}"
log="${OUT:-$build}/gpu-check.txt"
mkdir -p "$build" "$(dirname "$log")"
: > "$log"
say() { echo "$@" | tee -a "$log"; }

prefix="$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
torch_version="$("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)')"
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTICLE_BUILD_GUI=OFF -DPARTICLE_BUILD_BENCH=OFF)
if [[ -f "$prefix/Torch/TorchConfig.cmake" ]]; then
  cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix")
  say "gpu-check: LibTorch of $python (PyTorch $torch_version) at $prefix"
else
  say "gpu-check: $python (PyTorch $torch_version) ships no CMake package; using the system LibTorch"
fi
if ! cmake -S "$here" -B "$build" "${cmake_args[@]}" > "$build/configure.log" 2>&1; then
  # Without Qt 6 Test there are no test executables: the CLI alone.
  cmake -S "$here" -B "$build" "${cmake_args[@]}" -DPARTICLE_BUILD_TESTS=OFF > "$build/configure.log" 2>&1 ||
    { tail -30 "$build/configure.log" >&2; exit 3; }
  say "gpu-check: Qt 6 Test not found, engine tests not built"
fi
targets=(particle)
for t in tst_graphvalidation tst_model tst_trainer tst_explain tst_data; do
  if grep -q "^build tests/$t\b\|$t:" "$build/build.ninja" 2>/dev/null; then targets+=("$t"); fi
done
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
if (( ${#targets[@]} > 1 )); then
  (cd "$build" && ctest --output-on-failure -R "tst_graphvalidation|tst_model|tst_trainer|tst_explain|tst_data") 2>&1 |
    tail -12 | tee -a "$log"
fi
"$build/bin/particle" info | tee -a "$log"
failed=0
for precision in fp32 bf16 fp16; do
  if [[ "$device" == cpu && "$precision" == fp16 ]]; then
    say "gpu-check: fp16 skipped: it trains on CUDA only (with loss scaling)"
    continue
  fi
  if [[ "$device" == cpu && "$precision" == bf16 ]] && ! grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
    say "gpu-check: bf16 skipped: this CPU has neither AVX512_BF16 nor AMX"
    continue
  fi
  say "gpu-check: fashion-patches on $device in $precision, $epochs epoch(s): engine vs exported train.py"
  # One precision refused (bf16 on a GPU before compute capability 8.0) leaves the others to run.
  if ! PARTICLE_PYTHON="$python" "$python" "$here/bench/export_peer.py" --cli "$build/bin/particle" \
    --device "$device" --precision "$precision" --epochs "$epochs" 2>&1 | tee -a "$log"; then
    say "gpu-check: $precision failed (above)"
    failed=1
  fi
done
say "gpu-check: done ($log)"
exit "$failed"
