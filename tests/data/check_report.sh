#!/usr/bin/env bash
# Renders rgrid-eda's report.html in headless Chromium: the page must load from file://
# with no network, produce a non-trivial screenshot, and have its SVG charts in the DOM.
#   check_report.sh <rgrid-eda> <input.csv> <work dir>
# Exit 77 (CTest: skipped) when chromium is not installed.
set -euo pipefail
EDA="$1"; INPUT="$2"; WORK="$3"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$CHROMIUM" ]]; then echo "check_report: chromium not installed: skipped"; exit 77; fi

rm -rf "$WORK"; mkdir -p "$WORK"
"$EDA" --input "$INPUT" --out "$WORK/out" > "$WORK/eda.txt"
REPORT="$WORK/out/report.html"
[[ -s "$REPORT" && -s "$WORK/out/eda.json" && -s "$WORK/out/clean.csv" ]] || { echo "check_report: outputs missing"; exit 1; }
if grep -Eqi '<script|<link |src="http|href="http' "$REPORT"; then echo "check_report: report is not self-contained"; exit 1; fi

PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
FLAGS=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$PROFILE")
timeout 90 "$CHROMIUM" "${FLAGS[@]}" --screenshot="$WORK/report.png" --window-size=1200,3000 \
  "file://$REPORT" > "$WORK/chromium.log" 2>&1 || { cat "$WORK/chromium.log"; exit 1; }
size=$(stat -c %s "$WORK/report.png" 2>/dev/null || echo 0)
# A blank 1200x3000 PNG compresses to a few KB; charts and text make it far larger.
if (( size < 50000 )); then echo "check_report: screenshot too small ($size bytes): page did not render"; exit 1; fi

timeout 90 "$CHROMIUM" "${FLAGS[@]}" --dump-dom "file://$REPORT" > "$WORK/dom.html" 2>> "$WORK/chromium.log"
svgs=$(grep -o '<svg' "$WORK/dom.html" | wc -l)
rects=$(grep -o '<rect' "$WORK/dom.html" | wc -l)
for id in recommendations classes tokens words lengths windows terms cleaning; do
  grep -q "id=\"$id\"" "$WORK/dom.html" || { echo "check_report: section '$id' missing from the DOM"; exit 1; }
done
if (( svgs < 10 || rects < 50 )); then echo "check_report: only $svgs SVG charts / $rects bars in the DOM"; exit 1; fi
echo "check_report: OK: screenshot $WORK/report.png ($size bytes), $svgs SVG charts, $rects bars"
