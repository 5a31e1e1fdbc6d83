#!/usr/bin/env bash
# bench/pricing.sh: the pricing benchmarks of issue 2, peer side by side, one run each.
#  (a) ic_ pricing of already-parsed usage: bench/bench_pricing.c (ic_catalog_resolve once per
#      record in setup, then ic_price_usage over ~1M records), records/s on one core (taskset -c 1).
#  (b) `infercost cost FILE` end to end (JSONL in, JSONL out) against the same job written with
#      @pydantic/genai-prices in node (bench/pricing_job.mjs), same records; and again with
#      IC_RECORD_FAST_PATH=0 (every line through json-c) to show what the general parser gives,
#      and with --threads 1 (`cost` prices blocks of lines on one thread per core by default).
#      Wall and CPU (user+sys) time of each: the machine is shared, CPU time moves less with load.
#      Then the two outputs are compared line by line (bench/pricing_compare.mjs).
# Input: bench/pricing_gen.mjs writes build/bench/pricing-MIX-N.jsonl. IC_BENCH_N records (default
# 1M); IC_BENCH_MIX="catalog mainstream" (default both): catalog spreads records over every model
# of every provider, mainstream keeps OpenAI/Anthropic/Google models (a typical production log).
# Needs `make all` first (build/libinfercost.a, build/infercost). Prints figures and ratios.
set -eu
cd "$(dirname "$0")/.."
N=${IC_BENCH_N:-1000000}
MIXES=${IC_BENCH_MIX:-catalog mainstream}
B=build/bench
mkdir -p "$B"
[ -f build/libinfercost.a ] && [ -x build/infercost ] || { echo "pricing bench: run make all first" >&2; exit 1; }
LIBS=$(sed -n 's/^LIBS *:= *//p' Makefile)
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude bench/bench_pricing.c build/libinfercost.a $LIBS -o "$B/bench_pricing"
PIN="taskset -c 1"
command -v taskset >/dev/null || PIN=""
load() { cut -d' ' -f1-3 /proc/loadavg; }
timed() { # out-file, command... : prints "wall cpu" seconds (cpu = user + sys of the command);
          # the command's stdout goes to out-file. CPU time is reported because this machine is
          # shared: wall time swings with other load, CPU time much less.
    local out=$1; shift
    local TIMEFORMAT='%R %U %S'
    { time "$@" > "$out" 2>/dev/null; } 2>&1 | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}
count_err() { grep -c '"error"' "$1" || true; }

for MIX in $MIXES; do
    IN="$B/pricing-$MIX-$N.jsonl"
    [ -s "$IN" ] || node bench/pricing_gen.mjs "$IN" "$N" "$MIX"
    echo "== pricing, $MIX mix, $N records ($IN)"
    echo "-- (a) ic_price_usage on parsed usage, one core ($PIN); load $(load)"
    $PIN "$B/bench_pricing" "$IN" 5
    echo "-- (b) end to end, JSONL in, JSONL out (not pinned); load $(load)"
    ic_t=$(timed "$B/pricing.ic.out" build/infercost cost "$IN")
    ic1_t=$(timed "$B/pricing.ic1.out" build/infercost cost --threads 1 "$IN")
    ic0_t=$(timed "$B/pricing.ic0.out" env IC_RECORD_FAST_PATH=0 build/infercost cost "$IN")
    js_t=$(timed /dev/null node bench/pricing_job.mjs "$IN" "$B/pricing.ref.out")
    for f in pricing.ic.out pricing.ic1.out pricing.ic0.out pricing.ref.out; do
        echo "   $f: $(wc -l < "$B/$f") lines, $(count_err "$B/$f") error lines"
    done
    echo "$ic_t $ic1_t $ic0_t $js_t" | awk -v n="$N" '{
        printf "   %-44s %8s %12s %8s %12s\n", "", "wall s", "records/s", "cpu s", "records/s";
        printf "   %-44s %8.2f %12.0f %8.2f %12.0f\n", "infercost cost (one thread per core)", $1, n/$1, $2, n/$2;
        printf "   %-44s %8.2f %12.0f %8.2f %12.0f\n", "infercost cost --threads 1", $3, n/$3, $4, n/$4;
        printf "   %-44s %8.2f %12.0f %8.2f %12.0f\n", "infercost cost, IC_RECORD_FAST_PATH=0", $5, n/$5, $6, n/$6;
        printf "   %-44s %8.2f %12.0f %8.2f %12.0f\n", "genai-prices job (node)", $7, n/$7, $8, n/$8;
        printf "   ratio to genai-prices: wall %.1fx, cpu %.1fx; --threads 1: wall %.1fx, cpu %.1fx; json-c path: wall %.1fx, cpu %.1fx (target >= 30x)\n", $7/$1, $8/$2, $7/$3, $8/$4, $7/$5, $8/$6;
    }'
    cmp -s "$B/pricing.ic.out" "$B/pricing.ic1.out" && cmp -s "$B/pricing.ic.out" "$B/pricing.ic0.out" \
        && echo "   infercost outputs identical across threads and parsers" || echo "   infercost outputs DIFFER across threads or parsers"
    echo "-- cross-check: infercost and genai-prices outputs agree; load $(load)"
    node bench/pricing_compare.mjs "$B/pricing.ic.out" "$B/pricing.ref.out" || true
done
