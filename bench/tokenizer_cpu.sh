#!/usr/bin/env bash
# bench/tokenizer_cpu.sh: before/after comparison of the tokenizer on a shared machine. Builds
# bench/tokenizer_cpu.c twice, against the working tree's tokenizer sources and against those of
# git revision REV (src/lib/{tokenizer,bpe,bpe_backtrack,pretokenize}.c and their headers; the
# rest of the library is not needed), then on the five inputs of bench/tokenizer.sh, both
# encodings:
#  - CPU time per call (CLOCK_THREAD_CPUTIME_ID), REV and the tree alternately, ROUNDS rounds of
#    REPS calls; prints the best and the mean MB/s of each;
#  - with CACHEGRIND=1, the deterministic cost per call from valgrind's cachegrind (instructions,
#    L1 data misses, misses of a 1 MB last level = this machine's L2, branch mispredictions),
#    taken as (3 calls - 1 call) / 2 so that loading the rank tables cancels out, and a rough
#    cycle estimate Ir + 10 D1 + 100 LL + 15 mispredicts (prefetching is not modelled).
# Usage: bench/tokenizer_cpu.sh [REV (default 666bfd6, the start of session 2)] [ROUNDS] [REPS];
# IC_CPU_FILES (a space-separated list) replaces the five inputs.
# Needs bench/tokenizer.sh to have made the inputs (build/bench/tok/*.txt) and `make all`.
set -eu
cd "$(dirname "$0")/.."
rev=${1:-666bfd6}
rounds=${2:-3}
reps=${3:-15}
B=build/bench/tokcpu
mkdir -p "$B/old"
for f in tokenizer.c bpe.c bpe.h pretokenize.c pretokenize.h; do git show "$rev:src/lib/$f" > "$B/old/$f"; done
old_bt=""
if git cat-file -e "$rev:src/lib/bpe_backtrack.c" 2>/dev/null; then
    git show "$rev:src/lib/bpe_backtrack.c" > "$B/old/bpe_backtrack.c"
    old_bt="$B/old/bpe_backtrack.c"
fi
CF="-std=c11 -D_GNU_SOURCE -O2 -g -Iinclude"
. bench/tok_sources.sh
common="$tok_support -lpthread -lm"
# shellcheck disable=SC2086
cc $CF -I"$B/old" -Isrc/lib bench/tokenizer_cpu.c "$B/old/tokenizer.c" "$B/old/bpe.c" $old_bt "$B/old/pretokenize.c" $common -o "$B/old/tokenizer_cpu"
# shellcheck disable=SC2086
cc $CF -Isrc/lib bench/tokenizer_cpu.c src/lib/tokenizer.c src/lib/bpe.c src/lib/bpe_backtrack.c src/lib/pretokenize.c $common -o "$B/tokenizer_cpu"
T=build/bench/tok
read -r -a files <<< "${IC_CPU_FILES:-$T/english.txt $T/multilingual.txt $T/messages.txt $T/cjk.txt $T/code.txt}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $rev vs working tree"
: > "$B/cpu.jsonl"
for ((r = 0; r < rounds; r++)); do
    for e in o200k_base cl100k_base; do
        "$B/old/tokenizer_cpu" "$e" "$reps" "${files[@]}" | sed 's/^{/{"version":"'"$rev"'",/' >> "$B/cpu.jsonl"
        "$B/tokenizer_cpu" "$e" "$reps" "${files[@]}" | sed 's/^{/{"version":"tree",/' >> "$B/cpu.jsonl"
    done
done
node -e '
const rows = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const by = new Map();
for (const r of rows) { const k = r.version + "|" + r.encoding + "|" + r.file; if (!by.has(k)) by.set(k, []); by.get(k).push(r); }
console.log("version".padEnd(10) + "encoding".padEnd(13) + "file".padEnd(18) + "best MB/s".padEnd(11) + "mean MB/s (CPU time)");
for (const [k, rs] of by) { const [v, e, f] = k.split("|");
  console.log(v.padEnd(10) + e.padEnd(13) + f.split("/").pop().padEnd(18) + String(Math.max(...rs.map((x) => x.best_mb_s))).padEnd(11) + (rs.reduce((a, x) => a + x.mean_mb_s, 0) / rs.length).toFixed(1)); }' "$B/cpu.jsonl"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${CACHEGRIND:-0}" = 1 ]; then
    cost() { # binary encoding file reps -> "Ir D1 LL mispredicts"
        valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes --LL=1048576,16,64 \
            --cachegrind-out-file=/dev/null "$1" "$2" "$4" "$3" 2>&1 >/dev/null | awk '
            /I *refs/ { gsub(",", "", $4); ir = $4 } /D1  misses/ { gsub(",", "", $4); d1 = $4 }
            /LL misses/ { gsub(",", "", $4); ll = $4 } /Mispredicts:/ { gsub(",", "", $3); bm = $3 }
            END { print ir, d1, ll, bm }'
    }
    echo "cachegrind, per call (2 MB): instructions, D1 misses, LL (1 MB) misses, mispredicts, est. cycles"
    for e in o200k_base cl100k_base; do
        for f in "${files[@]}"; do
            for v in old tree; do
                bin="$B/tokenizer_cpu"; [ "$v" = old ] && bin="$B/old/tokenizer_cpu"
                read -r a1 b1 c1 d1 < <(cost "$bin" "$e" "$f" 1)
                read -r a3 b3 c3 d3 < <(cost "$bin" "$e" "$f" 3)
                awk -v v="$v" -v e="$e" -v f="$(basename "$f")" -v a="$((a3 - a1))" -v b="$((b3 - b1))" \
                    -v c="$((c3 - c1))" -v d="$((d3 - d1))" 'BEGIN { printf "  %-5s %-12s %-17s Ir %6.1fM  D1 %5.0fk  LL %4.0fk  mispred %5.0fk  est %6.1fM cycles\n",
                    v, e, f, a / 2e6, b / 2e3, c / 2e3, d / 2e3, (a + 10 * b + 100 * c + 15 * d) / 2e6 }'
            done
        done
    done
fi
