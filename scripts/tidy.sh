#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy, warnings as errors) over the project's own sources, using
# the build folder's compile_commands.json.
#   scripts/tidy.sh [BUILD_DIR] [--all]
# By default the sources that do not include LibTorch (the graph, schema, data and training
# sections, recipes, the CLI-free core and every Qt widget): the clang_tidy CTest runs this. With
# --all also the ones that do (model, trainer, explainer, the node types and data kinds, the
# engine threads of the app, the CLI): each of those parses LibTorch's headers and takes ~30 s.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
all=0
for a in "$@"; do
  case "$a" in
  --all) all=1 ;;
  *) build="$a" ;;
  esac
done
if ! command -v clang-tidy > /dev/null; then
  echo "clang-tidy is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
[[ -f "$build/compile_commands.json" ]] || {
  echo "$build/compile_commands.json is missing: configure the build first" >&2
  exit 1
}
mapfile -t files < <(python3 - "$build/compile_commands.json" "$here" "$all" << 'EOF'
import json, sys
commands, root, every = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3] == "1"
picked = set()
for c in commands:
    f = c["file"]
    own = f.startswith(root + "/engine/") or f.startswith(root + "/ui/") or f.startswith(root + "/app/")
    unity = "/Unity/unity_" in f and "particle_engine" in f  # the node types and data kinds
    if not (own or unity):
        continue
    if not every and ("cmake_pch" in c.get("command", "") or unity):
        continue
    picked.add(f)
print("\n".join(sorted(picked)))
EOF
)
echo "clang-tidy over ${#files[@]} files ($([[ $all == 1 ]] && echo all || echo "those without LibTorch; --all for every file"))"
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "${PARTICLE_JOBS:-$(nproc)}" -I{} sh -c 'clang-tidy --quiet -p "$0" "$1" 2> /dev/null || echo "FAILED: $1" >&2' "$build" {} \
    > "$build/clang-tidy.log" 2> "$build/clang-tidy.failed" || true
grep -E "(warning|error):" "$build/clang-tidy.log" | sort -u || true
if [[ -s "$build/clang-tidy.failed" ]]; then
  cat "$build/clang-tidy.failed" >&2
  status=1
fi
[[ $status == 0 ]] && echo "clang-tidy: clean"
exit $status
