#!/usr/bin/env bash
# The masked-LM training step (issue 15, item 7): rgrid's BM_Bert_MlmStep (benchmarks/bench_bert.cpp)
# vs transformers' BertForMaskedLM on the venv's torch 2.13 (benchmarks/peers/torch_mlm.py), the
# same batch (8 x 128, 14.8% of the positions predicted) and threads, mini and MiniLM shapes,
# alternately, each run in its own process (peak RSS is per process). PyTorch runs with every
# OMP_WAIT_POLICY of --policies; its best setting per shape is kept. Medians over --reps.
#
#   benchmarks/compare_mlm.sh [--build DIR] [--threads N] [--reps N] [--out FILE.json] [--policies default,PASSIVE]
#
# Prints a table and writes FILE.json: rows {"name", "rgrid", "peer", "unit", "ratio", "target",
# "met"} as compare.sh's (ratio > 1: rgrid better; targets: step speed >= 1.5x, peak RSS <= 0.6x);
# raw runs go to FILE.raw.jsonl. compare.sh calls it and merges the rows into its own JSON.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-perf" threads=2 reps=3 out="" policies=default,PASSIVE
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --policies) policies="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "compare_mlm.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="$build/compare/compare_mlm.json"
mkdir -p "$(dirname "$out")"
raw="${out%.json}.raw.jsonl"
: > "$raw"
PY="$root/.venv/bin/python"
bench="$build/bin/bench_bert"
[ -x "$bench" ] || cmake --build "$build" -j2 --target bench_bert >&2
log() { echo "compare_mlm: $*" >&2; }
log "$(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); threads $threads; raw: $raw"

for rep in $(seq 1 "$reps"); do
  for shape in mini minilm; do
    log "rep $rep/$reps: $shape/8/128"
    RGRID_BENCH_THREADS=$threads "$bench" --benchmark_filter="^BM_Bert_MlmStep/$shape/8/128/real_time\$" \
      --benchmark_min_time=1 --benchmark_format=json 2>/dev/null | "$PY" -c '
import json, sys
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
for b in json.load(sys.stdin)["benchmarks"]:
    print(json.dumps(dict(tool="rgrid", rep=int(sys.argv[1]), preset=sys.argv[2], seconds=b["real_time"] * scale[b["time_unit"]],
                          iterations=b["iterations"], peak_rss_MB=b["peak_rss_MB"], chosen=b["chosen"], gflops=b["GFLOP/s"])))
' "$rep" "$shape" >> "$raw" || log "rgrid $shape failed"
    for policy in ${policies//,/ }; do
      ( [ "$policy" = default ] && unset OMP_WAIT_POLICY || export OMP_WAIT_POLICY=$policy
        "$PY" "$here/peers/torch_mlm.py" --shape "$shape" --batch 8 --seq 128 --threads "$threads" --iters 5 ) |
        "$PY" -c '
import json, sys
for l in sys.stdin:
    if l.startswith("{"):
        r = json.loads(l); r.update(tool="pytorch", rep=int(sys.argv[1])); print(json.dumps(r))
' "$rep" >> "$raw" || log "pytorch $shape ($policy) failed"
    done
  done
done

"$PY" - "$raw" "$out" <<'EOF'
import json, statistics, sys
raw, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(raw)]
med = lambda xs: statistics.median(xs) if xs else None
result = []
for shape in ("mini", "minilm"):
    rg = [r for r in rows if r["tool"] == "rgrid" and r["preset"] == shape]
    by = {}
    for r in rows:
        if r["tool"] == "pytorch" and r["preset"] == shape:
            by.setdefault(r["omp_wait_policy"], []).append(r)
    pol = min(by, key=lambda p: med([r["seconds"] for r in by[p]])) if by else None
    pt = by.get(pol, [])
    rs, ps = med([r["seconds"] for r in rg]), med([r["seconds"] for r in pt])
    rm, pm = med([r["peak_rss_MB"] for r in rg]), med([r["peak_rss_bytes"] / 2**20 for r in pt])
    def row(name, a, b, unit, ratio, target, note):
        met = None if ratio is None else ratio >= target
        result.append(dict(name=name, rgrid=a, peer=b, unit=unit, ratio=ratio, target=target, met=met, note=note))
    note = f"transformers BertForMaskedLM, torch OMP_WAIT_POLICY={pol}; {len(rg)} rgrid / {len(pt)} torch runs"
    row(f"MLM train step {shape}/8/128 vs PyTorch", rs and 8 / rs, ps and 8 / ps, "samples/s",
        rs and ps and ps / rs, 1.5, note)
    row(f"peak RSS MLM step {shape}/8/128 vs PyTorch", rm, pm, "MB", rm and pm and pm / rm, round(1 / 0.6, 4),
        "target: rgrid <= 0.6x PyTorch")
json.dump(result, open(out, "w"), indent=1)
fmt = lambda v: "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)
for r in result:
    print(f"{r['name']:<44} rgrid {fmt(r['rgrid']):>8}  torch {fmt(r['peer']):>8} {r['unit']:<9} ratio {fmt(r['ratio']):>6}"
          f"  target {fmt(r['target'])}  met {r['met']}")
print(f"JSON: {out}; raw: {raw}")
EOF
