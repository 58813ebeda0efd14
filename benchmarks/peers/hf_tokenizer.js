#!/usr/bin/env node
// Hugging Face tokenizers (Rust, via the npm binding @anush008/tokenizers) as the peer for
// rgrid's tokenizer benchmark (issue 4). Reads a JSON-lines corpus ({"text": ...} per line).
//
//   --ids FILE     write one line {"ids":[...]} per text ([CLS] ... [SEP]), the same format
//                  as rgrid-tokenize, so the two outputs can be compared byte for byte
//   --reps N       time N passes over the corpus (one text at a time, one thread) and print
//                  one JSON line per pass: {"peer":"hf","seconds","cpu_seconds","bytes","tokens","mb_per_s","tokens_per_s"}
//                  (rates from wall time; cpu_seconds is the process CPU time of the pass)
//   --decode       print {"text": decode(ids, skip_special=true)} per line instead (for checks)
//   --max-length L --stride S   with --ids: write {"windows":[[...],...]} per text instead, from
//                  setTruncation(L, {stride: S}) + getOverflowing() (HF's overflow semantics),
//                  the same format as rgrid-tokenize --max-length L --stride S
//
//   node benchmarks/peers/hf_tokenizer.js --tokenizer ../shared/golden/tokenizer/tokenizer.json \
//        --corpus corpus.jsonl --reps 3
//
// Install: (cd benchmarks/peers && npm ci --ignore-scripts)   # the prebuilt binding ships in the package
// One thread: run with RAYON_NUM_THREADS=1 UV_THREADPOOL_SIZE=1 (compare_tokenizer.sh does).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

function parseArgs(argv) {
  const a = { tokenizer: '', corpus: '', ids: '', reps: 0, decode: false, 'max-length': 0, stride: 128 };
  for (let i = 2; i < argv.length; ++i) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    if (typeof a[key] === 'boolean') a[key] = true;
    else a[key] = typeof a[key] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  if (!a.tokenizer || !a.corpus) throw new Error('--tokenizer tokenizer.json and --corpus corpus.jsonl are required');
  return a;
}

function readCorpus(path) {
  const texts = [];
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const obj = JSON.parse(line);
    if (typeof obj.text !== 'string') throw new Error(`${path}:${i + 1}: no "text" string`);
    texts.push(obj.text);
  });
  return texts;
}

async function main() {
  const args = parseArgs(process.argv);
  const tok = Tokenizer.fromFile(args.tokenizer);
  const texts = readCorpus(args.corpus);
  if (args.ids && args['max-length'] > 0) {
    const wtok = Tokenizer.fromFile(args.tokenizer);
    wtok.setTruncation(args['max-length'], { stride: args.stride });
    const out = [];
    for (const t of texts) {
      const e = await wtok.encode(t, null, { addSpecialTokens: true });
      out.push(JSON.stringify({ windows: [e.getIds(), ...e.getOverflowing().map((o) => o.getIds())] }));
    }
    fs.writeFileSync(args.ids, out.join('\n') + '\n');
  } else if (args.ids || args.decode) {
    const out = [];
    for (const t of texts) {
      const ids = (await tok.encode(t, null, { addSpecialTokens: true })).getIds();
      out.push(args.decode ? JSON.stringify({ text: await tok.decode(ids, true) }) : JSON.stringify({ ids }));
    }
    const body = out.join('\n') + '\n';
    if (args.ids) fs.writeFileSync(args.ids, body);
    else process.stdout.write(body);
  }
  const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, 'utf8'), 0);
  for (let r = 0; r < args.reps; ++r) {
    let tokens = 0;
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (const t of texts) tokens += (await tok.encode(t, null, { addSpecialTokens: true })).getIds().length;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = process.cpuUsage(c0);
    const cpu_seconds = (c1.user + c1.system) / 1e6;  // all threads of the process
    console.log(JSON.stringify({ peer: 'hf', seconds, cpu_seconds, bytes, tokens, mb_per_s: bytes / seconds / 1e6,
                                 tokens_per_s: tokens / seconds }));
  }
}

main().catch((e) => { console.error(`hf_tokenizer.js: ${e.message}`); process.exit(1); });
