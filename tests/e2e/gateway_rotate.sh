#!/usr/bin/env bash
# gateway_rotate.sh: rotating the spool and the access log as logrotate does (rename, then
# SIGHUP). Every call's event is in exactly one of the two spool files, the ledger sink loads the
# old file to its end and goes on with the new one (ledger events == both files' events), the
# access log starts a new file, and a kill -9 after the rotation, with calls in between, replays
# into the new file only what it lacks.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-rotate"
start_mock m --latency-ms 1 || { finish; exit 1; }
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","ledger":"$T/ledger.db","access_log":"$T/access.log",
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
calls() { # n: plain and streamed calls, in two clients at once
    local c i cl=()
    for c in 1 2; do
        for i in $(seq 1 "$1"); do
            if [ $((i % 3)) = 0 ]; then
                curl -s -N -o /dev/null --max-time 5 "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
                    -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
            else
                curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
                    -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}'
            fi
        done &
        cl+=($!)
    done
    wait "${cl[@]}"
}
lines() { cat "$@" 2>/dev/null | wc -l; }
until_eq() { # want, command...: wait (5 s at most) until the command prints want
    local want=$1 i; shift
    for i in $(seq 1 100); do [ "$("$@")" = "$want" ] && return 0; sleep 0.05; done
    return 1
}
lreq() { "$IC" report --ledger "$T/ledger.db" --raw --format json 2>/dev/null | jq -r .total.requests; }
calls 10
check "before: 20 events spooled" until_eq 20 lines "$T/spool.jsonl"
mv "$T/spool.jsonl" "$T/spool.jsonl.1"
mv "$T/access.log" "$T/access.log.1"
calls 5 # between the rename and the signal: still the old files
kill -HUP "$GW_PID"
check "the writer says it reopened" until_eq 1 grep -c "spool: reopened" "$T/gw.err"
calls 10
check "after: 20 events in the new spool" until_eq 20 lines "$T/spool.jsonl"
eq "the old spool has the 30 before the signal" "$(lines "$T/spool.jsonl.1")" 30
eq "no event in both files" "$(cat "$T/spool.jsonl" "$T/spool.jsonl.1" | jq -r .id | sort | uniq -d | wc -l)" 0
check "the ledger holds both files' events" until_eq 50 lreq
check "the access log started a new file" until_eq 20 lines "$T/access.log"
eq "the old access log has the rest" "$(lines "$T/access.log.1")" 30
check "the position file follows the new spool" grep -q "$(stat -c '%d %i' "$T/spool.jsonl")" "$T/spool.jsonl.ledger-pos"
# kill -9 after a second rotation and more calls: a restart replays into the new file what it
# lacks, the ledger counts each event once
mv "$T/spool.jsonl" "$T/spool.jsonl.2"
kill -HUP "$GW_PID"
check "second rotation" until_eq 2 grep -c "spool: reopened" "$T/gw.err"
calls 5
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null
start_gw "$T/gw.json" || { finish; exit 1; }
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean stop after the restart" "$?" 0
all=$(cat "$T/spool.jsonl" "$T/spool.jsonl.1" "$T/spool.jsonl.2" | jq -r .id | sort)
eq "every call once across the three files" "$(echo "$all" | uniq -d | wc -l)" 0
eq "60 calls in all" "$(echo "$all" | wc -l)" 60
eq "the ledger: every event once" "$(lreq)" 60
finish
