#!/usr/bin/env bash
# Configures, builds and runs the whole rgrid test suite (CTest).
#   ./test.sh              Release build in build/, all tests
#   ./test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-sanitize/
set -euo pipefail
cd "$(dirname "$0")"

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
for arg in "$@"; do
  case "$arg" in
    --sanitize)
      build_dir=build-sanitize
      cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DRGRID_SANITIZE=ON) ;;
    *) echo "usage: ./test.sh [--sanitize]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
# The Python references (torch 2.13 + transformers in .venv) and the pretrained package
# (models/minilm-l6). Where either cannot be set up, the tests that need it are SKIPPED and say why.
if venv_python="$(scripts/setup-python.sh | tail -n 1)" && [[ -x "$venv_python" ]]; then
  cmake_args+=(-DRGRID_PYTHON="$venv_python")
else
  echo "test.sh: WARNING: scripts/setup-python.sh failed; the parity and interop tests will be SKIPPED" >&2
  cmake_args+=(-DRGRID_PYTHON=)
fi
scripts/get-model.sh || echo "test.sh: WARNING: scripts/get-model.sh failed; tests of the pretrained model will be SKIPPED" >&2
jobs=$(nproc)
cmake -S . -B "$build_dir" "${cmake_args[@]}"
cmake --build "$build_dir" -j"$jobs"
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 900
