#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job on the default
# example. With a display, opens the desktop application (when it is built); without one, trains
# the default example headless with the `particle` CLI.
#   scripts/run.sh [PROJECT] [extra `particle train` options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
build="${PARTICLE_BUILD_DIR:-$here/build}"
project="${1:-$here/resources/examples/fashion-patches.particle.json}"
shift || true
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x "$build/bin/particle-studio" && $# -eq 0 ]]; then
  exec "$build/bin/particle-studio" "$project"
fi
"$build/bin/particle" check "$project"
exec "$build/bin/particle" train "$project" "$@"
