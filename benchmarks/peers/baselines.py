#!/usr/bin/env python3
"""Classical baselines on a train/test split: TF-IDF (word 1-2 grams) + logistic regression.

    .venv-baselines/bin/python benchmarks/peers/baselines.py --train T.csv --test X.csv \
        [--tokenizer models/minilm-l6/tokenizer.json] [--first-tokens 0,126,254] [--C 10] [--out R.json]

--first-tokens cuts every text (training and test) to what its first N word pieces cover, with the
model's own tokenizer (no special tokens): N = max_length - 2 is exactly the content of the first
sliding window rgrid-finetune sees (126 for 128-token windows); 0 = the whole text. It answers
"how much of the TF-IDF baseline's lead comes from text a first window never sees". Prints one
line per N (accuracy, weighted F1, macro F1, per-class recall) and writes them to --out as JSON.
"""
import argparse
import json
import sys
import time

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from labelled_csv import read_labelled_csv


def cut(tokenizer, texts, n):
    """Each text up to the end of its n-th word piece (the whole text when it has fewer)."""
    if n == 0:
        return texts
    out = []
    for t, enc in zip(texts, tokenizer.encode_batch(texts, add_special_tokens=False)):
        out.append(t if len(enc.offsets) <= n else t[:enc.offsets[n - 1][1]])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--tokenizer", default="models/minilm-l6/tokenizer.json")
    p.add_argument("--first-tokens", default="0", help="comma-separated N (0 = whole text)")
    p.add_argument("--C", type=float, default=10.0, help="inverse regularization of the logistic regression")
    p.add_argument("--out")
    a = p.parse_args()
    try:
        ns = [int(x) for x in a.first_tokens.split(",")]
    except ValueError:
        sys.exit(f"baselines: --first-tokens: '{a.first_tokens}' is not a comma-separated list of integers")
    if any(n < 0 for n in ns):
        sys.exit("baselines: --first-tokens: every N must be >= 0")
    tr_x, tr_y = read_labelled_csv(a.train, "baselines")
    te_x, te_y = read_labelled_csv(a.test, "baselines")
    labels = sorted(set(tr_y))
    tok = None
    if any(ns):
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(a.tokenizer)
        tok.no_truncation()
        tok.no_padding()
    results = []
    for n in ns:
        t0 = time.perf_counter()
        xtr, xte = cut(tok, tr_x, n), cut(tok, te_x, n)
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        clf = LogisticRegression(C=a.C, max_iter=3000)
        clf.fit(vec.fit_transform(xtr), tr_y)
        pred = clf.predict(vec.transform(xte))
        cm = confusion_matrix(te_y, pred, labels=labels)
        recall = (np.diag(cm) / np.maximum(cm.sum(1), 1)).tolist()
        r = {"first_tokens": n, "accuracy": accuracy_score(te_y, pred),
             "f1": f1_score(te_y, pred, average="weighted", zero_division=0),
             "macro_f1": f1_score(te_y, pred, average="macro", zero_division=0),
             "labels": labels, "recall": recall, "confusion": cm.tolist(),
             "train_documents": len(tr_x), "test_documents": len(te_x), "seconds": time.perf_counter() - t0}
        results.append(r)
        what = "whole text" if n == 0 else f"first {n} word pieces"
        print(f"TF-IDF 1-2 grams + LR (C={a.C:g}), {what}: accuracy {r['accuracy']:.4f}  weighted F1 {r['f1']:.4f}  "
              f"macro F1 {r['macro_f1']:.4f}  recall " + " / ".join(f"{l} {x:.3f}" for l, x in zip(labels, recall)),
              flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"C": a.C, "ngram_range": [1, 2], "sublinear_tf": True, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
