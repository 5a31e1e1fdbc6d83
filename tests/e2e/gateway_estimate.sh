#!/usr/bin/env bash
# gateway_estimate.sh: calls whose provider did not report usage are recorded with the gateway's
# estimate, never as $0. (1) An upstream that leaves usage out (the mock with --no-usage): a
# stream and a plain answer are spooled with the prompt counted exactly as `infercost estimate`
# counts it and the output as `infercost count` counts the answer's text; the client is told the
# estimate (stream comment, header), the exact-cost metric stays exact. (2) Streams the client
# leaves: Anthropic's reported input is kept and the output counted from the text received; an
# OpenAI Responses stream's prompt is counted from its instructions and input.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-estimate"
start_mock m --no-usage --output-tokens 30 || { finish; exit 1; }
NOUSAGE=$MOCK_PORT
start_mock slow --chunk-delay-ms 50 || { finish; exit 1; }
SLOW=$MOCK_PORT
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl",
 "upstreams":[{"name":"nousage","provider":"openai","base_url":"http://127.0.0.1:$NOUSAGE/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"slow","provider":"openai","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
              {"name":"anth","provider":"anthropic","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[{"match":{"model":"claude-*"},"targets":[{"upstream":"anth"}]},
           {"match":{"model":"slow-*"},"targets":[{"upstream":"slow","model":"gpt-4o"}]}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1"
text_of() { grep -o '"\(content\|text\|delta\)":"[^"]*"' "$1" | sed 's/^"[a-z]*":"//; s/"$//' | tr -d '\n'; }
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
finish
