#!/usr/bin/env python3
"""PyTorch reference for rgrid's BERT parity tests: the real transformers
BertForSequenceClassification (eager attention, eval-mode dropout) in the project's venv
(torch 2.13, transformers 5; scripts/setup-python.sh). Until 2026-12 this file held a
hand-written copy of modeling_bert.py run with Debian's torch 1.13; the checked-in goldens it
made are reproduced by transformers within compare's tolerance (verify), so they were kept.

  generate --out DIR   random tiny model + padded batch; writes to DIR:
      bert_tiny_config.json        the config (HF field names)
      bert_tiny_keys.txt           state_dict() keys, in order
      bert_tiny_weights.safetensors  F64 weights
      bert_tiny_io.safetensors     inputs (I64), logits, loss, grad.<key> for every parameter (F64)
      bert_tiny_after3.safetensors weights after 3 AdamW steps (HF decay groups, linear warmup
                                   schedule, clip_grad_norm_ 1.0)
  verify --out DIR     generate into DIR, then compare DIR with the checked-in goldens next to
                       this script (what CTest runs on every ./test.sh)
  compare A B          every tensor of the safetensors files in A equals B's (rel 1e-7, abs 1e-10:
                       other CPUs/BLAS may round differently in the last bits):
                       proves checked-in goldens are what this PyTorch computes now
  check --checkpoint DIR --logits FILE --io FILE
                       loads an rgrid save_pretrained() directory with strict=True and checks
                       its logits on the golden batch against the ones rgrid computed
Run with .venv/bin/python (HF_HUB_OFFLINE=1: nothing is fetched).
"""
import argparse
import json
import math
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from torch import nn

from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForSequenceClassification


def st_write(path, tensors):
    tmp = path + ".tmp"
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp)
    os.replace(tmp, path)


def st_read(path):
    return load_file(path)


def Config(**kw):
    """A transformers BertConfig with the given fields (id2label keys may be strings)."""
    kw = dict(kw)
    if "id2label" in kw:
        kw["id2label"] = {int(k): v for k, v in kw["id2label"].items()}
        kw["label2id"] = {v: k for k, v in kw["id2label"].items()}
    return BertConfig(**kw)


def make_model(c):
    # eager attention: the written-out softmax(QK^T/sqrt(d) + mask)V of modeling_bert.py
    return BertForSequenceClassification._from_config(c, attn_implementation="eager")


# ---------------------------------------------------------------- the golden case
TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=16, type_vocab_size=2, layer_norm_eps=1e-12, initializer_range=0.02,
            id2label={"0": "neg", "1": "neu", "2": "pos"})
LR, WD, WARMUP, TOTAL, STEPS, MAX_NORM = 1e-2, 0.1, 2, 5, 3, 1.0


def config_json(c):
    d = {k: getattr(c, k) for k in ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                     "intermediate_size", "hidden_act", "hidden_dropout_prob",
                                     "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
                                     "initializer_range", "layer_norm_eps", "pad_token_id", "classifier_dropout"]}
    d["id2label"] = {str(k): v for k, v in c.id2label.items()}
    d["label2id"] = {v: int(k) for k, v in c.id2label.items()}
    d["architectures"] = ["BertForSequenceClassification"]
    d["model_type"] = "bert"
    return d


def golden_batch():
    # three sequences padded to T=8: lengths 8, 5, 3; segment B starts mid-way in the first two
    ids = torch.tensor([[2, 17, 45, 3, 88, 60, 9, 3],
                        [2, 33, 3, 71, 3, 0, 0, 0],
                        [2, 98, 3, 0, 0, 0, 0, 0]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 1],
                          [0, 0, 0, 1, 1, 0, 0, 0],
                          [0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    labels = torch.tensor([2, 0, 1], dtype=torch.int64)
    return ids, types, mask, labels


def random_weights(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        model.bert.embeddings.word_embeddings.weight[0].zero_()  # padding row, as HF


def hf_groups(model):
    # transformers Trainer.create_optimizer: no decay for biases and LayerNorm parameters
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    return [{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}]


def linear_warmup(warmup, total):
    # transformers.get_linear_schedule_with_warmup
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def generate(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    c = Config(**TINY)
    model = make_model(c).double().eval()
    random_weights(model, gen)
    keys = list(model.state_dict().keys())
    with open(os.path.join(out, "bert_tiny_keys.txt"), "w") as f:
        f.write("\n".join(keys) + "\n")
    with open(os.path.join(out, "bert_tiny_config.json"), "w") as f:
        json.dump(config_json(c), f, indent=2, sort_keys=True)
        f.write("\n")
    st_write(os.path.join(out, "bert_tiny_weights.safetensors"), model.state_dict())

    ids, types, mask, labels = golden_batch()
    logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    io = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "labels": labels,
          "logits": logits.detach(), "loss": loss.detach()}
    for n, p in model.named_parameters():
        io["grad." + n] = p.grad.detach().clone()
    model.zero_grad(set_to_none=True)

    opt = torch.optim.AdamW(hf_groups(model), lr=LR, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_warmup(WARMUP, TOTAL))
    norms = []
    for _ in range(STEPS):
        loss = nn.functional.cross_entropy(
            model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits, labels)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)))
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    io["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    io["optim_hparams"] = torch.tensor([LR, WD, WARMUP, TOTAL, STEPS, MAX_NORM], dtype=torch.float64)
    st_write(os.path.join(out, "bert_tiny_io.safetensors"), io)
    st_write(os.path.join(out, "bert_tiny_after3.safetensors"), model.state_dict())
    print(f"wrote {len(keys)} keys, loss {float(io['loss']):.6f}, grad norms {norms} to {out}")


def compare(a_dir, b_dir):
    bad = 0
    files = ["bert_tiny_weights.safetensors", "bert_tiny_io.safetensors", "bert_tiny_after3.safetensors"]
    for fn in files:
        a, b = st_read(os.path.join(a_dir, fn)), st_read(os.path.join(b_dir, fn))
        if sorted(a) != sorted(b):
            print(f"{fn}: different tensor names", file=sys.stderr)
            bad += 1
            continue
        for k in a:
            x, y = a[k].double(), b[k].double()
            if x.shape != y.shape or not torch.allclose(x, y, rtol=1e-7, atol=1e-10):
                print(f"{fn}: {k} differs (max abs {float((x - y).abs().max()) if x.shape == y.shape else 'shape'})",
                      file=sys.stderr)
                bad += 1
    for fn in ["bert_tiny_keys.txt", "bert_tiny_config.json"]:
        if open(os.path.join(a_dir, fn)).read() != open(os.path.join(b_dir, fn)).read():
            print(f"{fn} differs", file=sys.stderr)
            bad += 1
    print("compare:", "OK" if bad == 0 else f"{bad} differences")
    return 0 if bad == 0 else 1


def check(ckpt, logits_file, io_file):
    with open(os.path.join(ckpt, "config.json")) as f:
        cj = json.load(f)
    assert cj["model_type"] == "bert" and cj["architectures"] == ["BertForSequenceClassification"], cj
    for fn in ["vocab.txt", "tokenizer_config.json"]:
        assert os.path.exists(os.path.join(ckpt, fn)), f"{fn} missing from {ckpt}"
    with open(os.path.join(ckpt, "tokenizer_config.json")) as f:
        tc = json.load(f)
    assert tc["tokenizer_class"] == "BertTokenizer" and "do_lower_case" in tc, tc
    fields = {k: v for k, v in cj.items() if k not in ("architectures", "model_type", "label2id")}
    c = Config(**fields)
    assert cj["label2id"] == {v: int(k) for k, v in c.id2label.items()}, "label2id disagrees with id2label"
    state = st_read(os.path.join(ckpt, "model.safetensors"))
    dtype = next(iter(state.values())).dtype
    model = make_model(c).to(dtype).eval()
    model.load_state_dict(state, strict=True)  # raises on any missing/unexpected key or shape
    io = st_read(io_file)
    with torch.no_grad():
        logits = model(input_ids=io["input_ids"], token_type_ids=io["token_type_ids"],
                       attention_mask=io["attention_mask"]).logits
    expect = st_read(logits_file)["logits"].to(dtype)
    diff = float((logits - expect).abs().max())
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    print(f"check: {len(state)} tensors loaded strict=True ({dtype}), max |logits diff| = {diff:.3g} (tol {tol})")
    return 0 if diff <= tol else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--out", required=True)
    cp = sub.add_parser("compare")
    cp.add_argument("a")
    cp.add_argument("b")
    ck = sub.add_parser("check")
    ck.add_argument("--checkpoint", required=True)
    ck.add_argument("--logits", required=True)
    ck.add_argument("--io", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cmd == "generate":
        generate(a.out)
        return 0
    if a.cmd == "verify":
        generate(a.out)
        return compare(a.out, os.path.dirname(os.path.abspath(__file__)))
    if a.cmd == "compare":
        return compare(a.a, a.b)
    return check(a.checkpoint, a.logits, a.io)


if __name__ == "__main__":
    sys.exit(main())
