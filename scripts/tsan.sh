#!/usr/bin/env bash
# The threaded tests under ThreadSanitizer: the trainer's control token (pause, resume, stop,
# live changes from another thread), the Train tab's engine thread, the Explain tab's worker and
# closing the window while they run. Builds build-tsan (engine, app and these tests only).
#   scripts/tsan.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh" --no-build
tsan="${PARTICLE_TSAN_BUILD_DIR:-$here/build-tsan}"
if [[ ! -f "$tsan/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$tsan" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTICLE_SANITIZE=thread -DPARTICLE_BUILD_BENCH=OFF
fi
tests=(tst_trainer tst_training tst_explainview tst_shutdown)
cmake --build "$tsan" -j "${PARTICLE_JOBS:-$(nproc)}" --target "${tests[@]}"
# LibTorch's OpenMP runtime is not instrumented: one intra-op thread keeps its (false) reports out;
# the project's own threads are what is checked. Suppressions: scripts/tsan.supp.
export OMP_NUM_THREADS=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$here/scripts/tsan.supp:${TSAN_OPTIONS:-}"
export QT_QPA_PLATFORM=offscreen QTEST_FUNCTION_TIMEOUT=900000
for t in "${tests[@]}"; do
  echo "== $t under TSan"
  "$tsan/tests/$t"
done
echo "TSan: ${tests[*]} clean"
