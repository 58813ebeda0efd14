#!/usr/bin/env python3
"""The peer of rgrid-finetune: the same fine-tuning recipe in Hugging Face Trainer (transformers + torch, CPU).

    .venv/bin/python benchmarks/peers/hf_trainer.py --model models/minilm-l6 \
        --train T.csv --val V.csv --test X.csv --out DIR [--epochs 2] [--batch-size 16] [--lr 1e-4]
        [--warmup-ratio 0.1] [--weight-decay 0.01] [--max-length 128] [--stride 32] [--max-windows 1]
        [--eval-max-windows 0] [--aggregation mean|max|vote] [--class-weights] [--seed 42] [--threads 2]

Mirrors rgrid-finetune (docs/design.md, "Sliding window"):
  * windows come from the fast tokenizer's return_overflowing_tokens + stride (each window holds up
    to max_length-2 content tokens, consecutive windows overlap by `stride` tokens); training keeps
    the first --max-windows windows of each document (0 = all), every window carries its
    document's label; validation and test use the first --eval-max-windows windows (0 = every
    window), as rgrid-finetune --eval-max-windows does;
  * document metrics from the windows' logits aggregated per document (mean of logits by default,
    max, or majority vote), validation after every epoch, the best epoch by validation weighted F1
    (load_best_model_at_end) evaluated on the test split;
  * AdamW (HF's default optimizer; no decay on biases and LayerNorm), linear warmup then linear
    decay, gradient clipping 1.0, length-grouped batches (rgrid buckets by length too), dynamic padding;
  * class weights: sklearn "balanced" n / (K * n_k) over the training documents, as rgrid does.
Labels are the sorted distinct training labels (rgrid's order). Writes DIR/hf_result.json with the
timings and metrics; prints an HF-style per-epoch table. Loads only local files (HF_HUB_OFFLINE=1).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from labelled_csv import read_labelled_csv  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)


def make_windows(tokenizer, texts, labels, max_length, stride, max_windows):
    """Windows of every document (the first max_windows of each when max_windows > 0)."""
    enc = tokenizer(texts, truncation=True, max_length=max_length, stride=stride,
                    return_overflowing_tokens=True)
    doc_of = enc["overflow_to_sample_mapping"]
    keep, seen = [], {}
    for w, d in enumerate(doc_of):
        seen[d] = seen.get(d, 0) + 1
        if max_windows == 0 or seen[d] <= max_windows:
            keep.append(w)
    items = [{"input_ids": enc["input_ids"][w], "token_type_ids": enc["token_type_ids"][w],
              "attention_mask": enc["attention_mask"][w], "labels": labels[doc_of[w]]} for w in keep]
    docs = np.array([doc_of[w] for w in keep])
    long_docs = sum(1 for c in seen.values() if c > 1)
    capped = sum(1 for c in seen.values() if max_windows and c > max_windows)
    return items, docs, long_docs, capped


class WindowDataset(torch.utils.data.Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def aggregate(logits, docs, num_docs, how):
    """Document logits/scores from window logits: mean (default), max, or majority vote."""
    k = logits.shape[1]
    out = np.zeros((num_docs, k), dtype=np.float64)
    if how == "mean":
        np.add.at(out, docs, logits)
        out /= np.bincount(docs, minlength=num_docs)[:, None]
    elif how == "max":
        out[:] = -np.inf
        np.maximum.at(out, docs, logits)
    else:  # vote: count of windows per predicted class (ties: the lower class id, as argmax does)
        np.add.at(out, (docs, logits.argmax(1)), 1.0)
    return out


def doc_metrics(doc_scores, y, k):
    """accuracy, weighted and macro precision/recall/F1 (sklearn, zero_division=0), confusion matrix."""
    pred = doc_scores.argmax(1)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(1).astype(np.float64)
    predicted = cm.sum(0).astype(np.float64)
    prec = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    rec = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(k), where=(prec + rec) > 0)
    w = support / support.sum()
    return {"accuracy": float(tp.sum() / support.sum()),
            "precision": float((prec * w).sum()), "recall": float((rec * w).sum()), "f1": float((f1 * w).sum()),
            "macro_f1": float(f1.mean()), "per_class_recall": rec.tolist(), "confusion": cm.tolist()}


class WindowTrainer(Trainer):
    """Trainer whose evaluation keeps the windows in order: with train_sampling_strategy
    "group_by_length", transformers also length-groups (reorders) the evaluation batches, which
    would break the window -> document mapping used for aggregation."""

    def _get_eval_sampler(self, eval_dataset):
        return torch.utils.data.SequentialSampler(eval_dataset)


class EpochTimer(TrainerCallback):
    """Wall time of each epoch's training steps (from on_epoch_begin to on_epoch_end, evaluation excluded)."""

    def __init__(self):
        self.epoch_seconds, self._t = [], None

    def on_epoch_begin(self, args, state, control, **kw):
        self._t = time.perf_counter()

    def on_epoch_end(self, args, state, control, **kw):
        self.epoch_seconds.append(time.perf_counter() - self._t)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--stride", type=int, default=32)
    p.add_argument("--max-windows", type=int, default=1)
    p.add_argument("--eval-max-windows", type=int, default=0)
    p.add_argument("--aggregation", choices=["mean", "max", "vote"], default="mean")
    p.add_argument("--class-weights", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-batch-size", type=int, default=32)  # rgrid's Predictor batch
    p.add_argument("--max-steps", type=int, default=0,
                   help="stop after N optimizer steps, no validation or test (a threading probe)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    t_start = time.perf_counter()
    tr_x, tr_y = read_labelled_csv(a.train, "hf_trainer")
    va_x, va_y = read_labelled_csv(a.val, "hf_trainer")
    te_x, te_y = read_labelled_csv(a.test, "hf_trainer")
    names = sorted(set(tr_y))
    lid = {n: i for i, n in enumerate(names)}
    for path, ys in ((a.val, va_y), (a.test, te_y)):
        unknown = sorted(set(ys) - set(names))
        if unknown:
            sys.exit(f"hf_trainer: {path}: labels not in the training set: {unknown}")
    tr_l, va_l, te_l = ([lid[y] for y in ys] for ys in (tr_y, va_y, te_y))
    k = len(names)

    tok = AutoTokenizer.from_pretrained(a.model)
    if not tok.is_fast:
        sys.exit("hf_trainer: needs a fast tokenizer (tokenizer.json) for return_overflowing_tokens")
    tr_items, _, long_docs, capped = make_windows(tok, tr_x, tr_l, a.max_length, a.stride, a.max_windows)
    va_items, va_docs, _, _ = make_windows(tok, va_x, va_l, a.max_length, a.stride, a.eval_max_windows)
    te_items, te_docs, _, _ = make_windows(tok, te_x, te_l, a.max_length, a.stride, a.eval_max_windows)
    print(f"[hf] windows: {len(tr_items)} train ({len(tr_x)} documents, {long_docs} need more than one window, "
          f"{capped} capped), {len(va_items)} validation, {len(te_items)} test", flush=True)

    torch.manual_seed(a.seed)
    model = AutoModelForSequenceClassification.from_pretrained(
        a.model, num_labels=k, id2label=dict(enumerate(names)), label2id=lid)

    loss_fn = None
    if a.class_weights:
        counts = np.bincount(np.array(tr_l), minlength=k).astype(np.float64)
        cw = torch.tensor(np.where(counts > 0, len(tr_l) / (k * np.maximum(counts, 1)), 0.0), dtype=torch.float32)
        print(f"[hf] class weights: {cw.tolist()}", flush=True)

        def loss_fn(outputs, labels, num_items_in_batch=None):
            return torch.nn.functional.cross_entropy(outputs.logits, labels, weight=cw)

    va_y_arr = np.array(va_l)

    def compute_metrics(ev):
        logits = ev.predictions[0] if isinstance(ev.predictions, tuple) else ev.predictions
        m = doc_metrics(aggregate(logits, va_docs, len(va_l), a.aggregation), va_y_arr, k)
        return {key: m[key] for key in ("accuracy", "precision", "recall", "f1", "macro_f1")}

    kw = dict(
        output_dir=a.out, num_train_epochs=a.epochs, per_device_train_batch_size=a.batch_size,
        per_device_eval_batch_size=a.eval_batch_size, learning_rate=a.lr, warmup_steps=a.warmup_ratio,
        weight_decay=a.weight_decay, lr_scheduler_type="linear", max_grad_norm=1.0, seed=a.seed,
        eval_strategy="epoch", save_strategy="epoch", save_total_limit=1, load_best_model_at_end=True,
        metric_for_best_model="f1", greater_is_better=True, logging_strategy="epoch", report_to="none",
        use_cpu=True, dataloader_num_workers=0, train_sampling_strategy="group_by_length",
        disable_tqdm=True)
    if a.max_steps:
        kw.update(max_steps=a.max_steps, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    targs = TrainingArguments(**kw)
    timer = EpochTimer()
    trainer = WindowTrainer(model=model, args=targs, train_dataset=WindowDataset(tr_items),
                            eval_dataset=WindowDataset(va_items), data_collator=DataCollatorWithPadding(tok),
                            compute_metrics=compute_metrics, compute_loss_func=loss_fn, callbacks=[timer])
    t0 = time.perf_counter()
    out = trainer.train()
    train_runtime = time.perf_counter() - t0
    if a.max_steps:
        print(json.dumps({"probe_steps": out.global_step, "seconds": train_runtime,
                          "steps_per_second": out.global_step / train_runtime}), flush=True)
        return

    print("Epoch | Training Loss | Validation Loss | Accuracy | Precision | Recall | F1 | Macro F1")
    train_loss = {}
    for rec in trainer.state.log_history:
        if "loss" in rec and "epoch" in rec:
            train_loss.setdefault(int(np.ceil(rec["epoch"] - 1e-9)), []).append(rec["loss"])
    epochs = []
    for rec in trainer.state.log_history:
        if "eval_f1" in rec:
            e = int(round(rec["epoch"]))
            tl = float(np.mean(train_loss[e])) if e in train_loss else float("nan")
            epochs.append({"epoch": e, "train_loss": tl, **{x: rec[f"eval_{x}"] for x in
                                                           ("loss", "accuracy", "precision", "recall", "f1", "macro_f1", "runtime")}})
            print(f"{e:<5} | {tl:<13.6f} | {rec['eval_loss']:<15.6f} | {rec['eval_accuracy']:.6f} | "
                  f"{rec['eval_precision']:.6f}  | {rec['eval_recall']:.6f} | {rec['eval_f1']:.6f} | "
                  f"{rec['eval_macro_f1']:.6f}", flush=True)

    t1 = time.perf_counter()
    trainer.compute_metrics = None  # the validation metrics; the test documents are aggregated below
    pred = trainer.predict(WindowDataset(te_items))
    logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
    test = doc_metrics(aggregate(logits, te_docs, len(te_l), a.aggregation), np.array(te_l), k)
    test_runtime = time.perf_counter() - t1
    print(f"[hf] test ({len(te_l)} documents, {len(te_items)} windows, {a.aggregation} aggregation): "
          f"accuracy {test['accuracy']:.4f}  weighted F1 {test['f1']:.4f}  macro F1 {test['macro_f1']:.4f}", flush=True)

    result = {
        "peer": "hf_trainer", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "labels": names, "train_windows": len(tr_items), "val_windows": len(va_items), "test_windows": len(te_items),
        "steps": out.global_step, "train_runtime": train_runtime, "epoch_seconds": timer.epoch_seconds,
        "train_samples_per_second": len(tr_items) * a.epochs / train_runtime,
        "test_runtime": test_runtime, "total_runtime": time.perf_counter() - t_start,
        "epochs": epochs, "best_checkpoint": trainer.state.best_model_checkpoint,
        "test": test,
    }
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "hf_result.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
