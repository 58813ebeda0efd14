#!/usr/bin/env bash
# int8 vs fp32 on a labelled test split (issue 18's accuracy bounds): predictions of an fp32
# checkpoint and of its int8 form (rgrid-predict --int8, quantized on load) on the same CSV;
# prints the document agreement (target ≥ 99.5 %) and the accuracy of each (target: int8 drops
# ≤ 0.3 points), and exits 1 when a bound is missed.
#
#   benchmarks/int8_accuracy.sh CHECKPOINT TEST_CSV [BIN_DIR] [OUT_DIR]
#   e.g. after ./run.sh: benchmarks/int8_accuracy.sh runs/quick-groups/best runs/split-groups/test.csv build/bin
# Windows per document: the checkpoint's inference_config.json (what rgrid-finetune evaluated;
# ./run.sh's models: the first window). RGRID_THREADS=N sets rgrid-predict --threads (default: all cores).
set -euo pipefail
ckpt=$1 test_csv=$2 bin=${3:-build/bin} out=${4:-$(dirname "$ckpt")/int8-accuracy}
mkdir -p "$out"
threads=(--threads "${RGRID_THREADS:-0}")
"$bin/rgrid-predict" --model "$ckpt" --input "$test_csv" --output "$out/fp32.csv" "${threads[@]}" 2> "$out/fp32.log"
"$bin/rgrid-predict" --model "$ckpt" --int8 --input "$test_csv" --output "$out/int8.csv" "${threads[@]}" 2> "$out/int8.log"
python3 - "$out/fp32.csv" "$out/int8.csv" <<'PY'
import csv, sys
csv.field_size_limit(sys.maxsize)  # e-mails longer than 128 KiB
def read(p):
    rows = list(csv.DictReader(open(p, newline="")))
    return [r["label"] for r in rows], [r["prediction"] for r in rows]
y, p32 = read(sys.argv[1]); y8, p8 = read(sys.argv[2])
assert y == y8 and len(y) > 0, "the two prediction files do not cover the same documents"
n = len(y)
agree = sum(a == b for a, b in zip(p32, p8)) / n
acc32 = sum(a == b for a, b in zip(y, p32)) / n
acc8 = sum(a == b for a, b in zip(y, p8)) / n
drop = (acc32 - acc8) * 100
ok = agree >= 0.995 and drop <= 0.3
print(f"documents {n}: int8 agrees with fp32 on {agree * 100:.2f} % (target >= 99.5); "
      f"accuracy fp32 {acc32 * 100:.2f} %, int8 {acc8 * 100:.2f} %, drop {drop:.2f} points (target <= 0.3): "
      f"{'met' if ok else 'NOT met'}")
sys.exit(0 if ok else 1)
PY
