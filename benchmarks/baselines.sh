#!/usr/bin/env bash
# The classical baseline of docs/results.md on the split ./run.sh uses (seed 42): TF-IDF (word 1-2
# grams, sublinear tf) + logistic regression, on the whole texts and on what the first sliding
# window(s) of the model hold (the texts cut after their first N word pieces).
#
#   benchmarks/baselines.sh [--labels groups|binary] [--first-tokens 0,126,254,510] [--C 10] [--out DIR]
#
# Creates .venv-baselines/ from requirements/baselines.txt (scikit-learn; its own venv, so the
# peers' .venv stays as pinned), builds rgrid-split, fetches the corpus and the model (for its
# tokenizer.json), splits, and writes DIR/baselines.json (default runs/baselines-LABELS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
labels=groups first=0,126,254,510 C=10 out="" build="$ROOT/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --labels) labels="$2"; shift ;;
    --first-tokens) first="$2"; shift ;;
    --C) C="$2"; shift ;;
    --out) out="$2"; shift ;;
    --build) build="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "baselines.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$labels" in groups) DATA=data/spamassassin.csv ;; binary) DATA=data/spamassassin-binary.csv ;;
  *) echo "baselines.sh: --labels is groups or binary, not '$labels'" >&2; exit 2 ;; esac
[ -n "$out" ] || out="$ROOT/runs/baselines-$labels"
mkdir -p "$out"

PY="$(RGRID_VENV="$ROOT/.venv-baselines" scripts/setup-python.sh requirements/baselines.txt | tail -n 1)"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target rgrid-split >/dev/null
scripts/get-data.sh >/dev/null
scripts/get-model.sh >/dev/null
"$build/bin/rgrid-split" --input "$DATA" --out "$out/split" --seed 42 >/dev/null
"$PY" benchmarks/peers/baselines.py --train "$out/split/train.csv" --test "$out/split/test.csv" \
  --tokenizer "${RGRID_MODELS_DIR:-$ROOT/models}/minilm-l6/tokenizer.json" --first-tokens "$first" --C "$C" \
  --out "$out/baselines.json"
echo "baselines.sh: wrote $out/baselines.json" >&2
