#!/usr/bin/env bash
# bench/chat_count.sh: counting a chat request's prompt tokens before it is sent, as the gateway
# does for budgets and token routing rules: infercost (ic_chat_count_request, each call on its
# own and through one ic_count_cache kept across calls, the gateway's way) against the OpenAI
# cookbook's num_tokens_from_messages on tiktoken (WASM), in alternating rounds
# (bench/chat_count.mjs), on requests with an 8 KB system prompt and a short question: English
# (base-files' licences) and multilingual (iso-codes translations, as bench/tokenizer.sh); and
# embeddings requests of 2,048 inputs (the texts' first non-empty lines), each input counted
# (tiktoken; infercost with and without the kept cache) and all in one call (infercost, as the
# gateway does).
# Usage: bench/chat_count.sh [SECONDS per side and round, default 1]  (IC_BENCH_ROUNDS, default 5)
set -eu
cd "$(dirname "$0")/.."
secs=${1:-1}
B=build/bench/chat
mkdir -p "$B"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Ibench bench/chat_count_bench.c build/libinfercost.a \
   -ljson-c -lpcre2-8 -lyaml -lsqlite3 -levent -lcurl -lpthread -lm -o "$B/chat_count_bench"
cat /usr/share/common-licenses/* > "$B/english.txt"
ABS="$PWD/$B"
(cd tests/node && node -e '
  import("./tokenizer_corpus.mjs").then(({ naturalText }) => {
    const fs = require("node:fs"), d = process.argv[1];
    const cut = (s) => Buffer.from(s, "utf8").subarray(0, 8000).toString("utf8").replace(/\uFFFD$/, "");
    const req = (system) => JSON.stringify({ model: "gpt-4o", messages: [
      { role: "system", content: system }, { role: "user", content: "Which of these applies to my case?" }] });
    const en = fs.readFileSync(d + "/english.txt", "utf8"), ml = naturalText().prose;
    fs.writeFileSync(d + "/req_english.json", req(cut(en)));
    fs.writeFileSync(d + "/req_multilingual.json", req(cut(ml)));
    /* embeddings: the first 2,048 non-empty lines as inputs */
    const embed = (text) => JSON.stringify({ model: "text-embedding-3-small",
      input: text.split("\n").filter((l) => l.trim()).slice(0, 2048) });
    fs.writeFileSync(d + "/embed_english.json", embed(en));
    fs.writeFileSync(d + "/embed_multilingual.json", embed(ml));
  });' "$ABS")
echo "prompt tokens of one request (chat: gpt-4o, 8 KB system prompt; embeddings: text-embedding-3-small, 2,048 inputs), ${IC_BENCH_ROUNDS:-5} alternating rounds of ${secs} s each way, medians; load average $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/chat_count.mjs "$B/chat_count_bench" "${IC_BENCH_ROUNDS:-5}" "$secs" "$B/req_english.json" "$B/req_multilingual.json" \
    "$B/embed_english.json" "$B/embed_multilingual.json" > "$B/results.jsonl"
node -e '
for (const r of require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse))
  console.log("  " + r.file.split("/").pop().padEnd(24) + String(r.tokens).padStart(6) + " tokens   tiktoken " + r.us_tiktoken + " us   infercost " +
    r.us_each + " us (x" + r.ratio_each + "), with the kept cache " + r.us_cache + " us (x" + r.ratio_cache + "; x" + r.cache_speedup + " over no cache)" +
    (r.us_batch ? ", in one call " + r.us_batch + " us (x" + r.ratio_batch + "; x" + r.batch_speedup + " over one call an input)" : ""));' "$B/results.jsonl"
