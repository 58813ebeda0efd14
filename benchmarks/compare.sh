#!/usr/bin/env bash
# Runs rgrid and its peers on the same machine, alternately, and writes the ratios issue 9
# sets targets for.
#
#   benchmarks/compare.sh [--out FILE] [--reps N] [--threads N] [--build DIR] [--no-install]
#                         [--only REGEX] [--quick] [--scaling] [--torch-policies default,PASSIVE]
#                         [--from-raw RAW.jsonl]   (re-summarize earlier measurements only)
#
# 1. installs the peers through the project's scripts: scripts/install-deps.sh (node/npm,
#    Google Benchmark, ...), scripts/setup-python.sh (the venv: torch 2.13 + transformers,
#    onnxruntime from pip) and `npm ci --ignore-scripts` in benchmarks/peers
#    (onnxruntime-node; its install script would download, the CPU library ships in the package);
# 2. builds bench_gemm and bench_bert (Release, -j2) in --build (default build-perf);
# 3. exports the PyTorch model to ONNX (benchmarks/peers/export_onnx.py) for ORT;
# 4. --reps times (default 3): for each case runs rgrid, then PyTorch, then ONNX Runtime,
#    each in its own process (peak RSS is per process). PyTorch runs with every
#    OMP_WAIT_POLICY setting in repetition 1 and with the fastest one per case after that
#    (train base/8/512, the slowest case, uses the winner of train base/8/128);
#    ORT runs through both bindings (pip onnxruntime: peers/ort_bert.py; npm
#    onnxruntime-node: peers/ort_bert.js), each with intra-op spinning on and off; the best
#    setting of each peer is kept, and every row names the peer, its version and setting;
# 5. prints a table and writes a JSON list of
#    {"name", "rgrid", "peer", "unit", "ratio", "target", "met", "floor", "floor_met",
#    "peer_name", "peer_version", "peer_setting"} (ratio > 1: rgrid better; targets and floors
#    of issue 17;
#    the tokenization row comes from benchmarks/compare_tokenizer.sh, run once at the end;
#    a target whose rgrid side is missing has "rgrid": null, "met": null, never a guess).
#    Raw measurements (one JSON line per run) go next to it as <out>.raw.jsonl.
#
# Every case's medians (ms, rgrid GFLOP/s, peak RSS) also go to <out>.cases.json and a second
# table; both tables go to <out>.md in Markdown. --quick: 1 repetition of a few cases; --scaling: also mini at seq 64-512 and batch
# 16/32, and batch-1 inference at seq 32/256 (for the scaling tables); --only REGEX keeps
# the cases matching e.g. 'train/mini'.
# Medians over repetitions. Needs a quiet machine: other work on the cores shows up as noise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out="" reps=3 threads=2 build="$root/build-perf" install=1 only="" quick=0 scaling=0 torch_policies=default,PASSIVE from_raw=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --no-install) install=0; shift ;;
    --only) only="$2"; shift 2 ;;
    --quick) quick=1; reps=1; shift ;;
    --scaling) scaling=1; shift ;;
    --torch-policies) torch_policies="$2"; shift 2 ;;
    --from-raw) from_raw="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/{/^#/p}' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="$build/compare/compare.json"
mkdir -p "$(dirname "$out")" "$build/peers"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
raw="$out.raw.jsonl"
if [ -n "$from_raw" ]; then  # re-summarize earlier measurements, measure nothing
  [ "$(readlink -f "$from_raw")" = "$(readlink -f "$raw")" ] || cp "$from_raw" "$raw"
  install=0
fi
[ -n "$from_raw" ] || : > "$raw"
PY="$root/.venv/bin/python"  # the project venv (scripts/setup-python.sh): torch 2.13 + transformers
log() { echo "compare: $*" >&2; }
want() { [ -z "$only" ] || [[ "$1" =~ $only ]]; }

measure() {
train_cases=(mini/8/128 minilm/8/128 minilm/16/256 base/8/128 base/8/512)
infer_cases=(mini/1/128 mini/1/512 minilm/1/128 minilm/1/512 base/1/128 base/1/512 base/32/128 mini/32/128
             minilm/32/128)
[ "$quick" = 1 ] && train_cases=(mini/8/128 minilm/8/128 base/8/128) \
  && infer_cases=(mini/1/128 minilm/1/128 base/1/128 mini/32/128 minilm/32/128)
# --scaling adds the cases of the sequence-length and batch tables in docs/performance.md.
[ "$scaling" = 1 ] && train_cases+=(mini/8/64 mini/8/256 mini/8/512 mini/16/128 mini/32/128) \
  && infer_cases+=(mini/1/32 mini/1/256 base/1/32 base/1/256)
# ---- 1. peers -------------------------------------------------------------------------
if [ "$install" = 1 ]; then
  "$root/scripts/install-deps.sh"
  PY="$("$root/scripts/setup-python.sh" | tail -n 1)"
  (cd "$here/peers" && npm ci --ignore-scripts --no-audit --no-fund >&2)
fi

# ---- 2. rgrid's benchmarks ------------------------------------------------------------
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRGRID_BUILD_TESTS=OFF -DRGRID_BUILD_EXAMPLES=ON >/dev/null
for t in bench_gemm bench_bert; do
  cmake --build "$build" -j2 --target "$t" >&2 || log "building $t failed: its rows will show as missing"
done

# ---- 3. the ONNX models ---------------------------------------------------------------
for p in mini minilm base; do
  needed=0  # only presets with an inference case to run
  for c in "${infer_cases[@]}"; do [[ $c == $p/* ]] && want "infer/$c" && needed=1; done
  [ "$needed" = 1 ] || continue
  m="$build/peers/bert-$p.onnx"
  if [ ! -s "$m" ] || [ "$m" -ot "$here/peers/torch_bert.py" ] || [ "$m" -ot "$here/peers/export_onnx.py" ]; then
    (cd "$here/peers" && "$PY" export_onnx.py --preset "$p" --out "$m" >&2)
  fi
done

# ---- 4. measurements ------------------------------------------------------------------
# Appends stdin's JSON lines to $raw with the repetition and tool added.
tag() { "$PY" -c '
import json, sys
rep, tool = int(sys.argv[1]), sys.argv[2]
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line); r.update(rep=rep, tool=tool); print(json.dumps(r))
' "$@" >> "$raw"; }

# Google Benchmark JSON -> one line per benchmark (seconds per iteration, counters).
gbench_lines() { "$PY" -c '
import json, sys
doc = json.load(sys.stdin)
scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
for b in doc.get("benchmarks", []):
    if b.get("run_type") == "aggregate" or b.get("error_occurred"):
        continue
    parts = b["name"].split("/")
    r = dict(name=b["name"], seconds=b["real_time"] * scale[b["time_unit"]], iterations=b["iterations"])
    if parts[0] in ("BM_Bert_TrainStep", "BM_Bert_Inference"):
        r.update(case="train" if parts[0] == "BM_Bert_TrainStep" else "infer", preset=parts[1],
                 batch=int(parts[2]), seq=int(parts[3]))
    for k in ("GFLOP/s", "peak_rss_MB", "items_per_second", "cpu_s/iter", "minflt/iter"):
        if k in b: r[k] = b[k]
    print(json.dumps(r))
'; }

iters_for() {  # timed PyTorch iterations per case (slow cases fewer; reps give the rest)
  case "$1" in train/mini/*|train/minilm/8/*) echo 5 ;; train/minilm/*) echo 3 ;; train/base/8/128) echo 2 ;;
               train/*) echo 1 ;;
               infer/mini/1/*) echo 10 ;; infer/*/1/*) echo 5 ;; *) echo 2 ;; esac
}
# The OMP_WAIT_POLICY with the lowest time for this case in repetition 1.
best_policy() { "$PY" -c '
import json, sys
key = sys.argv[2]; best = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["tool"] == "pytorch" and r["rep"] == 1 and "{case}/{preset}/{batch}/{seq}".format(**r) == key:
        if best is None or r["seconds"] < best[0]: best = (r["seconds"], r["omp_wait_policy"])
print(best[1] if best else "PASSIVE")
' "$raw" "$1"; }

run_rgrid() {  # case/preset/B/T
  local bin="$build/bin/bench_bert" kind=${1%%/*} rest=${1#*/} name
  [ -x "$bin" ] || return 0
  name=$([ "$kind" = train ] && echo BM_Bert_TrainStep || echo BM_Bert_Inference)
  RGRID_BENCH_THREADS=$threads "$bin" --benchmark_filter="^$name/$rest/real_time\$" \
    --benchmark_min_time=1 --benchmark_format=json 2>/dev/null | gbench_lines | tag "$rep" rgrid \
    || log "rgrid $1 failed (shown as missing)"
}
run_torch() {  # case/preset/B/T
  local kind=${1%%/*} rest=${1#*/} preset b t policies policy
  IFS=/ read -r preset b t <<< "$rest"
  if [ "$rep" != 1 ]; then policies=$(best_policy "$1")
  elif [ "$1" = train/base/8/512 ] && want train/base/8/128; then
    policies=$(best_policy train/base/8/128)  # the slowest case (~1 min a step) reuses seq 128's winner
  else policies=${torch_policies//,/ }; fi
  for policy in $policies; do
    ( [ "$policy" = default ] && unset OMP_WAIT_POLICY || export OMP_WAIT_POLICY=$policy
      "$PY" "$here/peers/torch_bert.py" --case "$kind" --preset "$preset" --batch "$b" --seq "$t" \
        --threads "$threads" --iters "$(iters_for "$1")" ) | tag "$rep" pytorch || log "pytorch $1 failed"
  done
}
run_ort() {  # preset, comma list of BxT: both bindings, pip (python) first, then npm (node)
  local common=(--model "$build/peers/bert-$1.onnx" --preset "$1" --cases "$2" --threads "$threads" --iters 10
                --max-seconds 4 --spinning 1,0)
  "$PY" "$here/peers/ort_bert.py" "${common[@]}" | tag "$rep" onnxruntime || log "onnxruntime (pip) $1 failed"
  node "$here/peers/ort_bert.js" "${common[@]}" | tag "$rep" onnxruntime || log "onnxruntime-node $1 failed"
}
run_gemm() {
  [ -x "$build/bin/bench_gemm" ] || return 0
  "$build/bin/bench_gemm" --benchmark_filter="BM_Gemm_Linear(_Blas)?/M:1024/.*/threads:$threads/" \
    --benchmark_min_time=1 --benchmark_format=json 2>/dev/null | gbench_lines | tag "$rep" sgemm
}

log "$(date -u +%FT%TZ) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg); raw results: $raw"
for rep in $(seq 1 "$reps"); do
  log "repetition $rep/$reps"
  run_gemm
  for c in "${train_cases[@]}"; do
    want "train/$c" || continue
    log "  train $c"; run_rgrid "train/$c"; run_torch "train/$c"
  done
  for c in "${infer_cases[@]}"; do
    want "infer/$c" || continue
    log "  infer $c"; run_rgrid "infer/$c"; run_torch "infer/$c"
  done
  for p in mini minilm base; do
    cases=""
    for c in "${infer_cases[@]}"; do
      if [[ $c == $p/* ]] && want "infer/$c"; then IFS=/ read -r _ b t <<< "$c"; cases+="${cases:+,}${b}x$t"; fi
    done
    [ -z "$cases" ] || { log "  onnxruntime $p $cases"; run_ort "$p" "$cases"; }
  done
  run_gemm
done

# Tokenization: the tokenizer benchmark's own comparison (benchmarks/compare_tokenizer.sh:
# ids checked identical to HF on the corpus, then alternating single-thread passes); its
# printed "ratio rgrid/HF" line (CPU-time based) and MB/s table are read from its log.
if [ -x "$here/compare_tokenizer.sh" ] && { [ -z "$only" ] || [[ tokenize =~ $only ]]; }; then
  tok_log="$out.tokenizer.log"
  [ -s "$root/data/spamassassin.csv" ] || "$root/scripts/get-data.sh" >&2 || log "get-data.sh failed"
  log "tokenizer: compare_tokenizer.sh"
  BUILD_DIR="$build" "$here/compare_tokenizer.sh" "$root/data/spamassassin.csv" 3 > "$tok_log" 2>&1 || log "compare_tokenizer.sh failed (see $tok_log)"
fi

# ---- int8 (issue 18) ------------------------------------------------------------------
# rgrid int8 vs fp32, vs ORT quantize_dynamic and PyTorch quantize_dynamic (MiniLM and base
# shapes, batch 1 at 128/512, batch 32×128): benchmarks/compare_int8.sh, tables in <out>.int8.md.
if [ -x "$here/compare_int8.sh" ] && { [ -z "$only" ] || [[ int8 =~ $only ]]; }; then
  int8_args=(--out "${out%.json}.int8.json" --reps "$reps" --threads "$threads" --build "$build")
  [ "$quick" = 1 ] && int8_args+=(--models minilm --cases 1x128)
  log "int8: compare_int8.sh"
  "$here/compare_int8.sh" "${int8_args[@]}" >&2 || log "compare_int8.sh failed"
fi

}  # measure
tok_log=""
[ -n "$from_raw" ] || measure
[ -z "$from_raw" ] || [ ! -s "$out.tokenizer.log" ] || tok_log="$out.tokenizer.log"

# ---- 5. summary -----------------------------------------------------------------------
"$PY" - "$raw" "$out" "$tok_log" <<'EOF'
import json, re, statistics, sys

raw, out, tok_log = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(raw)]

def key(r):
    return "{case}/{preset}/{batch}/{seq}".format(**r)

def med(xs):
    return statistics.median(xs) if xs else None

def setting(r):
    """A peer's setting: PyTorch's OMP_WAIT_POLICY; ONNX Runtime's binding and spinning."""
    if r["tool"] == "onnxruntime":
        return f"{r.get('binding', 'node')} allow_spinning={r.get('allow_spinning')}"
    return f"OMP_WAIT_POLICY={r['omp_wait_policy']}" if r.get("omp_wait_policy") else ""

def version(r):
    return r.get("onnxruntime") or r.get("torch") or ""

def seconds(tool, k):
    """Median seconds over repetitions for tool/case, for each setting of the peer; the best setting."""
    by = {}
    for r in rows:
        if r["tool"] == tool and "case" in r and key(r) == k and "seconds" in r:
            by.setdefault(setting(r), []).append(r["seconds"])
    if not by:
        return None, None
    best = min(by, key=lambda v: med(by[v]))
    return med(by[best]), best

def peer_of(tool, k, best):
    """(peer name, version) of tool's best setting for case k, e.g. ("onnxruntime (pip)", "1.32.0")."""
    for r in rows:
        if r["tool"] == tool and "case" in r and key(r) == k and setting(r) == best:
            if tool == "onnxruntime":
                return ("onnxruntime (pip)" if r.get("binding") == "python" else "onnxruntime-node"), version(r)
            return "PyTorch (transformers " + r.get("transformers", "?") + ")", version(r)
    return None, None

def rss_mb(tool, k):
    xs = [r["peak_rss_MB"] if "peak_rss_MB" in r else r["peak_rss_bytes"] / 2**20
          for r in rows if r["tool"] == tool and "case" in r and key(r) == k
          and ("peak_rss_MB" in r or "peak_rss_bytes" in r)]
    return med(xs)

def gflops(tool, k):
    xs = [r["GFLOP/s"] for r in rows if r["tool"] == tool and "case" in r and key(r) == k and "GFLOP/s" in r]
    return med(xs)

sgemm = {}
for r in rows:
    if r["tool"] == "sgemm":
        sgemm.setdefault(r["name"], []).append(r["GFLOP/s"])
sgemm_peak = max((med(v) for v in sgemm.values()), default=None)
sgemm_peak_name = next(("OpenBLAS cblas_sgemm" if "_Blas/" in n else "rgrid gemm() (core/sgemm_avx512.hpp or OpenBLAS)"
                        for n, v in sgemm.items() if med(v) == sgemm_peak), "fp32 GEMM")

result = []
def row(name, rgrid, peer, unit, higher_is_better, target, floor=None, note="", peer_info=(None, None, None)):
    """One comparison; ratio > 1 means rgrid is better. target/floor are ratios (issue 17)."""
    ratio = None
    if rgrid is not None and peer is not None and rgrid > 0 and peer > 0:
        ratio = rgrid / peer if higher_is_better else peer / rgrid
    met = None if ratio is None or target is None else ratio >= target
    floor_met = None if ratio is None or floor is None else ratio >= floor
    r = dict(name=name, rgrid=rgrid, peer=peer, unit=unit, ratio=ratio, target=target, met=met, floor=floor,
             floor_met=floor_met, peer_name=peer_info[0], peer_version=peer_info[1], peer_setting=peer_info[2])
    if rgrid is None:
        r["note"] = "missing: rgrid side not measured (not built yet or failed)"
    elif peer is None:
        r["note"] = "missing: peer not measured"
    if note:
        r["note"] = (r.get("note", "") + "; " if "note" in r else "") + note
    result.append(r)

def info(tool, k, best):
    name, ver = peer_of(tool, k, best)
    return name, ver, best and re.sub(r"^(python|node) ", "", best)

# Targets and [floors] of issue 17, as ratios (rgrid better > 1).
for k in ("train/mini/8/128", "train/minilm/8/128", "train/base/8/128", "train/base/8/512", "train/minilm/16/256"):
    b = int(k.split("/")[2])
    rg, _ = seconds("rgrid", k)
    pt, pol = seconds("pytorch", k)
    has_target = k != "train/minilm/16/256"
    row(f"train step {k[6:]} vs PyTorch", b / rg if rg else None, b / pt if pt else None, "samples/s", True,
        1.5 if has_target else None, 1.3 if has_target else None, peer_info=info("pytorch", k, pol))
for k in ("infer/mini/1/128", "infer/mini/1/512", "infer/minilm/1/128", "infer/minilm/1/512",
          "infer/base/1/128", "infer/base/1/512"):
    rg, _ = seconds("rgrid", k)
    ort, best = seconds("onnxruntime", k)
    row(f"inference latency {k[6:]} vs ONNX Runtime", rg * 1e3 if rg else None, ort * 1e3 if ort else None, "ms",
        False, 1.0, 0.9, "target: latency <= ORT's", peer_info=info("onnxruntime", k, best))
for k in ("infer/mini/32/128", "infer/minilm/32/128", "infer/base/32/128"):
    b = int(k.split("/")[2])
    rg, _ = seconds("rgrid", k)
    ort, best = seconds("onnxruntime", k)
    row(f"inference throughput {k[6:]} vs ONNX Runtime", b / rg if rg else None, b / ort if ort else None,
        "samples/s", True, 1.0, 0.9, peer_info=info("onnxruntime", k, best))
row("train step base/8/128 GFLOP/s vs sgemm peak", gflops("rgrid", "train/base/8/128"), sgemm_peak, "GFLOP/s",
    True, 0.85, 0.75, "sgemm peak = best BERT-shape fp32 GEMM in this run (bench_gemm: rgrid's gemm() and cblas_sgemm)",
    peer_info=(sgemm_peak_name, None, None))
for k in ("train/base/8/128", "train/base/8/512"):
    _, pol = seconds("pytorch", k)
    row(f"peak RSS fine-tuning {k[6:]} vs PyTorch", rss_mb("rgrid", k), rss_mb("pytorch", k), "MB", False,
        round(1 / 0.6, 4), round(1 / 0.7, 4), "target: rgrid <= 0.6x PyTorch [floor 0.7x]",
        peer_info=info("pytorch", k, pol))
tok = open(tok_log).read() if tok_log else ""
mb = dict(re.findall(r"^(rgrid|HF)\S*.*?\s([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s*$", tok, re.M))
tok_info = ("HF tokenizers (npm @anush008/tokenizers)", None, "1 thread")
if "rgrid" in mb and "HF" in mb:
    row("tokenization 1 thread vs HF tokenizers", float(mb["rgrid"]), float(mb["HF"]), "MB/s", True, 3.0, 3.0,
        "compare_tokenizer.sh (CPU-time MB/s, ids identical to HF on the corpus); target of issue 9",
        peer_info=tok_info)
else:
    row("tokenization 1 thread vs HF tokenizers", None, None, "MB/s", True, 3.0, 3.0,
        "compare_tokenizer.sh " + ("did not run" if not tok_log else "gave no ratio: see " + tok_log),
        peer_info=tok_info)
# Context, no target: gemm()'s fp32 kernel against OpenBLAS's cblas_sgemm at BERT-base's shapes.
for shape in ("K:768/N:768", "K:768/N:3072", "K:3072/N:768"):
    own = [med(v) for n, v in sgemm.items() if n.startswith(f"BM_Gemm_Linear/M:1024/{shape}/")]
    blas = [med(v) for n, v in sgemm.items() if n.startswith(f"BM_Gemm_Linear_Blas/M:1024/{shape}/")]
    row(f"fp32 GEMM 1024x{shape.replace('K:', '').replace('/N:', 'x')} gemm() vs cblas_sgemm (context)",
        own[0] if own else None, blas[0] if blas else None, "GFLOP/s", True, None,
        note="gemm() runs core/sgemm_avx512.hpp where OpenBLAS lacks AVX-512 kernels, else cblas_sgemm itself",
        peer_info=("OpenBLAS cblas_sgemm", None, None))
# Context, no target: PyTorch inference.
for k in ("infer/base/1/128", "infer/base/1/512", "infer/mini/1/128", "infer/minilm/1/128", "infer/base/32/128"):
    rg, _ = seconds("rgrid", k)
    pt, pol = seconds("pytorch", k)
    row(f"inference latency {k[6:]} vs PyTorch", rg * 1e3 if rg else None, pt * 1e3 if pt else None, "ms", False,
        None, None, peer_info=info("pytorch", k, pol))

json.dump(result, open(out, "w"), indent=1)

def fmt(v):
    if v is None:
        return "-"
    if not isinstance(v, float):
        return str(v)
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"
def peer_label(r):
    return " ".join(x for x in (r["peer_name"], r["peer_version"], r["peer_setting"] and f"({r['peer_setting']})") if x)
w = max(len(r["name"]) for r in result)
yn = {True: "yes", False: "NO", None: "-"}
print(f"{'name':<{w}}  {'rgrid':>9}  {'peer':>9}  {'unit':<9}  {'ratio':>6}  {'target':>6}  met  {'floor':>6}  met  peer")
for r in result:
    print(f"{r['name']:<{w}}  {fmt(r['rgrid']):>9}  {fmt(r['peer']):>9}  {r['unit']:<9}  {fmt(r['ratio']):>6}  "
          f"{fmt(r['target']):>6}  {yn[r['met']]:<3}  {fmt(r['floor']):>6}  {yn[r['floor_met']]:<3}  {peer_label(r)}")
# Every case: medians per tool (best setting of each peer), for the scaling tables.
cases = sorted({key(r) for r in rows if "case" in r},
               key=lambda k: (k.split("/")[0], k.split("/")[1], int(k.split("/")[2]), int(k.split("/")[3])))
per_case = []
for k in cases:
    rg, _ = seconds("rgrid", k)
    pt, pol = seconds("pytorch", k)
    ort, spin = seconds("onnxruntime", k)
    per_case.append(dict(case=k, rgrid_ms=rg and rg * 1e3, pytorch_ms=pt and pt * 1e3, pytorch_policy=pol,
                         onnxruntime_ms=ort and ort * 1e3, onnxruntime_spinning=spin,
                         rgrid_gflops=gflops("rgrid", k), rgrid_peak_rss_mb=rss_mb("rgrid", k),
                         pytorch_peak_rss_mb=rss_mb("pytorch", k)))
json.dump(dict(sgemm_peak_gflops=sgemm_peak, cases=per_case), open(out.rsplit(".json", 1)[0] + ".cases.json", "w"),
          indent=1)
print(f"\n{'case':<21} {'rgrid ms':>9} {'torch ms':>9} {'ORT ms':>9} {'rgrid GFLOP/s':>13} {'rgrid RSS MB':>12} {'torch RSS MB':>12}")
for c in per_case:
    print(f"{c['case']:<21} {fmt(c['rgrid_ms']):>9} {fmt(c['pytorch_ms']):>9} {fmt(c['onnxruntime_ms']):>9} "
          f"{fmt(c['rgrid_gflops']):>13} {fmt(c['rgrid_peak_rss_mb']):>12} {fmt(c['pytorch_peak_rss_mb']):>12}")
# The same two tables in Markdown, for docs/performance.md.
md = ["| name | rgrid | peer | unit | ratio | target | met | floor | floor met | peer, version (setting) |",
      "|---|---:|---:|---|---:|---:|---|---:|---|---|"]
ynm = {True: "yes", False: "**no**", None: "—"}
for r in result:
    md.append(f"| {r['name']} | {fmt(r['rgrid'])} | {fmt(r['peer'])} | {r['unit']} | {fmt(r['ratio'])} | "
              f"{fmt(r['target'])} | {ynm[r['met']]} | {fmt(r['floor'])} | {ynm[r['floor_met']]} | {peer_label(r)} |")
md += ["", "| case | rgrid ms | PyTorch ms (policy) | ORT ms (binding, spinning) | rgrid GFLOP/s | rgrid RSS MB | PyTorch RSS MB |",
       "|---|---:|---:|---:|---:|---:|---:|"]
for c in per_case:
    md.append(f"| {c['case']} | {fmt(c['rgrid_ms'])} | {fmt(c['pytorch_ms'])}"
              f"{' (' + c['pytorch_policy'] + ')' if c['pytorch_policy'] else ''} | {fmt(c['onnxruntime_ms'])}"
              f"{' (' + c['onnxruntime_spinning'] + ')' if c['onnxruntime_spinning'] else ''} | {fmt(c['rgrid_gflops'])} | "
              f"{fmt(c['rgrid_peak_rss_mb'])} | {fmt(c['pytorch_peak_rss_mb'])} |")
md.append(f"\nsgemm peak (2 threads, BERT shapes): {fmt(sgemm_peak)} GFLOP/s")
open(out.rsplit(".json", 1)[0] + ".md", "w").write("\n".join(md) + "\n")
print(f"\nsgemm peak {fmt(sgemm_peak)} GFLOP/s; JSON: {out}; raw: {raw}")
EOF

# ---- BEGIN masked-LM training step (issue 15): benchmarks/compare_mlm.sh ----------------
# rgrid's BM_Bert_MlmStep vs transformers' BertForMaskedLM (mini and MiniLM, 8 x 128, same
# threads), run by its own script (raw runs: <out>.mlm.raw.jsonl); its rows (step speed, peak
# RSS) are appended to <out>. Skipped by --from-raw and by an --only that does not match "mlm".
if [ -z "$from_raw" ] && { [ -z "$only" ] || [[ mlm =~ $only ]]; }; then
  "$here/compare_mlm.sh" --build "$build" --threads "$threads" --reps "$reps" --out "${out%.json}.mlm.json" \
    --policies "$torch_policies" || log "compare_mlm.sh failed: its rows are missing"
fi
if [ -s "${out%.json}.mlm.json" ]; then
  "$PY" -c 'import json, sys; a = json.load(open(sys.argv[1])); a += json.load(open(sys.argv[2])); json.dump(a, open(sys.argv[1], "w"), indent=1)' \
    "$out" "${out%.json}.mlm.json"
fi
# ---- END masked-LM training step ---------------------------------------------------------
