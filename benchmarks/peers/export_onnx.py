#!/usr/bin/env python3
"""Exports the PyTorch reference BertForSequenceClassification (tests/golden/make_bert_parity.py,
with HF init, via torch_bert.py) to ONNX for
the ONNX Runtime peer (ort_bert.js).

torch.onnx.export(dynamo=False), the TorchScript exporter of the venv's torch 2.13, serializes
the graph in C++ and does not need the `onnx` Python package; the exported
file is checked by loading it in onnxruntime-node, and ort_bert.js compares its logits with
the ones this script stores next to the model (<out>.check.json).

Inputs input_ids, token_type_ids, attention_mask are int64 (B, T) with dynamic B and T;
the output is logits (B, K). Weights are random (HF init, seed 0): speed does not depend
on their values.

  .venv/bin/python benchmarks/peers/export_onnx.py --preset base --out build-perf/peers/bert-base.onnx
"""
import argparse
import json
import os

import torch

import torch_bert


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=sorted(torch_bert.PRESETS), default="mini")
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=14)
    args = ap.parse_args()

    torch.manual_seed(0)
    c = torch_bert.bert_config(args.preset)
    model = torch_bert.make_model(c).eval()
    b, t = 2, 16
    gen = torch.Generator().manual_seed(1)
    ids, tt, mask, _ = torch_bert.batch(c, b, t, gen)
    mask[1, t // 2:] = 0  # a padded row, so the mask path is exercised by the check
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    dyn = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(model, (ids, tt, mask), args.out, opset_version=args.opset,
                          input_names=["input_ids", "token_type_ids", "attention_mask"],
                          output_names=["logits"],
                          dynamic_axes={"input_ids": dyn, "token_type_ids": dyn, "attention_mask": dyn,
                                        "logits": {0: "batch"}},
                          do_constant_folding=True, dynamo=False)
        logits = model(ids, tt, mask)
    check = dict(preset=args.preset, shape=[b, t], input_ids=ids.flatten().tolist(),
                 token_type_ids=tt.flatten().tolist(), attention_mask=mask.flatten().tolist(),
                 logits=logits.flatten().tolist())
    with open(args.out + ".check.json", "w") as f:
        json.dump(check, f)
    print(json.dumps(dict(exported=args.out, preset=args.preset, opset=args.opset,
                          bytes=os.path.getsize(args.out), torch=torch.__version__)))


if __name__ == "__main__":
    main()
