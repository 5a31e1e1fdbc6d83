#!/usr/bin/env bash
# gateway_serve.sh: `infercost serve` end to end with the real binary, the mock provider and curl:
# every endpoint streaming and not, both API formats, the provider key taken from the
# environment (the client's key is not forwarded), include_usage injection and stripping, the
# cost header equal to `infercost cost` on the same response, the spool readable by `infercost
# cost`, tags, /metrics, /healthz, error shapes, config validation, no secret in any output, and
# stream events passed on as they come (no Nagle clumping on a kept-alive client connection).
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-0123"
start_mock m --expect-key-env IC_TEST_PROVIDER_KEY || { finish; exit 1; }
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","access_log":"$T/access.log",
 "upstreams":[
  {"name":"oa","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"an","provider":"anthropic","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT"
CK="sk-fake-client"
J=(-H "Content-Type: application/json" -H "Authorization: Bearer $CK")
n_calls=0

# chat, not streamed: the header's cost is exactly what `infercost cost` says for the body
curl -s -D "$T/h" -o "$T/b" "${J[@]}" -H "X-Infercost-Customer: acme" -H "X-Infercost-Feature: search" \
    -H "X-Infercost-Task: t1" -H 'X-Infercost-Tags: {"team":"blue"}' \
    "$G/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}'
n_calls=$((n_calls + 1))
eq "chat status" "$(head -n1 "$T/h" | tr -d '\r' | cut -d' ' -f2)" 200
hc=$(grep -i '^X-Infercost-Cost:' "$T/h" | tr -d '\r' | cut -d' ' -f2)
want=$(echo "{\"provider\":\"openai\",\"api_flavor\":\"chat\",\"response\":$(cat "$T/b")}" | "$IC" cost | jq -r .total_usd)
eq "cost header = infercost cost" "$hc" "$want"
check "provider request id passed on" grep -qi '^x-request-id: req_mock_' "$T/h"
absent "provider organization not passed on" "org-mock-private" "$T/h"
check "cost non-zero" [ -n "$hc" ] && check "cost not 0" [ "$hc" != 0 ]
eq "default max_tokens injected (mock honours it)" "$(jq -r .choices[0].finish_reason "$T/b")" stop

# chat streamed, client did not ask for usage: no usage anywhere, still metered
curl -sN "${J[@]}" "$G/v1/chat/completions" -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' >"$T/s1"
n_calls=$((n_calls + 1))
eq "stream 1: no usage shown" "$(grep -c usage "$T/s1")" 0
eq "stream 1: content chunks" "$(grep -c '"content":' "$T/s1")" 25
eq "stream 1: DONE" "$(grep -c '^data: \[DONE\]' "$T/s1")" 1
check "stream 1: cost comment" grep -q '^: infercost-cost-usd=0\.0' "$T/s1"
# streamed, client asked: the usage chunk passes
curl -sN "${J[@]}" "$G/v1/chat/completions" -d '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}' >"$T/s2"
n_calls=$((n_calls + 1))
eq "stream 2: usage chunk kept" "$(grep -c '"choices":\[\],"usage":{' "$T/s2")" 1
c1=$(sed -n 's/^: infercost-cost-usd=//p' "$T/s1"); c2=$(sed -n 's/^: infercost-cost-usd=//p' "$T/s2")
eq "same stream, same cost" "$c1" "$c2"
tr=$(grep -v '^: infercost' "$T/s2" | jq -Rs .)
eq "stream cost = infercost cost on the transcript" "$c2" "$(echo "{\"provider\":\"openai\",\"api_flavor\":\"chat\",\"stream\":$tr}" | "$IC" cost | jq -r .total_usd)"

# responses, both ways
curl -s -D "$T/h" -o "$T/b" "${J[@]}" "$G/v1/responses" -d '{"model":"o4-mini","input":"hi","max_output_tokens":60}'
n_calls=$((n_calls + 1))
hc=$(grep -i '^X-Infercost-Cost:' "$T/h" | tr -d '\r' | cut -d' ' -f2)
want=$(echo "{\"provider\":\"openai\",\"api_flavor\":\"responses\",\"response\":$(cat "$T/b")}" | "$IC" cost | jq -r .total_usd)
eq "responses cost header" "$hc" "$want"
curl -sN "${J[@]}" "$G/v1/responses" -d '{"model":"gpt-4o","input":"hi","stream":true}' >"$T/s3"
n_calls=$((n_calls + 1))
eq "responses stream completed" "$(grep -c '^event: response.completed' "$T/s3")" 1
check "responses stream cost" grep -q '^: infercost-cost-usd=0\.0' "$T/s3"

# embeddings
curl -s -D "$T/h" -o "$T/b" "${J[@]}" "$G/v1/embeddings" -d '{"model":"text-embedding-3-small","input":"some words to embed"}'
n_calls=$((n_calls + 1))
eq "embeddings vectors" "$(jq '.data | length' "$T/b")" 1
check "embeddings cost header" grep -qi '^X-Infercost-Cost: 0\.0' "$T/h"

# anthropic messages, both ways (x-api-key from the client is not forwarded either)
curl -s -D "$T/h" -o "$T/b" -H "x-api-key: $CK" -H "anthropic-version: 2023-06-01" "$G/v1/messages" \
    -d '{"model":"claude-sonnet-4-5","max_tokens":30,"messages":[{"role":"user","content":"hi"}]}'
n_calls=$((n_calls + 1))
hc=$(grep -i '^X-Infercost-Cost:' "$T/h" | tr -d '\r' | cut -d' ' -f2)
want=$(echo "{\"provider\":\"anthropic\",\"response\":$(cat "$T/b")}" | "$IC" cost | jq -r .total_usd)
eq "messages cost header" "$hc" "$want"
curl -sN -H "x-api-key: $CK" "$G/v1/messages" -d '{"model":"claude-3-5-haiku-latest","max_tokens":7,"stream":true,"messages":[{"role":"user","content":"hi"}]}' >"$T/s4"
n_calls=$((n_calls + 1))
eq "messages stream deltas" "$(grep -c '^event: content_block_delta' "$T/s4")" 7
check "messages stream cost" grep -q '^: infercost-cost-usd=0\.0' "$T/s4"
# no max_tokens on /v1/messages: the gateway's default bound is sent (Anthropic requires one)
code=$(curl -s -o "$T/b" -w '%{http_code}' "$G/v1/messages" -d '{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}')
n_calls=$((n_calls + 1))
eq "messages without max_tokens is bounded, not refused" "$code" 200

# models list passes through
eq "models" "$(curl -s "$G/v1/models" | jq '.data | length > 3')" true

# errors in each API's shape, not forwarded
code=$(curl -s -o "$T/b" -w '%{http_code}' "$G/v1/chat/completions" -d '{"model":')
eq "bad json 400" "$code" 400
eq "openai error shape" "$(jq -r .error.type "$T/b")" invalid_request_error
code=$(curl -s -o "$T/b" -w '%{http_code}' "$G/v1/messages" -d '{"max_tokens":3}')
eq "no model 400" "$code" 400
eq "anthropic error shape" "$(jq -r .type "$T/b")" error
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/v1/nothing")
eq "unknown path 404" "$code" 404
code=$(curl -s -o "$T/b" -w '%{http_code}' "$G/v1/chat/completions" -d '{"model":"gpt-4o","max_tokens":-5,"messages":[]}')
eq "bad max_tokens 400" "$code" 400

# health and metrics
eq "healthz" "$(curl -s "$G/healthz" | jq -r .status)" ok
curl -s "$G/metrics" >"$T/metrics"
check "metrics 2xx count" grep -q "^infercost_requests_total{code=\"2xx\"} $((n_calls + 1))\$" "$T/metrics"
check "metrics cost" grep -q '^infercost_cost_usd_total 0\.' "$T/metrics"
check "metrics histogram" grep -q '^infercost_upstream_latency_seconds_count' "$T/metrics"
check "metrics streams" grep -q '^infercost_streams_total 4$' "$T/metrics"

# graceful stop flushes the spool; every call is one priced event
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean exit (no leak, no error)" "$?" 0
eq "events = calls" "$(wc -l <"$T/spool.jsonl")" "$n_calls"
"$IC" cost "$T/spool.jsonl" >"$T/priced" 2>"$T/cerr"
eq "spool prices cleanly" "$?" 0
eq "priced lines" "$(grep -c total_usd "$T/priced")" "$n_calls"
# the ledger loads the spool as it is (ingest is idempotent by id)
"$IC" ingest --ledger "$T/ledger.db" --quiet "$T/spool.jsonl" 2>"$T/ierr"
eq "infercost ingest takes every event" "$?" 0
"$IC" ingest --ledger "$T/ledger.db" "$T/spool.jsonl" >"$T/iout" 2>&1
check "ingest again: nothing new" grep -q "0 new, $n_calls already" "$T/iout"
first=$(head -n1 "$T/spool.jsonl")
eq "tags: customer" "$(echo "$first" | jq -r .customer)" acme
eq "tags: feature" "$(echo "$first" | jq -r .feature)" search
eq "tags: task" "$(echo "$first" | jq -r .task)" t1
eq "tags: object" "$(echo "$first" | jq -r .tags.team)" blue
eq "event status" "$(echo "$first" | jq -r .status)" 200
eq "unique ids" "$(jq -r .id "$T/spool.jsonl" | sort -u | wc -l)" "$n_calls"
# no secret anywhere
for f in "$T/spool.jsonl" "$T/access.log" "$T/gw.out" "$T/gw.err" "$T/metrics"; do
    absent "no provider key in $(basename "$f")" "$IC_TEST_PROVIDER_KEY" "$f"
    absent "no client key in $(basename "$f")" "$CK" "$f"
done
eq "access log lines" "$(grep -c '"path":"/v1/' "$T/access.log")" "$((n_calls + 5))"

# config validation: clear message naming file and field, exit 2
bad_cfg() { # label, json, expected message part
    echo "$2" >"$T/bad.json"
    "$IC" serve --config "$T/bad.json" --check >/dev/null 2>"$T/err"; local rc=$?
    eq "$1: exit" "$rc" 2
    if grep -q "bad.json: .*$3" "$T/err"; then ok; else bad "$1: message: $(cat "$T/err")"; fi
}
U="\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://127.0.0.1:1/v1\",\"api_key_env\":\"IC_TEST_PROVIDER_KEY\"}]"
bad_cfg "key in file" "{\"spool\":\"x\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://x/v1\",\"api_key\":\"sk-1\"}]}" "upstreams\[0\].api_key: provider keys are not accepted"
bad_cfg "unknown field" "{\"spool\":\"x\",\"cahce\":{},$U}" "cahce: unknown field"
bad_cfg "missing env" "{\"spool\":\"x\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://x/v1\",\"api_key_env\":\"IC_NOT_SET_ANYWHERE\"}]}" "IC_NOT_SET_ANYWHERE is not set"
bad_cfg "bad regex" "{\"spool\":\"x\",$U,\"routes\":[{\"match\":{\"regex\":\"(\"},\"targets\":[{\"upstream\":\"a\"}]}]}" "routes\[0\].match.regex"
bad_cfg "unknown upstream" "{\"spool\":\"x\",$U,\"routes\":[{\"targets\":[{\"upstream\":\"b\"}]}]}" "routes\[0\].targets\[0\].upstream: no upstream named 'b'"
bad_cfg "plain key" "{\"spool\":\"x\",$U,\"keys\":[{\"id\":\"k\",\"key\":\"secret\"}]}" "keys\[0\].key: virtual keys are stored hashed"
bad_cfg "syntax" "{\"spool\":\"x\",
  $U,,}" "line 2"
bad_cfg "budget" "{\"spool\":\"x\",$U,\"keys\":[{\"id\":\"k\",\"sha256\":\"$(printf '%064d' 0)\",\"budget_usd_day\":\"ten\"}]}" "keys\[0\].budget_usd_day"
"$IC" serve --config "$T/gw.json" --check >"$T/out" 2>&1
eq "good config checks" "$?" 0

# the forwarded body: when the gateway only adds the output bound, the client's bytes go out with
# that key spliced in (no re-serialization); duplicate keys, lenient JSON and an added
# stream_options take the parsed body instead. default_max_tokens 5: the mock stops at 5 tokens,
# so every case shows the bound reached the provider in a body it could parse.
cat >"$T/gw5.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool5.jsonl","default_max_tokens":5,"max_retries":0,
 "upstreams":[
  {"name":"oa","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"an","provider":"anthropic","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"dead","provider":"openai","base_url":"http://127.0.0.1:1/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[{"name":"dead","match":{"model":"dead-*"},"targets":[{"upstream":"dead","model":"gpt-4o"}]}]}
JSON
start_gw "$T/gw5.json" || { finish; exit 1; }
G5="http://127.0.0.1:$GW_PORT"
out5() { curl -s "${J[@]}" "$G5$1" -d "$2" | jq -r "$3"; }
eq "splice: odd spacing, escapes, braces in strings" \
    "$(out5 /v1/chat/completions $' \n {"messages" : [ {"role":"user","content":"h\\u00e9llo {\\"k\\": [1]}"} ] ,\t"model":"gpt-4o-mini" } ' '.usage.completion_tokens,.choices[0].finish_reason' | tr '\n' ' ')" "5 length "
eq "splice: anthropic max_tokens" "$(out5 /v1/messages '{"model":"claude-3-5-haiku-latest","messages":[{"role":"user","content":"hi"}]}' .usage.output_tokens)" 5
eq "splice: responses max_output_tokens" "$(out5 /v1/responses '{"model":"gpt-4o-mini","input":"hi"}' .usage.output_tokens)" 5
eq "client's own bound kept" "$(out5 /v1/chat/completions '{"model":"gpt-4o-mini","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}' .usage.completion_tokens)" 3
eq "duplicate keys: parsed body sent" "$(out5 /v1/chat/completions '{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' .usage.completion_tokens,.model | tr '\n' ' ')" "5 gpt-4o-mini "
code=$(curl -s -o "$T/b5" -w '%{http_code}' "${J[@]}" "$G5/v1/chat/completions" -d "{'model':'gpt-4o-mini','messages':[{'role':'user','content':'hi'}]}")
if [ "$code" = 200 ]; then eq "lenient JSON: parsed body sent" "$(jq -r .usage.completion_tokens "$T/b5")" 5
else eq "lenient JSON refused" "$code" 400; fi
curl -s -D "$T/h5" -o /dev/null "${J[@]}" "$G5/v1/chat/completions" -d '{"model":"dead-x","messages":[{"role":"user","content":"hi"}]}'
eq "upstream down: 502" "$(head -n1 "$T/h5" | tr -d '\r' | cut -d' ' -f2)" 502
eq "502: one request id, one Date" "$(grep -ci '^x-infercost-request-id:' "$T/h5") $(grep -ci '^date:' "$T/h5")" "1 1"
curl -s -D "$T/h5" -o /dev/null "${J[@]}" "$G5/v1/chat/completions" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
eq "200: one request id, one Date" "$(grep -ci '^x-infercost-request-id:' "$T/h5") $(grep -ci '^date:' "$T/h5")" "1 1"
check "Date is an HTTP date" grep -Eq '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT' "$T/h5"
eq "stream_options added: parsed body sent" "$(curl -sN "${J[@]}" "$G5/v1/chat/completions" -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' | grep -c '"delta":{"content"')" 5
kill -TERM "$GW_PID"; wait "$GW_PID"

# stream events go out as they come: seven streams on one kept-alive connection (past TCP's
# quick-ack start), a mock event every 10 ms. With Nagle on (sockets without TCP_NODELAY, as
# before the fix) an event written while the previous one waited for the peer's delayed ACK was
# held up to 40 ms and went out with the next: 13 of 168 gaps under 3 ms; now none. A few are
# allowed for a loaded machine's scheduling.
kill "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null
start_mock slow --chunk-delay-ms 10 || { finish; exit 1; }
sed -i "s/127.0.0.1:[0-9]*\/v1/127.0.0.1:$MOCK_PORT\/v1/" "$T/gw.json"
start_gw "$T/gw.json" || { finish; exit 1; }
cat >"$T/gaps.mjs" <<'JS'
import net from 'node:net';
const port = Number(process.argv[2]), n = Number(process.argv[3]);
const body = '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"tick"}]}';
const req = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-fake-client\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const s = net.connect(port, '127.0.0.1');
let k = 0, buf = '', times = [], clumps = 0, events = 0;
const timer = setTimeout(() => { console.log('timeout'); process.exit(1); }, 20000);
s.on('connect', () => s.write(req));
s.on('data', (d) => {
  const t = performance.now(), txt = d.toString();
  for (let i = txt.split('data: ').length - 1; i > 0; i--) times.push(t);
  buf += txt;
  if (!buf.includes('\r\n0\r\n\r\n')) return;
  if (k > 0) { for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < 3) clumps++; events += times.length; }
  k++; buf = ''; times = [];
  if (k < n) s.write(req); else { console.log(`${clumps} ${events}`); clearTimeout(timer); s.end(); }
});
JS
read -r clumps nev < <(node "$T/gaps.mjs" "$GW_PORT" 7)
eq "six streams' events arrived" "$nev" 168
check "stream events not clumped ($clumps of 168 gaps under 3 ms)" [ "${clumps:-99}" -le 4 ]
finish
