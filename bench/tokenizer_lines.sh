#!/usr/bin/env bash
# bench/tokenizer_lines.sh: counting a file line by line, the two ways the library offers, in
# alternating rounds: one ic_tokenizer_counter_count call a line (--lines-one) against blocks of
# 1,024 lines, one ic_tokenizer_counter_count_many call each (--lines, what `infercost count
# --lines` does). Each round runs both, the order alternating, a fresh counter each run; prints
# the medians (thread CPU time) and the median of the per-round ratios blocks / one a line
# [lowest, highest]. Needs the inputs and build/bench/tok/tokenizer_bench (bench/tokenizer.sh
# makes both). Usage: bench/tokenizer_lines.sh [ROUNDS (default 7)] [SECONDS (default 1)]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-7}
secs=${2:-1}
B=build/bench/tok
mbs() { "$B/tokenizer_bench" "$1" "$2" "$secs" "$3" | sed 's/.*"cpu_mb_s":\([0-9.]*\).*/\1/'; }
for e in o200k_base cl100k_base; do
    for f in multilingual english code; do
        for r in $(seq 1 "$rounds"); do
            if ((r % 2)); then
                a=$(mbs "$e" "$B/$f.txt" --lines-one); b=$(mbs "$e" "$B/$f.txt" --lines)
            else
                b=$(mbs "$e" "$B/$f.txt" --lines); a=$(mbs "$e" "$B/$f.txt" --lines-one)
            fi
            echo "$a $b"
        done | node -e '
const p = require("node:fs").readFileSync(0, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
const med = (v) => { const s = [...v].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r = p.map(([a, b]) => b / a).sort((x, y) => x - y);
console.log(`${process.argv[1]} ${process.argv[2]}: one call a line ${med(p.map((x) => x[0])).toFixed(1)} MB/s, blocks ${med(p.map((x) => x[1])).toFixed(1)} MB/s, blocks / one a line x${med(r).toFixed(2)} [${r[0].toFixed(2)}, ${r[r.length - 1].toFixed(2)}]`);' "$e" "$f"
    done
done
