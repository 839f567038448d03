#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS (default 600) on every core but one, starting from the
# seeds in fuzz/seeds/TARGET and the corpus kept in build-fuzz/corpus/TARGET. Builds the targets
# first (clang, ASan+UBSan, coverage; in build-fuzz/). A crash, a sanitizer report, a leak, an
# exception other than the project's own or an input slower than 10 s stops it, and the input is
# left in build-fuzz/findings/TARGET.
#   scripts/fuzz.sh project|idx|csv|npy|text|image|audio [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:?usage: scripts/fuzz.sh project|idx|csv|npy|text|image|audio [SECONDS]}"
seconds="${2:-600}"
[[ -d "$here/fuzz/seeds/$target" ]] || { echo "fuzz.sh: no target \"$target\" (fuzz/seeds/ has: $(ls "$here/fuzz/seeds" | tr '\n' ' '))" >&2; exit 2; }
build="$here/build-fuzz"
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARTICLE_SANITIZE=fuzzer -DPARTICLE_BUILD_GUI=OFF -DPARTICLE_BUILD_TESTS=OFF -DPARTICLE_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target"
corpus="$build/corpus/$target"
findings="$build/findings/$target"
mkdir -p "$corpus" "$findings"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1
cd "$findings"
exec "$build/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
  -print_final_stats=1 "$corpus" "$here/fuzz/seeds/$target"
