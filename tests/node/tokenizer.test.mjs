// tokenizer.test.mjs: differential test of `infercost count` against tiktoken 1.0.22 (npm, the
// WASM build of OpenAI's Rust core): identical token id sequences for o200k_base and
// cl100k_base on a reproducible corpus of more than 50 MB (tokenizer_corpus.mjs; its SHA-256 is
// printed), with special tokens as ordinary text (encode_ordinary) and allowed (encode(text,
// "all")), and the count-only path equal to the number of ids. One worker per encoding.
// Needs IC_BIN (the infercost binary). Ends with "P passed, F failed".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { get_encoding } from "tiktoken";

function runIC(ic, args) {
  const r = spawnSync(ic, args, { maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${ic} ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function explain(enc, ours, theirs, at) {
  const dec = (ids) => JSON.stringify(new TextDecoder().decode(enc.decode(Uint32Array.from(ids))));
  const lo = Math.max(0, at - 8);
  return `first difference at id #${at}: tiktoken ${JSON.stringify(Array.from(theirs.slice(lo, at + 8)))} ` +
    `= ${dec(theirs.slice(lo, at + 8))}; infercost ${JSON.stringify(Array.from(ours.slice(lo, at + 8)))} = ${dec(ours.slice(lo, at + 8))}`;
}

if (!isMainThread) {
  const { file, specialFile, encoding, ic } = workerData;
  const results = [];
  const enc = get_encoding(encoding);
  const check = (name, ours, theirs) => {
    const at = firstDiff(ours, theirs);
    results.push({ name, ok: at < 0, detail: at < 0 ? `${theirs.length} ids identical` : explain(enc, ours, theirs, at) });
  };
  try {
    const text = fs.readFileSync(file, "utf8");
    let t0 = performance.now();
    const theirs = enc.encode_ordinary(text);
    const tSecs = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const ours = runIC(ic, ["count", "--encoding", encoding, "--ids", file]);
    const oSecs = (performance.now() - t0) / 1000;
    check(`${encoding}: ordinary text, ${fs.statSync(file).size} bytes (tiktoken ${tSecs.toFixed(1)} s, infercost incl. JSON ${oSecs.toFixed(1)} s)`, ours.ids, theirs);
    const cnt = runIC(ic, ["count", "--encoding", encoding, file]);
    results.push({ name: `${encoding}: count-only path equals the number of ids`, ok: cnt.tokens === theirs.length, detail: `${cnt.tokens} vs ${theirs.length}` });
    const stext = fs.readFileSync(specialFile, "utf8");
    const sTheirs = enc.encode(stext, "all");
    const sOurs = runIC(ic, ["count", "--encoding", encoding, "--special", "--ids", specialFile]);
    check(`${encoding}: special tokens allowed, ${fs.statSync(specialFile).size} bytes`, sOurs.ids, sTheirs);
  } catch (e) {
    results.push({ name: `${encoding}: run`, ok: false, detail: String(e.stack || e) });
  }
  enc.free();
  parentPort.postMessage(results);
} else {
  const ic = process.env.IC_BIN;
  if (!ic) {
    console.log("IC_BIN is not set");
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  const { buildCorpus, synthetic, mulberry32 } = await import("./tokenizer_corpus.mjs");
  const t0 = performance.now();
  const corpus = buildCorpus();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ic-tok-"));
  const file = path.join(dir, "corpus.txt");
  fs.writeFileSync(file, corpus.buf);
  // a special-token-dense text: synthetic text is ~2% special-token text; add more
  const rnd = mulberry32(7);
  const words = corpus.text.slice(0, 2_000_000).split(/\s+/).filter((w) => w && w.length < 30);
  let special = synthetic(words, 1_000_000, rnd);
  special = special.replace(/ the /g, " <|endoftext|> ").replace(/ de /g, "<|fim_prefix|> ").replace(/ la /g, " <|endofprompt|>\n");
  const specialFile = path.join(dir, "special.txt");
  fs.writeFileSync(specialFile, special);
  console.log(`corpus: ${corpus.buf.length} bytes, sha256 ${corpus.sha256}`);
  console.log(`corpus sources: ${corpus.sources}; seed 20260301`);
  console.log(`corpus sections (bytes): ${JSON.stringify(corpus.sections)}; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const runWorker = (encoding) => new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { file, specialFile, encoding, ic } });
    w.on("message", resolve);
    w.on("error", (e) => resolve([{ name: `${encoding}: worker`, ok: false, detail: String(e.stack || e) }]));
  });
  const all = (await Promise.all([runWorker("o200k_base"), runWorker("cl100k_base")])).flat();
  let pass = 0, fail = 0;
  for (const r of all) {
    console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name}: ${r.detail}`);
    r.ok ? pass++ : fail++;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
}
