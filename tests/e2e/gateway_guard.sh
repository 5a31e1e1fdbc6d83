#!/usr/bin/env bash
# gateway_guard.sh: requests that would have the gateway reserve less than the upstream bills, or
# record a billed call as $0, are refused or charged in full: "stream" / "include_usage" that are
# not booleans, a NUL (\u0000) in a key, "n" outside 1-128 or not an integer, an output bound
# past 10^15 (with n at most 128 the bound cannot wrap), X-Infercost-Tags the ledger would refuse or that claim the gateway's own tag,
# huge request headers; an answer without readable usage keeps its reservation charged and is
# spooled as usage_incomplete; a request with more keys than the cache key covers is not cached.
# The upstreams: the mock provider, and a node stand-in that answers without usage.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-guard"
start_mock m --expect-key-env IC_TEST_PROVIDER_KEY || { finish; exit 1; }
M1=$MOCK_PORT
# a stream that pauses 1.2 s between events, longer than the gateway's client_timeout_ms
start_mock sc --chunk-delay-ms 1200 --output-tokens 3 || { finish; exit 1; }
SC_PORT=$MOCK_PORT MOCK_PORT=$M1
# an OpenAI-style upstream whose answers carry no usage (a provider that omits it)
node -e '
const http = require("node:http");
const srv = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, {"Content-Type": "application/json"});
    res.end(JSON.stringify({id: "x", object: "chat.completion", model: "gpt-4o-mini",
      choices: [{index: 0, message: {role: "assistant", content: "hi"}, finish_reason: "stop"}]}));
  });
});
srv.listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + srv.address().port));' >"$T/nousage.out" 2>&1 &
NU_PID=$!
PIDS+=("$NU_PID")
NU_PORT=$(wait_port "$T/nousage.out" "$NU_PID") || { finish; exit 1; }
K1="ick-guard-key-one-000000000000"
K2="ick-guard-key-two-000000000000"
H1=$(printf '%s' "$K1" | sha256sum | cut -d' ' -f1)
H2=$(printf '%s' "$K2" | sha256sum | cut -d' ' -f1)
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","cache":{"enabled":true},"client_timeout_ms":1000,
 "upstreams":[
  {"name":"oa","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"nu","provider":"openai","base_url":"http://127.0.0.1:$NU_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"sc","provider":"openai","base_url":"http://127.0.0.1:$SC_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[{"name":"nu","match":{"model":"nousage-*"},"targets":[{"upstream":"nu","model":"gpt-4o-mini"}]},
           {"name":"sc","match":{"model":"slowstream-*"},"targets":[{"upstream":"sc","model":"gpt-4o-mini"}]}],
 "keys":[{"id":"one","sha256":"$H1","budget_usd_day":"0.01"},
         {"id":"two","sha256":"$H2","budget_usd_day":"0.0001"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
call() { # key, body, curl options... -> writes $T/b, echoes status
    curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $1" "$G" -d "$2" "${@:3}"
}
MSG='"messages":[{"role":"user","content":"hello"}]'

# refused with 400, each naming what is wrong
while IFS='|' read -r name body want; do
    eq "$name: status" "$(call "$K1" "$body")" 400
    check "$name: message" grep -qF -- "$want" "$T/b"
done <<EOF
stream as a string|{"model":"gpt-4o-mini","stream":"false",$MSG}|stream must be true or false
include_usage as a string|{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":"false"},$MSG}|include_usage must be true or false
a NUL in a key|{"model":"gpt-4o-mini","max_tokens\\u0000":5,$MSG}|NUL character
a NUL in the model|{"model":"gpt-4o-mini\\u0000-ft",$MSG}|NUL character
n as a string|{"model":"gpt-4o-mini","max_tokens":5,"n":"8",$MSG}|n must be an integer from 1 to 128
n over 128|{"model":"gpt-4o-mini","max_tokens":5,"n":129,$MSG}|n must be an integer from 1 to 128
n zero|{"model":"gpt-4o-mini","max_tokens":5,"n":0,$MSG}|n must be an integer from 1 to 128
a bound past 10^15|{"model":"gpt-4o-mini","max_tokens":10000000000000000,$MSG}|more than 1000000000000000
EOF
# an escaped backslash before "u0000" is text, not a NUL
eq "an escaped backslash is not a NUL" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"a\\\\\\\\u0000b\"}]}")" 200
eq "n within range" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,\"n\":2,$MSG}")" 200

# tags: what the ledger would refuse, and the gateway's own tag
long=$(head -c 2100 /dev/zero | tr '\0' a)
for tags in "{\"t\":\"$long\"}" '{"usage_incomplete":false}' '{"a\u0000b":"c"}'; do
    code=$(curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $K1" -H "X-Infercost-Tags: $tags" "$G" \
        -d "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}")
    eq "tags ${tags:0:24}: status" "$code" 400
done
check "tags: message" grep -qF "X-Infercost-Tags contains a NUL character" "$T/b"

# request headers past 64 KB: refused, and the gateway stays up
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' a; echo; } > "$T/hdr"
code=$(curl -s -o /dev/null -w '%{http_code}' -H @"$T/hdr" -H "Authorization: Bearer $K1" "$G" \
    -d "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}")
check "huge headers refused ($code)" [ "$code" = 400 ] || [ "$code" = 431 ] || [ "$code" = 000 ]
eq "huge headers: gateway alive" "$(curl -s "http://127.0.0.1:$GW_PORT/healthz" | jq -r .status)" ok

# an answer without usage: its reservation stays charged (key two's $0.0001 a day holds one call
# of 5 output tokens of gpt-4o-mini at most, so the second is refused), and it is spooled as
# usage_incomplete, not as a $0 call
eq "no usage: first call served" "$(call "$K2" "{\"model\":\"nousage-a\",\"max_tokens\":100,$MSG}")" 200
eq "no usage: the reservation was kept" "$(call "$K2" "{\"model\":\"nousage-a\",\"max_tokens\":100,$MSG}")" 429
sleep 0.3
line=$(grep '"key_id":"two"' "$T/spool.jsonl" | head -n 1)
eq "no usage: spooled as incomplete" "$(echo "$line" | jq -r .tags.usage_incomplete)" true

# a customer header with bytes that are not UTF-8: spooled as valid JSON, the bytes as U+FFFD
curl -s -o /dev/null -H "Authorization: Bearer $K1" -H $'X-Infercost-Customer: bad\xffname' "$G" \
    -d "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}"
sleep 0.3
check "odd customer bytes: spooled as U+FFFD" grep -qF $'bad\xef\xbf\xbdname' "$T/spool.jsonl"
if LC_ALL=C grep -q $'\xff' "$T/spool.jsonl"; then bad "odd customer bytes: raw in the spool"; else ok; fi
# tags from headers always within what the ledger takes: 50 bytes that are not UTF-8 would be
# 150 as U+FFFD (the ledger takes 127), a 128-byte customer is cut at a character's boundary,
# and the client's tags leave room for the gateway's usage_incomplete
spool_line() { # task: the spool line of the call tagged so, through `infercost cost`
    local i
    for i in $(seq 1 40); do
        grep -q "\"task\":\"$1" "$T/spool.jsonl" && break
        sleep 0.05
    done
    grep "\"task\":\"$1" "$T/spool.jsonl" | tail -n 1 >"$T/line.jsonl"
    [ -s "$T/line.jsonl" ] && "$IC" cost "$T/line.jsonl" >"$T/line.out" 2>&1
}
bytes50=$(printf '\xff%.0s' $(seq 1 50))
curl -s -o /dev/null -H "Authorization: Bearer $K1" -H "X-Infercost-Task: $bytes50" "$G" \
    -d "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}"
check "a task of 50 bytes that are not UTF-8: the ledger takes the line" spool_line $'\xef\xbf\xbd'
eq "... as 42 U+FFFD (126 bytes)" "$(jq -r .task "$T/line.jsonl" | tr -d '\n' | wc -c)" 126
long="t-$(printf 'a%.0s' $(seq 1 124))é"
curl -s -o /dev/null -H "Authorization: Bearer $K1" -H "X-Infercost-Task: $long" "$G" \
    -d "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}"
check "a 128-byte task: the ledger takes the line" spool_line t-aaaa
eq "... cut before the character that does not fit" "$(jq -r .task "$T/line.jsonl")" "${long%é}"
eq "tags that are not UTF-8: 400" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",$MSG}" -H $'X-Infercost-Tags: {"a":"\xff"}')" 400
check "... saying so" grep -q "X-Infercost-Tags is not valid UTF-8" "$T/b"
slashes=$(printf '{"k":"%s"}' "$(printf '/%.0s' $(seq 1 2000))") # 2,008 bytes, as the ledger keeps them
eq "tags with slashes counted as written: 200" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}" -H "X-Infercost-Tags: $slashes")" 200
eq "tags with something after the object: 400" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",$MSG}" -H 'X-Infercost-Tags: {"a":"b"} junk')" 400
eq "tags with NaN (not JSON): 400" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",$MSG}" -H 'X-Infercost-Tags: {"a":NaN}')" 400
eq "tags with spaces after the object: 200" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}" -H 'X-Infercost-Tags: {"a":"b"}  ')" 200
big=$(printf '{"a":"%s"}' "$(printf 'x%.0s' $(seq 1 2016))") # 2,024 bytes
eq "tags of 2,024 bytes: 400" "$(call "$K1" "{\"model\":\"gpt-4o-mini\",$MSG}" -H "X-Infercost-Tags: $big")" 400
big=${big/xx/x} # 2,023 bytes, on a call whose answer has no usage: usage_incomplete is added
curl -s -o /dev/null -H "Authorization: Bearer $K1" -H "X-Infercost-Tags: $big" -H "X-Infercost-Task: bigtags" "$G" \
    -d "{\"model\":\"nousage-a\",\"max_tokens\":5,$MSG}"
check "tags of 2,023 bytes and usage_incomplete: the ledger takes the line" spool_line bigtags
eq "... both tags in it" "$(jq -r '.tags | (.usage_incomplete|tostring) + " " + (.a|length|tostring)' "$T/line.jsonl")" "true 2015"

# a request with more keys than the cache key sorts (256 in one object) is not cached: the same
# padding with another model is not answered from the first one's cache entry
pad=$(for i in $(seq 1 260); do printf '"x%03d":1,' "$i"; done)
r1=$(curl -s -D "$T/h1" -o /dev/null -H "Authorization: Bearer $K1" -H "X-Infercost-Cache: on" "$G" \
    -d "{$pad\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}")
curl -s -D "$T/h2" -o /dev/null -H "Authorization: Bearer $K1" -H "X-Infercost-Cache: on" "$G" \
    -d "{$pad\"model\":\"gpt-4o\",\"max_tokens\":5,$MSG}"
absent "many keys: no cache hit" "X-Infercost-Cache: hit" "$T/h2"
# a client that sends half a request and then nothing is dropped after client_timeout_ms
slow=$(timeout 20 python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabcd")
t = time.time(); s.settimeout(15)
try:
    s.recv(100)
except Exception:
    pass
print(round(time.time() - t))' "$GW_PORT")
check "half a request: dropped after client_timeout_ms (${slow:-?} s)" [ "${slow:-99}" -le 3 ]
# ... but a stream that pauses longer than that between events is not cut: the wait for the
# upstream does not count
n=$(curl -s -N -m 30 -H "Authorization: Bearer $K1" "$G" \
    -d "{\"model\":\"slowstream-x\",\"stream\":true,\"stream_options\":{\"include_usage\":true},$MSG}" | grep -c '^data:')
eq "a stream pausing past client_timeout_ms: every event" "$n" 7
eq "gateway alive at the end" "$(curl -s "http://127.0.0.1:$GW_PORT/healthz" | jq -r .status)" ok
kill -TERM "$GW_PID"; wait "$GW_PID"
# out of descriptors: connections wait, the gateway does not spin or flood stderr, and serves on
( ulimit -n 64; exec "$IC" serve --config "$T/gw.json" --listen 127.0.0.1:0 >"$T/gw-fd.out" 2>"$T/gw-fd.err" ) &
FD_PID=$!; PIDS+=("$FD_PID")
FD_PORT=$(wait_port "$T/gw-fd.out" "$FD_PID")
timeout 20 python3 -c '
import socket, sys, time
cs = []
for i in range(100):
    try:
        cs.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1))
    except Exception:
        pass
time.sleep(2)' "$FD_PORT"
ticks=$(awk '{print $14 + $15}' "/proc/$FD_PID/stat")
check "out of descriptors: one line on stderr ($(wc -l <"$T/gw-fd.err"))" [ "$(wc -l <"$T/gw-fd.err")" -le 2 ]
check "out of descriptors: no spin ($ticks ticks of CPU)" [ "$ticks" -lt 100 ]
expect_accept=$(grep -c "cannot accept connections: Too many open files" "$T/gw-fd.err")
eq "out of descriptors: says why" "$expect_accept" 1
eq "out of descriptors: serves again" "$(curl -s -m 5 "http://127.0.0.1:$FD_PORT/healthz" | jq -r .status)" ok
kill -TERM "$FD_PID"; wait "$FD_PID"
eq "out of descriptors: clean exit" "$?" 0
# a restart remembers the day's spend: the spool's calls of this month are counted again at start
K3="ick-guard-key-three-0000000000"; H3=$(printf '%s' "$K3" | sha256sum | cut -d' ' -f1)
K4="ick-guard-key-four-00000000000"; H4=$(printf '%s' "$K4" | sha256sum | cut -d' ' -f1)
cat >"$T/gw-b.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool-b.jsonl",
 "upstreams":[{"name":"oa","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"ant","provider":"anthropic","base_url":"http://127.0.0.1:$SC_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "keys":[{"id":"three","sha256":"$H3","budget_usd_day":"0.0001"},
         {"id":"four","sha256":"$H4","budget_usd_day":"0.003"}]}
JSON
start_gw "$T/gw-b.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
codes=""; for i in 1 2 3 4 5; do codes="$codes $(call "$K3" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,$MSG}")"; done
eq "budget: calls until the day's budget" "$codes" " 200 200 200 429 429"
kill -TERM "$GW_PID"; wait "$GW_PID"
start_gw "$T/gw-b.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
eq "budget after a restart: still spent" "$(call "$K3" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":100,$MSG}")" 429
check "budget after a restart: says what it counted" grep -q "budgets: 3 call(s) of this month counted from the spool" "$T/gw.err"
# a stream the client cuts keeps its whole hold charged: an Anthropic stream cut before its
# message_delta reported only message_start's placeholder output (worst case here about $0.0022
# of the key's $0.003: the next call cannot fit)
A="http://127.0.0.1:$GW_PORT/v1/messages"
timeout 2 curl -s -N -H "x-api-key: $K4" "$A" \
    -d '{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hello"}]}' >/dev/null
check "the cut stream is settled" wait_inflight 0
eq "a cut Anthropic stream: its hold stays charged" "$(curl -s -o /dev/null -w '%{http_code}' -H "x-api-key: $K4" "$A" \
    -d '{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"hello"}]}')" 429
kill -TERM "$GW_PID"; wait "$GW_PID"
finish
