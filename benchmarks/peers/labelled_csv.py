"""Reading a split file (text,label CSV, as rgrid-split writes it) for the Python peers; stdlib only."""
import csv
import sys


def read_labelled_csv(path, who):
    """(texts, labels) of a CSV with a header holding 'text' and 'label'; exits naming `who` and the file otherwise."""
    csv.field_size_limit(sys.maxsize)  # e-mails longer than 128 KiB
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "text" not in rows[0] or "label" not in rows[0]:
        sys.exit(f"{who}: {path}: needs a header with 'text' and 'label' and at least one row")
    return [r["text"] for r in rows], [r["label"] for r in rows]
