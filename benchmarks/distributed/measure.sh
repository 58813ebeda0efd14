#!/usr/bin/env bash
# The data-parallel measurements of docs/performance.md ("Data parallelism over MPI"):
# for mini and base, 2 ranks x 1 thread (all-reduce overlapped with backward, and after it)
# against 1 rank x 2 threads on the same global batch. Prints the machine's load first: the
# machine is shared, so compare the rows of one run only.
# usage: benchmarks/distributed/measure.sh [BUILD_DIR]   (needs the data_parallel_step target)
set -euo pipefail
B="${1:-build}/bin/data_parallel_step"
flags=(--oversubscribe)
[ "$(id -u)" -ne 0 ] || flags+=(--allow-run-as-root)
echo "# $(date -u +%FT%TZ) $(uptime)"
run() {  # PRESET BATCH_PER_RANK TOKENS STEPS
  mpirun "${flags[@]}" -np 2 "$B" "$1" "$2" "$3" "$4" threads=1
  mpirun "${flags[@]}" -np 2 "$B" "$1" "$2" "$3" "$4" threads=1 overlap=0
  "$B" "$1" $(($2 * 2)) "$3" "$4" threads=2
}
run mini 8 128 5
run base 4 128 3
echo "# $(uptime)"
