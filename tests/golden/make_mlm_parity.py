#!/usr/bin/env python3
"""transformers' own BertForMaskedLM as the reference for rgrid's masked-LM parity tests.

Run with the project venv (torch 2.13, transformers 5.24): `.venv/bin/python`, HF_HUB_OFFLINE=1
(nothing is fetched; the tiny model is built from a config in memory).

  generate --out DIR   random tiny BertForMaskedLM (float64, eager attention, eval mode) and a
                       padded batch with a fixed mask; writes to DIR:
      mlm_tiny_config.json          the config (HF field names, architectures BertForMaskedLM)
      mlm_tiny_keys.txt             named_parameters() keys in order (the tied decoder listed once)
      mlm_tiny_weights.safetensors  F64 weights under those keys
      mlm_tiny_io.safetensors       input_ids, token_type_ids, attention_mask, labels (B, T; -100
                                    except at the chosen positions), masked_logits (N, V: HF's
                                    (B, T, V) logits at the chosen positions, row-major order),
                                    loss, grad.<key> for every parameter (F64)
                       and asserts that transformers' save_pretrained writes exactly those keys.
  verify --out DIR     generate into DIR, then compare with the checked-in files next to this
                       script (CTest mlm_golden_regenerate: the goldens are what transformers
                       computes now)
  check --checkpoint DIR --logits FILE
                       AutoModelForMaskedLM.from_pretrained(DIR) (an rgrid-written checkpoint) must
                       load with no missing/unexpected key and give FILE's "masked_logits" on the
                       golden batch (max abs diff 1e-5 in float32, 1e-10 in float64)
Exit code 77 (CTest: skipped) when torch/transformers cannot be imported.
"""
import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
try:
    import torch
    import transformers
    from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM
except ImportError as e:  # not the venv: skip, saying why
    print(f"skipped: {e} (run with the project venv: .venv/bin/python)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bert_parity import random_weights, st_read, st_write  # noqa: E402  (same weight scheme, safetensors IO)

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=16, type_vocab_size=2, layer_norm_eps=1e-12, initializer_range=0.02,
            hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=0)
CONFIG_FIELDS = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                 "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
                 "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id"]
MASK_ID = 4  # the tiny vocabulary's [MASK] in this batch ([PAD] 0, [CLS] 2, [SEP] 3)


def tiny_model():
    c = BertConfig(**TINY)
    c._attn_implementation = "eager"
    return BertForMaskedLM(c).double().eval()


def golden_batch():
    # three sequences padded to T = 8 (lengths 8, 6, 4). Chosen positions (labels != -100): some
    # hold [MASK] (4), one a random replacement, one is left unchanged, as the 80/10/10 rule does.
    ids = torch.tensor([[2, 17, 4, 45, 3, 88, 4, 3],
                        [2, 4, 33, 71, 9, 3, 0, 0],
                        [2, 98, 4, 3, 0, 0, 0, 0]], dtype=torch.int64)
    types = torch.tensor([[0, 0, 0, 0, 0, 1, 1, 1],
                          [0, 0, 0, 0, 0, 0, 0, 0],
                          [0, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    labels = torch.full(ids.shape, -100, dtype=torch.int64)
    labels[0, 2] = 51   # [MASK] over 51
    labels[0, 3] = 45   # chosen, kept unchanged
    labels[0, 6] = 12   # [MASK] over 12
    labels[1, 1] = 64   # [MASK] over 64
    labels[1, 4] = 20   # replaced by a random token (9)
    labels[2, 2] = 77   # [MASK] over 77
    return ids, types, mask, labels


def masked_rows(logits, labels):
    return logits.reshape(-1, logits.shape[-1])[(labels.reshape(-1) != -100).nonzero().squeeze(1)]


def generate(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = tiny_model()
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight, "decoder not tied"
    random_weights(model, torch.Generator().manual_seed(4321))
    keys = [n for n, _ in model.named_parameters()]
    # what transformers writes: the tied aliases cls.predictions.decoder.{weight,bias} are left out
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        saved = st_read(os.path.join(tmp, "model.safetensors"))
    assert sorted(saved) == sorted(keys), f"save_pretrained keys differ from named_parameters: {sorted(saved)}"
    with open(os.path.join(out, "mlm_tiny_keys.txt"), "w") as f:
        f.write("\n".join(keys) + "\n")
    cfg = {k: getattr(model.config, k) for k in CONFIG_FIELDS}
    cfg.update(architectures=["BertForMaskedLM"], model_type="bert")
    with open(os.path.join(out, "mlm_tiny_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    st_write(os.path.join(out, "mlm_tiny_weights.safetensors"), {n: p for n, p in model.named_parameters()})

    ids, types, mask, labels = golden_batch()
    o = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    o.loss.backward()
    io = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask, "labels": labels,
          "masked_logits": masked_rows(o.logits, labels).detach(), "loss": o.loss.detach()}
    for n, p in model.named_parameters():
        io["grad." + n] = p.grad.detach().clone()
    st_write(os.path.join(out, "mlm_tiny_io.safetensors"), io)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: wrote {len(keys)} keys, "
          f"loss {float(o.loss.detach()):.6f}, {io['masked_logits'].shape[0]} chosen rows to {out}")


def compare(a_dir, b_dir):
    bad = 0
    for fn in ["mlm_tiny_weights.safetensors", "mlm_tiny_io.safetensors"]:
        a, b = st_read(os.path.join(a_dir, fn)), st_read(os.path.join(b_dir, fn))
        if sorted(a) != sorted(b):
            print(f"{fn}: different tensor names", file=sys.stderr)
            bad += 1
            continue
        for k in a:
            x, y = a[k].double(), b[k].double()
            if x.shape != y.shape or not torch.allclose(x, y, rtol=1e-7, atol=1e-10):
                print(f"{fn}: {k} differs", file=sys.stderr)
                bad += 1
    for fn in ["mlm_tiny_keys.txt", "mlm_tiny_config.json"]:
        if open(os.path.join(a_dir, fn)).read() != open(os.path.join(b_dir, fn)).read():
            print(f"{fn} differs", file=sys.stderr)
            bad += 1
    print("compare:", "OK" if bad == 0 else f"{bad} differences")
    return 0 if bad == 0 else 1


def check(ckpt, logits_file):
    with open(os.path.join(ckpt, "config.json")) as f:
        assert json.load(f)["architectures"] == ["BertForMaskedLM"], "config.json architectures"
    model, info = AutoModelForMaskedLM.from_pretrained(ckpt, output_loading_info=True, attn_implementation="eager")
    model.eval()
    assert type(model).__name__ == "BertForMaskedLM", type(model)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    assert not problems, f"loading {ckpt}: {problems}"
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight, "decoder not tied"
    ids, types, mask, labels = golden_batch()
    with torch.no_grad():
        logits = masked_rows(model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits, labels)
    dtype = logits.dtype
    expect = st_read(logits_file)["masked_logits"].to(dtype)
    diff = float((logits - expect).abs().max())
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    print(f"check: AutoModelForMaskedLM loaded {ckpt} ({dtype}, no missing/unexpected keys), "
          f"max |masked logits diff| = {diff:.3g} (tol {tol})")
    return 0 if diff <= tol else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("generate", "verify"):
        sub.add_parser(name).add_argument("--out", required=True)
    ck = sub.add_parser("check")
    ck.add_argument("--checkpoint", required=True)
    ck.add_argument("--logits", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    if a.cmd == "generate":
        generate(a.out)
        return 0
    if a.cmd == "verify":
        generate(a.out)
        return compare(a.out, HERE)
    return check(a.checkpoint, a.logits)


if __name__ == "__main__":
    sys.exit(main())
