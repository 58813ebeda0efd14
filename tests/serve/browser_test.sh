#!/usr/bin/env bash
# Browser test for rgrid-serve: start it on a tiny saved model on a free loopback port, drive the
# page with headless Chromium (playwright-core from npm, /usr/bin/chromium), save a screenshot.
# usage: browser_test.sh RGRID_SERVE_BINARY MODEL_DIR OUT_DIR
set -euo pipefail
serve_bin=$1 model=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
browser_dir=$here/browser

[[ -x /usr/bin/chromium ]] || { echo "SKIP: /usr/bin/chromium not installed"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
if [[ ! -d $browser_dir/node_modules/playwright-core ]]; then
  echo "installing playwright-core (npm ci --ignore-scripts) in $browser_dir"
  (cd "$browser_dir" && npm ci --ignore-scripts --no-audit --no-fund)
fi

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/rgrid-browser.XXXXXX")
log=$out/serve_browser_server.log
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --port 0: the server picks a free port and prints it.
"$serve_bin" --model "$model" --host 127.0.0.1 --port 0 --threads 2 >"$work/stdout" 2>"$log" &
server_pid=$!
url=
for _ in $(seq 1 300); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/stdout" || true)
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "rgrid-serve exited early:"; cat "$log"; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "rgrid-serve did not print its address"; cat "$log"; exit 1; }
echo "rgrid-serve at $url"

node "$browser_dir/page_test.js" "$url" "$out/serve_page.png" "$work/chromium-profile"

# Clean shutdown on SIGTERM.
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=
[[ $rc -eq 0 ]] || { echo "rgrid-serve exited with $rc after SIGTERM"; exit 1; }
grep -q "POST /predict 200" "$log" || { echo "no request log line for POST /predict"; cat "$log"; exit 1; }
echo "server log: $log"
