#!/usr/bin/env bash
# bench/budget_sync.sh: the shared budget store's exchange (src/gateway/budget_pg.c) under many
# keys. A gateway with N virtual keys that have daily budgets and "budget_store" in a throwaway
# PostgreSQL (tests/pg_server.bash; fsync on, as in production), in front of the mock provider;
# wrk sends IC_BENCH_RATE calls a second (default 2,000) for IC_BENCH_SECONDS (10), each with the
# next key, so every key changes in every exchange when N is below rate x interval. Reported
# per N (IC_BENCH_KEYS, default "100 1000 10000"): the rate held, the exchanges made, the rows
# written per exchange and how long an exchange took on average (from /metrics). With IC_BENCH_BIN_B (a
# second build, e.g. the one-statement-per-row writer of commit ac2298e) both run side by side
# and the ratio of their exchange times is printed. No peer runs here: LiteLLM, which shares
# budgets through Redis, is a Python package, and neither apt nor npm has it.
set -u
cd "$(dirname "$0")/.."
A="${IC_BENCH_BIN:-$PWD/build/infercost}" B="${IC_BENCH_BIN_B:-}"
RATE=${IC_BENCH_RATE:-2000} D=${IC_BENCH_SECONDS:-10}
command -v wrk >/dev/null || { echo "budget_sync bench: wrk is not installed (scripts/bootstrap)" >&2; exit 1; }
[ -x "$A" ] || { echo "budget_sync bench: run make all first" >&2; exit 1; }
T=$(mktemp -d)
PIDS=()
. tests/pg_server.bash
cleanup() { for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; pg_stop; rm -rf "$T"; }
trap cleanup EXIT
PG_DURABLE=1 pg_start "$T/pg" || { echo "budget_sync bench: no PostgreSQL: $PG_SKIP" >&2; exit 1; }
port_of() { for _ in $(seq 1 200); do grep -q "listening on" "$1" 2>/dev/null && break; sleep 0.05; done
            sed -n 's/.*:\([0-9]*\)$/\1/p' "$1" | head -n1; }
export BENCH_PROVIDER_KEY="sk-bench-fake-key"
"$A" mock-provider --listen 127.0.0.1:0 >"$T/mock.out" 2>&1 & PIDS+=($!)
MP=$(port_of "$T/mock.out")
PREFIX="ick-bench-budget-key-"
keys_json() { # n: the keys' config, hashed as `serve --hash-key` does (SHA-256 of the key)
    local i sep=""
    for i in $(seq 0 $(($1 - 1))); do
        printf '%s{"id":"k%d","sha256":"%s","budget_usd_day":"1000"}' "$sep" "$i" \
            "$(printf '%s%d' "$PREFIX" "$i" | sha256sum | cut -d' ' -f1)"
        sep=,
    done
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p"; }
one() { # label binary n
    pg_psql -c "DROP TABLE IF EXISTS infercost_budget" >/dev/null 2>&1
    cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool-$1-$3.jsonl","budget_store":"$IC_PG_URL","gateway_id":"bench",
 "upstreams":[{"name":"mock","provider":"openai","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"BENCH_PROVIDER_KEY"}],
 "keys":[$(cat "$T/keys-$3.json")]}
JSON
    "$2" serve --config "$T/gw.json" >"$T/gw.out" 2>"$T/gw.err" & local gw=$!
    local port; port=$(port_of "$T/gw.out")
    [ -n "$port" ] || { echo "budget_sync bench: the gateway did not start: $(cat "$T/gw.err")" >&2; exit 1; }
    local s0 r0 u0; s0=$(metric "$port" infercost_budget_sync_total); r0=$(metric "$port" infercost_budget_rows_written_total)
    u0=$(metric "$port" infercost_budget_sync_seconds_total)
    local res
    res=$(BENCH_RATE=$RATE BENCH_THREADS=2 BENCH_NKEYS=$3 BENCH_KEY_PREFIX=$PREFIX \
        wrk -t2 -c32 -d"${D}s" -s bench/gateway.lua "http://127.0.0.1:$port" | grep '^RESULT')
    local s1 r1 last err
    s1=$(metric "$port" infercost_budget_sync_total); r1=$(metric "$port" infercost_budget_rows_written_total)
    err=$(metric "$port" infercost_budget_sync_errors_total)
    last=$(awk -v a="$u0" -v b="$(metric "$port" infercost_budget_sync_seconds_total)" -v n="$((s1 - s0))" \
        'BEGIN { print (n > 0 ? (b - a) / n : 0) }')
    kill -TERM "$gw"; wait "$gw"
    local ex=$((s1 - s0)) rows=$((r1 - r0))
    local per=$((ex > 0 ? rows / ex : 0)) ms
    ms=$(awk -v l="$last" 'BEGIN { printf "%.2f", l * 1000 }')
    printf '  %-3s %6d keys: %s; %d exchanges, %d rows each, %s ms each (mean); %s errors\n' \
        "$1" "$3" "$(echo "$res" | sed 's/RESULT //; s/ requests=.*//')" "$ex" "$per" "$ms" "$err"
    echo "$ms" >"$T/ms-$1-$3"
}
echo "budget_sync bench: $RATE calls/s for ${D}s each, every call with the next key; load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in ${IC_BENCH_KEYS:-100 1000 10000}; do
    keys_json "$n" >"$T/keys-$n.json"
    one A "$A" "$n"
    if [ -n "$B" ]; then
        one B "$B" "$n"
        awk -v a="$(cat "$T/ms-A-$n")" -v b="$(cat "$T/ms-B-$n")" \
            'BEGIN { if (a > 0) printf "      B / A exchange time: %.1fx\n", b / a }'
    fi
done
