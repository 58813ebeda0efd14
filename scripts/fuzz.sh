#!/usr/bin/env bash
# Builds rgrid's libFuzzer targets with clang (tests/fuzz/) and runs each one.
#   scripts/fuzz.sh [SECONDS]                 every target for SECONDS (default 60)
#   scripts/fuzz.sh --runs N [SECONDS]        stop a target after N executions (or SECONDS)
#   scripts/fuzz.sh --targets "csv tokenizer" only these targets
#   scripts/fuzz.sh --max-len BYTES           cap input size (libFuzzer -max_len; default: libFuzzer's)
#   scripts/fuzz.sh --build-dir DIR           build here (default build-fuzz)
#   scripts/fuzz.sh --smoke                   CTest smoke run: 8 s per target, exit 77 without clang
# First the checked-in crash regressions (tests/fuzz/regressions/<target>/) are replayed, then
# libFuzzer mutates from the seed corpus (tests/fuzz/corpus/<target>/; new inputs go to
# DIR/corpus/<target>/, never into the source tree). Crashes land in DIR/findings/<target>/.
# Prints executions, exec/s and findings per target; exits 1 when anything was found.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=60 runs=0 smoke=0 build_dir="$root/build-fuzz" targets="" max_len=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1; seconds=8 ;;
    --runs) runs="$2"; shift ;;
    --targets) targets="$2"; shift ;;
    --max-len) max_len="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1" ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

cxx="${RGRID_FUZZ_CXX:-$(command -v clang++ || true)}"
if [[ -z "$cxx" ]]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang); fuzzing skipped" >&2
  exit 77
fi
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe_dir/p.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe_dir/p.cpp" -o "$probe_dir/p" >/dev/null 2>&1; then
  echo "fuzz.sh: $cxx cannot link libFuzzer (Debian: apt-get install libclang-rt-14-dev); fuzzing skipped" >&2
  exit 77
fi
fuzz_src="$root/tests/fuzz"
cmake -S "$fuzz_src" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [[ -z "$targets" ]]; then
  targets=$(cd "$fuzz_src" && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//' | tr '\n' ' ')
  [[ -f "$root/include/rgrid/serve/app.hpp" ]] || targets="${targets/serve/}"  # web app not in this tree yet
fi
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$build_dir" -j"${JOBS:-2}" --target "${build_targets[@]}" >"$build_dir/build.log" 2>&1 ||
  { tail -40 "$build_dir/build.log"; echo "fuzz.sh: build failed" >&2; exit 1; }

status=0
printf '%-12s %8s %12s %9s %8s %s\n' target seconds executions exec/s corpus findings
for t in $targets; do
  bin="$build_dir/fuzz_$t"
  work="$build_dir/corpus/$t" findings="$build_dir/findings/$t" log="$build_dir/fuzz_$t.log"
  mkdir -p "$work" "$findings"
  regressions=("$fuzz_src/regressions/$t"/*)
  if [[ -e "${regressions[0]}" ]]; then
    if ! "$bin" -runs=1 "${regressions[@]}" >"$build_dir/replay_$t.log" 2>&1; then
      echo "fuzz.sh: $t: a checked-in regression input crashes again (see $build_dir/replay_$t.log)" >&2
      status=1
    fi
  fi
  before=$(ls "$findings" | wc -l)
  start=$(date +%s)
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=60 -rss_limit_mb=2048
        -artifact_prefix="$findings/")
  [[ "$runs" != 0 ]] && args+=(-runs="$runs")
  [[ "$max_len" != 0 ]] && args+=(-max_len="$max_len")
  "$bin" "${args[@]}" "$work" "$fuzz_src/corpus/$t" >"$log" 2>&1 || true
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  found=$(( $(ls "$findings" | wc -l) - before ))
  corpus=$(ls "$work" | wc -l)
  printf '%-12s %8s %12s %9s %8s %s\n' "$t" "$elapsed" "${execs:-0}" "${rate:-0}" "$corpus" "$found"
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$elapsed" "${execs:-0}" "$found" >>"$build_dir/fuzz-results.tsv"
  if [[ "$found" != 0 ]] || grep -q -E '^SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)' "$log"; then
    echo "fuzz.sh: $t found a problem; inputs in $findings, log $log:" >&2
    grep -m3 -E 'ERROR|invariant|SUMMARY|runtime error' "$log" >&2 || true
    status=1
  fi
done
exit $status
