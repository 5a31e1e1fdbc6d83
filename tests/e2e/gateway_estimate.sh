#!/usr/bin/env bash
# gateway_estimate.sh: calls whose provider did not report usage are recorded with the gateway's
# estimate, never as $0. (1) An upstream that leaves usage out (the mock with --no-usage): a
# stream and a plain answer are spooled with the prompt counted exactly as `infercost estimate`
# counts it and the output as `infercost count` counts the answer's text; the client is told the
# estimate (stream comment, header), the exact-cost metric stays exact. (2) Streams the client
# leaves: Anthropic's reported input is kept and the output counted from the text received; an
# OpenAI Responses stream's prompt is counted from its instructions and input. (3) Not
# estimated: a stream cut after its last usage came, a call waiting to retry at shutdown; a call
# lost after it was sent gets its prompt's estimate. The access log keeps estimates apart.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-estimate"
start_mock m --no-usage --output-tokens 30 || { finish; exit 1; }
NOUSAGE=$MOCK_PORT
start_mock slow --chunk-delay-ms 50 || { finish; exit 1; }
SLOW=$MOCK_PORT
# a stand-in upstream, by what the request says: "fail500" -> a 500; "lose" -> the connection
# dropped once the request is read (no answer: a call lost after it was sent); else an Anthropic
# stream whose last usage (message_delta) comes, then the connection drops before message_stop
node -e '
const http = require("node:http");
const ev = (t, o) => "event: " + t + "\ndata: " + JSON.stringify(o) + "\n\n";
http.createServer((req, res) => {
  let body = "";
  req.on("data", d => body += d);
  req.on("end", () => {
    if (body.includes("fail500")) {
      res.writeHead(500, {"Content-Type": "application/json"});
      return res.end("{\"error\":{\"message\":\"down\",\"type\":\"server_error\"}}");
    }
    if (body.includes("lose")) return req.socket.destroy();
    res.writeHead(200, {"Content-Type": "text/event-stream"});
    res.write(ev("message_start", {type: "message_start", message: {id: "m", type: "message",
      role: "assistant", model: "claude-sonnet-4-5", content: [],
      usage: {input_tokens: 25, output_tokens: 1}}}));
    for (const t of ["The quick brown fox ", "jumps over ", "the lazy dog."])
      res.write(ev("content_block_delta", {type: "content_block_delta", index: 0,
        delta: {type: "text_delta", text: t.repeat(30)}}));
    res.write(ev("message_delta", {type: "message_delta", delta: {stop_reason: "end_turn"},
      usage: {output_tokens: 400}}));
    setTimeout(() => res.socket.destroy(), 100);
  });
}).listen(0, "127.0.0.1", function () { console.log("listening on http://127.0.0.1:" + this.address().port); });' >"$T/stand.out" 2>&1 &
PIDS+=($!)
STAND=$(wait_port "$T/stand.out" "${PIDS[-1]}") || { finish; exit 1; }
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","access_log":"$T/access.log","max_retries":0,
 "upstreams":[{"name":"nousage","provider":"openai","base_url":"http://127.0.0.1:$NOUSAGE/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"stand","provider":"anthropic","base_url":"http://127.0.0.1:$STAND/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"standoa","provider":"openai","base_url":"http://127.0.0.1:$STAND/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"slow","provider":"openai","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"anth","provider":"anthropic","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[{"match":{"model":"claude-stand"},"targets":[{"upstream":"stand","model":"claude-sonnet-4-5"}]},
           {"match":{"model":"lost-*"},"targets":[{"upstream":"standoa","model":"gpt-4o"}]},
           {"match":{"model":"claude-*"},"targets":[{"upstream":"anth"}]},
           {"match":{"model":"slow-*"},"targets":[{"upstream":"slow","model":"gpt-4o"}]}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1"
nth() { sed -n "${1}p" "$T/spool.jsonl"; } # spool line n

# (1) no usage from the provider, streamed
REQ='{"model":"gpt-4o","stream":true,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What do tokens cost?"}]}'
curl -s -N "$G/chat/completions" -d "$REQ" >"$T/s1"
eq "stream: the answer arrived whole" "$(grep -c '^data: \[DONE\]' "$T/s1")" 1
eq "stream: the exact cost is unknown" "$(grep -c '^: infercost-cost-usd=unknown$' "$T/s1")" 1
est=$(sed -n 's/^: infercost-cost-estimate-usd=//p' "$T/s1")
check "stream: the estimate is told ($est)" [ -n "$est" ]
sleep 0.2
eq "stream: marked incomplete" "$(nth 1 | jq -r .tags.usage_incomplete)" true
eq "stream: the prompt counted as estimate counts it" "$(nth 1 | jq .usage.input_tokens)" \
    "$(echo "$REQ" | "$IC" estimate --json - | jq .prompt_tokens)"
eq "stream: the output counted as count counts its text" "$(nth 1 | jq .usage.output_tokens)" \
    "$(text_of "$T/s1" | "$IC" count --model gpt-4o | jq .tokens)"
eq "stream: the spool prices to the estimate told" "$(nth 1 | "$IC" cost | jq -r .total_usd)" "$est"

# ... and not streamed
REQ2='{"model":"gpt-4o","messages":[{"role":"user","content":"And per image?"}]}'
curl -s -D "$T/h2" -o "$T/b2" "$G/chat/completions" -d "$REQ2"
eq "answer: no exact cost header" "$(grep -ci '^X-Infercost-Cost:' "$T/h2")" 0
est2=$(sed -n 's/^X-Infercost-Cost-Estimate: \([0-9.]*\).*/\1/Ip' "$T/h2")
check "answer: the estimate header ($est2)" [ -n "$est2" ]
check "answer: the reason header" grep -qi '^X-Infercost-Cost-Error: usage not reported' "$T/h2"
sleep 0.2
eq "answer: the prompt counted" "$(nth 2 | jq .usage.input_tokens)" \
    "$(echo "$REQ2" | "$IC" estimate --json - | jq .prompt_tokens)"
eq "answer: the output counted" "$(nth 2 | jq .usage.output_tokens)" \
    "$(jq -j .choices[0].message.content "$T/b2" | "$IC" count --model gpt-4o | jq .tokens)"
eq "answer: the spool prices to the estimate told" "$(nth 2 | "$IC" cost | jq -r .total_usd)" "$est2"
M=$(curl -s "http://127.0.0.1:$GW_PORT/metrics")
eq "metrics: two estimated calls" "$(echo "$M" | sed -n 's/^infercost_estimated_calls_total //p')" 2
eq "metrics: their cost apart" "$(echo "$M" | sed -n 's/^infercost_estimated_cost_usd_total //p')" \
    "$(printf '%s\n' "$(nth 1)" "$(nth 2)" | "$IC" cost --summary | sed -n 's/^total spend: *\$//p')"
eq "metrics: the exact cost stays exact" "$(echo "$M" | sed -n 's/^infercost_cost_usd_total //p')" 0
eq "metrics: estimated tokens are not metered ones" \
    "$(echo "$M" | sed -n 's/^infercost_tokens_total{kind="input"} //p')" 0

# (2) a client leaves an Anthropic stream: message_start's input stays, the output is counted
AREQ='{"model":"claude-sonnet-4-5","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"Tell me more"}]}'
curl -s -N --max-time 0.4 "$G/messages" -d "$AREQ" >"$T/a1"
wait_metric '^infercost_client_aborts_total 1$'
sleep 0.2
eq "anthropic cut: the reported input kept" "$(nth 3 | jq .usage.input_tokens)" \
    "$(grep -o '"input_tokens":[0-9]*' "$T/a1" | head -n 1 | cut -d: -f2)"
got=$(text_of "$T/a1" | "$IC" count --model claude-sonnet-4-5 | jq .tokens)
out=$(nth 3 | jq .usage.output_tokens)
check "anthropic cut: text received ($got tokens)" [ "$got" -gt 1 ]
check "anthropic cut: output counted from it ($out), not message_start's placeholder" [ "$out" -ge "$got" ]

# ... and an OpenAI Responses stream: its prompt counted from its instructions and input
RREQ='{"model":"slow-r","stream":true,"instructions":"Be brief.","input":"Tell me about costs"}'
curl -s -N --max-time 0.4 "$G/responses" -d "$RREQ" >"$T/r1"
wait_metric '^infercost_client_aborts_total 2$'
sleep 0.2
eq "responses cut: the prompt counted" "$(nth 4 | jq .usage.input_tokens)" \
    "$(printf 'Be brief.\nTell me about costs' | "$IC" count --model gpt-4o | jq .tokens)"
check "responses cut: the output counted" [ "$(nth 4 | jq .usage.output_tokens)" -ge \
    "$(text_of "$T/r1" | "$IC" count --model gpt-4o | jq .tokens)" ]
check "cost --summary tells the estimates apart" grep -q '^of which estimated: .* (4 calls whose' \
    <("$IC" cost --summary "$T/spool.jsonl")
eq "access log: the estimate apart from exact costs" \
    "$(jq -r 'select(.id) | [(.cost_usd // "-"), (.cost_estimate_usd // "-")] | join(" ")' "$T/access.log" | head -n 2 | tr '\n' ' ')" \
    "- $est - $est2 "

# a stream cut after its last usage came (Anthropic's message_delta): that usage is the call's,
# priced exactly, not an estimate
curl -s -N "$G/messages" -d '{"model":"claude-stand","max_tokens":500,"stream":true,"messages":[{"role":"user","content":"fox"}]}' >/dev/null
sleep 0.3
eq "cut after the last usage: the reported usage" "$(nth 5 | jq -c .usage)" \
    '{"input_tokens":25,"output_tokens":400}'
eq "... not marked incomplete" "$(nth 5 | jq -r '.tags.usage_incomplete // "no"')" no
check "... counted as exact" grep -q '^infercost_estimated_calls_total 4$' <(curl -s "http://127.0.0.1:$GW_PORT/metrics")

# a call lost after it was sent: a 502, with the estimate of its prompt (a floor)
LREQ='{"model":"lost-a","messages":[{"role":"user","content":"lose this one"}]}'
curl -s -D "$T/h6" -o "$T/b6" "$G/chat/completions" -d "$LREQ"
check "lost: 502" grep -q '^HTTP/1.1 502' "$T/h6"
sleep 0.2
eq "lost: its prompt counted" "$(nth 6 | jq .usage.input_tokens)" \
    "$(echo "$LREQ" | "$IC" estimate --model gpt-4o --json - | jq .prompt_tokens)"
eq "lost: the client is told the estimate" "$(sed -n 's/^X-Infercost-Cost-Estimate: \([0-9.]*\).*/\1/Ip' "$T/h6")" \
    "$(nth 6 | "$IC" cost | jq -r .total_usd)"
kill -TERM "$GW_PID"; wait "$GW_PID"

# shutdown: a call waiting to retry after a 500 was not billed: no estimate for it
sed -i 's/"max_retries":0/"max_retries":2,"backoff_ms":5000,"drain_timeout_ms":300/' "$T/gw.json"
: >"$T/spool.jsonl"
start_gw "$T/gw.json" || { finish; exit 1; }
curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/v1/chat/completions" \
    -d '{"model":"lost-b","messages":[{"role":"user","content":"fail500 and a long prompt"}]}' &
CP=$!
wait_inflight 1
sleep 0.3
kill -TERM "$GW_PID"; wait "$GW_PID"
wait "$CP"
eq "shutdown during a retry's wait: recorded, zero usage" "$(jq -c '[.status, .usage]' "$T/spool.jsonl")" \
    '["shutdown",{"input_tokens":0,"output_tokens":0}]'
finish
