#!/usr/bin/env bash
# gateway_diskfull.sh: the spool's disk fills up under the gateway. Every call answered is in the
# spool once, whole (a write cut short by the full disk is cut off again and retried whole, not
# left torn and then written twice), stderr says the spool cannot be written, and once there is
# room again the waiting calls reach the file; a rotation (SIGHUP) while the disk is full moves
# the waiting calls to the new file at once. Needs a small tmpfs (mount, as root): without one
# the test says so and checks nothing.
. "$(dirname "$0")/gateway_common.bash"
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
    echo "gateway_diskfull: cannot mount a tmpfs here (not root, or no mount namespace): skipped"
    finish
    exit 0
fi
umount_small() { umount "$T/small" 2>/dev/null; }
trap 'umount_small; cleanup' EXIT
export IC_TEST_PROVIDER_KEY="sk-fake-diskfull"
start_mock m || { finish; exit 1; }
# the journal on the normal disk, the spool on the small one, nearly full
head -c 200000 /dev/zero >"$T/small/filler"
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/small/spool.jsonl","journal":"$T/spool.wal","spool_fsync":false,
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
TAG="X-Infercost-Tags: {\"pad\":\"$(head -c 600 /dev/zero | tr '\0' x)\"}"
answered() { # n calls with padded tags: prints how many were answered 200
    local i code n=0
    for i in $(seq 1 "$1"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "$TAG" "$G" \
            -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}')
        [ "$code" = 200 ] && n=$((n + 1))
    done
    echo "$n"
}
ok200=$(answered 150)
sleep 0.5
check "the full disk is said on stderr" grep -q "spool: cannot write .*No space left on device" "$T/gw.err"
rm -f "$T/small/filler" # room again: the journal drains into the file
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean exit" "$?" 0
S="$T/small/spool.jsonl"
eq "every call answered is in the spool" "$(wc -l <"$S")" "$ok200"
eq "each once" "$(jq -r .id "$S" 2>/dev/null | sort -u | wc -l)" "$ok200"
eq "no torn line" "$(jq -c . "$S" 2>/dev/null | wc -l)" "$ok200"
# rotated while the disk is full: the spool moved to another disk (copied, then unlinked: our
# descriptor keeps its blocks), SIGHUP. The writer opens a new file at once, without waiting
# for a write to succeed, so the calls waiting in the journal reach the new file, not the
# unlinked one
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
head -c 1000000 /dev/zero >"$T/small/filler" 2>/dev/null # as much as fits
n2=$(answered 60)
sleep 0.3
mv "$S" "$T/rotated.jsonl"
kill -HUP "$GW_PID"
for _ in $(seq 1 40); do grep -q "spool: reopened" "$T/gw.err" && break; sleep 0.05; done
check "reopened while the disk is still full" grep -q "spool: reopened" "$T/gw.err"
rm -f "$T/small/filler"
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean exit after the rotation" "$?" 0
both=$(cat "$T/rotated.jsonl" "$S" | jq -r .id | sort)
eq "every call answered is in the two files" "$(echo "$both" | wc -l)" "$((ok200 + n2))"
eq "each once" "$(echo "$both" | uniq -d | wc -l)" 0
finish
