#!/usr/bin/python3
"""Attributes perf samples of an rgrid benchmark to autograd ops, forward vs backward.

  perf record -F 499 --call-graph dwarf -o step.data \\
      build-perf/bin/bench_bert --benchmark_filter='TrainStep/base/8/128/' --benchmark_min_time=10
  perf script -i step.data --no-demangle -F comm,tid,sym,ip,dso | benchmarks/profile_by_op.py  # or:
  benchmarks/profile_by_op.py step.data

Each sample's call chain is read from the leaf up; the innermost frame inside an
rgrid::ops:: function (its forward body or its backward closure) names the op, "AdamW"
and the model's other code are matched by name, and a chain through rgrid::backward marks
the backward pass. The leaf says what the time was spent on: GEMM (OpenBLAS kernels),
libm, the kernel (page faults, thread wake-ups and yields), or rgrid's own loops.
Prints a table: op, pass (fwd/bwd; "-" on worker threads, whose stacks do not show it),
share of samples, and the share of that op's samples per leaf kind. Samples taken while
the benchmark builds the model are left out.
"""
import collections
import re
import subprocess
import sys

OP = re.compile(r"rgrid::ops::(?:detail\w*::)?(\w+)<")
LEAF_KINDS = [("gemm", re.compile(r"sgemm|dgemm|gemm_|_ZEN|blas")), ("libm", re.compile(r"libm\.so|__\w+_fma|erff|expf")),
              ("kernel", re.compile(r"\[kernel|kallsyms")), ("alloc", re.compile(r"malloc|free|memset|memmove|memcpy|_int_"))]


def demangle(lines):
    p = subprocess.run(["c++filt"], input="\n".join(lines), capture_output=True, text=True, check=True)
    return p.stdout.split("\n")


def samples(text):
    block = []
    for line in text.split("\n"):
        if not line.strip():
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def classify(frames):
    """frames: leaf first, each 'sym (dso)'."""
    leaf = frames[0] if frames else ""
    kind = next((k for k, rx in LEAF_KINDS if rx.search(leaf)), "rgrid loops")
    op = None
    for f in frames:
        m = OP.search(f)
        if m and m.group(1) not in ("detail",):
            op = m.group(1)
            break
        if "rgrid::AdamW" in f:
            op = "AdamW.step"
            break
        if "zero_grad" in f:
            op = "zero_grad"
            break
    if op is None:
        # OpenBLAS's assembly kernels carry no unwind information, so a GEMM sample's
        # caller (linear, matmul, attention) is usually lost: GEMM is reported as one line.
        if kind == "gemm":
            op = "GEMM (OpenBLAS kernels)"
        elif any("ThreadPool" in f for f in frames):
            op = "rgrid pool wait/wake"
        elif any("blas_thread_server" in f or "exec_blas" in f or "libopenblas" in f for f in frames):
            op = "OpenBLAS threads wait/wake"
        elif any("~Node" in f or "_Sp_counted" in f for f in frames):
            op = "graph teardown"
        elif any("init::normal" in f or "BertForSequenceClassification<float>::BertFor" in f for f in frames):
            op = "model construction (setup)"
        else:
            op = "other"
    backward = any("rgrid::backward<" in f for f in frames)
    direction = "bwd" if backward else ("fwd" if any("::forward(" in f or "BM_Bert_Inference" in f for f in frames)
                                        else "-")
    return op, direction, kind


def main():
    if len(sys.argv) > 1:
        text = subprocess.run(["perf", "script", "-i", sys.argv[1], "--no-demangle", "-F", "comm,tid,ip,sym,dso"],
                              capture_output=True, text=True, check=True).stdout
    else:
        text = sys.stdin.read()
    text = "\n".join(demangle(text.split("\n")))
    count = collections.Counter()
    kinds = collections.defaultdict(collections.Counter)
    total = setup = 0
    for block in samples(text):
        frames = [l.strip() for l in block[1:]]
        op, direction, kind = classify(frames)
        if op == "model construction (setup)":  # not part of the measured step
            setup += 1
            continue
        count[(op, direction)] += 1
        kinds[(op, direction)][kind] += 1
        total += 1
    print(f"{'op':<30} {'pass':<4} {'share':>6}   leaf kinds (share of the op's samples)")
    for (op, d), n in count.most_common():
        ks = ", ".join(f"{k} {100 * v / n:.0f}%" for k, v in kinds[(op, d)].most_common())
        print(f"{op:<30} {d:<4} {100 * n / total:5.1f}%   {ks}")
    by_op = collections.Counter()
    for (op, _), n in count.items():
        by_op[op] += n
    print("\nby op (all passes and threads): " + ", ".join(f"{op} {100 * n / total:.1f}%" for op, n in by_op.most_common()))
    by_kind = collections.Counter()
    for ks in kinds.values():
        by_kind.update(ks)
    print("by leaf kind: " + ", ".join(f"{k} {100 * n / total:.1f}%" for k, n in by_kind.most_common()))
    print(f"{total} samples (plus {setup} in model construction, left out)")


if __name__ == "__main__":
    main()
