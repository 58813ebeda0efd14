#!/usr/bin/env python3
"""int8 peers for rgrid's dynamic quantization (docs/int8.md, benchmarks/compare.sh int8 block).

transformers' BertForSequenceClassification (HF init, seed 0; random weights: speed does not
depend on them) in the shape of all-MiniLM-L6-v2 (6 layers, 384 hidden, 12 heads, 1536
intermediate) or BERT-base, timed at inference (eval, batch of uniform random ids, mask 1):

  torch-fp32   torch.inference_mode()
  torch-int8   torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
               (PyTorch's x86 engine; every Linear, the classifier included, as that call does)
  ort-fp32     the model exported with torch.onnx.export (dynamo=False, opset 14), ONNX Runtime
  ort-int8     the same file quantized with onnxruntime.quantization.quantize_dynamic
               (weight_type=QInt8, its defaults otherwise: every MatMul, per-tensor weights)

ORT sessions: intra_op_num_threads = --threads, ORT_ENABLE_ALL, allow_spinning 1 and 0 (both
measured, each a line). One JSON line per (tool, case) on stdout: median seconds of --iters runs
after one warm-up run (at least 3 runs, no new run after --max-seconds).

  HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/peers/int8_peers.py --model minilm --cases 1x128,1x512,32x128 \\
      --threads 2 --work build-perf/peers
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification  # noqa: E402

SHAPES = {"minilm": (6, 384, 12, 1536), "base": (12, 768, 12, 3072)}


def make_model(name):
    layers, hidden, heads, inter = SHAPES[name]
    torch.manual_seed(0)
    c = BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=inter)
    return BertForSequenceClassification(c).eval(), c


class Logits(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids, tt, mask):
        return self.m(input_ids=ids, token_type_ids=tt, attention_mask=mask).logits


def time_it(fn, iters, max_seconds):
    fn()  # warm-up
    times = []
    while len(times) < iters and not (sum(times) >= max_seconds and len(times) >= 3):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def inputs(c, b, t):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, c.vocab_size, (b, t), generator=g)
    return ids, torch.zeros(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long)


def emit(rec):
    print(json.dumps(rec), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(SHAPES), default="minilm")
    ap.add_argument("--cases", default="1x128,1x512,32x128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--max-seconds", type=float, default=4.0)
    ap.add_argument("--tools", default="torch-fp32,torch-int8,ort-fp32,ort-int8")
    ap.add_argument("--work", default="build-perf/peers", help="where the .onnx files go (made once)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tools = a.tools.split(",")
    cases = [tuple(map(int, c.split("x"))) for c in a.cases.split(",")]
    model, c = make_model(a.model)
    wrapped = Logits(model).eval()
    base = dict(model=a.model, threads=a.threads, torch=torch.__version__)

    if "torch-fp32" in tools or "torch-int8" in tools:
        qmodel = torch.ao.quantization.quantize_dynamic(wrapped, {nn.Linear}, dtype=torch.qint8) \
            if "torch-int8" in tools else None
        for b, t in cases:
            x = inputs(c, b, t)
            for tool, m in (("torch-fp32", wrapped), ("torch-int8", qmodel)):
                if tool not in tools:
                    continue
                with torch.inference_mode():
                    med, _ = time_it(lambda: m(*x), a.iters, a.max_seconds)
                emit(dict(base, tool=tool, batch=b, seq=t, seconds=med, engine=torch.backends.quantized.engine))

    if "ort-fp32" in tools or "ort-int8" in tools:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        os.makedirs(a.work, exist_ok=True)
        fp32 = os.path.join(a.work, f"int8peer-{a.model}.onnx")
        int8 = os.path.join(a.work, f"int8peer-{a.model}.int8.onnx")
        if not os.path.exists(fp32):
            x = inputs(c, 2, 16)
            dyn = {0: "batch", 1: "seq"}
            with torch.no_grad():
                torch.onnx.export(wrapped, x, fp32, opset_version=14,
                                  input_names=["input_ids", "token_type_ids", "attention_mask"], output_names=["logits"],
                                  dynamic_axes={"input_ids": dyn, "token_type_ids": dyn, "attention_mask": dyn,
                                                "logits": {0: "batch"}}, do_constant_folding=True, dynamo=False)
        if not os.path.exists(int8):
            quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
        for tool, path in (("ort-fp32", fp32), ("ort-int8", int8)):
            if tool not in tools:
                continue
            for spin in ("1", "0"):
                so = ort.SessionOptions()
                so.intra_op_num_threads = a.threads
                so.inter_op_num_threads = 1
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                so.add_session_config_entry("session.intra_op.allow_spinning", spin)
                sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                for b, t in cases:
                    ids, tt, mask = (v.numpy() for v in inputs(c, b, t))
                    feed = {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}
                    med, _ = time_it(lambda: sess.run(None, feed), a.iters, a.max_seconds)
                    emit(dict(base, tool=tool, batch=b, seq=t, seconds=med, allow_spinning=spin,
                              onnxruntime=ort.__version__))


if __name__ == "__main__":
    main()
