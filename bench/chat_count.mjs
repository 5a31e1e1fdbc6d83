// chat_count.mjs: the rounds of bench/chat_count.sh. For each request file, in each round (the
// order alternating), infercost counts the request's prompt tokens for SECONDS each way
// (bench/chat_count_bench: each call on its own, and through one ic_count_cache kept across
// calls, the gateway's way) and tiktoken (WASM) does, in this process, what the OpenAI
// cookbook's num_tokens_from_messages does: JSON.parse the body, then 3 tokens per message, the
// tokens of each of its string values, 1 per name, 3 to prime the reply. An embeddings body
// (text-embedding-3-small, cl100k_base): tiktoken encodes each input; infercost also counts all
// inputs in one call (--batch, the gateway's way). The counts must agree.
// Usage: node bench/chat_count.mjs CHAT_COUNT_BENCH ROUNDS SECONDS REQUEST.json...
// -> one JSON line per request: medians of microseconds per request and of the per-round
// ratios. Not a test.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

import { median, peerRequire as require, r2 } from "./rounds_util.mjs";

const [bin, roundsArg, secsArg, ...files] = process.argv.slice(2);
const rounds = Number(roundsArg) || 5;
const secs = Number(secsArg) || 1;
const enc = require("tiktoken").get_encoding("o200k_base"); // the chat requests name gpt-4o
const encEmbed = require("tiktoken").get_encoding("cl100k_base"); // text-embedding-3-small

function cookbook(body) {
  const req = JSON.parse(body);
  if (req.input) return req.input.reduce((n, s) => n + encEmbed.encode_ordinary(s).length, 0);
  let n = 3;
  for (const m of req.messages) {
    n += 3;
    for (const [k, v] of Object.entries(m)) {
      n += enc.encode_ordinary(v).length;
      if (k === "name") n += 1;
    }
  }
  return n;
}

function theirs(body) {
  let calls = 0, tokens = 0, el;
  tokens = cookbook(body); // warm up
  const t0 = performance.now();
  do {
    tokens = cookbook(body);
    calls++;
    el = (performance.now() - t0) / 1000;
  } while (el < secs);
  return { tokens, us: (el / calls) * 1e6 };
}

const ours = (file, mode) =>
  JSON.parse(execFileSync(bin, [file, String(secs), ...(mode ? [mode] : [])], { encoding: "utf8" }).trim());

for (const file of files) {
  const body = fs.readFileSync(file, "utf8");
  const embed = JSON.parse(body).input !== undefined;
  const rows = [];
  for (let i = 0; i < rounds; i++) {
    let a, b, c, t;
    if (i % 2 === 0) {
      a = ours(file, null);
      b = ours(file, "--cache");
      if (embed) c = ours(file, "--batch");
      t = theirs(body);
    } else {
      t = theirs(body);
      if (embed) c = ours(file, "--batch");
      b = ours(file, "--cache");
      a = ours(file, null);
    }
    if (a.tokens !== t.tokens || b.tokens !== t.tokens || (c && c.tokens !== t.tokens))
      throw new Error(`${file}: infercost counted ${a.tokens} / ${b.tokens} / ${c && c.tokens} prompt tokens, tiktoken ${t.tokens}`);
    rows.push({ a, b, c, t });
  }
  const med = (f) => r2(median(rows.map(f)));
  console.log(JSON.stringify({
    file, bytes: Buffer.byteLength(body), tokens: rows[0].t.tokens, rounds, seconds: secs,
    us_each: med((r) => r.a.us), us_cache: med((r) => r.b.us), us_tiktoken: med((r) => r.t.us),
    ratio_each: med((r) => r.t.us / r.a.us), ratio_cache: med((r) => r.t.us / r.b.us),
    cache_speedup: med((r) => r.a.us / r.b.us),
    ...(embed ? { us_batch: med((r) => r.c.us), ratio_batch: med((r) => r.t.us / r.c.us), batch_speedup: med((r) => r.b.us / r.c.us) } : {}),
  }));
}
