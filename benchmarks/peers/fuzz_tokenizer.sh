#!/usr/bin/env bash
# Differential fuzzing of rgrid's BertTokenizer against Hugging Face tokenizers: N random texts
# mixing code points from all planes (Latin, combining marks, CJK incl. the 0x2B820/0x2B920
# ranges, Hangul, emoji, private use, unassigned, controls), special-token literals and long
# words, tokenized uncased and cased (HF's tokenizer.json with lowercase=false); ids must be
# identical line for line.
#
#   benchmarks/peers/fuzz_tokenizer.sh [N=20000] [SEED=7]
#   env: BUILD_DIR (default build), HF_TOKENIZER_JSON (default ../shared/golden/tokenizer/tokenizer.json)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N="${1:-20000}"
SEED="${2:-7}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
HF_JSON="${HF_TOKENIZER_JSON:-$ROOT/../shared/golden/tokenizer/tokenizer.json}"
VOCAB="$ROOT/examples/assets/bert-base-uncased-vocab.txt"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$N" "$SEED" "$HF_JSON" "$WORK" <<'PY'
import json, random, sys
n, seed, hf_json, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
random.seed(seed)
pools = [(0x20, 0x7E), (0x0, 0x1F), (0x80, 0xFF), (0x100, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
         (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x20A0, 0x20CF),
         (0x2100, 0x214F), (0x2E00, 0x2E7F), (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
         (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF), (0x20000, 0x2FFFF),
         (0x2B800, 0x2B9FF), (0x10000, 0x10FFFF), (0xE000, 0xF8FF), (0x1C80, 0x1CBF), (0xA700, 0xA7FF)]
def rand_cp():
    a, b = random.choice(pools)
    while True:
        c = random.randint(a, b)
        if not 0xD800 <= c <= 0xDFFF:
            return c
specials = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", " ", "  ", "\n", "\t"]
words = ["hello", "world", "unaffable", "Telecommunications", "CAFÉ", "naïve", "straße", "ΣΑΣ", "İstanbul", "x" * 99, "y" * 101]
with open(f"{work}/fuzz.jsonl", "w", encoding="utf-8") as f:
    for _ in range(n):
        parts = []
        for _ in range(random.randint(1, 30)):
            r = random.random()
            if r < 0.5: parts.append(chr(rand_cp()))
            elif r < 0.7: parts.append(random.choice(specials))
            elif r < 0.85: parts.append(random.choice(words))
            else: parts.append("".join(chr(rand_cp()) for _ in range(random.randint(1, 8))))
        f.write(json.dumps({"text": "".join(parts)}, ensure_ascii=False) + "\n")
t = json.load(open(hf_json, encoding="utf-8"))
t["normalizer"]["lowercase"] = False  # cased: BertNormalizer strip_accents=null follows lowercase
json.dump(t, open(f"{work}/tokenizer_cased.json", "w", encoding="utf-8"))
PY

status=0
for mode in uncased cased; do
  flag=""; json="$HF_JSON"
  [ "$mode" = cased ] && flag="--cased" && json="$WORK/tokenizer_cased.json"
  "$BUILD_DIR/bin/rgrid-tokenize" $flag --vocab "$VOCAB" < "$WORK/fuzz.jsonl" > "$WORK/rgrid_$mode.jsonl"
  node "$ROOT/benchmarks/peers/hf_tokenizer.js" --tokenizer "$json" --corpus "$WORK/fuzz.jsonl" --ids "$WORK/hf_$mode.jsonl"
  if cmp -s "$WORK/rgrid_$mode.jsonl" "$WORK/hf_$mode.jsonl"; then
    echo "fuzz $mode: ids identical to HF on $N random texts (seed $SEED)"
  else
    echo "fuzz $mode: ids DIFFER from HF: $(cmp "$WORK/rgrid_$mode.jsonl" "$WORK/hf_$mode.jsonl")" >&2
    status=1
  fi
done
exit $status
