#!/usr/bin/env bash
# The multi-rank tests (2 ranks, one thread each, tiny BERT; seconds each).
# usage: run_tests.sh TEST DP_DRIVER MPIRUN "MPIRUN_FLAGS" WORKDIR FINETUNE PREDICT PRETRAIN
#   bit_identical          2 ranks x batch 4  ==  1 process x 2 micro-batches of 4, bit for bit
#                          (also with the all-reduce after backward, no overlap, and with one bucket);
#                          and  ~=  1 process x batch 8 (one step over the same 8 windows), fp32 tolerance
#   sharded_predict        mpirun -np 2 rgrid-predict --input big.csv == rgrid-predict alone, byte for byte
#   rank_dies_then_resume  rank 1 SIGKILLed in epoch 2: the job stops (non-zero, bounded time, a message),
#                          --resume with 2 ranks ends bit-identical to an uninterrupted run; 1 rank is refused
#   timeout_stops_job      rank 1 stopped (SIGSTOP): rank 0's collective times out (3 s) and ends the job
#   finetune_under_mpirun  rgrid-finetune under mpirun: only rank 0 writes; distributed.json; resume rules
#   pretrain_under_mpirun  mpirun -np 2 rgrid-pretrain --batch-size 4  ==  rgrid-pretrain --batch-size 4
#                          --gradient-accumulation-steps 2, byte for byte (no dropout); only rank 0 writes
set -euo pipefail
TEST="$1" DRV="$2" MPIRUN="$3"
read -r -a FLAGS <<< "$4"
W="$5/$TEST" FT="$6" PR="$7" PT="$8"
rm -rf "$W" && mkdir -p "$W"
mpi2() { "$MPIRUN" "${FLAGS[@]}" -np 2 "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

case "$TEST" in
bit_identical)
  mpi2 "$DRV" train "$W/ranks2" batch=4 epochs=2 max_windows=1 > "$W/ranks2.log"
  "$DRV" train "$W/accum2" batch=4 accum=2 epochs=2 max_windows=1 > "$W/accum2.log"
  grep -Eq "buckets ([4-9]|[1-9][0-9]+)" "$W/ranks2.log" || fail "expected many small buckets: $(cat "$W/ranks2.log")"
  "$DRV" compare "$W/ranks2/last/model.safetensors" "$W/accum2/last/model.safetensors" 0
  # the same with the all-reduce after backward (no overlap) and with one 25 MB bucket
  mpi2 "$DRV" train "$W/nooverlap" batch=4 epochs=2 max_windows=1 overlap=0 > /dev/null
  "$DRV" compare "$W/nooverlap/last/model.safetensors" "$W/accum2/last/model.safetensors" 0
  mpi2 "$DRV" train "$W/onebucket" batch=4 epochs=2 max_windows=1 bucket_kb=25600 > /dev/null
  "$DRV" compare "$W/onebucket/last/model.safetensors" "$W/accum2/last/model.safetensors" 0
  # the comparison can fail: 1 process with batch 4 and no accumulation is another run
  "$DRV" train "$W/single4" batch=4 epochs=2 max_windows=1 > /dev/null
  ! "$DRV" compare "$W/ranks2/last/model.safetensors" "$W/single4/last/model.safetensors" 0 > /dev/null \
    || fail "2 ranks x 4 equal 1 process x 4: the ranks did not each get their own shard"
  # one step over the same 8 windows: 2 ranks x 4 vs one batch of 8 (fp32 tolerance after one AdamW step)
  # the averaged gradients agree to fp32 rounding; after AdamW's first step (about lr * g / |g|, touchy
  # where |g| is near eps) the weights to 1% of the learning rate 2e-3
  mpi2 "$DRV" train "$W/step_ranks2" batch=4 epochs=1 docs=8 grads="$W/grads_ranks2.safetensors" > /dev/null
  "$DRV" train "$W/step_batch8" batch=8 epochs=1 docs=8 grads="$W/grads_batch8.safetensors" > /dev/null
  "$DRV" compare "$W/grads_ranks2.safetensors" "$W/grads_batch8.safetensors" 1e-7
  "$DRV" compare "$W/step_ranks2/last/model.safetensors" "$W/step_batch8/last/model.safetensors" 2e-5
  ;;
sharded_predict)
  "$DRV" train "$W/run" batch=4 epochs=1 > /dev/null
  {
    echo "text,label"
    for ((i = 0; i < 300; i++)); do
      n=$((3 + (i * 7) % 40)) t=""
      for ((j = 0; j < n; j++)); do if ((i % 2)); then t+="goal team "; else t+="soup bread "; fi; done
      if ((i % 2)); then echo "\"$t$i\",sports"; else echo "\"$t$i\",food"; fi
    done
  } > "$W/big.csv"
  "$PR" --model "$W/run/last" --input "$W/big.csv" --output "$W/single.csv" --threads 1 --max-length 16 --stride 4 \
    2> "$W/single.err"
  mpi2 "$PR" --model "$W/run/last" --input "$W/big.csv" --output "$W/sharded.csv" --threads 1 --max-length 16 \
    --stride 4 2> "$W/sharded.err"
  [ "$(wc -l < "$W/single.csv")" -eq 301 ] || fail "single.csv has $(wc -l < "$W/single.csv") lines"
  cmp "$W/single.csv" "$W/sharded.csv" || fail "sharded prediction differs from one process"
  [ "$(grep -c "wrote" "$W/sharded.err")" -eq 1 ] || fail "more than one rank wrote: $(cat "$W/sharded.err")"
  ;;
rank_dies_then_resume)
  mpi2 "$DRV" train "$W/whole" batch=4 epochs=3 > "$W/whole.log"
  steps=$(sed -n 's/^dp_driver: \([0-9]*\) steps.*/\1/p' "$W/whole.log")
  die=$((steps / 3 + steps / 6))  # in the middle of epoch 2: last/ holds epoch 1
  start=$(date +%s)
  if mpi2 "$DRV" train "$W/run" batch=4 epochs=3 die_rank=1 die_step=$die timeout=20 > "$W/die.log" 2>&1; then
    fail "the job went on after rank 1 died"
  fi
  took=$(($(date +%s) - start))
  cat "$W/die.log"
  [ "$took" -lt 60 ] || fail "the job took $took s to stop"
  grep -q "rank 1 kills itself" "$W/die.log" || fail "rank 1 did not die as planned"
  grep -Eqi "exited on signal 9|killed|aborted|did not complete" "$W/die.log" || fail "no message about the dead rank"
  [ -f "$W/run/last/training_state.safetensors" ] || fail "no checkpoint of epoch 1"
  [ ! -e "$W/run/last.saving" ] || fail "a half-written checkpoint was left behind"
  # resume with another number of ranks: refused, naming both
  if "$DRV" train "$W/run" batch=4 epochs=3 resume=1 > "$W/refused.log" 2>&1; then fail "1 rank resumed a 2-rank run"; fi
  grep -q "written by a run of 2 ranks; this run has 1" "$W/refused.log" || fail "unclear refusal: $(cat "$W/refused.log")"
  # resume with 2 ranks: the same weights as the run that never stopped
  mpi2 "$DRV" train "$W/run" batch=4 epochs=3 resume=1 > "$W/resume.log"
  "$DRV" compare "$W/run/last/model.safetensors" "$W/whole/last/model.safetensors" 0
  ;;
timeout_stops_job)
  start=$(date +%s)
  if mpi2 "$DRV" train "$W/run" batch=4 epochs=2 stop_rank=1 stop_step=2 timeout=3 > "$W/stop.log" 2>&1; then
    fail "the job went on with a stopped rank"
  fi
  took=$(($(date +%s) - start))
  cat "$W/stop.log"
  [ "$took" -lt 60 ] || fail "the job took $took s to stop"
  grep -q "rank 0 of 2: the .* did not complete within 3 s" "$W/stop.log" || fail "no timeout message from rank 0"
  ;;
finetune_under_mpirun)
  gen() {  # FILE N SEED
    local f=$1 n=$2 seed=$3 sports=(ball team goal match player) food=(bread cheese apple soup rice)
    RANDOM=$seed
    echo "text,label" > "$f"
    for ((i = 0; i < n; i++)); do
      local lab=$((RANDOM % 2)) words=$((6 + RANDOM % 30)) t=""
      for ((j = 0; j < words; j++)); do if ((lab)); then t+="${sports[RANDOM % 5]} "; else t+="${food[RANDOM % 5]} "; fi; done
      if ((lab)); then echo "\"$t\",sports" >> "$f"; else echo "\"$t\",food" >> "$f"; fi
    done
  }
  gen "$W/train.csv" 40 1; gen "$W/val.csv" 12 2
  args=(--train "$W/train.csv" --val "$W/val.csv" --out "$W/run" --preset tiny --max-length 32 --stride 8
        --batch-size 4 --lr 1e-3 --threads 1)
  mpi2 "$FT" "${args[@]}" --epochs 1 > "$W/ft.log" 2> "$W/ft.err"
  [ "$(grep -c "Running training" "$W/ft.log")" -eq 1 ] || fail "not exactly one rank printed"
  [ -s "$W/run/last/model.safetensors" ] && [ -s "$W/run/best/model.safetensors" ] || fail "no checkpoints"
  grep -q '"world_size": 2' "$W/run/last/distributed.json" || fail "no world size in the checkpoint"
  [ ! -e "$W/run/rank-1" ] || fail "rank 1 wrote files"
  if "$FT" "${args[@]}" --epochs 2 --resume "$W/run" > "$W/refused.log" 2>&1; then fail "1 process resumed a 2-rank run"; fi
  grep -q "written by a run of 2 ranks" "$W/refused.log" || fail "unclear refusal: $(cat "$W/refused.log")"
  mpi2 "$FT" "${args[@]}" --epochs 2 --resume "$W/run" > "$W/resume.log" 2> "$W/resume.err"
  [ "$(grep -c '"type":"eval"' "$W/run/metrics.jsonl")" -eq 2 ] || fail "epoch 2 was not trained once"
  ;;
pretrain_under_mpirun)
  # 40 one-line documents of 4..12 words: sliding windows of 16 give one block each, 8 held out,
  # 32 training blocks = 4 optimizer steps of 2 x 4 per epoch (nothing dropped on either path)
  words=(ball team goal match player bread cheese apple soup rice the a of and to)
  RANDOM=3
  for ((i = 0; i < 40; i++)); do
    n=$((4 + RANDOM % 9)) t=""
    for ((j = 0; j < n; j++)); do t+="${words[RANDOM % 15]} "; done
    echo "$t"
  done > "$W/corpus.txt"
  # the MLM masks are a function of (seed, epoch, batch): batch k*2 + r of one process is rank r's
  # micro-batch k. Dropout streams differ by design (seed, step, rank), so the start checkpoint has none.
  common=(--train "$W/corpus.txt" --line-by-line --blocks windows --max-length 16 --batch-size 4 --threads 1
          --eval-share 0.2)
  "$PT" "${common[@]}" --preset tiny --max-steps 1 --out "$W/base" > /dev/null
  sed -i -E 's/("(hidden|attention_probs)_dropout_prob": )0\.1/\10.0/' "$W/base/last/config.json"
  [ "$(grep -c '_dropout_prob": 0.0' "$W/base/last/config.json")" -eq 2 ] || fail "could not turn dropout off"
  args=("${common[@]}" --init "$W/base/last" --epochs 2 --lr 1e-3)
  mpi2 "$PT" "${args[@]}" --out "$W/ranks2" > "$W/ranks2.log" 2> "$W/ranks2.err"
  "$PT" "${args[@]}" --gradient-accumulation-steps 2 --out "$W/accum2" > "$W/accum2.log"
  grep -q "32 training and 8 held-out blocks" "$W/accum2.log" || fail "unexpected blocks: $(grep data "$W/accum2.log")"
  grep -q "Steps: 4 per epoch" "$W/accum2.log" || fail "expected 4 steps per epoch: $(cat "$W/accum2.log")"
  for d in last best; do
    cmp "$W/ranks2/$d/model.safetensors" "$W/accum2/$d/model.safetensors" || fail "$d: 2 ranks != 1 process x 2"
  done
  # the comparison can fail: 1 process with batch 4 and no accumulation is another run
  "$PT" "${args[@]}" --out "$W/single4" > /dev/null
  ! cmp -s "$W/ranks2/last/model.safetensors" "$W/single4/last/model.safetensors" \
    || fail "2 ranks x 4 equal 1 process x 4: the ranks did not each get their own shard"
  # only rank 0 writes: one console, one metrics.jsonl line per event (two writers would double
  # them), the eval lines (losses) as in one process, the world size in the checkpoint
  [ "$(grep -c "Running masked-LM pretraining" "$W/ranks2.log")" -eq 1 ] || fail "not exactly one rank printed"
  [ "$(wc -l < "$W/ranks2/metrics.jsonl")" -eq 3 ] || fail "metrics.jsonl: $(cat "$W/ranks2/metrics.jsonl")"
  # eval lines exact but for the timing and train_loss (logged as the ranks' mean: fp32 rounding differs)
  evals() { grep '"type":"eval"' "$1" | sed -E 's/,"(eval_runtime|train_loss)":[^,}]*//g'; }
  [ "$(evals "$W/ranks2/metrics.jsonl" | wc -l)" -eq 2 ] || fail "expected 2 eval lines: $(cat "$W/ranks2/metrics.jsonl")"
  diff <(evals "$W/ranks2/metrics.jsonl") <(evals "$W/accum2/metrics.jsonl") || fail "the eval losses differ"
  grep -q '"world_size": 2' "$W/ranks2/last/distributed.json" || fail "no world size in the checkpoint"
  if "$PT" "${args[@]}" --epochs 3 --out "$W/ranks2" --resume "$W/ranks2" > "$W/refused.log" 2>&1; then
    fail "1 process resumed a 2-rank run"
  fi
  grep -q "written by a run of 2 ranks" "$W/refused.log" || fail "unclear refusal: $(cat "$W/refused.log")"
  ;;
*) fail "unknown test $TEST" ;;
esac
echo "PASS: $TEST"
