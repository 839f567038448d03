#!/usr/bin/env bash
# Installs every Debian package Particle Studio needs (idempotent: a no-op when all are present)
# and configures + builds the project in build/.  Usage: scripts/setup.sh [--no-build]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev qt6-svg-dev libqt6svg6 qt6-qpa-plugins libgl-dev
  libtorch-dev libopenblas0-openmp libgloo-dev
  libqcustomplot-dev nlohmann-json3-dev zlib1g-dev libstb-dev libcsv-dev libsentencepiece-dev
  libsndfile1-dev
  dataset-fashion-mnist python3-torch python3-torchvision python3-numpy python3-onnx
  xvfb xauth clang-format clang-tidy nodejs chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm: Debian's package, unless the nodejs installed already brings its own (NodeSource's does).
if ! command -v npm > /dev/null; then
  echo "setup: installing npm"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm ||
    echo "setup: npm could not be installed; ONNX Runtime will be missing and the ONNX export check will skip" >&2
fi

# ONNX Runtime for the ONNX export's check (model.onnx run on the reference batch): its CPU library
# ships inside the npm package onnxruntime-node, installed into .deps/onnxruntime (git-ignored; the
# export finds it there, or at $PARTICLE_ONNXRUNTIME). --ignore-scripts: the package's install
# script only fetches GPU extras from a host outside reach. Offline, this is skipped, not a failure.
ort="$here/.deps/onnxruntime"
ort_version=1.31.1
if ! grep -qs "\"version\": \"$ort_version\"" "$ort/node_modules/onnxruntime-node/package.json"; then
  if ! command -v npm > /dev/null; then
    echo "setup: no npm; ONNX Runtime not installed (the ONNX export check will skip)" >&2
  elif mkdir -p "$ort" && npm install --prefix "$ort" --ignore-scripts --no-audit --no-fund --fetch-retries=1 \
                             --loglevel=error "onnxruntime-node@$ort_version" > "$ort/npm.log" 2>&1; then
    echo "setup: ONNX Runtime $ort_version (npm onnxruntime-node) in $ort"
  else
    echo "setup: npm could not install onnxruntime-node ($ort/npm.log says why); ONNX Runtime not installed, the" \
         "ONNX export check will skip. Later: npm install --prefix $ort --ignore-scripts onnxruntime-node@$ort_version" >&2
  fi
fi

# The TorchScript example's module (resources/modules/, git-ignored: written, not committed), and
# the ResNet-18 variant the example's doc names when torchvision is there.
if /usr/bin/python3 -c "import torch" 2> /dev/null && [[ ! -f "$here/resources/modules/patch-cnn.pt" ]]; then
  /usr/bin/python3 "$here/scripts/make-modules.py" "$here/resources/modules" --only patch-cnn
fi
if /usr/bin/python3 -c "import torchvision" 2> /dev/null && [[ ! -f "$here/resources/modules/resnet18.pt" ]]; then
  /usr/bin/python3 "$here/scripts/make-modules.py" "$here/resources/modules" --only resnet18
fi

[[ "${1:-}" == "--no-build" ]] && exit 0

build="${PARTICLE_BUILD_DIR:-$here/build}"
jobs="${PARTICLE_JOBS:-$(nproc)}"
# PARTICLE_BUILD_BENCH=OFF: a first configure without the benchmarks (scripts/test.sh does so).
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPARTICLE_BUILD_BENCH="${PARTICLE_BUILD_BENCH:-ON}"
fi
cmake --build "$build" -j "$jobs"
