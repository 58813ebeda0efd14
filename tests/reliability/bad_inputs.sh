#!/usr/bin/env bash
# The bad-input catalogue (issue 8, item 6): every program is fed missing, unreadable, empty,
# mislabelled, truncated or corrupt inputs and unwritable outputs. Each case must end with a
# non-zero exit below 128 (an error, never a signal or core dump), a message on stderr that
# names the offending file, column, label or option, and no half-written output.
#   tests/reliability/bad_inputs.sh BIN_DIR WORK_DIR     (BIN_DIR holds rgrid-<program>)
# Runs in ~1 minute: the one trained model is a 2-layer, 128-hidden BERT over a 65-token
# vocabulary, fine-tuned for 1 epoch on 16 short texts.
set -u
bin="$(cd "$1" && pwd)"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
vocab_full="$here/../../examples/assets/bert-base-uncased-vocab.txt"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 2
ulimit -c 0
cases=0 failed=0 skipped=0

fail() { echo "FAIL [$case_name] $*"; failed=$((failed + 1)); }
# expect_error NAME 'substring the message must contain' -- program args...
#   stdin is /dev/null unless STDIN_FILE is set.
expect_error() {
  case_name="$1" want="$2"; shift 3
  local prog="$1"; shift
  if [[ ! -x "$bin/$prog" ]]; then echo "SKIP [$case_name] $prog not built"; skipped=$((skipped + 1)); return; fi
  "$bin/$prog" "$@" <"${STDIN_FILE:-/dev/null}" >"$case_name.stdout" 2>"$case_name.stderr"
  local rc=$?
  local before=$failed
  cases=$((cases + 1))
  if [[ $rc -eq 0 ]]; then fail "exit 0 (expected an error); stderr: $(head -c 300 "$case_name.stderr")"
  elif [[ $rc -ge 128 ]]; then fail "killed by signal $((rc - 128)): $(tail -c 400 "$case_name.stderr")"
  elif ! grep -q -F -- "$want" "$case_name.stderr"; then
    fail "exit $rc but the message does not name '$want': $(head -c 400 "$case_name.stderr")"
  fi
  if [[ $failed -eq $before ]]; then
    printf 'ok   [%s] exit %d: %s\n' "$case_name" "$rc" "$(grep -v '^$' "$case_name.stderr" | head -1 | cut -c1-160)"
  fi
}
# absent PATH...: no output was left behind by the failed case just run.
absent() {
  for p in "$@"; do
    if [[ -e "$p" ]]; then fail "left output behind: $p"; fi
  done
}

# ---- fixtures ---------------------------------------------------------------------------
source "$here/fixtures.sh"
write_tiny_vocab vocab.txt
write_tiny_csv train.csv 8
printf 'text,label\nthe dog ran in the park,ham\nfree prize offer click now,spam\n' >val.csv
printf 'text,label\nthe cat ran,ham\nwin a prize,eggs\n' >val_unknown_label.csv
printf 'text,label\n' >header_only.csv
: >empty.csv
printf 'body,category\nhello,ham\n' >wrong_columns.csv
printf 'text,label\n"unclosed quote,ham\n' >bad_quote.csv
printf 'text\nthe cat sat\nwin money\n' >unlabelled.csv
mkdir -p a_directory
echo "not a directory" >plain_file
printf '{"text": "hello"}\n{"text": oops}\n' >bad.jsonl
printf '{"text": "hello"}\n' >good.jsonl

echo "== training the fixture model (rgrid-finetune --preset tiny, 1 epoch)"
if ! "$bin/rgrid-finetune" --train train.csv --val val.csv --out model --preset tiny --epochs 1 --batch-size 8 \
     --max-length 32 --stride 8 --vocab vocab.txt --seed 1 >finetune.log 2>&1; then
  echo "FAIL [fixture] rgrid-finetune could not train the fixture model:"; tail -20 finetune.log; exit 1
fi
ckpt=model/best
for f in config.json model.safetensors vocab.txt; do
  [[ -f $ckpt/$f ]] || { echo "FAIL [fixture] $ckpt/$f missing"; exit 1; }
done
mk_ckpt() { rm -rf "$1" && cp -r "$ckpt" "$1"; }
mk_ckpt truncated && truncate -s $(( $(stat -c %s $ckpt/model.safetensors) / 2 )) truncated/model.safetensors
mk_ckpt zero_weights && : >zero_weights/model.safetensors
mk_ckpt flipped_header && printf '\xff\xff' | dd of=flipped_header/model.safetensors bs=1 seek=12 conv=notrunc 2>/dev/null
mk_ckpt corrupt_config && printf '{"hidden_size": 128, "num_hidden_layers": ' >corrupt_config/config.json
mk_ckpt wrong_config && sed -i 's/"hidden_size": *128/"hidden_size": 64/' wrong_config/config.json
mk_ckpt no_vocab && rm no_vocab/vocab.txt
mk_ckpt big_vocab && cp "$vocab_full" big_vocab/vocab.txt  # 30,522 tokens for a 60-token model
mk_ckpt no_weights && rm no_weights/model.safetensors
mk_ckpt weights_dir && rm weights_dir/model.safetensors && mkdir weights_dir/model.safetensors

# predictions that must survive a refused --output (issue 14, item 8)
cp val.csv keep.csv && cp val.csv keep_orig.csv
ln -sf keep.csv keep_link.csv
ln -f keep.csv keep_hardlink.csv
mkfifo a_fifo 2>/dev/null || true

# the training options every rgrid-finetune case shares
ft=(--epochs 1 --batch-size 8 --max-length 32 --stride 8 --vocab vocab.txt)

# ---- rgrid-tokenize ---------------------------------------------------------------------
expect_error tokenize_missing_vocab "missing_vocab.txt" -- rgrid-tokenize --vocab missing_vocab.txt
expect_error tokenize_vocab_is_dir "a_directory" -- rgrid-tokenize --vocab a_directory
STDIN_FILE=bad.jsonl expect_error tokenize_bad_json_line "line 2" -- rgrid-tokenize --vocab vocab.txt
STDIN_FILE=good.jsonl expect_error tokenize_max_length "--max-length" -- rgrid-tokenize --vocab vocab.txt --max-length 600
expect_error tokenize_empty_vocab "empty.csv" -- rgrid-tokenize --vocab empty.csv

# ---- rgrid-eda --------------------------------------------------------------------------
expect_error eda_missing_input "missing.csv" -- rgrid-eda --input missing.csv --out eda1
absent eda1
expect_error eda_input_is_dir "a_directory" -- rgrid-eda --input a_directory --out eda2
absent eda2
if [[ $(id -u) -ne 0 ]]; then  # root reads anything: only then is a mode-000 file unreadable
  cp train.csv unreadable.csv && chmod 000 unreadable.csv
  expect_error eda_unreadable "unreadable.csv" -- rgrid-eda --input unreadable.csv --out eda8
  absent eda8
  expect_error finetune_unreadable "unreadable.csv" -- rgrid-finetune --train unreadable.csv --val val.csv --out ft14 --preset tiny "${ft[@]}"
  absent ft14
fi
expect_error eda_wrong_columns "'text'" -- rgrid-eda --input wrong_columns.csv --out eda3
absent eda3
expect_error eda_empty_file "empty.csv" -- rgrid-eda --input empty.csv --out eda4
absent eda4
expect_error eda_header_only "header_only.csv" -- rgrid-eda --input header_only.csv --out eda5
absent eda5
expect_error eda_bad_quote "bad_quote.csv:2" -- rgrid-eda --input bad_quote.csv --out eda6
absent eda6
expect_error eda_out_unwritable "plain_file" -- rgrid-eda --input train.csv --out plain_file/eda --vocab vocab.txt
expect_error eda_missing_vocab "missing_vocab.txt" -- rgrid-eda --input train.csv --out eda7 --vocab missing_vocab.txt
absent eda7

# ---- rgrid-split ------------------------------------------------------------------------
expect_error split_missing_input "missing.csv" -- rgrid-split --input missing.csv --out split1
absent split1
expect_error split_input_is_dir "a_directory" -- rgrid-split --input a_directory --out split6
absent split6
expect_error split_wrong_columns "'label'" -- rgrid-split --input unlabelled.csv --out split2
absent split2
expect_error split_header_only "header_only.csv" -- rgrid-split --input header_only.csv --out split3
absent split3
expect_error split_bad_ratios "--ratios" -- rgrid-split --input train.csv --out split4 --ratios 0.5,x,0.1
absent split4
expect_error split_out_unwritable "plain_file" -- rgrid-split --input train.csv --out plain_file/split
expect_error split_bad_seed "--seed" -- rgrid-split --input train.csv --out split5 --seed -3
absent split5

# ---- rgrid-finetune ---------------------------------------------------------------------
expect_error finetune_missing_train "missing.csv" -- rgrid-finetune --train missing.csv --val val.csv --out ft1 --preset tiny "${ft[@]}"
absent ft1
expect_error finetune_train_is_dir "a_directory" -- rgrid-finetune --train a_directory --val val.csv --out ft13 --preset tiny "${ft[@]}"
absent ft13
expect_error finetune_wrong_columns "'text'" -- rgrid-finetune --train wrong_columns.csv --val val.csv --out ft2 --preset tiny "${ft[@]}"
absent ft2
expect_error finetune_header_only "header_only.csv" -- rgrid-finetune --train header_only.csv --val val.csv --out ft3 --preset tiny "${ft[@]}"
absent ft3
expect_error finetune_empty_val "val" -- rgrid-finetune --train train.csv --val header_only.csv --out ft4 --preset tiny "${ft[@]}"
absent ft4
expect_error finetune_unknown_label "eggs" -- rgrid-finetune --train train.csv --val val_unknown_label.csv --out ft5 --preset tiny "${ft[@]}"
absent ft5
expect_error finetune_out_unwritable "plain_file" -- rgrid-finetune --train train.csv --val val.csv --out plain_file/ft --preset tiny "${ft[@]}"
expect_error finetune_missing_vocab "missing_vocab.txt" -- rgrid-finetune --train train.csv --val val.csv --out ft6 --preset tiny --vocab missing_vocab.txt
absent ft6
expect_error finetune_bad_preset "huge" -- rgrid-finetune --train train.csv --val val.csv --out ft7 --preset huge "${ft[@]}"
absent ft7
expect_error finetune_max_length "--max-length" -- rgrid-finetune --train train.csv --val val.csv --out ft8 --preset tiny --max-length 600 --vocab vocab.txt
absent ft8
expect_error finetune_bad_number "--epochs" -- rgrid-finetune --train train.csv --val val.csv --out ft9 --preset tiny --epochs many
absent ft9
expect_error finetune_init_truncated "model.safetensors" -- rgrid-finetune --train train.csv --val val.csv --out ft10 --init truncated "${ft[@]}"
absent ft10
expect_error finetune_init_corrupt_config "config.json" -- rgrid-finetune --train train.csv --val val.csv --out ft11 --init corrupt_config "${ft[@]}"
absent ft11
expect_error finetune_init_missing_dir "no_such_model" -- rgrid-finetune --train train.csv --val val.csv --out ft12 --init no_such_model "${ft[@]}"
absent ft12

# ---- rgrid-predict ----------------------------------------------------------------------
expect_error predict_missing_model "no_such_model" -- rgrid-predict --model no_such_model --text hello
expect_error predict_no_weights "model.safetensors" -- rgrid-predict --model no_weights --text hello
expect_error predict_weights_is_dir "model.safetensors" -- rgrid-predict --model weights_dir --text hello
expect_error predict_truncated_weights "model.safetensors" -- rgrid-predict --model truncated --text hello
expect_error predict_empty_weights "model.safetensors" -- rgrid-predict --model zero_weights --text hello
expect_error predict_corrupt_weights_header "model.safetensors" -- rgrid-predict --model flipped_header --text hello
expect_error predict_corrupt_config "config.json" -- rgrid-predict --model corrupt_config --text hello
expect_error predict_config_mismatch "shape" -- rgrid-predict --model wrong_config --text hello
expect_error predict_missing_vocab "vocab.txt" -- rgrid-predict --model no_vocab --text hello
expect_error predict_vocab_mismatch "vocab" -- rgrid-predict --model big_vocab --text "zebra quantum xylophone"
expect_error predict_missing_input "missing.csv" -- rgrid-predict --model $ckpt --input missing.csv --output pred1.csv
absent pred1.csv
expect_error predict_wrong_column "'text'" -- rgrid-predict --model $ckpt --input wrong_columns.csv --output pred2.csv
absent pred2.csv
expect_error predict_output_unwritable "plain_file" -- rgrid-predict --model $ckpt --input val.csv --output plain_file/pred.csv
expect_error predict_unknown_label "eggs" -- rgrid-predict --model $ckpt --input val_unknown_label.csv --output pred3.csv
absent pred3.csv
expect_error predict_max_length "--max-length" -- rgrid-predict --model $ckpt --text hello --max-length 600
expect_error predict_bad_number "--stride" -- rgrid-predict --model $ckpt --text hello --stride eight

# ---- rgrid-serve ----------------------------------------------------------------------
expect_error serve_missing_model "no_such_model" -- rgrid-serve --model no_such_model --port 0
expect_error serve_truncated_weights "model.safetensors" -- rgrid-serve --model truncated --port 0
expect_error serve_vocab_mismatch "vocab" -- rgrid-serve --model big_vocab --port 0
expect_error serve_bad_port "--port" -- rgrid-serve --model $ckpt --port 70000
expect_error serve_port_not_a_number "--port" -- rgrid-serve --model $ckpt --port http

# ---- command lines (issue 14, items 7 and 8): every program, through CLI11 ---------------
# An unknown option is an error even when a value follows it (--epoch 1 used to train 3 epochs).
expect_error finetune_unknown_option "--epoch" -- rgrid-finetune --train train.csv --val val.csv --out ft15 --preset tiny "${ft[@]}" --epoch 1
absent ft15
expect_error predict_unknown_option "--modle" -- rgrid-predict --modle $ckpt --model $ckpt --text hello
expect_error eda_unknown_option "--inptu" -- rgrid-eda --inptu train.csv --input train.csv --out eda9
absent eda9
expect_error split_unknown_option "--sed" -- rgrid-split --input train.csv --out split7 --sed 3
absent split7
expect_error serve_unknown_option "--prot" -- rgrid-serve --model $ckpt --prot 0
expect_error tokenize_unknown_option "--lowercase" -- rgrid-tokenize --vocab vocab.txt --lowercase
expect_error toy_unknown_option "--steps" -- rgrid-toy --steps 10
expect_error toy_bad_number "steps" -- rgrid-toy ten
# A missing value says so, naming the option; a bad one names it too.
expect_error finetune_missing_value "--epochs needs a value" -- rgrid-finetune --train train.csv --val val.csv --out ft16 --preset tiny --epochs
absent ft16
expect_error predict_missing_value "--model needs a value" -- rgrid-predict --text hello --model
expect_error finetune_threads_range "--threads" -- rgrid-finetune --train train.csv --val val.csv --out ft17 --preset tiny "${ft[@]}" --threads 100000
absent ft17
expect_error predict_threads_range "--threads" -- rgrid-predict --model $ckpt --text hello --threads 100000
expect_error serve_threads_range "--compute-threads" -- rgrid-serve --model $ckpt --port 0 --compute-threads 100000
expect_error finetune_negative_seed "--seed" -- rgrid-finetune --train train.csv --val val.csv --out ft18 --preset tiny "${ft[@]}" --seed -1
absent ft18
expect_error finetune_init_and_preset "--init" -- rgrid-finetune --train train.csv --val val.csv --out ft19 --preset tiny --init $ckpt "${ft[@]}"
absent ft19
expect_error finetune_no_model "--preset" -- rgrid-finetune --train train.csv --val val.csv --out ft20 "${ft[@]}"
absent ft20

# rgrid-predict: no text, no rows, and never an --output it must not replace.
expect_error predict_empty_text "--text" -- rgrid-predict --model $ckpt --text ""
expect_error predict_blank_text "--text" -- rgrid-predict --model $ckpt --text "   "
expect_error predict_header_only "header_only.csv" -- rgrid-predict --model $ckpt --input header_only.csv --output pred4.csv
absent pred4.csv
expect_error predict_output_is_input "--input" -- rgrid-predict --model $ckpt --input keep.csv --output ./keep.csv
expect_error predict_output_hardlink_of_input "--input" -- rgrid-predict --model $ckpt --input keep.csv --output keep_hardlink.csv
expect_error predict_output_symlink "symbolic link" -- rgrid-predict --model $ckpt --input val.csv --output keep_link.csv
expect_error predict_output_directory "not a regular file" -- rgrid-predict --model $ckpt --input val.csv --output a_directory
expect_error predict_output_device "not a regular file" -- rgrid-predict --model $ckpt --input val.csv --output /dev/full
if [[ -p a_fifo ]]; then
  expect_error predict_output_fifo "not a regular file" -- rgrid-predict --model $ckpt --input val.csv --output a_fifo
fi
case_name=predict_output_kept
cmp -s keep.csv keep_orig.csv || fail "keep.csv was changed by a refused --output"
[[ -L keep_link.csv && -c /dev/full && -p a_fifo || ! -e a_fifo ]] || fail "a refused --output was replaced"
expect_error predict_output_needs_input "--output" -- rgrid-predict --model $ckpt --text hello --output pred5.csv
absent pred5.csv

# rgrid-finetune --resume: a directory with a training state (the run's output directory or its
# last/), the model size it started with.
expect_error finetune_resume_missing "no_such_run" -- rgrid-finetune --train train.csv --val val.csv --out ft21 --resume no_such_run "${ft[@]}"
absent ft21
expect_error finetune_resume_best "training_state" -- rgrid-finetune --train train.csv --val val.csv --out ft22 --resume model/best "${ft[@]}"
absent ft22
expect_error finetune_resume_other_preset "--preset small" -- rgrid-finetune --train train.csv --val val.csv --out ft23 --resume model --preset small "${ft[@]}"
absent ft23
expect_error finetune_resume_other_init "hidden_size" -- rgrid-finetune --train train.csv --val val.csv --out ft24 --resume model/last --init wrong_config "${ft[@]}"
absent ft24

# ---- rgrid-pretrain (issue 15 item 4) ----------------------------------------------------
pt=(--preset tiny --vocab vocab.txt --max-length 16 --epochs 1 --threads 1)
: >pt_empty.txt
printf '\n  \n\t\n' >pt_blank.txt
printf 'the cat sat\nthe dog ran \xe9t\xe9\n' >pt_latin1.txt
printf 'the cat sat on a mat\n' >pt_small.txt
expect_error pretrain_empty_corpus "pt_empty.txt: empty corpus" -- rgrid-pretrain --train pt_empty.txt --out pt1 "${pt[@]}"
absent pt1
expect_error pretrain_blank_corpus "pt_blank.txt" -- rgrid-pretrain --train pt_blank.txt header_only.csv --out pt2 "${pt[@]}"
absent pt2
expect_error pretrain_not_utf8 "pt_latin1.txt:2: not valid UTF-8" -- rgrid-pretrain --train pt_latin1.txt --out pt3 "${pt[@]}"
absent pt3
expect_error pretrain_mlm_probability_high "--mlm-probability" -- rgrid-pretrain --train train.csv --out pt4 "${pt[@]}" --mlm-probability 1
expect_error pretrain_mlm_probability_zero "--mlm-probability" -- rgrid-pretrain --train train.csv --out pt5 "${pt[@]}" --mlm-probability 0
expect_error pretrain_mlm_probability_text "--mlm-probability" -- rgrid-pretrain --train train.csv --out pt6 "${pt[@]}" --mlm-probability lots
absent pt4 pt5 pt6
expect_error pretrain_too_small "too small for one block of max_length 64" -- rgrid-pretrain --train pt_small.txt --out pt7 "${pt[@]}" --max-length 64 --eval-share 0
absent pt7
expect_error pretrain_missing_train "missing.txt" -- rgrid-pretrain --train missing.txt --out pt8 "${pt[@]}"
expect_error pretrain_wrong_column "'body'" -- rgrid-pretrain --train train.csv --out pt9 "${pt[@]}" --text-column body
expect_error pretrain_no_model "--preset" -- rgrid-pretrain --train train.csv --out pt10 --vocab vocab.txt
expect_error pretrain_init_missing "no_such_model" -- rgrid-pretrain --train train.csv --out pt11 --init no_such_model
expect_error pretrain_init_truncated "model.safetensors" -- rgrid-pretrain --train train.csv --out pt12 --init truncated
expect_error pretrain_resume_missing "no_such_run" -- rgrid-pretrain --train train.csv --out pt13 --resume no_such_run "${pt[@]}"
expect_error pretrain_bad_blocks "--blocks" -- rgrid-pretrain --train train.csv --out pt14 "${pt[@]}" --blocks sentences
expect_error pretrain_out_unwritable "plain_file" -- rgrid-pretrain --train train.csv --out plain_file/pt "${pt[@]}" --eval-share 0.3
absent pt8 pt9 pt10 pt11 pt12 pt13 pt14
# ---- end of rgrid-pretrain ----------------------------------------------------------------

echo "bad-input catalogue: $cases cases, $failed problems, $skipped skipped"
[[ $failed -eq 0 ]]
