#!/usr/bin/env bash
# rgrid-pretrain end to end on tiny generated data (seconds):
#   1. --preset tiny, a CSV and a text file, 2 epochs + --max-steps: the epoch table with
#      perplexity, metrics.jsonl, curves.svg, OUT/best and OUT/last (config says BertForMaskedLM)
#   2. SIGKILL inside epoch 2 (and while an epoch's checkpoint is written), then --resume OUT:
#      the final weights are byte-identical to the uninterrupted run's
#   3. rgrid-finetune --init OUT/best: the classifier starts from the pretrained encoder and
#      reports the dropped cls.* head and the fresh pooler/classifier
#   4. with PYTHON (the venv's): transformers' AutoModelForMaskedLM loads OUT/best with no
#      missing or unexpected key, and AutoTokenizer its tokenizer
# usage: pretrain_e2e.sh BIN_DIR WORK_DIR [PYTHON]
set -u
bin="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
work="$2"
python="${3:-}"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
ulimit -c 0
source "$here/../reliability/fixtures.sh"
write_tiny_vocab vocab.txt
write_tiny_csv train.csv 30
printf 'text,label\nthe dog ran in the park,ham\nfree prize offer click now,spam\n' >val.csv
{
  for i in $(seq 1 12); do printf 'the dog ran in the park\nand sat on a mat %d\n\n' "$i"; done
} >notes.txt
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# 72 documents (60 CSV rows + 12 paragraphs); 16-token blocks, batch 4: 16 steps per epoch
args=(--train train.csv notes.txt --preset tiny --vocab vocab.txt --epochs 2 --batch-size 4 --max-length 16
      --seed 5 --threads 1 --logging-steps 1 --lr 1e-3 --whole-word-mask)
"$bin/rgrid-pretrain" "${args[@]}" --out full >full.log 2>&1 || { fail "uninterrupted run:"; tail full.log; exit 1; }
grep -q "Epoch | Training Loss | Validation Loss | Perplexity" full.log || fail "no MLM epoch table in full.log"
grep -q '"perplexity":' full/metrics.jsonl || fail "no perplexity in metrics.jsonl"
grep -q 'Held-out perplexity' full/curves.svg || fail "no perplexity panel in curves.svg"
grep -q '"BertForMaskedLM"' full/best/config.json || fail "best/config.json is not a BertForMaskedLM"
for f in model.safetensors vocab.txt tokenizer_config.json training_state.safetensors; do
  [[ -f full/last/$f ]] || fail "full/last/$f missing"
done
steps=$(grep -c '"type":"log"' full/metrics.jsonl)
echo "ok   uninterrupted: $steps steps, $(grep -c '"type":"eval"' full/metrics.jsonl) evaluations"

# --max-steps: that many steps, the last epoch cut short
"$bin/rgrid-pretrain" "${args[@]}" --max-steps 20 --out capped >capped.log 2>&1 || fail "--max-steps run failed"
[[ $(grep -c '"type":"log"' capped/metrics.jsonl) -eq 20 ]] || fail "--max-steps 20 did not run 20 steps"
[[ $(grep -c '"type":"eval"' capped/metrics.jsonl) -eq 2 ]] || fail "--max-steps 20: expected 2 evaluations"

half=$((steps / 2))
for when in step:$((half + 3)) step:$((half + 9)) eval:$half; do
  rm -rf part
  "$bin/rgrid-pretrain" "${args[@]}" --out part >part.log 2>&1 &
  kill_when "$when" $! part
  rc=$?
  [[ $rc -eq 137 ]] || echo "note [$when]: training ended (exit $rc) before the kill"
  if [[ -f part/last/training_state.safetensors ]]; then
    how="resumed with --resume part"
    "$bin/rgrid-pretrain" "${args[@]}" --out part --resume part >resume.log 2>&1 &&
      { [[ $rc -ne 137 ]] || grep -q "resuming at" resume.log || fail "[$when] the resumed run did not say where it resumed"; }
  else
    how="no checkpoint yet: started again"
    "$bin/rgrid-pretrain" "${args[@]}" --out part >resume.log 2>&1
  fi || { fail "[$when] the run after the kill failed: $(tail -3 resume.log)"; continue; }
  if cmp -s full/last/model.safetensors part/last/model.safetensors; then
    echo "ok   [$when] SIGKILL, $how: final weights byte-identical"
  else
    fail "[$when] SIGKILL, $how: final weights differ from the uninterrupted run"
  fi
done

"$bin/rgrid-finetune" --init full/best --train train.csv --val val.csv --out ft --epochs 1 --batch-size 8 \
  --max-length 16 --stride 4 --threads 1 >ft.log 2>&1 || { fail "rgrid-finetune --init full/best:"; tail ft.log; }
grep -q "were not used when initializing BertForSequenceClassification: \[cls.predictions" ft.log ||
  fail "rgrid-finetune did not report the dropped cls.* head"
grep -q "newly initialized: \[bert.pooler.dense.weight" ft.log || fail "rgrid-finetune did not report the fresh pooler"
[[ -f ft/best/model.safetensors ]] || fail "rgrid-finetune wrote no checkpoint"
[[ $failed -eq 0 ]] && echo "ok   rgrid-finetune --init full/best fine-tuned the pretrained encoder"

if [[ -n $python ]]; then
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$python" - full/best <<'EOF' || fail "transformers could not load full/best"
import sys
import transformers
from transformers import AutoModelForMaskedLM, AutoTokenizer
transformers.logging.set_verbosity_error()
model, info = AutoModelForMaskedLM.from_pretrained(sys.argv[1], output_loading_info=True, local_files_only=True)
bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
assert type(model).__name__ == "BertForMaskedLM" and not bad, (type(model).__name__, bad)
tok = AutoTokenizer.from_pretrained(sys.argv[1], local_files_only=True)
assert len(tok) == model.config.vocab_size, (len(tok), model.config.vocab_size)
print(f"ok   transformers: AutoModelForMaskedLM + {type(tok).__name__} loaded {sys.argv[1]}, no missing/unexpected key")
EOF
fi
[[ $failed -eq 0 ]]
