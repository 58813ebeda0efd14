#!/usr/bin/env bash
# Load, soak and bad-request flood for rgrid-serve, on loopback only (wrk from Debian).
#
#   benchmarks/serve_load.sh [--build DIR] [--duration SECONDS] [--out FILE] [MODEL_DIR ...]
#       load: requests/s and p50/p99 latency at 1, 8 and 64 connections, for a short text
#       (20 words) and a 2,000-word text, with batching on (rgrid-serve's defaults: --max-batch
#       32 --max-wait-ms 5) and off (--max-batch 1), wrk --duration seconds per cell (default 5).
#   benchmarks/serve_load.sh --soak SECONDS [--out FILE] [MODEL_DIR]
#       one server, 64 connections of short texts for SECONDS (600 for the 10-minute soak), with
#       one 2,000-word request in 20; reports errors, whether the server is still up, and its
#       RSS after the first 10 % of the time (warm-up) and at the end.
#   benchmarks/serve_load.sh --flood N [--out FILE] [MODEL_DIR]
#       N bad requests of each kind (invalid JSON, wrong types, invalid UTF-8, oversize: N each)
#       interleaved with good ones on 4 connections; checks every bad one got its 4xx and every
#       good one the same label and probabilities (within 1e-5) as before the flood.
#
# Without MODEL_DIR it uses the tiny test model (2 layers, hidden 32, 32-token windows) and a
# random BERT of the "tiny" preset (2 layers, hidden 128, 512-token windows), both written by
# test_serve (ServeModel.SaveTiny), plus every checkpoint at runs/*/best. Extra rgrid-serve flags
# go in --serve-args "...". The load average is printed with every result: other work on the
# cores shows up directly in these numbers, so compare rows of one run, not absolute values.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build="$root/build" duration=5 out="" serve_args="" mode=load soak=0 flood=0 models=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --serve-args) serve_args=$2; shift 2 ;;
    --soak) mode=soak; soak=$2; shift 2 ;;
    --flood) mode=flood; flood=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
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
server_pids=""
cleanup() {
  for p in $server_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ ${#models[@]} -eq 0 ]; then
  RGRID_SERVE_MODEL_DIR="$work/test-tiny" "$build/bin/test_serve" --gtest_filter=ServeModel.SaveTiny >/dev/null
  models=("$work/test-tiny")
  if [ "$mode" = load ]; then
    RGRID_SERVE_MODEL_DIR="$work/preset-tiny" RGRID_SERVE_MODEL_PRESET=tiny \
      "$build/bin/test_serve" --gtest_filter=ServeModel.SaveTiny >/dev/null
    models+=("$work/preset-tiny")
    for m in "$root"/runs/*/best; do [ -f "$m/model.safetensors" ] && models+=("$m"); done
  fi
fi

# Request bodies: a 20-word e-mail line and a 2,000-word text (a paragraph repeated).
printf '{"text": "Congratulations, you have won a free cruise to the Bahamas! Click here now to claim your prize before midnight."}' >"$work/short.json"
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
# Soak: short texts, every 20th request the long one.
cat >"$work/soak.lua" <<'LUA'
local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("*a"); f:close(); return s end
local short, long = slurp(os.getenv("RGRID_SHORT")), slurp(os.getenv("RGRID_LONG"))
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/predict", {["Content-Type"] = "application/json"}, (n % 20 == 0) and long or short)
end
LUA

load_now() { cut -d' ' -f1-3 /proc/loadavg; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid_soak/status" 2>/dev/null || echo 0; }

# start_server TAG MODEL [FLAGS...]: starts rgrid-serve on a free port; sets url_TAG and pid_TAG.
start_server() {
  local tag=$1 model=$2; shift 2
  # shellcheck disable=SC2086  # serve_args is a list of flags
  "$serve_bin" --model "$model" --host 127.0.0.1 --port 0 "$@" $serve_args >"$work/stdout.$tag" 2>"$work/server.$tag.log" &
  local pid=$! u=""
  server_pids+=" $pid"
  for _ in $(seq 1 600); do
    u=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/stdout.$tag" || true)
    [ -n "$u" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.$tag.log"; exit 1; }
    sleep 0.1
  done
  [ -n "$u" ] || { echo "rgrid-serve did not start"; exit 1; }
  printf -v "url_$tag" '%s' "$u"
  printf -v "pid_$tag" '%s' "$pid"
}
# stop_server TAG: SIGTERM, wait; sets clean to "yes" for a clean exit, else to the status (log tail on stderr).
stop_server() {
  local pidvar="pid_$1" rc=0
  kill -TERM "${!pidvar}" 2>/dev/null || true
  wait "${!pidvar}" || rc=$?
  server_pids=${server_pids/ ${!pidvar}/}
  if [ $rc -eq 0 ]; then clean=yes; else clean="NO (exit $rc)"; grep -v ' /predict ' "$work/server.$1.log" | tail -5 >&2; fi
}
model_name() {
  case $1 in "$work"/*) echo "random $(basename "$1")" ;; *) echo "$(basename "$(dirname "$1")")/$(basename "$1")" ;; esac
}
# wrk_cell URL TEXT CONNECTIONS SECONDS: one wrk run; sets rps p50 p99 errs.
wrk_cell() {
  local url=$1 text=$2 conns=$3 secs=$4 wt
  wt=$(( conns < 2 ? 1 : 2 ))
  # Drain: requests a finished wrk left in flight still run on the server; one more request
  # returns when they are done. It also warms the caches for this text.
  curl -s -o /dev/null --max-time 300 -H 'Content-Type: application/json' --data-binary @"$work/$text.json" "${url}predict"
  RGRID_BODY="$work/$text.json" wrk -t"$wt" -c"$conns" -d"${secs}s" --timeout 60s --latency \
    -s "$work/post.lua" "${url}predict" >"$work/wrk.txt" 2>&1 || true
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  errs=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' "$work/wrk.txt")
}
emit() {  # header, table → stdout and --out
  echo
  echo "$1"
  echo
  echo "$2"
  if [ -n "$out" ]; then printf '%s\n\n%s\n' "$1" "$2" >"$out"; fi
}

if [ "$mode" = load ]; then
  load_before=$(load_now)
  table="| model | text | batching | connections | requests/s | p50 latency | p99 latency | errors | load avg |
|---|---|---|---:|---:|---:|---:|---:|---|"
  for model in "${models[@]}"; do
    name=$(model_name "$model")
    # Both servers run side by side and the cells alternate on/off, so that each pair of rows
    # is measured at nearly the same moment (the other load on the machine drifts).
    start_server on "$model"
    start_server off "$model" --max-batch 1
    windows_long=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$work/long.json" "${url_on}predict" |
                   grep -o '"windows":[0-9]*' | cut -d: -f2)
    echo "# $name: batching on at $url_on, off at $url_off (2,000-word text = $windows_long windows)" >&2
    for text in short long; do
      for conns in 1 8 64; do
        for batching in on off; do
          u="url_$batching"
          wrk_cell "${!u}" "$text" "$conns" "$duration"
          label=$([ "$text" = short ] && echo "20 words" || echo "2,000 words ($windows_long windows)")
          row="| $name | $label | $batching | $conns | ${rps:-?} | ${p50:-?} | ${p99:-?} | $errs | $(load_now | cut -d' ' -f1) |"
          echo "$row" >&2
          table+=$'\n'"$row"
        done
      done
    done
    curl -s "${url_on}info" | grep -o '"batches":{[^}]*}' >&2 || true
    stop_server on; clean_on=$clean
    stop_server off
    echo "# clean exit after SIGTERM: on $clean_on, off $clean" >&2
  done
  emit "rgrid-serve${serve_args:+ $serve_args} (64 prediction workers; batching on = --max-batch 32 --max-wait-ms 5, off = --max-batch 1), both servers up side by side, cells alternating, wrk ${duration}s per cell on 127.0.0.1, $(nproc) cores ($(uname -m)), $(date -u +%Y-%m-%dT%H:%MZ); load average before/after: $load_before / $(load_now)" "$table"
  exit 0
fi

model=${models[0]}
name=$(model_name "$model")

if [ "$mode" = soak ]; then
  start_server soak "$model"
  url=$url_soak
  warm=$(( soak / 10 > 1 ? soak / 10 : 1 ))
  load_before=$(load_now)
  RGRID_SHORT="$work/short.json" RGRID_LONG="$work/long.json" wrk -t2 -c64 -d"${soak}s" --timeout 60s --latency \
    -s "$work/soak.lua" "${url}predict" >"$work/wrk.txt" 2>&1 &
  wrk_pid=$!
  sleep "$warm"
  rss_warm=$(rss_kb)
  samples="$rss_warm"
  elapsed=$warm
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 10
    elapsed=$((elapsed + 10))
    kill -0 "$pid_soak" 2>/dev/null || break
    samples+=" $(rss_kb)"
  done
  wait "$wrk_pid" || true
  rss_end=$(rss_kb)
  alive=no
  kill -0 "$pid_soak" 2>/dev/null && curl -sf --max-time 5 "${url}health" >/dev/null && alive=yes
  health_ms=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "${url}health" | awk '{printf "%.1f", $1 * 1000}')
  reqs=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  errs=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(",", ""); s += $4 + $6 + $8 + $10} END {print s + 0}' "$work/wrk.txt")
  stop_server soak
  drift=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN {d = a > 0 ? 100 * (b - a) / a : 0; s = (d >= 0) ? "+" : ""; printf "%s%.1f %%", s, d}')
  table="| model | seconds | requests | requests/s | p50 | p99 | errors | server up at end | clean exit | RSS after warm-up | RSS at end | drift |
|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|
| $name | $soak | ${reqs:-?} | ${rps:-?} | ${p50:-?} | ${p99:-?} | $errs | $alive (/health ${health_ms} ms) | $clean | $((rss_warm / 1024)) MiB | $((rss_end / 1024)) MiB | $drift |"
  emit "soak: rgrid-serve defaults${serve_args:+ $serve_args}, wrk -t2 -c64 for ${soak}s (1 request in 20 the 2,000-word text), RSS samples every 10 s (KiB): $samples; $(date -u +%Y-%m-%dT%H:%MZ); load average before/after: $load_before / $(load_now)" "$table"
  exit 0
fi

# ---- flood -------------------------------------------------------------------------------
start_server flood "$model" --max-body 65536
url=$url_flood
load_before=$(load_now)
python3 - "$url" "$flood" "$work/long.json" >"$work/flood.txt" <<'PY'
import json, socket, sys, threading, time, urllib.parse
url, n, long_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
u = urllib.parse.urlparse(url)
host, port = u.hostname, u.port
good_bodies = [b'{"text": "Meeting moved to 3pm tomorrow, bring the report."}',
               b'{"text": "WIN a FREE prize now, click here!"}', open(long_path, "rb").read()]
bad = {
    "invalid JSON": (b'{"text": "abc"', 400),
    "wrong type": (b'{"text": 42}', 400),
    "invalid UTF-8": (b'{"text": "caf\xc3 \xff"}', 400),
    "oversize": (b'{"text": "' + b"a" * 70000 + b'"}', 413),
}

class Conn:
    def __init__(self): self.s = None
    def request(self, body):
        """(status, body) or (None, reason); reconnects when the server closed the connection."""
        for attempt in range(2):
            if self.s is None:
                self.s = socket.create_connection((host, port), timeout=60)
                self.f = self.s.makefile("rb")
            try:
                self.s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass  # the server may refuse an oversize body before it is sent; read its answer
            try:
                line = self.f.readline()
                if not line:
                    raise ConnectionError("closed")
                status = int(line.split()[1])
                length, close = 0, False
                while True:
                    h = self.f.readline()
                    if h in (b"\r\n", b"\n", b""): break
                    k, _, v = h.decode().partition(":")
                    if k.lower() == "content-length": length = int(v)
                    if k.lower() == "connection" and v.strip().lower() == "close": close = True
                data = self.f.read(length)
                if close: self.close()
                return status, data
            except (OSError, ConnectionError, ValueError, IndexError) as e:
                self.close()
                if attempt == 1: return None, str(e)
        return None, "unreachable"
    def close(self):
        if self.s is not None:
            try: self.s.close()
            except OSError: pass
        self.s = None

ref = Conn()
want = []
for b in good_bodies:
    st, d = ref.request(b)
    assert st == 200, (st, d)
    want.append(json.loads(d))
ref.close()

threads = 4
counts = {k: [0, 0, 0] for k in bad}  # expected status, other status, no answer
good = [0, 0]  # same answer, changed or failed
lock = threading.Lock()
def worker(t):
    c = Conn()
    kinds = list(bad)
    for i in range(t, n, threads):
        for j, k in enumerate(kinds):
            body, expect = bad[k]
            st, d = c.request(body)
            with lock:
                counts[k][0 if st == expect else (2 if st is None else 1)] += 1
            if j % 2 == 1:  # a good request after every second bad one
                g = (i + j) % len(good_bodies)
                st, d = c.request(good_bodies[g])
                ok = False
                if st == 200:
                    got = json.loads(d)
                    ok = got["label"] == want[g]["label"] and got["windows"] == want[g]["windows"] and all(
                        abs(got["probabilities"][l] - p) <= 1e-5 for l, p in want[g]["probabilities"].items())
                with lock:
                    good[0 if ok else 1] += 1
    c.close()
t0 = time.time()
ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
secs = time.time() - t0
for k, (ok, other, none) in counts.items():
    print(f"| {k} | {bad[k][1]} | {ok + other + none} | {ok} | {other} | {none} |")
print(f"| good requests (same label, windows, probabilities within 1e-5) | 200 | {good[0] + good[1]} | {good[0]} | {good[1]} | - |")
print(f"SECONDS {secs:.1f}")
PY
alive=no
curl -sf --max-time 5 "${url}health" >/dev/null && alive=yes
stop_server flood
secs=$(awk '/^SECONDS/ {print $2}' "$work/flood.txt")
table="| requests | expected status | sent | got it | other status | no answer |
|---|---:|---:|---:|---:|---:|
$(grep '^|' "$work/flood.txt")"
emit "flood: $name, rgrid-serve --max-body 65536${serve_args:+ $serve_args}, $flood of each bad kind + good ones on 4 connections in ${secs}s; server up after: $alive, clean exit: $clean; $(date -u +%Y-%m-%dT%H:%MZ); load average before/after: $load_before / $(load_now)" "$table"
