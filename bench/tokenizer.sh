#!/usr/bin/env bash
# bench/tokenizer.sh: token counting throughput, MB/s on one core, infercost (C, in process:
# bench/tokenizer_bench.c) side by side with tiktoken 1.0.22 (WASM), js-tiktoken, gpt-tokenizer
# and tiktoken-node (native tiktoken-rs, cl100k_base only) on the same natural-text files, both
# encodings, with the ratio to tiktoken; then the ratio to tiktoken again from alternating
# rounds (bench/tokenizer_rounds.mjs: the headline figure, since one pass of each side can
# catch the host in a slow minute for one and a fast one for the other; IC_BENCH_ROUNDS, default
# 7), for the whole file and line by line (`infercost count --lines`); then infercost's time on
# 1 MB vs 10 MB pathological
# inputs (linear time), with tiktoken on 10 KB vs 20 KB of the same for contrast; then the time
# to open each encoding, against tiktoken's get_encoding.
# Inputs come from Debian packages (reproducible), 2 MB each: English prose = base-files'
# licences + the copyright files under /usr/share/doc (sorted); multilingual = iso-codes
# translations (names of languages, countries, currencies in ~160 languages); messages = user
# messages (sentences) of apt and Essential packages in ~90 languages, an even share of each
# gettext catalogue; cjk = the same from the Chinese, Japanese and Korean catalogues only; code =
# libc6-dev/linux-libc-dev headers (tests/node/tokenizer_corpus.mjs builds the texts).
# Usage: bench/tokenizer.sh [SECONDS per run, default 3]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-3}
B=build/bench/tok
mkdir -p "$B"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude bench/tokenizer_bench.c build/libinfercost.a \
   -ljson-c -lpcre2-8 -lyaml -lsqlite3 -levent -lcurl -lpthread -lm -o "$B/tokenizer_bench"

# --- inputs (2 MB each)
ABS="$PWD/$B"
if [ ! -s "$B/english.txt" ] || [ ! -s "$B/code.txt" ] || [ ! -s "$B/messages.txt" ] || [ ! -s "$B/cjk.txt" ]; then
    { cat /usr/share/common-licenses/*; find /usr/share/doc -name copyright | LC_ALL=C sort | xargs cat; } 2>/dev/null \
        | head -c 2000000 > "$B/english.txt" || true
    (cd tests/node && node -e '
      import("./tokenizer_corpus.mjs").then(({ naturalText }) => {
        const fs = require("node:fs"), t = naturalText();
        const cut = (s) => { const b = Buffer.from(s, "utf8").subarray(0, 2000000); return b.toString("utf8").replace(/\uFFFD$/, ""); };
        fs.writeFileSync(process.argv[1] + "/multilingual.txt", cut(t.prose));
        fs.writeFileSync(process.argv[1] + "/code.txt", cut(t.code));
        fs.writeFileSync(process.argv[1] + "/messages.txt", cut(t.messages));
        fs.writeFileSync(process.argv[1] + "/cjk.txt", cut(t.cjk));
        console.error("inputs from: " + t.sources);
      });' "$ABS")
fi
files=("$B/english.txt" "$B/multilingual.txt" "$B/messages.txt" "$B/cjk.txt" "$B/code.txt")
out="$B/results.jsonl"
: > "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# interleaved: infercost, the peers, infercost again (averaged), file by file, so that the load
# of a shared machine weighs on both sides alike
ours() {
    for e in o200k_base cl100k_base; do
        "$B/tokenizer_bench" "$e" "$1" "$secs" | sed 's/^{/{"peer":"infercost (C)",/' >> "$out.ours"
    done
}
: > "$out.ours"
for f in "${files[@]}"; do
    ours "$f"
    node bench/tokenizer.mjs "$secs" "$f" >> "$out"
    ours "$f"
done
node -e '
const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const by = new Map();
for (const r of rows) { const k = r.encoding + r.file; if (!by.has(k)) by.set(k, []); by.get(k).push(r); }
for (const rs of by.values()) { const r = { ...rs[0] }; r.mb_s = Number((rs.reduce((a, x) => a + x.mb_s, 0) / rs.length).toFixed(1)); r.runs = rs.map((x) => x.mb_s); console.log(JSON.stringify(r)); }' "$out.ours" > "$out.tmp"
cat "$out" >> "$out.tmp"
mv "$out.tmp" "$out"
rm -f "$out.ours"
node -e '
const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse).filter(r => r.mb_s);
const ref = {};
for (const r of rows) if (r.peer === "tiktoken (WASM)") ref[r.encoding + r.file] = r;
const pad = (s, n) => String(s).padEnd(n);
console.log(pad("file", 18) + pad("encoding", 13) + pad("peer", 36) + pad("tokens", 10) + pad("MB/s", 9) + "x tiktoken");
for (const r of rows) {
  const t = ref[r.encoding + r.file];
  const same = !t || t.tokens === r.tokens ? "" : "  (count differs from tiktoken: " + t.tokens + ")";
  console.log(pad(r.file.split("/").pop(), 18) + pad(r.encoding, 13) + pad(r.peer, 36) + pad(r.tokens, 10) + pad(r.mb_s, 9) + (t ? (r.mb_s / t.mb_s).toFixed(1) : "-") + same);
}' "$out"

# --- the headline ratio: infercost and tiktoken (WASM) in alternating rounds
rounds=${IC_BENCH_ROUNDS:-7}
echo
echo "infercost / tiktoken (WASM), $rounds alternating rounds of 1 s each side: median ratio [lowest, highest] (wall clock; by CPU time)"
node bench/tokenizer_rounds.mjs "$B/tokenizer_bench" "$rounds" 1 "${files[@]}" > "$B/rounds.jsonl"
# the same, each line counted on its own (infercost count --lines; tiktoken one call a line)
node bench/tokenizer_rounds.mjs "$B/tokenizer_bench" "$rounds" 1 --lines "${files[@]}" >> "$B/rounds.jsonl"
node -e '
const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
for (const r of rows)
  console.log("  " + (r.file.split("/").pop() + (r.lines ? " by line" : "")).padEnd(26) + r.encoding.padEnd(13) + (r.ratio.toFixed(1) + "x").padEnd(7) +
    "[" + r.ratio_min.toFixed(1) + ", " + r.ratio_max.toFixed(1) + "]".padEnd(4) + "CPU " + r.cpu_ratio.toFixed(1) + "x   " +
    "(infercost " + r.ours_mb_s + " MB/s, tiktoken " + r.tiktoken_mb_s + " MB/s, medians)");' "$B/rounds.jsonl"

# --- linear time on pathological inputs
echo
echo "pathological inputs: infercost count (process wall time, both encodings summed)"
gen() { # kind, bytes, file: deterministic pathological text
    node -e '
      const [k, n, f] = [process.argv[1], Number(process.argv[2]), process.argv[3]];
      const b = Buffer.alloc(n); let x = 12345;
      const r = () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x >>> 8; };
      for (let i = 0; i < n; i++)
        b[i] = k === "onechar" ? 97 : k === "spaces" ? 32 : k === "digits" ? 48 + r() % 10 : k === "giantword" ? 97 + r() % 26 : r() & 255;
      require("node:fs").writeFileSync(f, b);' "$1" "$2" "$3"
}
for k in onechar spaces digits giantword random; do
    gen "$k" 1048576 "$B/p1.txt"; gen "$k" 10485760 "$B/p10.txt"
    t1=0; t10=0
    for e in o200k_base cl100k_base; do
        a=$(date +%s.%N); build/infercost count --encoding "$e" "$B/p1.txt" > /dev/null; b=$(date +%s.%N)
        t1=$(echo "$t1 + $b - $a" | bc -l)
        a=$(date +%s.%N); build/infercost count --encoding "$e" "$B/p10.txt" > /dev/null; b=$(date +%s.%N)
        t10=$(echo "$t10 + $b - $a" | bc -l)
    done
    printf '  %-10s 1 MB %6.2f s   10 MB %6.2f s   x%.1f for x10 input\n' "$k" "$t1" "$t10" "$(echo "$t10 / $t1" | bc -l)"
done
echo "tiktoken (WASM) on the same, 10 KB vs 20 KB (o200k_base):"
node -e '
const { createRequire } = require("node:module");
const req = createRequire(process.cwd() + "/tests/node/node_modules/x.js");
const enc = req("tiktoken").get_encoding("o200k_base");
const mk = { onechar: (n) => "a".repeat(n), spaces: (n) => " ".repeat(n), giantword: (n) => { let s = ""; for (let i = 0; i < n; i++) s += String.fromCharCode(97 + (i * 7919 % 26)); return s; } };
for (const [k, f] of Object.entries(mk)) {
  const t = []; for (const n of [10000, 20000]) { const s = f(n); const a = performance.now(); enc.encode_ordinary(s); t.push((performance.now() - a) / 1000); }
  console.log("  " + k.padEnd(10) + " 10 KB " + t[0].toFixed(2) + " s   20 KB " + t[1].toFixed(2) + " s   x" + (t[1] / t[0]).toFixed(1) + " for x2 input");
}'

# --- opening an encoding: what every process pays once before its first count
echo
echo "opening an encoding, ms, median of 5 fresh processes (infercost: ic_tokenizer_open; tiktoken: get_encoding, its WASM module already loaded)"
for e in o200k_base cl100k_base; do
    ours=$(for i in 1 2 3 4 5; do "$B/tokenizer_bench" "$e" --open; done | sort -n | sed -n 3p)
    theirs=$(for i in 1 2 3 4 5; do
        node -e '
          const { createRequire } = require("node:module");
          const req = createRequire(process.cwd() + "/tests/node/node_modules/x.js");
          const { get_encoding } = req("tiktoken");
          const a = performance.now(); get_encoding(process.argv[1]); console.log((performance.now() - a).toFixed(1));' "$e"
    done | sort -n | sed -n 3p)
    printf '  %-12s infercost %6.1f ms   tiktoken (WASM) %6.1f ms   x%.1f\n' "$e" "$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)"
done
