// tests/e2e/route_eval_ref.mjs: an independent computation of route-eval's GSM8K figures for
// tests/e2e/route_eval.sh: its own CSV reader, the decontamination, both models' accuracy, and the
// prompt-tokens router's APGR and CPT(50%) with tiktoken's o200k_base counts (npm tiktoken, the
// WASM build of OpenAI's tokenizer), by RouteLLM's definitions.
// Usage: node tests/e2e/route_eval_ref.mjs DATA_DIR  -> one JSON line.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../node/node_modules/x.js"));
const dir = process.argv[2];

function csv(text) {
  const rows = [];
  let row = [], f = "", q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; }
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ",") { row.push(f); f = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(f); rows.push(row); row = []; f = "";
    } else f += c;
  }
  if (f !== "" || row.length) { row.push(f); rows.push(row); }
  return rows;
}

const rows = csv(fs.readFileSync(path.join(dir, "gsm8k__gsm8k_responses.csv"), "utf8"));
const head = rows.shift();
const ip = head.indexOf("prompt"), is = head.indexOf("gpt-4-1106-preview"),
  iw = head.indexOf("mistralai/Mixtral-8x7B-Instruct-v0.1");
const ex = new Set(fs.readFileSync(path.join(dir, "gsm8k__contaminated_prompts.jsonl"), "utf8")
  .split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).eval_prompt));
const items = rows.filter((r) => r.length === head.length && !ex.has(r[ip]))
  .map((r) => ({ p: r[ip], s: r[is] === "True" ? 1 : 0, w: r[iw] === "True" ? 1 : 0 }));
const n = items.length;
const qs = items.reduce((a, x) => a + x.s, 0) / n, qw = items.reduce((a, x) => a + x.w, 0) / n;
const enc = require("tiktoken").get_encoding("o200k_base");
for (const x of items) x.t = enc.encode_ordinary(x.p).length;
items.sort((a, b) => b.t - a.t);
// the curve: ties (same count) move together
const xs = [0], ys = [0];
let total = items.reduce((a, x) => a + x.w, 0);
for (let k = 0; k < n;) {
  let j = k;
  while (j < n && items[j].t === items[k].t) { total += items[j].s - items[j].w; j++; }
  k = j;
  xs.push(k / n);
  ys.push((total / n - qw) / (qs - qw));
}
let apgr = 0;
for (let k = 1; k < xs.length; k++) apgr += (xs[k] - xs[k - 1]) * (ys[k] + ys[k - 1]) / 2;
let cpt50 = -1;
for (let k = 1; k < xs.length && cpt50 < 0; k++)
  if (ys[k] >= 0.5) cpt50 = xs[k - 1] + (xs[k] - xs[k - 1]) * (0.5 - ys[k - 1]) / (ys[k] - ys[k - 1]);
console.log(JSON.stringify({ prompts: n, strong: qs, weak: qw, apgr: apgr.toFixed(4), cpt50: cpt50.toFixed(4) }));
