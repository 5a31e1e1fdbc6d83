#!/usr/bin/env bash
# bench/gateway_hash.sh: what the request hash costs the gateway. Every deterministic,
# non-streamed call (temperature 0) is normalized and hashed (SHA-256) for the exact cache, and
# for `whatif --response-cache` even with the cache off; other calls are not. Gateway CPU time
# per request at full load (wrk, 32 connections), the cache off, a 2 KB prompt, the two kinds
# of calls alternating in ROUNDS rounds of SECONDS each. The gateway on core 0, wrk and the mock
# on core 1, as bench/gateway.sh's phase (2).
# Usage: bench/gateway_hash.sh [SECONDS, default 4] [ROUNDS, default 3]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-4}
rounds=${2:-3}
IC=${IC_BIN:-build/infercost}   # IC_BIN: another build, for a before/after
[ -x "$IC" ] || make -s build/infercost
command -v wrk >/dev/null || { echo "gateway_hash bench: wrk is not installed (scripts/bootstrap)" >&2; exit 1; }
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
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
$C0 "$IC" serve --config "$T/gw.json" >"$T/gw.out" 2>"$T/gw.err" & GWPID=$!; PIDS+=($GWPID)
GP=$(port_of "$T/gw.out")
P=$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 1 45))
ticks() { awk '{print $14 + $15}' "/proc/$GWPID/stat"; }
hz=$(getconf CLK_TCK)
echo "gateway CPU per request, cache off, 2 KB prompt (${rounds} rounds of ${secs} s each kind)"
for r in $(seq 1 "$rounds"); do
    for kind in plain temperature-0; do
        t=""; [ "$kind" = temperature-0 ] && t='"temperature":0,'
        export BENCH_BODY="{\"model\":\"gpt-4o-mini\",$t\"messages\":[{\"role\":\"system\",\"content\":\"$P\"},{\"role\":\"user\",\"content\":\"hello\"}]}"
        c0=$(ticks)
        rps=$($C1 wrk -t1 -c32 -d"${secs}s" -s bench/gateway.lua "http://127.0.0.1:$GP" 2>&1 |
              awk '/^Requests\/sec/ {print $2}')
        c1=$(ticks)
        awk -v k="$kind" -v r="$rps" -v c=$((c1 - c0)) -v s="$secs" -v hz="$hz" -v n="$r" \
            'BEGIN { printf "round %d  %-14s %8.0f RPS  %6.1f us CPU/request\n", n, k, r, c / hz * 1e6 / (r * s) }'
    done
done
echo "hashed events: $(grep -c request_hash "$T/spool.jsonl")"
