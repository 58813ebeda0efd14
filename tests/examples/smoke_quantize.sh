#!/usr/bin/env bash
# End to end int8: rgrid-finetune (tiny preset) -> rgrid-quantize -> rgrid-predict on the int8
# checkpoint and with --int8 (quantize on load): the same labels as fp32 on every test
# document, identical output from the two int8 routes, and refusals with a message.
# usage: smoke_quantize.sh FINETUNE PREDICT QUANTIZE WORKDIR
set -euo pipefail
FT="$1" PR="$2" QZ="$3" W="$4"
rm -rf "$W" && mkdir -p "$W"
source "$(dirname "${BASH_SOURCE[0]}")/gen_topics.sh"  # gen FILE N SEED
gen "$W/train.csv" 64 1; gen "$W/val.csv" 16 2; gen "$W/test.csv" 24 3
"$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/run" --preset tiny --epochs 3 \
  --max-length 32 --stride 8 --batch-size 8 --lr 1e-3 --threads 2 > "$W/finetune.log"

"$QZ" "$W/run/best" "$W/int8" | tee "$W/quantize.out"
grep -q "quantized 12 Linear layers to int8" "$W/quantize.out"
grep -q '"quant_method": "rgrid_dynamic_int8"' "$W/int8/config.json"
for f in config.json model.safetensors vocab.txt tokenizer_config.json inference_config.json; do
  [ -s "$W/int8/$f" ] || { echo "missing $W/int8/$f"; exit 1; }
done

labels() { cut -d, -f3 "$1" | tail -n +2; }  # the prediction column (texts hold no commas)
"$PR" --model "$W/run/best" --input "$W/test.csv" --output "$W/fp32.csv" 2> "$W/fp32.err"
"$PR" --model "$W/int8" --input "$W/test.csv" --output "$W/int8.csv" 2> "$W/int8.err"
"$PR" --model "$W/run/best" --int8 --input "$W/test.csv" --output "$W/onload.csv" 2> "$W/onload.err"
grep -q "fp32$" "$W/fp32.err" && grep -q "int8$" "$W/int8.err" && grep -q "int8$" "$W/onload.err"
cmp "$W/int8.csv" "$W/onload.csv"  # a saved int8 checkpoint = quantizing on load, byte for byte
if ! diff <(labels "$W/fp32.csv") <(labels "$W/int8.csv"); then
  echo "int8 labels differ from fp32"; exit 1
fi
! cmp -s "$W/fp32.csv" "$W/int8.csv"  # the probabilities differ: int8 really ran
"$PR" --model "$W/int8" --text "cheese bread soup rice" | grep -q "^label: food"

expect_fail() {  # PATTERN CMD...: non-zero exit (not a crash) with a message matching PATTERN
  local pat=$1; shift
  set +e; "$@" > "$W/bad.out" 2>&1; local rc=$?; set -e
  if [ $rc -eq 0 ] || [ $rc -ge 128 ] || ! grep -q -- "$pat" "$W/bad.out"; then
    echo "expected failure matching '$pat' (rc=$rc):"; cat "$W/bad.out"; exit 1
  fi
}
expect_fail "already an int8 checkpoint" "$QZ" "$W/int8" "$W/int8-again"
expect_fail "is IN_DIR" "$QZ" "$W/run/best" "$W/run/best"
expect_fail "is an int8 checkpoint" "$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/ft-int8" \
  --init "$W/int8" --epochs 1 --max-length 32 --stride 8
cp -r "$W/int8" "$W/broken"
sed -i 's/"rgrid_dynamic_int8"/"other_method"/' "$W/broken/config.json"
expect_fail "quant_method" "$PR" --model "$W/broken" --text "cheese"
"$QZ" --help | grep -q -- "--pooler"
echo "smoke_quantize: ok"
