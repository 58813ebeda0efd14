#!/usr/bin/env bash
# Smoke test of the pipeline programs on a tiny generated CSV:
#   rgrid-finetune --preset tiny (1 epoch) -> checkpoint layout -> rgrid-predict (--text and --input CSV)
#   -> rgrid-finetune --resume RUN_DIR (a run's output directory; changed settings listed)
#   plus the command-line conventions (--help, --version, --name=value) and bad inputs that
#   must fail with a message (exit status != 0, no crash).
# usage: smoke_finetune_predict.sh FINETUNE PREDICT WORKDIR
set -euo pipefail
FT="$1" PR="$2" W="$3"
rm -rf "$W" && mkdir -p "$W"
source "$(dirname "${BASH_SOURCE[0]}")/gen_topics.sh"  # gen FILE N SEED
gen "$W/train.csv" 48 1; gen "$W/val.csv" 16 2; gen "$W/test.csv" 16 3

"$FT" --train "$W/train.csv" --val "$W/val.csv" --test "$W/test.csv" --out "$W/run" --preset tiny --epochs 1 \
  --max-length 32 --stride 8 --batch-size 8 --lr 1e-3 --threads 2 > "$W/finetune.log"
grep -q "Windows:" "$W/finetune.log"
grep -q "Epoch | Training Loss | Validation Loss | Accuracy | Precision | Recall | F1" "$W/finetune.log"
grep -q "test_accuracy" "$W/finetune.log"
for f in best/config.json best/model.safetensors best/vocab.txt best/tokenizer_config.json last/training_state.safetensors \
         metrics.jsonl curves.svg; do
  [ -s "$W/run/$f" ] || { echo "missing $W/run/$f"; exit 1; }
done
grep -q '"id2label"' "$W/run/best/config.json"

"$PR" --model "$W/run/best" --text "cheese bread soup rice" | tee "$W/text.out"
grep -q "^label: " "$W/text.out"
# --name=value means the same as --name value
"$PR" --model="$W/run/best" --text="cheese bread soup rice" > "$W/text_eq.out"
cmp "$W/text.out" "$W/text_eq.out"
"$PR" --model "$W/run/best" --input "$W/test.csv" --output "$W/pred.csv" 2> "$W/predict.err"
head -1 "$W/pred.csv" | grep -q "text,label,prediction,prob_food,prob_sports"
[ "$(wc -l < "$W/pred.csv")" -ge 17 ]
grep -q "accuracy" "$W/predict.err"

# --eval-max-windows caps the validation/test windows (first ones) and is saved for prediction
"$FT" --train "$W/train.csv" --val "$W/val.csv" --test "$W/test.csv" --out "$W/run-ev1" --preset tiny --epochs 1 \
  --max-length 32 --stride 8 --batch-size 8 --lr 1e-3 --threads 2 --eval-max-windows 1 > "$W/finetune-ev1.log"
grep -q "Windows: .*, 16 validation" "$W/finetune-ev1.log" || { cat "$W/finetune-ev1.log"; exit 1; }
grep -q "16 documents, 16 windows" "$W/finetune-ev1.log"
grep -q '"max_windows": 1' "$W/run-ev1/best/inference_config.json"
"$PR" --model "$W/run-ev1/best" --input "$W/test.csv" --output "$W/pred-ev1.csv" 2> "$W/predict-ev1.err"
grep -q "16 documents -> 16 windows" "$W/predict-ev1.err" || { cat "$W/predict-ev1.err"; exit 1; }
"$PR" --model "$W/run-ev1/best" --input "$W/test.csv" --output "$W/pred-ev1-all.csv" --max-windows 0 2> "$W/predict-ev1.err"
! grep -q "16 documents -> 16 windows" "$W/predict-ev1.err"  # --max-windows overrides the saved cap

# --resume accepts the run's output directory (continuing from its last/) and lists the
# settings that differ from the run's: here one more epoch and another logging interval.
"$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/run" --preset tiny --epochs 2 --resume "$W/run" \
  --max-length 32 --stride 8 --batch-size 8 --lr 1e-3 --threads 2 --logging-steps 3 > "$W/resume.log" 2> "$W/resume.err"
grep -q "continuing from $W/run/last" "$W/resume.log"
grep -q "num_train_epochs: 1 -> 2" "$W/resume.err"
grep -q "logging_steps: 50 -> 3" "$W/resume.err"
! grep -q "learning_rate" "$W/resume.err"  # unchanged settings are not listed
[ "$(grep -c '"type":"eval"' "$W/run/metrics.jsonl")" -ge 2 ]  # epoch 2 was trained

# every program: --help lists its options with their defaults, --version names it
for prog in "$FT" "$PR"; do
  "$prog" --help > "$W/help.out"
  grep -q -- "--version" "$W/help.out"
  "$prog" --version | grep -q "^rgrid-[a-z]* [0-9]*\.[0-9]*\.[0-9]*$"
done
"$FT" --help > "$W/help.out"
for opt in --train --val --test --out --init --preset --resume --epochs --batch-size --lr --max-length --stride \
           --max-windows --eval-max-windows --aggregation --seed --threads --class-weights --warmup-ratio --weight-decay --patience \
           --logging-steps --vocab --text-col --label-col; do
  grep -q -- "^  $opt " "$W/help.out" || { echo "rgrid-finetune --help does not list $opt"; exit 1; }
done
grep -q -- "--epochs UINT .*(default 3; >= 1)" "$W/help.out"
tr -s ' \n' ' ' < "$W/help.out" | grep -q -- "--lr FLOAT .*(default 5e-05; > 0)"  # (the line wraps)

# bad inputs: clear message, non-zero exit, never a crash (status >= 128)
expect_fail() {
  local pat=$1; shift
  set +e; "$@" > "$W/bad.out" 2>&1; local rc=$?; set -e
  if [ $rc -eq 0 ] || [ $rc -ge 128 ] || ! grep -q -- "$pat" "$W/bad.out"; then
    echo "expected failure matching '$pat' (rc=$rc):"; cat "$W/bad.out"; exit 1
  fi
}
expect_fail "--max-length" "$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/bad" --preset tiny --max-length 600
expect_fail "stride" "$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/bad" --preset tiny --max-length 32 --stride 30
printf 'text,label\n"soup rice",weather\n' > "$W/badval.csv"
expect_fail "unknown label 'weather'" "$FT" --train "$W/train.csv" --val "$W/badval.csv" --out "$W/bad" --preset tiny
printf 'text,label\n' > "$W/empty.csv"
expect_fail "no rows" "$FT" --train "$W/empty.csv" --val "$W/val.csv" --out "$W/bad" --preset tiny
expect_fail "not a directory" "$PR" --model "$W/nope" --text "x"
expect_fail "unknown option '--epoch'" "$FT" --train "$W/train.csv" --val "$W/val.csv" --out "$W/bad" --preset tiny --epoch 1
[ ! -e "$W/bad" ]
echo "smoke test passed"
