#!/usr/bin/env bash
# Kill-and-resume (issue 8, item 1): rgrid-finetune is SIGKILLed in the middle of epoch 2
# (after the epoch-1 checkpoint), resumed with --resume OUT/last, and its final weights must
# be byte-identical to those of an uninterrupted run with the same arguments.
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
# 48 documents, batch 4: 12 steps per epoch, 3 epochs; --logging-steps 1 logs every step.
args=(--train train.csv --val val.csv --preset tiny --vocab vocab.txt --epochs 3 --batch-size 4
      --max-length 16 --stride 4 --seed 7 --threads 1 --logging-steps 1)
steps_per_epoch=12

"$bin/rgrid-finetune" "${args[@]}" --out full >full.log 2>&1 || { echo "FAIL: uninterrupted run failed"; tail full.log; exit 1; }

for attempt in 1 2 3; do
  rm -rf part
  "$bin/rgrid-finetune" "${args[@]}" --out part >part.log 2>&1 &
  pid=$!
  # Wait until epoch 2 is under way: the epoch-1 state is saved and a few more steps are logged.
  target=$((steps_per_epoch + 2 + attempt))
  while kill -0 $pid 2>/dev/null; do
    steps=$(cat part/metrics.jsonl 2>/dev/null | grep -c '"type":"log"')
    if [[ -f part/last/training_state.safetensors && $steps -ge $target ]]; then
      kill -KILL $pid
      break
    fi
    sleep 0.01
  done
  wait $pid
  rc=$?
  if [[ $rc -eq 137 ]]; then
    echo "killed rgrid-finetune with SIGKILL after $(grep -c '"type":"log"' part/metrics.jsonl) logged steps (epoch 2 of 3)"
    break
  fi
  echo "attempt $attempt: training ended (exit $rc) before the kill; retrying"
done
[[ $rc -eq 137 ]] || { echo "FAIL: could not kill training mid-epoch"; exit 1; }

"$bin/rgrid-finetune" "${args[@]}" --out part --resume part/last >resume.log 2>&1 ||
  { echo "FAIL: resume failed:"; tail -20 resume.log; exit 1; }
if cmp -s full/last/model.safetensors part/last/model.safetensors; then
  echo "ok: resumed run's weights are byte-identical to the uninterrupted run's"
else
  echo "FAIL: final weights differ between the uninterrupted and the killed+resumed run"
  exit 1
fi
