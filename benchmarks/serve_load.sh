#!/usr/bin/env bash
# Load benchmark for rgrid-serve with wrk (Debian): requests/s and p50/p99 latency at 1, 8 and
# 64 connections, for a short text and a 2,000-word text (POST /predict), on loopback only.
#
#   benchmarks/serve_load.sh [--build DIR] [--duration SECONDS] [--threads N] [--serve-args "ARGS"]
#                            [--out FILE] [MODEL_DIR ...]
#
# Without MODEL_DIR it benchmarks (1) the tiny test model (2 layers, hidden 32, 32-token windows),
# (2) a random BERT of the "tiny" preset (2 layers, hidden 128, 512-token windows, stride 128,
# the size rgrid-finetune --preset tiny trains) and (3) every fine-tuned checkpoint found at
# runs/*/best. The random models are written by test_serve (ServeModel.SaveTiny). Each
# (model, text, connections) cell runs wrk for --duration seconds (default 5) after one warm-up
# request that also waits out the previous cell's requests still in flight; total time ≈
# models × 6 × duration s plus those waits. The load average is printed with the results:
# other work on the cores shows up directly in these numbers. Prints a Markdown table; --out also
# writes it to FILE. --serve-args adds rgrid-serve flags (e.g. "--parallel-predictions 2
# --compute-threads 1") to compare configurations.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build-serve" duration=5 threads=8 out="" serve_args="" models=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --serve-args) serve_args=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)"; exit 1; }
serve_bin=$build/bin/rgrid-serve
if [ ! -x "$serve_bin" ] || [ ! -x "$build/bin/test_serve" ]; then
  echo "building rgrid-serve and test_serve in $build (-j2)"
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target rgrid-serve test_serve >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rgrid-serve-load.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ ${#models[@]} -eq 0 ]; then
  RGRID_SERVE_MODEL_DIR="$work/test-tiny" "$build/bin/test_serve" --gtest_filter=ServeModel.SaveTiny >/dev/null
  RGRID_SERVE_MODEL_DIR="$work/preset-tiny" RGRID_SERVE_MODEL_PRESET=tiny \
    "$build/bin/test_serve" --gtest_filter=ServeModel.SaveTiny >/dev/null
  models=("$work/test-tiny" "$work/preset-tiny")
  for m in "$root"/runs/*/best; do [ -f "$m/model.safetensors" ] && models+=("$m"); done
fi

# Request bodies: a short e-mail line and a 2,000-word text (a paragraph repeated).
printf '{"text": "Congratulations, you won a free cruise! Click here to claim your prize now."}' >"$work/short.json"
para="Hi team, please find attached the quarterly report on the network migration. The new servers \
arrived on Tuesday and the installation went mostly to plan, although the backup job failed twice \
because the storage quota was too small. We have since doubled it and the nightly run finished in \
forty minutes. Next week we will move the mail gateway, so expect a short outage on Thursday evening. \
If you see anything unusual, reply to this message or call the help desk."
long="" n=0
while [ "$n" -lt 2000 ]; do
  for w in $para; do [ "$n" -lt 2000 ] && long+="$w " && n=$((n + 1)); done
done
printf '{"text": "%s"}' "${long% }" >"$work/long.json"
cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("RGRID_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table="| model | text | connections | requests/s | p50 latency | p99 latency | errors |
|---|---|---:|---:|---:|---:|---:|"
for model in "${models[@]}"; do
  name=$(basename "$(dirname "$model")")/$(basename "$model")
  case $model in "$work"/*) name="random $(basename "$model")" ;; esac
  # shellcheck disable=SC2086  # serve_args is a list of flags
  "$serve_bin" --model "$model" --host 127.0.0.1 --port 0 --threads "$threads" $serve_args \
    >"$work/stdout" 2>"$work/server.log" &
  server_pid=$!
  url=""
  for _ in $(seq 1 600); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/stdout" || true)
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "rgrid-serve did not start"; exit 1; }
  windows_long=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$work/long.json" "${url}predict" |
                 grep -o '"windows":[0-9]*' | cut -d: -f2)
  echo "# $name at $url (2,000-word text = $windows_long windows)" >&2
  for text in short long; do
    for conns in 1 8 64; do
      wt=$(( conns < 2 ? 1 : 2 ))
      # Drain: requests a finished wrk left in flight still run on the server; one more request
      # (queued behind them) returns when they are done. It also warms the caches for this text.
      curl -s -o /dev/null --max-time 120 -H 'Content-Type: application/json' --data-binary @"$work/$text.json" "${url}predict"
      RGRID_BODY="$work/$text.json" wrk -t"$wt" -c"$conns" -d"${duration}s" --timeout 30s --latency \
        -s "$work/post.lua" "${url}predict" >"$work/wrk.txt" 2>&1 || true
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
      p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
      p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
      errs=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' "$work/wrk.txt")
      label=$([ "$text" = short ] && echo "short (14 words)" || echo "2,000 words ($windows_long windows)")
      row="| $name | $label | $conns | ${rps:-?} | ${p50:-?} | ${p99:-?} | $errs |"
      echo "$row" >&2
      table+=$'\n'"$row"
    done
  done
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
done

header="rgrid-serve --threads $threads${serve_args:+ $serve_args}, wrk ${duration}s per cell on 127.0.0.1, $(nproc) cores ($(uname -m)), $(date -u +%Y-%m-%dT%H:%MZ); load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "$header"
echo
echo "$table"
if [ -n "$out" ]; then printf '%s\n\n%s\n' "$header" "$table" >"$out"; fi
