#!/usr/bin/env bash
# bench/gateway.sh: the gateway's overhead and throughput on loopback, side by side with the
# Portkey gateway (npm @portkey-ai/gateway, tests/node/node_modules), both in front of the same
# `infercost mock-provider`, load from wrk (bench/gateway.lua). Pinning (2-core machine): the
# gateway under test alone on core 0; the mock and wrk share core 1. Each figure is the median
# of IC_BENCH_REPEAT runs (default 3).
#  (1) latency added at a held rate (~2,000 RPS: 4 connections, a 2 ms pause between requests on
#      each): p50/p99 through each gateway minus calling the mock directly;
#  (2) maximum throughput: 32 connections, no pause, non-streamed chat completions;
#  (3) memory: a fresh infercost's RSS while holding 1,000 concurrent streams (the mock spaces
#      events 250 ms, so each stream lasts about 6.5 s).
# IC_BENCH_PHASES="1 2 3" picks phases.
# Needs `make all` and wrk. Prints figures and the ratio; BENCHMARKS.md records them.
set -u
cd "$(dirname "$0")/.."
IC="$PWD/build/infercost"
R=${IC_BENCH_REPEAT:-3}
D=${IC_BENCH_SECONDS:-5}
PK=tests/node/node_modules/@portkey-ai/gateway/build/start-server.js
command -v wrk >/dev/null || { echo "gateway bench: wrk is not installed (scripts/bootstrap)" >&2; exit 1; }
[ -x "$IC" ] || { echo "gateway bench: run make all first" >&2; exit 1; }
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
C0="taskset -c 0"; C1="taskset -c 1"
[ "$(nproc)" -ge 2 ] || { C0=""; C1=""; }
port_of() { for _ in $(seq 1 200); do grep -q "listening on" "$1" 2>/dev/null && break; sleep 0.05; done
            sed -n 's/.*:\([0-9]*\)$/\1/p' "$1" | head -n1; }
export BENCH_PROVIDER_KEY="sk-bench-fake-key"
$C1 "$IC" mock-provider --listen 127.0.0.1:0 >"$T/mock.out" 2>&1 & PIDS+=($!)
MP=$(port_of "$T/mock.out")
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl",
 "upstreams":[{"name":"mock","provider":"openai","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"BENCH_PROVIDER_KEY"}]}
JSON
ulimit -n 20000 2>/dev/null || true
$C0 "$IC" serve --config "$T/gw.json" >"$T/gw.out" 2>"$T/gw.err" & GWPID=$!; PIDS+=($GWPID)
GP=$(port_of "$T/gw.out")
PP=$((20000 + RANDOM % 20000))
$C0 node "$PK" --port=$PP --headless >"$T/pk.out" 2>&1 & PKPID=$!; PIDS+=($PKPID)
for _ in $(seq 1 100); do grep -q "Ready" "$T/pk.out" 2>/dev/null && break; sleep 0.1; done
PKH="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$MP/v1"

run() { # label url conns delay_ms headers -> RESULT line
    BENCH_DELAY_MS=$4 BENCH_HEADERS=$5 $C1 wrk -t1 -c"$3" -d"${D}s" -s bench/gateway.lua "$2" 2>&1 |
        grep '^RESULT' || echo "RESULT rps=0 p50=0 p90=0 p99=0 requests=0 errors=-1"
}
field() { sed -n "s/.*$1=\([0-9.-]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_ticks() { [ -n "${1:-}" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
bench_target() { # label url conns delay headers [pid]: R runs, medians into $T/label.*; with a
    # pid, also the CPU time that process used per request (user+system, all its threads): a
    # figure the machine's other load moves much less than rates and latencies
    local i c0 c1 n
    : >"$T/$1.cpu"
    for i in $(seq 1 "$R"); do
        c0=$(cpu_ticks "${6:-}")
        run "$1" "$2" "$3" "$4" "$5" | tee -a "$T/$1.runs.tmp" >/dev/null
        c1=$(cpu_ticks "${6:-}")
        n=$(tail -n1 "$T/$1.runs.tmp" | field requests)
        [ "${n:-0}" -gt 0 ] && echo $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / n )) >>"$T/$1.cpu"
    done
    mv "$T/$1.runs.tmp" "$T/$1.runs"
    for f in rps p50 p99 errors; do field $f <"$T/$1.runs" | median >"$T/$1.$f"; done
    median <"$T/$1.cpu" >"$T/$1.cpuus"
}
# warm up (connection pools, JIT of node)
run warm "http://127.0.0.1:$GP" 8 0 "" >/dev/null
run warm "http://127.0.0.1:$PP" 8 0 "$PKH" >/dev/null

echo "gateway bench: load $(cut -d' ' -f1-3 /proc/loadavg), ${R} runs of ${D}s each, medians"
PH=${IC_BENCH_PHASES:-1 2 3}
if [[ " $PH " == *" 1 "* ]]; then
echo "(1) latency at ~2,000 RPS (4 connections, 2 ms pause), microseconds"
bench_target direct_l "http://127.0.0.1:$MP" 4 2 ""
bench_target ic_l "http://127.0.0.1:$GP" 4 2 ""
bench_target pk_l "http://127.0.0.1:$PP" 4 2 "$PKH"
v() { cat "$T/$1"; }
printf "  %-22s %10s %8s %8s %10s %10s\n" target rps p50 p99 "added p50" "added p99"
for t in direct_l ic_l pk_l; do
    printf "  %-22s %10s %8s %8s %10s %10s\n" "$t" "$(v $t.rps)" "$(v $t.p50)" "$(v $t.p99)" \
        "$(( $(v $t.p50) - $(v direct_l.p50) ))" "$(( $(v $t.p99) - $(v direct_l.p99) ))"
done
fi
if [[ " $PH " == *" 2 "* ]]; then
echo "(2) maximum throughput (32 connections, no pause)"
bench_target direct_t "http://127.0.0.1:$MP" 32 0 "" "${PIDS[0]}"
bench_target ic_t "http://127.0.0.1:$GP" 32 0 "" "$GWPID"
bench_target pk_t "http://127.0.0.1:$PP" 32 0 "$PKH" "$PKPID"
for t in direct_t ic_t pk_t; do
    printf "  %-22s %10s rps   p50 %6s us  p99 %7s us  errors %s  cpu/request %s us\n" "$t" "$(v $t.rps)" \
        "$(v $t.p50)" "$(v $t.p99)" "$(v $t.errors)" "$(v $t.cpuus)"
done
awk -v a="$(v ic_t.cpuus)" -v b="$(v pk_t.cpuus)" 'BEGIN { if (a > 0) printf "  ratio portkey / infercost CPU per request: %.1fx\n", b / a }'
awk -v a="$(v ic_t.rps)" -v b="$(v pk_t.rps)" 'BEGIN { if (b > 0) printf "  ratio infercost / portkey max RPS: %.1fx\n", a / b }'
awk -v a="$(v ic_l.p99)" -v b="$(v pk_l.p99)" -v d="$(v direct_l.p99)" 'BEGIN { if (b - d > 0) printf "  ratio portkey / infercost added p99 at 2k RPS: %.1fx\n", (b - d) / ((a - d) > 0 ? (a - d) : 1) }'
fi
kill "$PKPID" 2>/dev/null

if [[ " $PH " == *" 3 "* ]]; then
echo "(3) memory with 1,000 concurrent streams (a fresh gateway; the mock spaces events 250 ms)"
kill "${PIDS[0]}" "$GWPID" 2>/dev/null
$C1 "$IC" mock-provider --listen 127.0.0.1:$MP --chunk-delay-ms 250 >"$T/mock2.out" 2>&1 & PIDS+=($!)
port_of "$T/mock2.out" >/dev/null
$C0 "$IC" serve --config "$T/gw.json" >"$T/gw2.out" 2>"$T/gw2.err" & GWPID=$!; PIDS+=($GWPID)
GP=$(port_of "$T/gw2.out")
rss0=$(awk '/VmRSS/ {print $2}' /proc/$GWPID/status)
BENCH_BODY='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}]}' \
    $C1 wrk -t1 -c1000 -d9s --timeout 15s -s bench/gateway.lua "http://127.0.0.1:$GP" >"$T/streams.out" 2>&1 &
WP=$!
peak=0; inflight=0
for _ in $(seq 1 32); do
    sleep 0.25
    r=$(awk '/VmRSS/ {print $2}' /proc/$GWPID/status)
    [ "$r" -gt "$peak" ] && peak=$r
    i=$(curl -s "http://127.0.0.1:$GP/metrics" | awk '/^infercost_inflight /{print $2}')
    [ "${i:-0}" -gt "$inflight" ] && inflight=$i
done
wait "$WP"
echo "  RSS idle ${rss0} KiB; peak while streaming $((peak)) KiB ($((peak / 1024)) MiB) with up to ${inflight} streams in flight"
grep '^RESULT' "$T/streams.out" | sed 's/^/  streams: /'
fi
