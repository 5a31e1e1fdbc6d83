// chat_count.mjs: the rounds of bench/chat_count.sh. For each request file, in each round (the
// order alternating), infercost counts the request's prompt tokens for SECONDS each way
// (bench/chat_count_bench: each call on its own, and through one ic_count_cache kept across
// calls, the gateway's way) and tiktoken (WASM) does, in this process, what the OpenAI
// cookbook's num_tokens_from_messages does: JSON.parse the body, then 3 tokens per message, the
// tokens of each of its string values, 1 per name, 3 to prime the reply. The counts must agree.
// Usage: node bench/chat_count.mjs CHAT_COUNT_BENCH ROUNDS SECONDS REQUEST.json...
// -> one JSON line per request: medians of microseconds per request and of the per-round
// ratios. Not a test.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

import { median, peerRequire as require, r2 } from "./rounds_util.mjs";

const [bin, roundsArg, secsArg, ...files] = process.argv.slice(2);
const rounds = Number(roundsArg) || 5;
const secs = Number(secsArg) || 1;
const enc = require("tiktoken").get_encoding("o200k_base"); // the requests name gpt-4o

function cookbook(body) {
  const req = JSON.parse(body);
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

const ours = (file, cache) =>
  JSON.parse(execFileSync(bin, [file, String(secs), ...(cache ? ["--cache"] : [])], { encoding: "utf8" }).trim());

for (const file of files) {
  const body = fs.readFileSync(file, "utf8");
  const rows = [];
  for (let i = 0; i < rounds; i++) {
    let a, b, t;
    if (i % 2 === 0) {
      a = ours(file, false);
      b = ours(file, true);
      t = theirs(body);
    } else {
      t = theirs(body);
      b = ours(file, true);
      a = ours(file, false);
    }
    if (a.tokens !== t.tokens || b.tokens !== t.tokens)
      throw new Error(`${file}: infercost counted ${a.tokens} / ${b.tokens} prompt tokens, the cookbook with tiktoken ${t.tokens}`);
    rows.push({ a, b, t });
  }
  console.log(JSON.stringify({
    file, bytes: Buffer.byteLength(body), tokens: rows[0].t.tokens, rounds, seconds: secs,
    us_each: r2(median(rows.map((r) => r.a.us))), us_cache: r2(median(rows.map((r) => r.b.us))),
    us_tiktoken: r2(median(rows.map((r) => r.t.us))),
    ratio_each: r2(median(rows.map((r) => r.t.us / r.a.us))), ratio_cache: r2(median(rows.map((r) => r.t.us / r.b.us))),
    cache_speedup: r2(median(rows.map((r) => r.a.us / r.b.us))),
  }));
}
