#!/usr/bin/env bash
# gateway_mock.sh: `infercost mock-provider` end to end with curl: every endpoint, streaming and
# not, both formats, auth, prompt-cache hits, reasoning tokens, max_tokens caps, injected errors;
# and its usage blocks priced by `infercost cost` (so they are what real providers send).
. "$(dirname "$0")/gateway_common.bash"
export FAKE_MOCK_KEY="sk-fake-test-000"
start_mock m --expect-key-env FAKE_MOCK_KEY || { finish; exit 1; }
U="http://127.0.0.1:$MOCK_PORT"
A=(-H "Authorization: Bearer $FAKE_MOCK_KEY" -H "Content-Type: application/json")

# models
r=$(curl -s "${A[@]}" "$U/v1/models")
eq "models list" "$(echo "$r" | jq -r '.data | map(.id) | index("gpt-4o") != null')" true

# auth
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$U/v1/models")
eq "wrong key is 401" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/models")
eq "no key is 401" "$code" 401

# chat, reasoning model, capped
r=$(curl -s "${A[@]}" "$U/v1/chat/completions" -d '{"model":"o4-mini","max_completion_tokens":40,"messages":[{"role":"user","content":"hello"}]}')
eq "chat reasoning tokens" "$(echo "$r" | jq '.usage.completion_tokens_details.reasoning_tokens')" 16
eq "chat completion tokens capped" "$(echo "$r" | jq '.usage.completion_tokens')" 40
eq "chat finish length" "$(echo "$r" | jq -r '.choices[0].finish_reason')" length
cost=$(echo "{\"provider\":\"openai\",\"api_flavor\":\"chat\",\"response\":$r}" | "$IC" cost | jq -r '.total_usd')
check "chat response prices" [ -n "$cost" ] && check "chat price non-zero" [ "$cost" != 0 ] && check "chat price not null" [ "$cost" != null ]

# prompt caching: a long prompt seen twice reads from cache in 128-token steps
long=$(head -c 6000 /dev/zero | tr '\0' 'a')
body="{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"$long\"},{\"role\":\"user\",\"content\":\"q\"}]}"
r1=$(curl -s "${A[@]}" "$U/v1/chat/completions" -d "$body")
r2=$(curl -s "${A[@]}" "$U/v1/chat/completions" -d "$body")
eq "first call: nothing cached" "$(echo "$r1" | jq '.usage.prompt_tokens_details.cached_tokens')" 0
c2=$(echo "$r2" | jq '.usage.prompt_tokens_details.cached_tokens')
p2=$(echo "$r2" | jq '.usage.prompt_tokens')
check "second call: cached in 128 steps" [ $((c2 % 128)) = 0 ] && check "cached > 1024 <= prompt" [ "$c2" -ge 1024 ] && check "cached <= prompt" [ "$c2" -le "$p2" ]
line=$(echo "{\"provider\":\"openai\",\"api_flavor\":\"chat\",\"response\":$r2}" | "$IC" cost)
eq "cached tokens priced at the cache rate" "$(echo "$line" | jq -r '.items | map(.unit) | index("cache_read_tokens") != null')" true

# chat streaming with include_usage: usage chunk before [DONE]
s=$(curl -sN "${A[@]}" "$U/v1/chat/completions" -d '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}')
eq "stream ends with DONE" "$(echo "$s" | grep -c '^data: \[DONE\]')" 1
eq "stream usage chunk" "$(echo "$s" | grep '"choices":\[\]' | sed 's/^data: //' | jq '.usage.completion_tokens')" 24
s2=$(curl -sN "${A[@]}" "$U/v1/chat/completions" -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}')
eq "no usage chunk unless asked" "$(echo "$s2" | grep -c '"usage"')" 0
tr=$(jq -Rs . <<<"$s")
eq "stream transcript prices" "$(echo "{\"provider\":\"openai\",\"api_flavor\":\"chat\",\"stream\":$tr}" | "$IC" cost | jq -r '.usage.output_tokens')" 24

# responses, streaming and not
r=$(curl -s "${A[@]}" "$U/v1/responses" -d '{"model":"gpt-5-mini","input":"hello","max_output_tokens":100}')
eq "responses usage reasoning" "$(echo "$r" | jq '.usage.output_tokens_details.reasoning_tokens')" 48
s=$(curl -sN "${A[@]}" "$U/v1/responses" -d '{"model":"gpt-4o","input":[{"role":"user","content":"hello"}],"stream":true}')
eq "responses stream completed" "$(echo "$s" | grep -c '^event: response.completed')" 1
tr=$(jq -Rs . <<<"$s")
eq "responses stream prices" "$(echo "{\"provider\":\"openai\",\"api_flavor\":\"responses\",\"stream\":$tr}" | "$IC" cost | jq -r '.usage.output_tokens')" 24

# embeddings
r=$(curl -s "${A[@]}" "$U/v1/embeddings" -d '{"model":"text-embedding-3-small","input":["one two","three"],"dimensions":8}')
eq "embeddings count" "$(echo "$r" | jq '.data | length')" 2
eq "embedding dims" "$(echo "$r" | jq '.data[0].embedding | length')" 8
eq "embedding usage" "$(echo "$r" | jq '.usage.prompt_tokens == .usage.total_tokens')" true

# anthropic: max_tokens required, cache_control write then read, streaming
code=$(curl -s -o "$T/a" -w '%{http_code}' -H "x-api-key: $FAKE_MOCK_KEY" "$U/v1/messages" -d '{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}')
eq "anthropic needs max_tokens" "$code" 400
eq "anthropic error shape" "$(jq -r '.type + "/" + .error.type' "$T/a")" error/invalid_request_error
body="{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":50,\"system\":[{\"type\":\"text\",\"text\":\"$long\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}"
r1=$(curl -s -H "x-api-key: $FAKE_MOCK_KEY" "$U/v1/messages" -d "$body")
r2=$(curl -s -H "x-api-key: $FAKE_MOCK_KEY" "$U/v1/messages" -d "$body")
eq "anthropic cache write" "$(echo "$r1" | jq '.usage.cache_creation_input_tokens')" 1500
eq "anthropic cache read" "$(echo "$r2" | jq '.usage.cache_read_input_tokens')" 1500
line=$(echo "{\"provider\":\"anthropic\",\"response\":$r2}" | "$IC" cost)
eq "anthropic input total includes cache" "$(echo "$line" | jq '.usage.input_tokens')" $(( $(echo "$r2" | jq '.usage.input_tokens') + 1500 ))
s=$(curl -sN -H "x-api-key: $FAKE_MOCK_KEY" "$U/v1/messages" -d '{"model":"claude-3-5-haiku-latest","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}')
eq "anthropic stream deltas" "$(echo "$s" | grep -c '^event: content_block_delta')" 5
eq "anthropic stream stop" "$(echo "$s" | grep -c '"stop_reason":"max_tokens"')" 1
tr=$(jq -Rs . <<<"$s")
eq "anthropic stream prices" "$(echo "{\"provider\":\"anthropic\",\"stream\":$tr}" | "$IC" cost | jq -r '.usage.output_tokens')" 5

kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null
# errors, latency
start_mock e --no-auth --error-rate 1 --error-status 429 --latency-ms 150 || { finish; exit 1; }
t0=$(date +%s%N)
code=$(curl -s -o "$T/e" -w '%{http_code}' "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}')
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "injected 429" "$code" 429
eq "openai error shape" "$(jq -r .error.type "$T/e")" rate_limit_exceeded
check "latency applied (${ms} ms)" [ "$ms" -ge 140 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MOCK_PORT/v1/chat/completions" -d 'not json')
eq "error rate applies before parsing" "$code" 429
# bad options
"$IC" mock-provider --error-rate 2 >/dev/null 2>"$T/err"; rc=$?
eq "bad --error-rate exit" "$rc" 2
check "bad --error-rate message" grep -q "error-rate" "$T/err"
finish
