#!/usr/bin/env bash
# gateway_rotate.sh: rotating the spool and the access log as logrotate does (rename, then
# SIGHUP). Every call's event is in exactly one of the two spool files, the ledger sink loads the
# old file to its end and goes on with the new one (ledger events == both files' events), the
# access log starts a new file. A SIGHUP without a rename changes nothing; two rotations while
# the ledger is locked leave no file unread; a kill -9 after a rotation with the ledger behind
# loads the rest of the rotated file at the restart (found beside the spool by its inode).
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
# SIGHUP without a rename: nothing to reopen, nothing read again
dups() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n 's/^infercost_ledger_duplicates_total //p'; }
d0=$(dups)
kill -HUP "$GW_PID"; sleep 0.5
eq "SIGHUP without a rename: no reopen" "$(grep -c "spool: reopened" "$T/gw.err")" 1
eq "SIGHUP without a rename: nothing loaded twice" "$(dups)" "$d0"
spools() { ls "$T"/spool.jsonl "$T"/spool.jsonl.[0-9a-z] 2>/dev/null; } # not .wal, .ledger-pos
nall() { cat $(spools) | wc -l; }
lock() { (echo "BEGIN EXCLUSIVE;"; sleep "$1"; echo "COMMIT;") | sqlite3 "$T/ledger.db" & LOCK=$!; }
# two rotations while the ledger is locked: the sink, behind, still reads every file to its end
lock 3
calls 3; mv "$T/spool.jsonl" "$T/spool.jsonl.a"; kill -HUP "$GW_PID"
check "rotation a" until_eq 2 grep -c "spool: reopened" "$T/gw.err"
calls 3; mv "$T/spool.jsonl" "$T/spool.jsonl.b"; kill -HUP "$GW_PID"
check "rotation b" until_eq 3 grep -c "spool: reopened" "$T/gw.err"
calls 3
wait $LOCK
check "two rotations behind: the ledger catches up with every file ($(nall))" until_eq "$(nall)" lreq
# kill -9 while the ledger is locked, after a rotation: the restart finds the rotated file by its
# inode and loads the rest of it before the new one
lock 2
calls 3; mv "$T/spool.jsonl" "$T/spool.jsonl.c"; kill -HUP "$GW_PID"
check "rotation c" until_eq 4 grep -c "spool: reopened" "$T/gw.err"
calls 3
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null
wait $LOCK
start_gw "$T/gw.json" || { finish; exit 1; }
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean stop after the restart" "$?" 0
all=$(cat $(spools) | jq -r .id | sort)
eq "every call once across the files" "$(echo "$all" | uniq -d | wc -l)" 0
eq "80 calls in all" "$(echo "$all" | wc -l)" 80
eq "the ledger: every event once, the rotated file's rest included" "$(lreq)" 80
# the same two rotations behind: the restart loads the positioned file, then the one rotated
# after it, then the current one
start_gw "$T/gw.json" || { finish; exit 1; }
lock 3
calls 2; mv "$T/spool.jsonl" "$T/spool.jsonl.d"; kill -HUP "$GW_PID"
for _ in $(seq 1 40); do [ -s "$T/spool.jsonl" ] || [ -e "$T/spool.jsonl" ] && break; sleep 0.05; done
calls 2; sleep 0.3; mv "$T/spool.jsonl" "$T/spool.jsonl.e"; kill -HUP "$GW_PID"; sleep 0.3
calls 2
kill -9 "$GW_PID"; wait "$GW_PID" 2>/dev/null
wait $LOCK
start_gw "$T/gw.json" || { finish; exit 1; }
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "restart two rotations behind: clean stop" "$?" 0
eq "restart two rotations behind: every event once ($(nall))" "$(lreq)" "$(nall)"
# a torn last line in a rotated file (a crash inside a write, then the rename) is skipped with a
# message, and the files after it still load
printf '{"id":"torn' >>"$T/spool.jsonl"
mv "$T/spool.jsonl" "$T/spool.jsonl.f"
echo "ICLEDGERPOS 1" >"$T/pos.tmp" # the position: the start of the torn file
printf '%s %s 0\n%s\n' $(stat -c '%d %i' "$T/spool.jsonl.f") "$T/ledger.db" >>"$T/pos.tmp"
mv "$T/pos.tmp" "$T/spool.jsonl.ledger-pos"
start_gw "$T/gw.json" || { finish; exit 1; }
calls 2
all_in() { local i; for i in $(seq 1 100); do [ "$(lreq)" = "$(nall)" ] && return 0; sleep 0.05; done; return 1; }
check "torn file: the ledger goes on past it" all_in
kill -TERM "$GW_PID"; wait "$GW_PID"
check "torn file: said on stderr" grep -q "torn last line" "$T/gw.err"
finish
