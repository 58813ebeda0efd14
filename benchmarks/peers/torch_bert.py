#!/usr/bin/env python3
"""PyTorch peer for rgrid's BERT benchmarks (issue 9).

The plain-PyTorch BertForSequenceClassification of the parity tests
(tests/golden/make_bert_parity.py: transformers' modeling_bert.py with HF parameter names),
HF initialization, doing the same work rgrid's benchmarks/bench_bert.cpp measures:

  train  fine-tuning step = zero_grad + forward (dropout as configured, 0.1) + cross-entropy
         + backward + AdamW step (HF decay groups: no decay on biases and LayerNorm weights)
  infer  forward in eval mode under torch.inference_mode()
  rss    peak resident set size (ru_maxrss) of a process that runs fine-tuning steps
         (every case also reports its process's peak, so a train case gives the same figure)

Each result is one JSON line on stdout. Run with the project venv's
interpreter (scripts/setup-python.sh: torch 2.13, transformers).

  .venv/bin/python benchmarks/peers/torch_bert.py --case train --preset base --batch 8 --seq 128
  .venv/bin/python benchmarks/peers/torch_bert.py --suite quick --policies default,PASSIVE

OMP_WAIT_POLICY is read once when libgomp starts, so each policy runs in its own child
process; --policies lists the ones to try and every result line names its policy
(benchmarks/compare.sh keeps the fastest, i.e. PyTorch's best setting).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# The model is transformers' own BertForSequenceClassification (the project venv: torch 2.13,
# transformers 5.24; tests/golden/make_bert_parity.py proves rgrid equal to it), with
# transformers' default attention implementation: the strongest choice a user gets.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import transformers  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

PRESETS = {
    # name: (num_hidden_layers, hidden_size, num_attention_heads, intermediate_size), as BertConfig::preset
    "tiny": (2, 128, 2, 512),
    "mini": (4, 256, 4, 1024),
    "small": (4, 512, 8, 2048),
    "medium": (8, 512, 8, 2048),
    "base": (12, 768, 12, 3072),
    "minilm": (6, 384, 12, 1536),  # all-MiniLM-L6-v2's sizes (bench_bert.cpp's "minilm")
}


def bert_config(preset):
    """HF defaults (vocab 30522, 512 positions, dropout 0.1, 2 labels) with the preset's sizes."""
    layers, hidden, heads, inter = PRESETS[preset]
    return BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                      intermediate_size=inter)


def init_weights(m, std):  # BertPreTrainedModel._init_weights
    if isinstance(m, nn.Linear):
        m.weight.data.normal_(0.0, std)
        m.bias.data.zero_()
    elif isinstance(m, nn.Embedding):
        m.weight.data.normal_(0.0, std)
        if m.padding_idx is not None:
            m.weight.data[m.padding_idx].zero_()
    elif isinstance(m, nn.LayerNorm):
        m.weight.data.fill_(1.0)
        m.bias.data.zero_()


class Logits(nn.Module):
    """transformers' model called as model(ids, token_type_ids, mask) -> logits (B, K)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, tt, mask):
        return self.model(input_ids=ids, token_type_ids=tt, attention_mask=mask).logits


def make_model(c):
    model = BertForSequenceClassification(c)
    model.apply(lambda m: init_weights(m, c.initializer_range))
    return Logits(model)


def decay_groups(model, weight_decay):  # HF Trainer: no decay on biases and LayerNorm weights
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ---- measurement -------------------------------------------------------------------
def batch(c, b, t, gen):
    ids = torch.randint(0, c.vocab_size, (b, t), generator=gen)
    return ids, torch.zeros(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long), \
        torch.randint(0, c.num_labels, (b,), generator=gen)


def make_train_step(model, opt, data):
    ids, tt, mask, labels = data

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids, tt, mask), labels)
        loss.backward()
        opt.step()
        return loss
    return step


def make_infer(model, data):
    ids, tt, mask, _ = data

    def infer():
        with torch.inference_mode():
            return model(ids, tt, mask)
    return infer


def time_it(fn, warmup, iters, min_seconds):
    for _ in range(warmup):
        fn()
    times = []
    while len(times) < iters or (sum(times) < min_seconds and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def run_case(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    c = bert_config(args.preset)
    gen = torch.Generator().manual_seed(args.seed)
    model = make_model(c)
    data = batch(c, args.batch, args.seq, gen)
    rec = dict(peer="pytorch", torch=torch.__version__, transformers=transformers.__version__, case=args.case, preset=args.preset,
               batch=args.batch, seq=args.seq, threads=torch.get_num_threads(),
               omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"), params=count_params(model))
    if args.case in ("train", "rss"):
        model.train()
        opt = torch.optim.AdamW(decay_groups(model, 0.01), lr=2e-5, betas=(0.9, 0.999), eps=1e-8,
                                foreach=args.foreach)
        fn = make_train_step(model, opt, data)
        rec["adamw_foreach"] = args.foreach
    else:
        model.eval()
        fn = make_infer(model, data)
    if args.case == "rss":
        for _ in range(args.iters):
            fn()
        rec["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        rec["steps"] = args.iters
    else:
        times = time_it(fn, args.warmup, args.iters, args.min_seconds)
        med = statistics.median(times)
        rec.update(seconds=med, seconds_all=times, samples_per_s=args.batch / med,
                   tokens_per_s=args.batch * args.seq / med,
                   peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(json.dumps(rec), flush=True)


# The cases issue 9 names: (case, preset, batch, seq, iters). Iterations are few for the
# slow cases; medians across compare.sh repetitions smooth the rest.
SUITES = {
    "full": [("train", "mini", 8, 128, 5), ("train", "base", 8, 128, 3), ("train", "base", 8, 512, 2),
             ("infer", "mini", 1, 128, 20), ("infer", "mini", 1, 512, 10),
             ("infer", "base", 1, 128, 10), ("infer", "base", 1, 512, 5), ("infer", "base", 32, 128, 2),
             ("rss", "base", 8, 128, 3), ("rss", "base", 8, 512, 3)],
    "quick": [("train", "mini", 8, 128, 3), ("infer", "mini", 1, 128, 10), ("infer", "base", 1, 128, 5)],
}


def run_suite(args):
    here = os.path.abspath(__file__)
    for case, preset, b, t, iters in SUITES[args.suite]:
        if args.only and f"{case}/{preset}/{b}/{t}" not in args.only.split(","):
            continue
        for policy in args.policies.split(","):
            env = dict(os.environ)
            env.pop("OMP_WAIT_POLICY", None)
            if policy != "default":
                env["OMP_WAIT_POLICY"] = policy
            cmd = [sys.executable, here, "--case", case, "--preset", preset, "--batch", str(b), "--seq", str(t),
                   "--iters", str(iters), "--threads", str(args.threads), "--warmup", "1" if case != "rss" else "0"]
            if args.foreach:
                cmd.append("--foreach")
            subprocess.run(cmd, env=env, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=["train", "infer", "rss"])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="mini")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=5, help="timed iterations (rss: steps run)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=0.0, help="keep timing until this much time passed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--foreach", action="store_true", help="AdamW(foreach=True), the multi-tensor kernel")
    ap.add_argument("--suite", choices=sorted(SUITES), help="run a list of cases, one child process each")
    ap.add_argument("--only", default="", help="with --suite: comma list of case/preset/batch/seq to keep")
    ap.add_argument("--policies", default="default,PASSIVE", help="OMP_WAIT_POLICY values to try in --suite")
    args = ap.parse_args()
    if args.suite:
        run_suite(args)
    elif args.case:
        run_case(args)
    else:
        ap.error("give --case or --suite")


if __name__ == "__main__":
    main()
