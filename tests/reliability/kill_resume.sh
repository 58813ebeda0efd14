#!/usr/bin/env bash
# Kill-and-resume (issue 8, item 1): rgrid-finetune is SIGKILLed at several points (inside an
# epoch, and while an epoch's checkpoint is being written), resumed with --resume OUT/last
# (or started again when no checkpoint exists yet), and its final weights must be
# byte-identical to those of an uninterrupted run with the same arguments.
#   tests/reliability/kill_resume.sh BIN_DIR WORK_DIR
set -u
bin="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
work="$2"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
ulimit -c 0

source "$here/fixtures.sh"
write_tiny_vocab vocab.txt
write_tiny_csv train.csv 24
printf 'text,label\nthe dog ran in the park,ham\nfree prize offer click now,spam\n' >val.csv
# 48 documents, batch 2: 24 steps per epoch, 3 epochs; --logging-steps 1 logs every step.
args=(--train train.csv --val val.csv --preset tiny --vocab vocab.txt --epochs 3 --batch-size 2
      --max-length 16 --stride 4 --seed 7 --threads 1 --logging-steps 1)

"$bin/rgrid-finetune" "${args[@]}" --out full >full.log 2>&1 || { echo "FAIL: uninterrupted run failed"; tail full.log; exit 1; }

failed=0
# Kill points: a few steps into epoch 2, the middle of epoch 2, and right after an epoch's
# evaluation is logged, i.e. while that epoch's checkpoint is being written.
for when in step:27 step:36 eval:24 eval:48; do
  rm -rf part
  "$bin/rgrid-finetune" "${args[@]}" --out part >part.log 2>&1 &
  kill_when "$when" $! part
  rc=$?
  steps=$(cat part/metrics.jsonl 2>/dev/null | grep -c '"type":"log"')
  if [[ $rc -ne 137 ]]; then
    echo "note [$when]: training ended (exit $rc) before the kill"
  fi
  if [[ -f part/last/training_state.safetensors ]]; then
    how="resumed with --resume part/last"
    "$bin/rgrid-finetune" "${args[@]}" --out part --resume part/last >resume.log 2>&1
  else
    how="no checkpoint yet: started again"
    "$bin/rgrid-finetune" "${args[@]}" --out part >resume.log 2>&1
  fi || { echo "FAIL [$when]: the run after the kill failed:"; tail -5 resume.log; failed=$((failed + 1)); continue; }
  if cmp -s full/last/model.safetensors part/last/model.safetensors; then
    echo "ok   [$when] SIGKILL after $steps logged steps, $how: final weights byte-identical"
  else
    echo "FAIL [$when] SIGKILL after $steps logged steps, $how: final weights differ from the uninterrupted run"
    failed=$((failed + 1))
  fi
done
[[ $failed -eq 0 ]]
