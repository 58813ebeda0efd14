#!/usr/bin/env node
// ONNX Runtime peer for rgrid's BERT inference benchmarks (issue 9).
//
// Loads a model written by export_onnx.py (the PyTorch reference exported with
// torch.onnx.export), first checks its logits against the ones PyTorch stored in
// <model>.check.json (max |Δ| < 1e-4, else exit 1), then times inference for each
// batch/seq case with intraOpNumThreads = --threads (rgrid's thread count) and prints one
// JSON line per case (median latency over --iters runs after one warm-up run; with
// --max-seconds S, at least 3 runs and no new run after S seconds), for each
// --spinning value (session.intra_op.allow_spinning; default "1,0" = both).
//
//   node benchmarks/peers/ort_bert.js --model build-perf/peers/bert-base.onnx --preset base \
//        --cases 1x128,1x512,32x128 --threads 2 --iters 10
//
// Install: (cd benchmarks/peers && npm ci --ignore-scripts)   # the CPU library ships in the package
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = { model: '', preset: '', cases: '1x128', threads: 2, iters: 10, maxSeconds: 0, spinning: '1,0', seed: 1 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    a[key] = typeof a[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!a.model) throw new Error('--model FILE.onnx is required');
  return a;
}

// A small deterministic generator (xorshift64*), so runs see the same ids.
function makeRng(seed) {
  let s = BigInt(seed) * 0x9E3779B97F4A7C15n + 1n;
  const mask = (1n << 64n) - 1n;
  return (n) => {
    s ^= s >> 12n; s ^= (s << 25n) & mask; s ^= s >> 27n;
    return Number(((s * 0x2545F4914F6CDD1Dn) & mask) >> 11n) % n;
  };
}

function feeds(b, t, rng, vocab) {
  const ids = new BigInt64Array(b * t), tt = new BigInt64Array(b * t), mask = new BigInt64Array(b * t);
  for (let i = 0; i < b * t; ++i) { ids[i] = BigInt(rng(vocab)); mask[i] = 1n; }
  return {
    input_ids: new ort.Tensor('int64', ids, [b, t]),
    token_type_ids: new ort.Tensor('int64', tt, [b, t]),
    attention_mask: new ort.Tensor('int64', mask, [b, t]),
  };
}

async function check(session, model) {
  const c = JSON.parse(fs.readFileSync(model + '.check.json', 'utf8'));
  const [b, t] = c.shape;
  const mk = (v) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [b, t]);
  const out = await session.run({ input_ids: mk(c.input_ids), token_type_ids: mk(c.token_type_ids),
                                  attention_mask: mk(c.attention_mask) });
  const got = out.logits.data;
  let maxDiff = 0;
  for (let i = 0; i < c.logits.length; ++i) maxDiff = Math.max(maxDiff, Math.abs(got[i] - c.logits[i]));
  if (!(maxDiff < 1e-4)) {
    console.error(`ort_bert: logits differ from PyTorch's by ${maxDiff} (model ${model})`);
    process.exit(1);
  }
  return maxDiff;
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const a = parseArgs(process.argv);
  for (const spinning of a.spinning.split(',')) await measure(a, spinning);
}

// One session per intra-op spinning setting (ORT's default spins; on a busy 2-core machine
// not spinning can be faster, so both are measured and compare.sh keeps the best).
async function measure(a, spinning) {
  const options = {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all', enableCpuMemArena: true, enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: spinning } } },
  };
  const session = await ort.InferenceSession.create(a.model, options);
  const maxDiff = await check(session, a.model);
  const rng = makeRng(a.seed);
  for (const cs of a.cases.split(',')) {
    const [b, t] = cs.split('x').map(Number);
    const f = feeds(b, t, rng, 30522);
    await session.run(f);  // warm-up: first-run allocations and kernel selection
    const times = [];
    let total = 0;
    // --iters runs, or fewer (at least 3) once --max-seconds of timed runs have passed.
    while (times.length < a.iters && !(a.maxSeconds > 0 && total >= a.maxSeconds && times.length >= 3)) {
      const t0 = process.hrtime.bigint();
      const out = await session.run(f);
      const dt = Number(process.hrtime.bigint() - t0) * 1e-9;
      if (out.logits.dims[0] !== b) throw new Error('unexpected output shape');
      times.push(dt);
      total += dt;
    }
    const med = median(times);
    console.log(JSON.stringify({
      peer: 'onnxruntime', binding: 'node', onnxruntime: ort.env.versions.common, case: 'infer', preset: a.preset,
      batch: b, seq: t, threads: a.threads, allow_spinning: spinning, check_max_abs_diff: maxDiff,
      seconds: med, seconds_all: times, samples_per_s: b / med, tokens_per_s: (b * t) / med,
    }));
  }
  await session.release();
}

main().catch((e) => { console.error(`ort_bert: ${e.stack || e}`); process.exit(1); });
