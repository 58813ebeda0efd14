#!/usr/bin/env bash
# int8 dynamic quantization against its peers (issue 18; docs/int8.md), run by compare.sh's
# int8 block or alone:
#
#   benchmarks/compare_int8.sh [--out FILE.json] [--reps N] [--threads N] [--build DIR]
#                              [--models "minilm base"] [--cases 1x128,1x512,32x128]
#
# Per repetition, model and case, each in its own process, alternately: rgrid fp32 and int8
# (bench_int8 BM_Int8_Bert), then benchmarks/peers/int8_peers.py: PyTorch 2.13 fp32 and
# torch.ao.quantization.quantize_dynamic int8, ONNX Runtime fp32 and
# onnxruntime.quantization.quantize_dynamic int8 (both spinning settings, the faster kept).
# Medians over repetitions; the table gives rgrid int8 / rgrid fp32 and rgrid int8 / ORT int8
# latency (targets ≤ 0.6 and ≤ 1.0 at batch 1) and batch-32 throughput. Raw lines: FILE.raw.jsonl;
# tables: FILE.md. Timing on a busy machine is noise: the load average is printed with it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out="" reps=3 threads=2 build="$root/build-perf" models="minilm base" cases="1x128,1x512,32x128"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare_int8.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="$build/compare/int8.json"
mkdir -p "$(dirname "$out")" "$build/peers"
raw="$out.raw.jsonl"; : > "$raw"
PY="$root/.venv/bin/python"
log() { echo "compare_int8: $*" >&2; }

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRGRID_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target bench_int8 >&2
bin="$build/bin/bench_int8"

tag() { "$PY" -c '
import json, sys
rep = int(sys.argv[1])
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line); r["rep"] = rep; print(json.dumps(r))
' "$1" >> "$raw"; }
rgrid_case() {  # model dtype B T -> one JSON line
  RGRID_BENCH_THREADS=$threads "$bin" --benchmark_filter="^BM_Int8_Bert/$1/$2/$3/$4/real_time\$" \
    --benchmark_min_time=1 --benchmark_format=json 2>/dev/null | "$PY" -c '
import json, sys
d = json.load(sys.stdin); m, dt, b, t = sys.argv[1:5]
for x in d["benchmarks"]:
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[x["time_unit"]]
    print(json.dumps(dict(tool="rgrid-" + dt, model=m, batch=int(b), seq=int(t), seconds=x["real_time"] * scale,
                          int8_kernel=x.get("kernel"))))
' "$@"; }

log "$(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); raw: $raw"
for rep in $(seq 1 "$reps"); do
  for m in $models; do
    for c in ${cases//,/ }; do
      IFS=x read -r b t <<< "$c"
      log "rep $rep $m $c: rgrid fp32, int8"
      rgrid_case "$m" fp32 "$b" "$t" | tag "$rep" || log "rgrid fp32 $m $c failed"
      rgrid_case "$m" int8 "$b" "$t" | tag "$rep" || log "rgrid int8 $m $c failed"
    done
    log "rep $rep $m: PyTorch and ONNX Runtime (fp32, int8)"
    "$PY" "$here/peers/int8_peers.py" --model "$m" --cases "$cases" --threads "$threads" --work "$build/peers" \
      2>/dev/null | tag "$rep" || log "int8_peers.py $m failed"
  done
done
log "done; load: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$raw" "$out" <<'EOF'
import json, statistics, sys
raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(raw)]
def sec(tool, m, b, t):
    by = {}
    for r in rows:
        if r["tool"] == tool and r["model"] == m and r["batch"] == b and r["seq"] == t:
            by.setdefault(r.get("allow_spinning", ""), []).append(r["seconds"])
    return min((statistics.median(v) for v in by.values()), default=None)
cases = sorted({(r["model"], r["batch"], r["seq"]) for r in rows}, key=lambda k: (k[0] != "minilm", k[1], k[2]))
tools = ["rgrid-fp32", "rgrid-int8", "ort-fp32", "ort-int8", "torch-fp32", "torch-int8"]
res = []
for m, b, t in cases:
    s = {tool: sec(tool, m, b, t) for tool in tools}
    ratio = lambda a, c: s[a] / s[c] if s[a] and s[c] else None
    res.append(dict(model=m, batch=b, seq=t, ms={k: v and v * 1e3 for k, v in s.items()},
                    int8_vs_fp32=ratio("rgrid-int8", "rgrid-fp32"), int8_vs_ort_int8=ratio("rgrid-int8", "ort-int8"),
                    int8_vs_torch_int8=ratio("rgrid-int8", "torch-int8"),
                    samples_per_s={k: v and b / v for k, v in s.items()}))
json.dump(res, open(out, "w"), indent=1)
f = lambda v: "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.3g}")
md = ["| case | rgrid fp32 | rgrid int8 | ORT fp32 | ORT int8 | PyTorch fp32 | PyTorch int8 | int8/fp32 (≤ 0.6) | "
      "int8/ORT int8 (≤ 1.0) | int8/PyTorch int8 |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in res:
    unit = "ms" if r["batch"] == 1 else "samples/s"
    vals = r["ms"] if r["batch"] == 1 else r["samples_per_s"]
    md.append(f"| {r['model']} {r['batch']}×{r['seq']} ({unit}) | " + " | ".join(f(vals[k]) for k in tools) +
              f" | {f(r['int8_vs_fp32'])} | {f(r['int8_vs_ort_int8'])} | {f(r['int8_vs_torch_int8'])} |")
md.append("\nRatios are latency ratios (rgrid int8 time / other time; < 1: rgrid int8 faster).")
open(out.rsplit(".json", 1)[0] + ".md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
