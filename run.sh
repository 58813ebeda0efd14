#!/usr/bin/env bash
# The main job, end to end. (Until the pipeline lands: build and train a tiny model
# on a generated task with the autograd core, printing the loss.)
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j"$(nproc)" --target rgrid-toy
build/bin/rgrid-toy
