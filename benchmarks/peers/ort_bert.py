#!/usr/bin/env python3
"""ONNX Runtime peer through its Python package (pip `onnxruntime`, the venv's version):
the same work and output as ort_bert.js (the node package), so compare.sh can keep the
faster binding per case.

Loads a model written by export_onnx.py, first checks its logits against the ones PyTorch
stored in <model>.check.json (max |d| < 1e-4, else exit 1), then times inference for each
batch/seq case with intra_op_num_threads = --threads and prints one JSON line per case
(median latency over --iters runs after one warm-up run; with --max-seconds S, at least 3
runs and no new run after S seconds), for each --spinning value
(session.intra_op.allow_spinning; default "1,0" = both).

  .venv/bin/python benchmarks/peers/ort_bert.py --model build-perf/peers/bert-base.onnx --preset base \
       --cases 1x128,1x512,32x128 --threads 2 --iters 10
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def check(session, model):
    with open(model + ".check.json") as f:
        c = json.load(f)
    b, t = c["shape"]
    arr = lambda k: np.asarray(c[k], dtype=np.int64).reshape(b, t)  # noqa: E731
    got = session.run(["logits"], {"input_ids": arr("input_ids"), "token_type_ids": arr("token_type_ids"),
                                   "attention_mask": arr("attention_mask")})[0]
    diff = float(np.max(np.abs(got.ravel() - np.asarray(c["logits"], dtype=np.float32))))
    if not diff < 1e-4:
        sys.exit(f"ort_bert.py: logits differ from PyTorch's by {diff} (model {model})")
    return diff


def feeds(b, t, rng, vocab=30522):
    return {"input_ids": rng.integers(0, vocab, size=(b, t), dtype=np.int64),
            "token_type_ids": np.zeros((b, t), dtype=np.int64),
            "attention_mask": np.ones((b, t), dtype=np.int64)}


def measure(a, spinning):
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_cpu_mem_arena = True
    so.enable_mem_pattern = True
    so.add_session_config_entry("session.intra_op.allow_spinning", spinning)
    session = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    max_diff = check(session, a.model)
    rng = np.random.default_rng(a.seed)
    for cs in a.cases.split(","):
        b, t = map(int, cs.split("x"))
        f = feeds(b, t, rng)
        session.run(["logits"], f)  # warm-up: first-run allocations and kernel selection
        times, total = [], 0.0
        while len(times) < a.iters and not (a.max_seconds > 0 and total >= a.max_seconds and len(times) >= 3):
            t0 = time.perf_counter()
            out = session.run(["logits"], f)[0]
            dt = time.perf_counter() - t0
            if out.shape[0] != b:
                sys.exit("ort_bert.py: unexpected output shape")
            times.append(dt)
            total += dt
        med = statistics.median(times)
        print(json.dumps(dict(peer="onnxruntime", binding="python", onnxruntime=ort.__version__, case="infer",
                              preset=a.preset, batch=b, seq=t, threads=a.threads, allow_spinning=spinning,
                              check_max_abs_diff=max_diff, seconds=med, seconds_all=times, samples_per_s=b / med,
                              tokens_per_s=b * t / med)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--preset", default="")
    ap.add_argument("--cases", default="1x128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--max-seconds", type=float, default=0.0)
    ap.add_argument("--spinning", default="1,0")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for spinning in a.spinning.split(","):
        measure(a, spinning)


if __name__ == "__main__":
    main()
