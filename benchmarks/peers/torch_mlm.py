#!/usr/bin/env python3
"""PyTorch peer for rgrid's masked-LM step benchmark (issue 15; benchmarks/bench_bert.cpp
BM_Bert_MlmStep, compared by benchmarks/compare_mlm.sh).

transformers' own BertForMaskedLM (the project venv: torch 2.13, transformers 5.24; its default
attention implementation), HF initialization, one pretraining step as a run_mlm.py user gets it:
  zero_grad + model(input_ids, token_type_ids, attention_mask, labels=labels) (train mode, dropout
  0.1; transformers computes the (B, T, V) logits and the cross-entropy with ignore_index -100)
  + backward + AdamW step (HF decay groups)
The batch is rgrid's: ids uniform over the vocabulary, labels at the positions t % 20 in
{3, 10, 17} of every row (14.8% at T = 128; the original id there, -100 elsewhere), [MASK] (103)
in the input at those positions. Prints one JSON line: the median step time and the process's
peak RSS (ru_maxrss after the timed steps).

  .venv/bin/python benchmarks/peers/torch_mlm.py --shape minilm --batch 8 --seq 128 --threads 2
"""
import argparse
import json
import os
import resource
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from torch_bert import PRESETS, count_params, decay_groups, init_weights, time_it  # noqa: E402
from transformers import BertConfig, BertForMaskedLM  # noqa: E402

SHAPES = dict(PRESETS, minilm=(6, 384, 12, 1536))  # all-MiniLM-L6-v2's sizes
MASK_ID = 103  # [MASK] of the bert-base-uncased vocabulary


def masked_batch(c, b, t, gen):
    ids = torch.randint(0, c.vocab_size, (b, t), generator=gen)
    pick = torch.tensor([i % 20 in (3, 10, 17) for i in range(t)]).expand(b, t)
    labels = torch.where(pick, ids, torch.full_like(ids, -100))
    ids = torch.where(pick, torch.full_like(ids, MASK_ID), ids)
    return ids, torch.zeros(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long), labels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="mini")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--min-seconds", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    layers, hidden, heads, inter = SHAPES[a.shape]
    c = BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=inter)
    model = BertForMaskedLM(c)
    model.apply(lambda m: init_weights(m, c.initializer_range))
    model.tie_weights()
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    model.train()
    opt = torch.optim.AdamW(decay_groups(model, 0.01), lr=5e-5, betas=(0.9, 0.999), eps=1e-8)
    ids, tt, mask, labels = masked_batch(c, a.batch, a.seq, torch.Generator().manual_seed(a.seed))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, token_type_ids=tt, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        return loss

    times = time_it(step, a.warmup, a.iters, a.min_seconds)
    med = statistics.median(times)
    print(json.dumps(dict(peer="pytorch", torch=torch.__version__, case="mlm", preset=a.shape, batch=a.batch,
                          seq=a.seq, threads=torch.get_num_threads(), chosen=int((labels != -100).sum()),
                          omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", "default"), params=count_params(model),
                          seconds=med, seconds_all=times, tokens_per_s=a.batch * a.seq / med,
                          peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)), flush=True)


if __name__ == "__main__":
    main()
