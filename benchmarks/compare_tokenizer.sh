#!/usr/bin/env bash
# rgrid's BertTokenizer against Hugging Face tokenizers (Rust, npm @anush008/tokenizers) on the
# same texts, one thread each, alternating runs: checks the ids (and the 512/128 sliding
# windows) are identical over the whole corpus, then prints MB/s, tokens/s (medians over REPS passes) and the ratio.
#
#   benchmarks/compare_tokenizer.sh [CORPUS] [REPS]
#
#   CORPUS  .csv with a "text" column or .jsonl with {"text": ...} lines
#           (default data/spamassassin.csv from scripts/get-data.sh)
#   REPS    timed passes per tokenizer (default 5)
#   env     BUILD_DIR (default build), HF_TOKENIZER_JSON (default ../shared/golden/tokenizer/tokenizer.json),
#           RGRID_VOCAB (default examples/assets/bert-base-uncased-vocab.txt)
#
# Needs: cmake build of rgrid-tokenize + bench_tokenizer, node + (cd benchmarks/peers && npm ci --ignore-scripts),
# python3 (standard library only). Throughput is computed from process CPU time (robust on a
# busy machine) and from wall time; the ratio uses CPU time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CORPUS="${1:-$ROOT/data/spamassassin.csv}"
REPS="${2:-5}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
HF_JSON="${HF_TOKENIZER_JSON:-$ROOT/../shared/golden/tokenizer/tokenizer.json}"
VOCAB="${RGRID_VOCAB:-$ROOT/examples/assets/bert-base-uncased-vocab.txt}"
PEER="$ROOT/benchmarks/peers/hf_tokenizer.js"

[ -f "$CORPUS" ] || { echo "compare_tokenizer: no corpus '$CORPUS' (run scripts/get-data.sh)" >&2; exit 1; }
[ -f "$HF_JSON" ] || { echo "compare_tokenizer: no HF tokenizer.json '$HF_JSON' (set HF_TOKENIZER_JSON)" >&2; exit 1; }
[ -d "$ROOT/benchmarks/peers/node_modules/@anush008/tokenizers" ] ||
  (cd "$ROOT/benchmarks/peers" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
cmake --build "$BUILD_DIR" -j2 --target rgrid-tokenize bench_tokenizer >/dev/null

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# One thread everywhere.
export RAYON_NUM_THREADS=1 UV_THREADPOOL_SIZE=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# 1. The same texts for both: JSON lines.
python3 - "$CORPUS" "$WORK/corpus.jsonl" <<'EOF'
import csv, json, sys
src, dst = sys.argv[1], sys.argv[2]
n = 0
with open(dst, "w", encoding="utf-8") as out:
    if src.endswith(".csv"):
        csv.field_size_limit(1 << 30)
        with open(src, encoding="utf-8", errors="replace", newline="") as f:
            for row in csv.DictReader(f):
                out.write(json.dumps({"text": row["text"]}, ensure_ascii=False) + "\n"); n += 1
    else:
        with open(src, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    out.write(json.dumps({"text": json.loads(line)["text"]}, ensure_ascii=False) + "\n"); n += 1
print(f"corpus: {src}: {n} texts", file=sys.stderr)
EOF

# 2. Identical ids over the whole corpus.
"$BUILD_DIR/bin/rgrid-tokenize" --vocab "$VOCAB" < "$WORK/corpus.jsonl" > "$WORK/rgrid_ids.jsonl"
node "$PEER" --tokenizer "$HF_JSON" --corpus "$WORK/corpus.jsonl" --ids "$WORK/hf_ids.jsonl"
if ! cmp -s "$WORK/rgrid_ids.jsonl" "$WORK/hf_ids.jsonl"; then
  line=$(cmp "$WORK/rgrid_ids.jsonl" "$WORK/hf_ids.jsonl" | sed -n 's/.* line \([0-9]*\).*/\1/p')
  echo "compare_tokenizer: ids DIFFER from HF, first at text #$line" >&2
  exit 1
fi
echo "ids: identical to HF on all $(wc -l < "$WORK/hf_ids.jsonl") texts"
# ... and the sliding windows (HF truncation + overflowing encodings, max_length 512, stride 128).
"$BUILD_DIR/bin/rgrid-tokenize" --vocab "$VOCAB" --max-length 512 --stride 128 < "$WORK/corpus.jsonl" > "$WORK/rgrid_win.jsonl"
node "$PEER" --tokenizer "$HF_JSON" --corpus "$WORK/corpus.jsonl" --ids "$WORK/hf_win.jsonl" --max-length 512 --stride 128
if ! cmp -s "$WORK/rgrid_win.jsonl" "$WORK/hf_win.jsonl"; then
  echo "compare_tokenizer: windows DIFFER from HF: $(cmp "$WORK/rgrid_win.jsonl" "$WORK/hf_win.jsonl")" >&2
  exit 1
fi
echo "windows (512, stride 128): identical to HF on all texts ($(grep -o '\],\[' "$WORK/hf_win.jsonl" | wc -l) overflow windows)"

# 3. Alternating timed passes.
for ((r = 1; r <= REPS; ++r)); do
  RGRID_TOKENIZER_CORPUS="$WORK/corpus.jsonl" RGRID_VOCAB="$VOCAB" "$BUILD_DIR/bin/bench_tokenizer" \
    --benchmark_filter='BM_Tokenizer_EncodeIds_Corpus$' --benchmark_min_time=0.001 --benchmark_format=json \
    2>/dev/null > "$WORK/rgrid_$r.json"
  node "$PEER" --tokenizer "$HF_JSON" --corpus "$WORK/corpus.jsonl" --reps 1 > "$WORK/hf_$r.json"
done

python3 - "$WORK" "$REPS" <<'EOF'
import json, statistics, sys
work, reps = sys.argv[1], int(sys.argv[2])
rg, hf = [], []
for r in range(1, reps + 1):
    b = json.load(open(f"{work}/rgrid_{r}.json"))["benchmarks"][0]
    # Google Benchmark rates use CPU time; wall rate = cpu rate * cpu_time / real_time.
    rg.append((b["bytes_per_second"], b["items_per_second"], b["bytes_per_second"] * b["cpu_time"] / b["real_time"]))
    h = json.loads(open(f"{work}/hf_{r}.json").read().splitlines()[-1])
    hf.append((h["bytes"] / h["cpu_seconds"], h["tokens"] / h["cpu_seconds"], h["bytes"] / h["seconds"]))
med = lambda xs, i: statistics.median(x[i] for x in xs)
print(f"{'tokenizer (1 thread)':<28}{'MB/s (cpu)':>12}{'Mtok/s (cpu)':>14}{'MB/s (wall)':>13}")
for name, xs in (("rgrid BertTokenizer", rg), ("HF tokenizers 0.22 (Rust)", hf)):
    print(f"{name:<28}{med(xs,0)/1e6:>12.2f}{med(xs,1)/1e6:>14.2f}{med(xs,2)/1e6:>13.2f}")
print(f"ratio rgrid/HF: {med(rg,0)/med(hf,0):.2f}x (cpu time), {med(rg,2)/med(hf,2):.2f}x (wall); medians of {reps} alternating passes")
EOF
