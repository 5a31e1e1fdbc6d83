// tokenizer_rounds.mjs: the headline ratio of bench/tokenizer.sh, infercost against tiktoken
// (WASM) in alternating rounds. On a shared host the speed of both sides moves by +-30% from
// one minute to the next; a single pass of each (the peer table) can catch one side in a slow
// minute and the other in a fast one. Here each round runs infercost (a fresh
// bench/tokenizer_bench process, SECONDS of count calls) and tiktoken (in this process, the
// same SECONDS of encode_ordinary calls) right after each other, in alternating order, and the
// ratio is taken per round: the median over the rounds is the figure, with its lowest and
// highest. MB/s by the wall clock, and by CPU time (tokenizer_bench: its thread; node: its whole
// process, as process.cpuUsage counts it), which leaves out what the host steals.
// With --lines, each side counts every line of the file on its own (infercost in blocks of 1,024
// lines through one ic_tokenizer_counter, as `infercost count --lines` does; tiktoken one
// encode_ordinary a line).
// Usage: node bench/tokenizer_rounds.mjs TOKENIZER_BENCH ROUNDS SECONDS [--lines] FILE...
// -> one JSON line per (encoding, file). Not a test.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

import { median, peerRequire as require, r2 } from "./rounds_util.mjs";

const [bin, roundsArg, secsArg, ...rest] = process.argv.slice(2);
const lines = rest[0] === "--lines";
const files = lines ? rest.slice(1) : rest;
const rounds = Number(roundsArg) || 5;
const secs = Number(secsArg) || 1;
const tiktoken = require("tiktoken");

function theirs(enc, text, bytes) {
  let reps = 0, tokens = 0, el;
  const parts = lines ? text.split("\n") : [text];
  const c0 = process.cpuUsage(), t0 = performance.now();
  do {
    tokens = 0;
    for (const p of parts) tokens += enc.encode_ordinary(p).length;
    reps++;
    el = (performance.now() - t0) / 1000;
  } while (el < secs);
  const c = process.cpuUsage(c0);
  return { tokens, mb_s: (bytes * reps) / el / 1e6, cpu_mb_s: (bytes * reps) / ((c.user + c.system) / 1e6) / 1e6 };
}

function ours(encName, file) {
  const out = execFileSync(bin, [encName, file, String(secs), ...(lines ? ["--lines"] : [])], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop());
}

for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const bytes = Buffer.byteLength(text);
  for (const encName of ["o200k_base", "cl100k_base"]) {
    const enc = tiktoken.get_encoding(encName);
    enc.encode_ordinary(text.slice(0, 10000)); // warm up
    const rows = [];
    for (let i = 0; i < rounds; i++) {
      let a, b;
      if (i % 2 === 0) {
        a = ours(encName, file);
        b = theirs(enc, text, bytes);
      } else {
        b = theirs(enc, text, bytes);
        a = ours(encName, file);
      }
      if (a.tokens !== b.tokens)
        throw new Error(`${file} ${encName}: infercost counted ${a.tokens} tokens, tiktoken ${b.tokens}`);
      rows.push({ ours: a, theirs: b, ratio: a.mb_s / b.mb_s, cpu_ratio: a.cpu_mb_s / b.cpu_mb_s });
    }
    enc.free();
    const ratios = rows.map((r) => r.ratio);
    console.log(JSON.stringify({
      encoding: encName, file, lines, bytes, tokens: rows[0].ours.tokens, rounds, seconds: secs,
      ours_mb_s: r2(median(rows.map((r) => r.ours.mb_s))), tiktoken_mb_s: r2(median(rows.map((r) => r.theirs.mb_s))),
      ratio: r2(median(ratios)), ratio_min: r2(Math.min(...ratios)), ratio_max: r2(Math.max(...ratios)),
      cpu_ratio: r2(median(rows.map((r) => r.cpu_ratio))),
      ratios: ratios.map(r2),
    }));
  }
}
