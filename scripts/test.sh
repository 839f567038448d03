#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run every test (CTest).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
build="${PARTICLE_BUILD_DIR:-$here/build}"
cd "$build"
# GUI tests run on the offscreen platform; two cores, so tests run one at a time (each uses both).
QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 1200 "$@"
