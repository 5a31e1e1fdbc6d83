#!/usr/bin/env bash
# gateway_crash.sh: durability and shutdown. (1) kill -9 the gateway under load (streamed and
# plain calls from concurrent clients), restart it: the journal is replayed and every response a
# client received completely has exactly one event; extra events are bounded by the calls in
# flight at the kill. The gateway also feeds the SQLite ledger ("ledger"): after the restart
# the ledger holds exactly the spool's events (none lost, none counted twice), the same cost as
# `infercost cost` gives, and a full replay of the spool (its position file removed) adds
# nothing. (2) SIGTERM during a slow stream: no new connections, the stream finishes,
# its event is written, exit 0.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-crash"
start_mock m --latency-ms 2 || { finish; exit 1; }
mkdir -p "$T/shm" # the journal where the config puts it ("journal"; on tmpfs in production)
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","journal":"$T/shm/crash.wal","ledger":"$T/ledger.db",
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
client() { # n: loop until the gateway is gone (at most 3000 calls), log completed response ids
    local i code
    for i in $(seq 1 3000); do
        if [ $((i % 2)) = 0 ]; then
            curl -s -N -D "$T/h$1" -o "$T/b$1" --max-time 5 "$G" \
                -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' || break
            grep -q '^data: \[DONE\]' "$T/b$1" || break
        else
            code=$(curl -s -D "$T/h$1" -o "$T/b$1" -w '%{http_code}' --max-time 5 "$G" \
                -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}') || break
            [ "$code" = 200 ] || break
            jq -e .usage "$T/b$1" >/dev/null 2>&1 || break
        fi
        grep -i '^X-Infercost-Request-Id:' "$T/h$1" | tr -d '\r' | cut -d' ' -f2 >>"$T/done$1"
    done
}
CL=()
for n in 1 2 3 4; do client $n & CL+=($!); done
sleep 3
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null
for p in "${CL[@]}"; do wait "$p"; done
cat "$T"/done* | sort >"$T/completed"
ncomp=$(wc -l <"$T/completed")
check "load ran ($ncomp calls completed)" [ "$ncomp" -ge 20 ]
# restart: the journal is replayed into the spool
check "the journal is where the config says" [ -s "$T/shm/crash.wal" ] && check "and not beside the spool" [ ! -e "$T/spool.jsonl.wal" ]
start_gw "$T/gw.json" || { finish; exit 1; }
kill -TERM "$GW_PID"; wait "$GW_PID"; rc=$?
eq "clean stop after restart" "$rc" 0
jq -r .id "$T/spool.jsonl" | sort >"$T/recorded"
nrec=$(wc -l <"$T/recorded")
eq "no duplicate events" "$(sort -u "$T/recorded" | wc -l)" "$nrec"
eq "every completed response has its event" "$(comm -23 "$T/completed" "$T/recorded" | wc -l)" 0
extra=$((nrec - ncomp))
check "extra events ($extra) <= calls in flight at the kill (4)" [ "$extra" -ge 0 ] && check "extra <= 4" [ "$extra" -le 4 ]
"$IC" cost "$T/spool.jsonl" >"$T/cost.json" 2>"$T/cerr"
eq "every event prices" "$?" 0
lreq() { "$IC" report --ledger "$T/ledger.db" "$@" --format json 2>>"$T/report.err" | jq -r .total.requests; [ -s "$T/report.err" ] && cat "$T/report.err" >&2; : >"$T/report.err"; }
lcost() { "$IC" report --ledger "$T/ledger.db" --raw --format json | jq -r .total.cost_usd; }
eq "ledger events == spool events after kill -9 and restart" "$(lreq --raw)" "$nrec"
eq "ledger rollups agree" "$(lreq)" "$nrec"
check "ledger holds every completed response ($ncomp)" [ "$(lreq --raw)" -ge "$ncomp" ]
eq "ledger cost == infercost cost of the spool" "\$$(lcost)" "$("$IC" cost --summary "$T/spool.jsonl" | sed -n 's/^total spend: *//p')"
# a replay of the whole spool (as after a crash between a commit and the position file) adds
# nothing: every event is already there
rm -f "$T/spool.jsonl.ledger-pos"
start_gw "$T/gw.json" || { finish; exit 1; }
for _ in $(seq 1 100); do
    grep -q "^infercost_ledger_duplicates_total $nrec\$" <(curl -s "http://127.0.0.1:$GW_PORT/metrics") && break
    sleep 0.05
done
check "replay: every event seen as a duplicate" grep -q "^infercost_ledger_duplicates_total $nrec\$" <(curl -s "http://127.0.0.1:$GW_PORT/metrics")
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "replay: clean stop" "$?" 0
eq "replay: no event counted twice" "$(lreq --raw)" "$nrec"
eq "replay: rollups unchanged" "$(lreq)" "$nrec"
# a locked ledger: calls go on, /metrics shows the lag while the sink waits, then it catches up
start_gw "$T/gw.json" || { finish; exit 1; }
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN EXCLUSIVE"); time.sleep(3)' "$T/ledger.db" &
LOCK_PID=$!
sleep 0.3
for i in 1 2 3; do
    curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
        -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"lag"}]}'
done
lag=0
for _ in $(seq 1 40); do
    lag=$(curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^infercost_ledger_lag_bytes //p')
    [ "${lag:-0}" -gt 0 ] && break
    sleep 0.05
done
check "locked ledger: the lag shows ($lag bytes)" [ "${lag:-0}" -gt 0 ]
wait "$LOCK_PID"
wait_metric '^infercost_ledger_lag_bytes 0$'
check "locked ledger: caught up" grep -q '^infercost_ledger_lag_bytes 0$' <(curl -s "http://127.0.0.1:$GW_PORT/metrics")
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "locked ledger: clean stop" "$?" 0
sed -i 's|"ledger":"[^"]*",||' "$T/gw.json"

# graceful shutdown during a slow stream
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null
start_mock slow --chunk-delay-ms 40 || { finish; exit 1; }
sed -i "s/127.0.0.1:[0-9]*\/v1/127.0.0.1:$MOCK_PORT\/v1/" "$T/gw.json"
: >"$T/spool.jsonl"; rm -f "$T/shm/crash.wal"
start_gw "$T/gw.json" || { finish; exit 1; }
curl -s -N "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"slow"}]}' >"$T/slow" &
SC=$!
wait_inflight 1
kill -TERM "$GW_PID"
sleep 0.1
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$GW_PORT/healthz")
check "not accepting during drain (got $code)" [ "$code" != 200 ]
wait "$SC"
wait "$GW_PID"; rc=$?
eq "drained stream complete" "$(grep -c '^data: \[DONE\]' "$T/slow")" 1
eq "exit 0 after drain" "$rc" 0
eq "drained stream metered" "$(wc -l <"$T/spool.jsonl")" 1
check "stop message" grep -q "draining 1 in-flight" "$T/gw.err"

# a client that leaves a stream: the upstream call is cut, the event says client_closed
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null
start_mock slow2 --chunk-delay-ms 50 || { finish; exit 1; }
sed -i "s/127.0.0.1:[0-9]*\/v1/127.0.0.1:$MOCK_PORT\/v1/" "$T/gw.json"
: >"$T/spool.jsonl"
start_gw "$T/gw.json" || { finish; exit 1; }
REQ='{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"bye"}]}'
curl -s -N --max-time 0.4 "http://127.0.0.1:$GW_PORT/v1/chat/completions" -d "$REQ" >"$T/left"
check "client abort counted" wait_metric '^infercost_client_aborts_total 1$'
check "client abort: its usage estimated" grep -q '^infercost_estimated_calls_total 1$' \
    <(curl -s "http://127.0.0.1:$GW_PORT/metrics")
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "client abort: clean exit" "$?" 0
eq "client abort event" "$(jq -r .status "$T/spool.jsonl")" client_closed
# OpenAI sends usage only at the end: the gateway counts the prompt as `infercost estimate`
# does, and the answer's text it had received (at least what the client got, at most the whole)
eq "client abort: the prompt counted" "$(jq .usage.input_tokens "$T/spool.jsonl")" \
    "$(echo "$REQ" | "$IC" estimate --json - | jq .prompt_tokens)"
got=$(text_of "$T/left" | "$IC" count --model gpt-4o | jq .tokens)
curl -s -N "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" -H 'Authorization: Bearer x' -d "$REQ" >"$T/whole"
whole=$(text_of "$T/whole" | "$IC" count --model gpt-4o | jq .tokens)
out=$(jq .usage.output_tokens "$T/spool.jsonl")
check "client abort: the output counted from the text received ($got <= $out <= $whole)" \
    [ "$got" -gt 0 ] && check "... at least the client's" [ "$out" -ge "$got" ] &&
    check "... at most the whole answer's" [ "$out" -le "$whole" ]
"$IC" ingest --ledger "$T/abort.db" --quiet "$T/spool.jsonl" 2>/dev/null
eq "client abort: the ledger takes the event" "$?" 0
eq "client abort: marked incomplete, not a real \$0" "$(jq -r .tags.usage_incomplete "$T/spool.jsonl")" true
eq "client abort: the ledger's cost is the estimate's" \
    "$("$IC" report --ledger "$T/abort.db" --raw --format json | jq -r .total.cost_usd)" \
    "$("$IC" cost "$T/spool.jsonl" | jq -r .total_usd)"
check "client abort: not \$0" [ "$("$IC" cost "$T/spool.jsonl" | jq -r .total_usd)" != 0 ]
check "cost --summary tells the estimate apart" grep -q '^of which estimated: \$0\.[0-9]* (1 call whose' \
    <("$IC" cost --summary "$T/spool.jsonl")

# a stream longer than the drain timeout: cut at shutdown, still recorded (marked incomplete)
sed -i 's/{"listen":"127.0.0.1:0",/{"listen":"127.0.0.1:0","drain_timeout_ms":300,/' "$T/gw.json"
: >"$T/spool.jsonl"
start_gw "$T/gw.json" || { finish; exit 1; }
curl -s -N "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"long"}]}' >/dev/null &
SC=$!
wait_inflight 1
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "drain timeout: exit 0" "$?" 0
wait "$SC"
check "drain timeout reported" grep -q "drain timeout: 1 call" "$T/gw.err"
eq "cut call recorded" "$(jq -r '.status + " " + (.tags.usage_incomplete | tostring)' "$T/spool.jsonl")" "shutdown true"
eq "cut call: its prompt counted" "$(jq .usage.input_tokens "$T/spool.jsonl")" \
    "$(echo '{"model":"gpt-4o","messages":[{"role":"user","content":"long"}]}' | "$IC" estimate --json - | jq .prompt_tokens)"
check "cut call: the text it had streamed counted" [ "$(jq .usage.output_tokens "$T/spool.jsonl")" -gt 0 ]
sed -i 's/"drain_timeout_ms":300,//' "$T/gw.json"

# a slow client on a long stream: the upstream is paused (backpressure) instead of the gateway
# buffering the whole answer; the stream still arrives whole and is metered
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null
start_mock long --output-tokens 20000 || { finish; exit 1; }
sed -i "s/127.0.0.1:[0-9]*\/v1/127.0.0.1:$MOCK_PORT\/v1/" "$T/gw.json"
start_gw "$T/gw.json" || { finish; exit 1; }
curl -s -N --limit-rate 3M "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    -d '{"model":"gpt-4o-mini","max_tokens":30000,"stream":true,"messages":[{"role":"user","content":"long"}]}' >"$T/long"
eq "slow client: every chunk" "$(grep -c '"content":' "$T/long")" 20001
eq "slow client: DONE" "$(grep -c '^data: \[DONE\]' "$T/long")" 1
check "slow client: upstream paused" grep -q '^infercost_stream_pauses_total [1-9]' <(curl -s "http://127.0.0.1:$GW_PORT/metrics")
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "slow client: metered" "$(tail -n1 "$T/spool.jsonl" | jq .usage.output_tokens)" 20000
finish
