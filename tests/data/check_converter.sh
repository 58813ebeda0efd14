#!/usr/bin/env bash
# Runs scripts/convert_spamassassin.py on a hand-made six-message package and compares the
# CSVs byte for byte with the expected files: RFC 2047 Subjects (iso-8859-1 q, gb2312 b, raw
# 8-bit UTF-8), quoted-printable with a soft line break, base64 HTML (head/title/style/script
# dropped, entities, block tags), multipart/alternative (plain wins), an attachment skipped, a
# base64 junk line removed, a control character removed, one exact duplicate dropped.
#   check_converter.sh <source dir> <work dir>      (exit 77 = skipped: no python3)
set -euo pipefail
SRC="$1"; WORK="$2"
command -v python3 >/dev/null || { echo "check_converter: python3 not found: skipped"; exit 77; }
FIX="$SRC/tests/data/fixtures"
rm -rf "$WORK"; mkdir -p "$WORK"
python3 "$SRC/scripts/convert_spamassassin.py" "$FIX/mail_package" "$WORK/groups.csv" "$WORK/binary.csv" 2> "$WORK/log.txt"
grep -q "6 messages -> 5 rows" "$WORK/log.txt" || { cat "$WORK/log.txt"; exit 1; }
cmp "$WORK/groups.csv" "$FIX/mail_package.expected.csv" || { diff "$WORK/groups.csv" "$FIX/mail_package.expected.csv" | head -20; exit 1; }
cmp "$WORK/binary.csv" "$FIX/mail_package.expected-binary.csv" || exit 1
echo "check_converter: OK"
