// tokenizer.mjs: the peers' side of bench/tokenizer.sh: token counting throughput (MB/s of
// UTF-8 input, one core, count of ids of the whole file per run) of tiktoken 1.0.22 (WASM),
// js-tiktoken, gpt-tokenizer and tiktoken-node (native tiktoken-rs, cl100k_base only, when its
// optional install worked), each on the same files the C side reads.
// Usage: node bench/tokenizer.mjs SECONDS FILE...   -> one JSON line per (peer, encoding, file).
// Peers that produce a different count than tiktoken are reported with "count_differs". Not a test.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const nm = path.join(path.dirname(fileURLToPath(import.meta.url)), "../tests/node/node_modules");
const require = createRequire(path.join(nm, "x.js"));
const [budgetArg, ...files] = process.argv.slice(2);
const budget = Number(budgetArg) || 2;

const peers = [];
const tiktoken = require("tiktoken");
for (const enc of ["o200k_base", "cl100k_base"]) {
  const e = tiktoken.get_encoding(enc);
  peers.push({ peer: "tiktoken (WASM)", enc, count: (s) => e.encode_ordinary(s).length });
}
const jst = require("js-tiktoken");
for (const enc of ["o200k_base", "cl100k_base"]) {
  const e = jst.getEncoding(enc);
  peers.push({ peer: "js-tiktoken", enc, count: (s) => e.encode(s, [], []).length });
}
for (const enc of ["o200k_base", "cl100k_base"]) {
  const g = require(`gpt-tokenizer/cjs/encoding/${enc}`);
  peers.push({ peer: "gpt-tokenizer", enc, count: (s) => g.encode(s, { allowedSpecial: new Set(), disallowedSpecial: new Set() }).length });
}
try {
  const tn = require("tiktoken-node");
  const e = tn.getEncoding("cl100k_base");
  e.encode("warm up");
  peers.push({ peer: "tiktoken-node (native tiktoken-rs)", enc: "cl100k_base", count: (s) => e.encode(s).length });
} catch (err) {
  console.log(JSON.stringify({ peer: "tiktoken-node (native tiktoken-rs)", skipped: String(err.message || err).split("\n")[0] }));
}

const reference = new Map();
for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const bytes = Buffer.byteLength(text);
  for (const p of peers) {
    let reps = 0, tokens = 0;
    p.count(text.slice(0, 10000)); // warm up
    const t0 = performance.now();
    let el;
    do {
      tokens = p.count(text);
      reps++;
      el = (performance.now() - t0) / 1000;
    } while (el < budget);
    const key = `${p.enc}:${file}`;
    if (p.peer.startsWith("tiktoken (WASM)")) reference.set(key, tokens);
    const out = { peer: p.peer, encoding: p.enc, file, bytes, tokens, reps, mb_s: Number((bytes * reps / el / 1e6).toFixed(2)) };
    if (reference.has(key) && reference.get(key) !== tokens) out.count_differs = reference.get(key);
    console.log(JSON.stringify(out));
  }
}
