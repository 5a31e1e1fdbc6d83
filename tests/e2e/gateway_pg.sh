#!/usr/bin/env bash
# gateway_pg.sh: two gateways feed one PostgreSQL ledger ("ledger": a postgres:// URL), each from
# its own spool. Calls go through both at once; then the database server stops while calls go
# on (the gateways keep serving, their sinks fall behind and say so) and comes back (the sinks
# reconnect and catch up). In the end the ledger holds every event of both spools exactly once,
# at the cost `infercost cost` gives them, and the URL's password is in no log or state file.
. "$(dirname "$0")/gateway_common.bash"
. "$(dirname "$0")/../pg_server.bash"
trap 'pg_stop; cleanup' EXIT
pg_start_or_fail "$T/pg"
pw=$PG_PW URL=$PG_PW_URL
export IC_TEST_PROVIDER_KEY="sk-fake-pg"
start_mock m --latency-ms 1 || { finish; exit 1; }
for g in 1 2; do
    cat >"$T/gw$g.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool$g.jsonl","ledger":"$URL",
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
done
start_gw "$T/gw1.json" || { finish; exit 1; }
P1=$GW_PORT G1=$GW_PID
mv "$T/gw.out" "$T/gw1.out"; mv "$T/gw.err" "$T/gw1.err"
start_gw "$T/gw2.json" || { finish; exit 1; }
P2=$GW_PORT G2=$GW_PID
calls() { # port, n, customer: plain and streamed calls
    local i
    for i in $(seq 1 "$2"); do
        if [ $((i % 3)) = 0 ]; then
            curl -s -N -o /dev/null --max-time 5 -H "X-Infercost-Customer: $3" -H "X-Infercost-Tags: {\"team\":\"t-$3\"}" "http://127.0.0.1:$1/v1/chat/completions" \
                -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
        else
            curl -s -o /dev/null --max-time 5 -H "X-Infercost-Customer: $3" -H "X-Infercost-Tags: {\"team\":\"t-$3\"}" "http://127.0.0.1:$1/v1/chat/completions" \
                -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}'
        fi
    done
}
lag() { curl -s "http://127.0.0.1:$1/metrics" | sed -n 's/^infercost_ledger_lag_bytes //p'; }
caught_up() { # port: the sink's lag reaches 0 within 10 s
    local i
    for i in $(seq 1 200); do [ "$(lag "$1")" = 0 ] && return 0; sleep 0.05; done
    return 1
}
lreq() { "$IC" report --ledger "$IC_PG_URL" --raw --format json | jq -r .total.requests; }
reaches() { # n: the ledger holds n events within 10 s
    local i
    for i in $(seq 1 200); do [ "$(lreq)" = "$1" ] && return 0; sleep 0.05; done
    return 1
}
calls "$P1" 30 acme & c1=$!; calls "$P2" 30 globex & c2=$!; wait $c1 $c2
check "both gateways' calls reach the ledger" reaches 60

# the database goes away: calls go on, the sinks fall behind; it comes back: they catch up
pg_down
calls "$P1" 12 acme & c1=$!; calls "$P2" 12 globex & c2=$!; wait $c1 $c2
spooled() { for _ in $(seq 1 100); do [ "$(cat "$T/spool1.jsonl" "$T/spool2.jsonl" | wc -l)" = 84 ] && return 0; sleep 0.05; done; return 1; }
check "calls served with the database down" spooled
sleep 0.6
check "a sink's lag shows while the database is down" [ "$(lag "$P1")" -gt 0 ]
pg_up
check "gateway 1 reconnected and caught up" caught_up "$P1"
check "gateway 2 reconnected and caught up" caught_up "$P2"
kill -TERM "$G1" "$G2"; wait "$G1"; r1=$?; wait "$G2"; r2=$?
eq "clean stops" "$r1$r2" 00
eq "every event once" "$(lreq)" 84
eq "no event twice" "$(pg_psql -c "SELECT count(DISTINCT id) FROM infercost_events")" 84
eq "rollups agree" "$("$IC" report --ledger "$IC_PG_URL" --format json | jq -r .total.requests)" 84
eq "ledger cost == infercost cost of both spools" \
    "\$$("$IC" report --ledger "$IC_PG_URL" --format json | jq -r .total.cost_usd)" \
    "$(cat "$T/spool1.jsonl" "$T/spool2.jsonl" | "$IC" cost --summary - | sed -n 's/^total spend: *//p')"
eq "customers kept apart" "$("$IC" report --ledger "$IC_PG_URL" --by customer --format csv | grep -c '^\(acme\|globex\),42,')" 2
eq "the calls' tags, by tag" "$("$IC" report --ledger "$IC_PG_URL" --by tag:team --format csv | grep -c '^\(t-acme\|t-globex\),42,')" 2
for f in "$T"/gw1.out "$T"/gw1.err "$T"/gw.out "$T"/gw.err "$T"/spool1.jsonl.ledger-pos "$T"/spool2.jsonl.ledger-pos; do
    absent "no password in $(basename "$f")" "$pw" "$f"
done
check "the position file names the ledger" grep -q "postgresql://postgres@/infercost" "$T/spool1.jsonl.ledger-pos"
finish
