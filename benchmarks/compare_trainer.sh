#!/usr/bin/env bash
# Fine-tunes the same pretrained checkpoint on the same split with the same recipe in rgrid
# (rgrid-finetune --init) and in Hugging Face Trainer (transformers + torch from .venv, CPU), one
# after the other, and writes a table: wall time per epoch, samples/s, peak RSS, test accuracy /
# weighted F1 / macro F1 for both, and the ratios issue 13 sets targets for.
#
#   benchmarks/compare_trainer.sh [--quick] [--labels groups|binary] [--threads N] [--out DIR]
#       [--epochs N] [--batch-size N] [--lr X] [--warmup-ratio X] [--weight-decay X]
#       [--max-length L] [--stride S] [--max-windows N] [--eval-max-windows N] [--aggregation mean|max|vote]
#       [--class-weights] [--seed N] [--policies PASSIVE,default] [--build DIR] [--reuse-rgrid]
#
#   defaults   the quick recipe of ./run.sh: 2 epochs, batch 16, lr 1e-4, warmup 0.1, weight decay
#              0.01, 128-token windows with stride 32, 1 window per training document and the same
#              cap for validation and test (--eval-max-windows, default = --max-windows; 0 = every
#              window), mean of window logits, seed 42, 2 threads, 5 groups
#   --quick    a subset so that a run fits a short session: every 4th document of the training,
#              validation and test parts (stratified: the split files are sorted by label),
#              1 epoch (an explicit --epochs wins)
#   --policies OMP_WAIT_POLICY settings tried for PyTorch (default: PASSIVE only; with several,
#              each gets a 12-step probe and the faster one runs the comparison)
#   --reuse-rgrid  keep the rgrid run already in --out (same recipe) and run only the HF side
#   --out      default runs/compare-trainer[-quick]: compare_trainer.md, compare_trainer.json, the
#              logs (rgrid.log, hf.log) and both runs' outputs (rgrid/, hf/)
#
# Steps: scripts/setup-python.sh (.venv: torch 2.13.0, transformers, accelerate), build
# rgrid-split + rgrid-finetune, scripts/get-data.sh, scripts/get-model.sh, rgrid-split --seed 42,
# then rgrid, then HF, each in its own process under /usr/bin/time -v (peak RSS of the process).
# Both use the same thread count (rgrid --threads, torch.set_num_threads + OMP_NUM_THREADS), load
# only local files (HF_HUB_OFFLINE=1), pick the best epoch by validation weighted F1 and evaluate
# it on the test split. Wall time per epoch = train() wall time / epochs (the steps plus the
# per-epoch validation and checkpoint saves, for both); "steps only" subtracts the validation time
# each reports. Needs a quiet machine for the timings: other work on the cores shows up as noise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

reuse=0 quick=0 labels=groups threads=2 out="" build="$ROOT/build" policies=PASSIVE cw=0
epochs="" bs=16 lr=1e-4 warmup=0.1 wd=0.01 maxlen=128 stride=32 maxwin=1 evalwin="" agg=mean seed=42
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --labels) labels="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --out) out="$2"; shift ;;
    --build) build="$2"; shift ;;
    --policies) policies="$2"; shift ;;
    --epochs) epochs="$2"; shift ;;
    --batch-size) bs="$2"; shift ;;
    --lr) lr="$2"; shift ;;
    --warmup-ratio) warmup="$2"; shift ;;
    --weight-decay) wd="$2"; shift ;;
    --max-length) maxlen="$2"; shift ;;
    --stride) stride="$2"; shift ;;
    --max-windows) maxwin="$2"; shift ;;
    --eval-max-windows) evalwin="$2"; shift ;;
    --aggregation) agg="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --class-weights) cw=1 ;;
    --reuse-rgrid) reuse=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "compare_trainer.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$labels" in groups) DATA=data/spamassassin.csv ;; binary) DATA=data/spamassassin-binary.csv ;;
  *) echo "compare_trainer.sh: --labels is groups or binary, not '$labels'" >&2; exit 2 ;; esac
[ -n "$evalwin" ] || evalwin="$maxwin"
[ -n "$epochs" ] || { if [ "$quick" = 1 ]; then epochs=1; else epochs=2; fi; }
[ -n "$out" ] || { out="$ROOT/runs/compare-trainer-$labels"; [ "$quick" = 1 ] && out="$out-quick"; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log() { printf '[compare_trainer %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

log "python: scripts/setup-python.sh"
PY="$(scripts/setup-python.sh | tail -n 1)"
log "build: rgrid-split rgrid-finetune in $build"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$threads" --target rgrid-split rgrid-finetune >/dev/null
scripts/get-data.sh >/dev/null
scripts/get-model.sh >/dev/null
MODEL="${RGRID_MODELS_DIR:-$ROOT/models}/minilm-l6"

# The split (seed 42) and, for --quick, the stratified subset; both peers read the same files.
"$build/bin/rgrid-split" --input "$DATA" --out "$out/split" --seed 42 >/dev/null
SPLIT="$out/split"
if [ "$quick" = 1 ]; then
  "$PY" - "$SPLIT" <<'EOF'
import csv, sys
csv.field_size_limit(sys.maxsize)
d = sys.argv[1]
for name, every in (("train", 4), ("val", 4), ("test", 4)):
    with open(f"{d}/{name}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    keep = [rows[0]] + rows[1::every]
    with open(f"{d}/{name}-quick.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(keep)
    print(f"quick subset: {name}: {len(keep) - 1} of {len(rows) - 1} documents", file=sys.stderr)
EOF
  TRAIN="$SPLIT/train-quick.csv" VAL="$SPLIT/val-quick.csv" TEST="$SPLIT/test-quick.csv"
else
  TRAIN="$SPLIT/train.csv" VAL="$SPLIT/val.csv" TEST="$SPLIT/test.csv"
fi

recipe=(--epochs "$epochs" --batch-size "$bs" --lr "$lr" --warmup-ratio "$warmup" --weight-decay "$wd"
        --max-length "$maxlen" --stride "$stride" --max-windows "$maxwin" --eval-max-windows "$evalwin" --aggregation "$agg"
        --seed "$seed" --threads "$threads")
[ "$cw" = 1 ] && recipe+=(--class-weights)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
log "recipe: ${recipe[*]}; train $TRAIN"

# PyTorch's threading setting: the faster OMP_WAIT_POLICY in a short probe when several are given.
IFS=, read -r -a plist <<< "$policies"
policy="${plist[0]}"
if [ "${#plist[@]}" -gt 1 ]; then
  best=""
  for p in "${plist[@]}"; do
    if [ "$p" = default ]; then envp=(env -u OMP_WAIT_POLICY); else envp=(env OMP_WAIT_POLICY="$p"); fi
    r=$("${envp[@]}" "$PY" benchmarks/peers/hf_trainer.py --model "$MODEL" --train "$TRAIN" --val "$VAL" \
          --test "$TEST" --out "$out/probe" "${recipe[@]}" --max-steps 12 2>/dev/null | tail -n 1)
    sps=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["steps_per_second"])' "$r")
    log "probe OMP_WAIT_POLICY=$p: $sps steps/s"
    if [ -z "$best" ] || "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$sps" "$best"; then
      best="$sps" policy="$p"
    fi
  done
  rm -rf "$out/probe"
fi

rm -rf "$out/hf"
if [ "$reuse" = 1 ] && [ -f "$out/rgrid/metrics.jsonl" ] && [ -f "$out/rgrid.time" ]; then
  log "rgrid: reusing the run in $out/rgrid (--reuse-rgrid)"
else
  log "rgrid: rgrid-finetune --init $MODEL -> $out/rgrid (log $out/rgrid.log)"
  rm -rf "$out/rgrid"
  /usr/bin/time -v -o "$out/rgrid.time" "$build/bin/rgrid-finetune" --train "$TRAIN" --val "$VAL" --test "$TEST" \
    --out "$out/rgrid" --init "$MODEL" "${recipe[@]}" > "$out/rgrid.log" 2>&1
fi
log "hf: benchmarks/peers/hf_trainer.py (OMP_WAIT_POLICY=$policy) -> $out/hf (log $out/hf.log)"
if [ "$policy" = default ]; then envp=(env -u OMP_WAIT_POLICY); else envp=(env OMP_WAIT_POLICY="$policy"); fi
"${envp[@]}" /usr/bin/time -v -o "$out/hf.time" "$PY" benchmarks/peers/hf_trainer.py --model "$MODEL" \
  --train "$TRAIN" --val "$VAL" --test "$TEST" --out "$out/hf" "${recipe[@]}" > "$out/hf.log" 2>&1

"$PY" - "$out" "$policy" "$quick" "$labels" "${recipe[*]}" "$(git rev-parse --short HEAD)" <<'EOF'
import json, re, sys
out, policy, quick, labels, recipe, tree = sys.argv[1:7]

def rusage(path):
    t = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    user = float(re.search(r"User time \(seconds\): (\S+)", t).group(1))
    return rss / 1024.0, secs, user

recs = [json.loads(l) for l in open(f"{out}/rgrid/metrics.jsonl") if l.strip()]
summ = [r for r in recs if r["type"] == "train_summary"][-1]
evals = [r for r in recs if r["type"] == "eval"]
test = [r for r in recs if r["type"] == "test"][-1]
windows = int(re.search(r"Windows:\s+(\d+) train", open(f"{out}/rgrid.log").read()).group(1))
n_ep = len(evals)
rg_rss, rg_wall, rg_user = rusage(f"{out}/rgrid.time")
rg = {"train_runtime": summ["train_runtime"], "epochs": n_ep, "train_windows": windows,
      "eval_runtime": sum(r["eval_runtime"] for r in evals),
      "samples_per_second": windows * n_ep / summ["train_runtime"],
      "test_accuracy": test["test_accuracy"], "test_f1": test["test_f1"], "test_macro_f1": test["test_macro_f1"],
      "peak_rss_mib": rg_rss, "process_wall": rg_wall, "process_user_cpu": rg_user,
      "val_f1_per_epoch": [r["eval_f1"] for r in evals]}

h = json.load(open(f"{out}/hf/hf_result.json"))
hf_ep = [e for e in h["epochs"]]
hf_rss, hf_wall, hf_user = rusage(f"{out}/hf.time")
hf = {"train_runtime": h["train_runtime"], "epochs": len(hf_ep), "train_windows": h["train_windows"],
      "eval_runtime": sum(e["runtime"] for e in hf_ep),
      "samples_per_second": h["train_windows"] * len(hf_ep) / h["train_runtime"],
      "test_accuracy": h["test"]["accuracy"], "test_f1": h["test"]["f1"], "test_macro_f1": h["test"]["macro_f1"],
      "peak_rss_mib": hf_rss, "process_wall": hf_wall, "process_user_cpu": hf_user,
      "val_f1_per_epoch": [e["f1"] for e in hf_ep], "omp_wait_policy": policy, "torch": h["torch"]}
for x in (rg, hf):
    x["epoch_seconds"] = x["train_runtime"] / x["epochs"]
    x["epoch_seconds_steps_only"] = (x["train_runtime"] - x["eval_runtime"]) / x["epochs"]

ratios = {"epoch_time": rg["epoch_seconds"] / hf["epoch_seconds"],
          "epoch_time_steps_only": rg["epoch_seconds_steps_only"] / hf["epoch_seconds_steps_only"],
          "peak_rss": rg["peak_rss_mib"] / hf["peak_rss_mib"],
          "accuracy_points": 100 * (rg["test_accuracy"] - hf["test_accuracy"])}
targets = {"epoch_time": "<= 0.67", "peak_rss": "<= 0.6", "accuracy_points": "within +-1"}
met = {"epoch_time": ratios["epoch_time"] <= 0.67, "peak_rss": ratios["peak_rss"] <= 0.6,
       "accuracy_points": abs(ratios["accuracy_points"]) <= 1.0}
result = {"tree": tree, "quick": quick == "1", "labels": labels, "recipe": recipe, "rgrid": rg, "hf_trainer": hf,
          "ratios": ratios, "targets": targets, "met": met}
json.dump(result, open(f"{out}/compare_trainer.json", "w"), indent=1)

rows = [("wall time per epoch (s; steps + validation + saves)", "epoch_seconds", "{:.1f}"),
        ("  of which steps only (s)", "epoch_seconds_steps_only", "{:.1f}"),
        ("training windows / epoch", "train_windows", "{}"),
        ("samples/s (training windows)", "samples_per_second", "{:.2f}"),
        ("peak RSS (MiB)", "peak_rss_mib", "{:.0f}"),
        ("whole process wall (s)", "process_wall", "{:.0f}"),
        ("whole process user CPU (s)", "process_user_cpu", "{:.0f}"),
        ("test accuracy", "test_accuracy", "{:.4f}"),
        ("test weighted F1", "test_f1", "{:.4f}"),
        ("test macro F1", "test_macro_f1", "{:.4f}")]
md = [f"compare_trainer.sh ({'--quick, ' if quick == '1' else ''}{labels}; tree {tree}; recipe `{recipe}`; "
      f"HF: torch {hf['torch']}, OMP_WAIT_POLICY={policy})", "",
      "| | rgrid | HF Trainer | rgrid / HF |", "|---|---|---|---|"]
for label, key, fmt in rows:
    a, b = rg[key], hf[key]
    ratio = f"{a / b:.2f}" if key not in ("test_accuracy", "test_f1", "test_macro_f1", "train_windows") else \
        (f"{100 * (a - b):+.1f} points" if key != "train_windows" else "")
    md.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
md += ["", "targets: epoch time <= 0.67x HF: " + ("met" if met["epoch_time"] else "NOT met") +
       f" ({ratios['epoch_time']:.2f}); peak RSS <= 0.6x HF: " + ("met" if met["peak_rss"] else "NOT met") +
       f" ({ratios['peak_rss']:.2f}); test accuracy within 1 point: " + ("met" if met["accuracy_points"] else "NOT met") +
       f" ({ratios['accuracy_points']:+.1f})"]
open(f"{out}/compare_trainer.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
log "wrote $out/compare_trainer.md and $out/compare_trainer.json"
