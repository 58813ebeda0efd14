#!/usr/bin/env bash
# The main job, end to end, from nothing:
#   dependencies -> build -> data -> EDA -> split -> fine-tune (quick setting) -> test metrics
#   -> how to start the web app (or start it with --serve).
#
#   ./run.sh [--binary] [--serve] [--setting quick|long|smoke]
#
#   --binary   spam vs ham (data/spamassassin-binary.csv) instead of the 5 groups
#   --serve    start the web app on the trained model at the end (Ctrl+C to stop)
#   --setting  quick (default; about 3 min of training on 2 idle cores), long (4 epochs, about twice that), or smoke
#              (checks that every stage runs; not a quality setting)
# Outputs go to runs/ (EDA report, split, checkpoints, metrics); every stage says where.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(pwd)"

labels=groups serve=0 setting=quick
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) labels=binary ;;
    --serve) serve=1 ;;
    --setting) setting="${2:?--setting needs quick, long or smoke}"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

BUILD="${RGRID_BUILD_DIR:-$ROOT/build}"
BIN="$BUILD/bin"
RUNS="$ROOT/runs"
if [ "$labels" = binary ]; then DATA="$ROOT/data/spamassassin-binary.csv"; else DATA="$ROOT/data/spamassassin.csv"; fi
NAME="${setting}-${labels}"
THREADS="${RGRID_THREADS:-$(nproc)}"
stage() { printf '\n==== [%s] %s ====\n' "$(date +%H:%M:%S)" "$*"; }
START=$(date +%s)

stage "1/7 dependencies (scripts/install-deps.sh --main)"
scripts/install-deps.sh --main

stage "2/7 build: rgrid-eda rgrid-split rgrid-finetune rgrid-predict rgrid-serve -> $BIN"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > /dev/null
targets=(rgrid-eda rgrid-split rgrid-finetune rgrid-predict)
[ -f examples/serve/main.cpp ] && targets+=(rgrid-serve)
cmake --build "$BUILD" -j"$(nproc)" --target "${targets[@]}"

stage "3/7 data: scripts/get-data.sh -> data/"
scripts/get-data.sh
echo "data: $DATA ($(($(wc -l < "$DATA"))) lines)"

stage "4/7 EDA: rgrid-eda -> $RUNS/eda-$labels/ (report.html, eda.json, clean.csv)"
"$BIN/rgrid-eda" --input "$DATA" --out "$RUNS/eda-$labels"

stage "5/7 split: rgrid-split --seed 42 -> $RUNS/split-$labels/ (train.csv, val.csv, test.csv, split.json)"
"$BIN/rgrid-split" --input "$DATA" --out "$RUNS/split-$labels" --seed 42

# quick: a 2-layer BERT (hidden 128) trained from scratch, 128-token windows (stride 32), at most
# 2 windows per training document (its first 220 tokens); evaluation uses every window.
# long: the quick setting for 4 epochs (the longer setting measured in docs/results.md).
# smoke: checks the stages only.
case "$setting" in
  quick) ARGS=(--preset tiny --epochs 2 --batch-size 16 --lr 1e-3 --warmup-ratio 0.1 --max-length 128 --stride 32
               --max-windows 2) ;;
  long)  ARGS=(--preset tiny --epochs 4 --batch-size 16 --lr 1e-3 --warmup-ratio 0.1 --max-length 128 --stride 32
               --max-windows 2) ;;
  smoke) ARGS=(--preset tiny --epochs 1 --batch-size 32 --lr 1e-3 --max-length 32 --stride 8 --max-windows 1) ;;
  *) echo "run.sh: unknown setting '$setting' (quick, long, smoke)" >&2; exit 2 ;;
esac
OUT="$RUNS/$NAME"
stage "6/7 fine-tune ($setting): rgrid-finetune ${ARGS[*]} -> $OUT/"
"$BIN/rgrid-finetune" --train "$RUNS/split-$labels/train.csv" --val "$RUNS/split-$labels/val.csv" \
  --test "$RUNS/split-$labels/test.csv" --out "$OUT" --seed 42 --threads "$THREADS" "${ARGS[@]}" \
  | tee "$OUT.log"

stage "7/7 test predictions: rgrid-predict on the test split -> $OUT/test_predictions.csv"
"$BIN/rgrid-predict" --model "$OUT/best" --input "$RUNS/split-$labels/test.csv" \
  --output "$OUT/test_predictions.csv" --threads "$THREADS" 2> "$OUT/test_report.txt"
grep -E "^\[predict\]|^accuracy" "$OUT/test_report.txt" || true
echo "(full report: $OUT/test_report.txt; the same numbers as the test metrics of stage 6)"

echo
echo "Done in $(( ($(date +%s) - START) / 60 )) min $(( ($(date +%s) - START) % 60 )) s."
echo "  EDA report:      $RUNS/eda-$labels/report.html"
echo "  model:           $OUT/best/ (HF layout: config.json, model.safetensors, vocab.txt)"
echo "  metrics/curves:  $OUT/metrics.jsonl, $OUT/curves.svg, log $OUT.log"
echo "  predict a text:  $BIN/rgrid-predict --model $OUT/best --text \"Win a FREE prize now\""
if [ -x "$BIN/rgrid-serve" ]; then
  if [ "$serve" = 1 ]; then
    stage "web app: rgrid-serve --model $OUT/best on http://127.0.0.1:8080/"
    exec "$BIN/rgrid-serve" --model "$OUT/best" --port 8080
  fi
  echo "  web app:         $BIN/rgrid-serve --model $OUT/best --port 8080   (or ./run.sh --serve), then open http://127.0.0.1:8080/"
fi
