#!/usr/bin/env bash
# Create (or update) the project's Python environment in .venv/ from requirements/python.txt:
# PyTorch 2.13 (CPU), transformers, tokenizers, safetensors, onnxruntime — the parity references
# and the peers. Never touches the system Python. Idempotent: a fast no-op when the installed
# set already matches the requirements file (a stamp holds its checksum).
#
#   scripts/setup-python.sh [REQUIREMENTS]    prints the venv's python path on the last line
#
# REQUIREMENTS (default requirements/python.txt) and RGRID_VENV (default .venv) select another
# environment, e.g. RGRID_VENV=.venv-baselines scripts/setup-python.sh requirements/baselines.txt.
# A file that pins torch gets torch installed first, on its own, so that no later package can pull
# another torch, and is checked for it afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RGRID_VENV:-${ROOT}/.venv}"
REQ="${1:-${ROOT}/requirements/python.txt}"
[[ -f "$REQ" ]] || { echo "setup-python: no requirements file '$REQ'" >&2; exit 1; }
STAMP="${VENV}/.rgrid-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "setup-python: $VENV is up to date" >&2
  echo "$VENV/bin/python"
  exit 0
fi

PY="${RGRID_PYTHON:-python3}"
command -v "$PY" >/dev/null || { echo "setup-python: '$PY' is required (python3 with venv)" >&2; exit 1; }
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup-python: creating $VENV with $($PY --version 2>&1)" >&2
  "$PY" -m venv "$VENV" >&2 || { echo "setup-python: '$PY -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
torch_line="$(grep -E '^torch==' "$REQ" || true)"
if [[ -n "$torch_line" ]]; then
  echo "setup-python: installing $torch_line first" >&2
  pip install --quiet "$torch_line" >&2
fi
echo "setup-python: installing $REQ" >&2
pip install --quiet -r "$REQ" >&2
# Refuse a torch other than the pinned one (a dependency that replaced it would show here).
if [[ -n "$torch_line" ]]; then
  "$VENV/bin/python" - "$torch_line" "$REQ" >&2 <<'PYEOF'
import sys, torch
want = sys.argv[1].split("==")[1]
have = torch.__version__.split("+")[0]
if have != want:
    sys.exit(f"setup-python: torch {torch.__version__} is installed, {sys.argv[2]} pins {want}")
PYEOF
fi
echo "$want" > "$STAMP"
echo "setup-python: ready ($VENV)" >&2
echo "$VENV/bin/python"
