#!/usr/bin/env bash
# gateway_policy.sh: budgets, rate limits, virtual keys, the exact cache, routing rules, weights,
# model "auto", fallbacks on 5xx and on timeouts, with the real gateway and mock providers.
# Budgets are checked against the spool: what was spent never crosses the budget.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-policy"
start_mock good || { finish; exit 1; }; GOOD=$MOCK_PORT
start_mock bad --error-rate 1 --error-status 503 || { finish; exit 1; }; BAD=$MOCK_PORT
start_mock slow --latency-ms 3000 || { finish; exit 1; }; SLOW=$MOCK_PORT
start_mock lat --latency-ms 150 || { finish; exit 1; }; LAT=$MOCK_PORT
start_mock chunky --chunk-delay-ms 50 --output-tokens 400 || { finish; exit 1; }; CHUNKY=$MOCK_PORT
KA="ick-test-key-alpha-0000000001"; KB="ick-test-key-beta-00000000002"; KC="ick-test-key-gamma-0000000003"
KD="ick-test-key-delta-0000000004"; KE="ick-test-key-epsil-0000000005"; KZ="ick-test-key-zeta-00000000006"; KT="ick-test-key-eta-000000000007"; KF="ick-test-key-frozen-000000008"
HA=$(echo "$KA" | "$IC" serve --hash-key); HB=$(echo "$KB" | "$IC" serve --hash-key); HC=$(echo "$KC" | "$IC" serve --hash-key)
HD=$(echo "$KD" | "$IC" serve --hash-key); HE=$(echo "$KE" | "$IC" serve --hash-key); HZ=$(echo "$KZ" | "$IC" serve --hash-key); HT=$(echo "$KT" | "$IC" serve --hash-key); HF=$(echo "$KF" | "$IC" serve --hash-key)
cat >"$T/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool.jsonl","require_key":true,"backoff_ms":5,"max_retries":2,
 "cache":{"ttl_s":60},
 "upstreams":[
  {"name":"good","provider":"openai","base_url":"http://127.0.0.1:$GOOD/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"bad","provider":"openai","base_url":"http://127.0.0.1:$BAD/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"slow","provider":"openai","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY","timeout_ms":300},
  {"name":"lat","provider":"openai","base_url":"http://127.0.0.1:$LAT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"chunky","provider":"openai","base_url":"http://127.0.0.1:$CHUNKY/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"ant","provider":"anthropic","base_url":"http://127.0.0.1:$GOOD/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[
  {"name":"auto","match":{"model":"auto"},"tier":[{"upstream":"good","model":"gpt-4o"},{"upstream":"good","model":"gpt-4.1-nano"},{"upstream":"good","model":"gpt-4o-mini"}]},
  {"name":"fb","match":{"model":"fb-test"},"targets":[{"upstream":"bad","model":"gpt-4o"}],"fallbacks":[{"upstream":"good","model":"gpt-4o-mini"}]},
  {"name":"to","match":{"model":"timeout-test"},"targets":[{"upstream":"slow","model":"gpt-4o"}],"fallbacks":[{"upstream":"good","model":"gpt-4.1-mini"}]},
  {"name":"allbad","match":{"model":"allbad-test"},"targets":[{"upstream":"bad","model":"gpt-4o"}]},
  {"name":"lost","match":{"model":"lost-test"},"targets":[{"upstream":"slow","model":"gpt-4o"}]},
  {"name":"cut","match":{"model":"cut-test"},"targets":[{"upstream":"chunky","model":"gpt-4o-mini"}]},
  {"name":"redos","match":{"model":"gpt-4o","regex":"^(a+)+$"},"targets":[{"upstream":"good","model":"gpt-4.1-nano"}]},
  {"name":"refunds","match":{"model":"gpt-4o","keywords":["refund"]},"targets":[{"upstream":"good","model":"gpt-4.1"}]},
  {"name":"codes","match":{"model":"gpt-4o","regex":"ticket #[0-9]+"},"targets":[{"upstream":"good","model":"o4-mini"}]},
  {"name":"vip","match":{"model":"gpt-4o","customer":"vip"},"targets":[{"upstream":"good","model":"gpt-4.1-mini"}]},
  {"name":"small","match":{"model":"gpt-4o","max_prompt_bytes":120},"targets":[{"upstream":"good","model":"gpt-4o-mini"}]},
  {"name":"long","match":{"model":"gpt-4.1","min_prompt_tokens":700},"targets":[{"upstream":"good","model":"gpt-4.1-nano"}]},
  {"name":"embedlong","match":{"model":"text-embedding-3-small","min_prompt_tokens":300},"targets":[{"upstream":"good","model":"text-embedding-3-large"}]},
  {"name":"split","match":{"model":"split-*"},"targets":[{"upstream":"good","model":"gpt-4o","weight":3},{"upstream":"good","model":"gpt-4o-mini","weight":1}]},
  {"name":"budget","match":{"model":"budget-*"},"targets":[{"upstream":"lat","model":"gpt-4o"}]}],
 "keys":[
  {"id":"alpha","sha256":"$HA","customer":"acme","feature":"chat","budget_usd_day":"0.002"},
  {"id":"beta","sha256":"$HB","customer":"vip","rpm":3},
  {"id":"gamma","sha256":"$HC","budget_usd_month":"0.01"},
  {"id":"delta","sha256":"$HD","budget_usd_day":"0.005"},
  {"id":"epsilon","sha256":"$HE","budget_usd_day":"0.0022"},
  {"id":"zeta","sha256":"$HZ","budget_usd_day":"0.000175"},
  {"id":"eta","sha256":"$HT","tpm":1000},
  {"id":"frozen","sha256":"$HF","budget_usd_day":"0"}]}
JSON
start_gw "$T/gw.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
call() { # key, body -> writes $T/h, $T/b, echoes status
    curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $1" "$G" -d "$2"
}
hget() { grep -i "^$1:" "$T/h" | tr -d '\r' | cut -d' ' -f2; }
MSG='"messages":[{"role":"user","content":"hello"}]'

# keys
eq "no key" "$(curl -s -o "$T/b" -w '%{http_code}' "$G" -d "{\"model\":\"gpt-4o-mini\",$MSG}")" 401
eq "unknown key" "$(call "ick-unknown-key-000000000000" "{\"model\":\"gpt-4o-mini\",$MSG}")" 401
eq "unknown key message" "$(jq -r .error.message "$T/b")" "unknown virtual key"
# the model list is fetched with the provider's key: with require_key, keyed callers only
eq "models without a key" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW_PORT/v1/models")" 401
eq "models with a key" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KA" "http://127.0.0.1:$GW_PORT/v1/models")" 200

# budget: $0.002/day. Worst case per call: 8 prompt tokens (o200k, exact) x $2.5/M + 100 x $10/M
# = $0.00102; actual ~$0.0002625. 4 calls fit (0.00105 + 0.00102 <= 0.002); the 5th could
# cross, so it is refused. The spend recorded never exceeds the budget.
codes=""
for i in 1 2 3 4 5 6; do codes="$codes $(call "$KA" "{\"model\":\"budget-a\",\"max_tokens\":100,$MSG}")"; done
eq "budget: first calls pass, then 429" "$codes" " 200 200 200 200 429 429"
eq "budget error type" "$(jq -r .error.type "$T/b")" budget_exceeded
check "budget error names the key" grep -q "key 'alpha'" "$T/b"
# a tool with a nullable enum under a budgeted key: the prompt is counted for the budget, and
# the gateway stays up (a null enum value crashed the count, so the gateway, before 85a5ce4)
TOOL='"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"u":{"type":["string","null"],"enum":["c",null]}}}}}]'
eq "nullable enum, budgeted key" "$(call "$KD" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG,$TOOL}")" 200
eq "nullable enum: gateway alive" "$(curl -s "http://127.0.0.1:$GW_PORT/healthz" | jq -r .status)" ok
# both output bounds given: an upstream may read either, so the larger is reserved (50,000 x
# $0.6/M = $0.03, more than delta's whole $0.005: a 400, since no wait would admit it); the
# smaller alone would have passed
eq "both output bounds: the larger reserved" "$(call "$KD" "{\"model\":\"gpt-4o-mini\",\"max_completion_tokens\":5,\"max_tokens\":50000,$MSG}")" 400
check "... more than the whole budget, said so" grep -q "more than key 'delta''s whole daily budget of \$0.005" "$T/b"
check "... with no Retry-After" bash -c "! grep -qi '^retry-after' '$T/h'"
eq "both output bounds: the small one alone passes" "$(call "$KD" "{\"model\":\"gpt-4o-mini\",\"max_completion_tokens\":5,$MSG}")" 200
# concurrent: 12 calls at once (mock latency 150 ms) against gamma's $0.01 monthly budget
seq 1 12 | xargs -P 12 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $KC" "$G" \
    -d "{\"model\":\"budget-c\",\"max_tokens\":300,$MSG}" >"$T/par"
n200=$(grep -c 200 "$T/par"); n429=$(grep -c 429 "$T/par")
eq "concurrent: all answered" "$((n200 + n429))" 12
check "concurrent: some refused" [ "$n429" -gt 0 ]
check "concurrent: some served" [ "$n200" -gt 0 ]

# the prompt bound from the tokenizer: "hello" x 800 is 807 prompt tokens for gpt-4o (o200k,
# exact) but 4,861 body bytes. With max_tokens 10 the worst case is 807 x $2.5/M + 10 x $10/M =
# $0.0021175: inside delta's $0.005 (the byte bound, $0.01225, would have refused it) ...
HELLO=$(printf 'hello %.0s' $(seq 1 799))hello
BIG="{\"model\":\"budget-d\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"$HELLO\"}]}"
eq "exact prompt count admits what the byte bound refused" "$(call "$KD" "$BIG")" 200
# ... and more than alpha's whole $0.002
eq "exact prompt count still refuses over budget" "$(call "$KA" "$BIG")" 400
check "refusal prices the exact worst case" grep -q "0.0021175" "$T/b"
# fields the cookbook does not count are bounded by their bytes: response_format (217 bytes
# with its name) adds $0.0005425 and crosses epsilon's $0.0022; the same call without it passes
SCHEMA='"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object","properties":{"answer":{"type":"string","description":"the answer, in one short sentence please"}},"required":["answer"]}}}'
eq "uncounted fields bound by their bytes" "$(call "$KE" "${BIG%\}},$SCHEMA}")" 400
eq "without them: admitted" "$(call "$KE" "$BIG")" 200
# an image by URL costs prompt tokens its bytes do not bound: the bound is the model's context
# window (gpt-4o: 128,000 x $2.5/M + 10 x $10/M = $0.3201), so delta's $0.005 refuses it; with
# no context window in the catalog (o1-pro) nothing bounds it and a budgeted key cannot call
IMG='"messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]'
eq "image part: bounded by the context window" "$(call "$KD" "{\"model\":\"budget-d\",\"max_tokens\":10,$IMG}")" 400
check "... saying why the bound is so large" grep -q "the model's context window: the request has parts" "$T/b"
check "image part: priced as a full context window" grep -q '\$0.3201' "$T/b"
eq "image part, no context window: refused" "$(call "$KD" "{\"model\":\"o1-pro\",\"max_tokens\":10,$IMG}")" 400
check "image part, no context window: says why" grep -q "cannot bound the prompt" "$T/b"
# "n" choices each write up to max_tokens: n=2 doubles the output bound (8 x $2.5/M + 2 x 100 x
# $10/M = $0.00202, over what delta has left, about $0.0017); n=1 ($0.00102) still fits
eq "n=2: twice the output bound, refused" "$(call "$KD" "{\"model\":\"budget-d\",\"max_tokens\":100,\"n\":2,$MSG}")" 429
check "n=2: priced for both choices" grep -q '\$0.00202' "$T/b"
check "a budget's 429 has no Retry-After (the client cannot know when)" bash -c "! grep -qi '^retry-after' '$T/h'"
eq "a key with a \$0 budget (frozen): 429, not a 400 to lower max_tokens" "$(call "$KF" "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,$MSG}")" 429
eq "... as budget_exceeded" "$(jq -r .error.type "$T/b")" budget_exceeded
# an audio model's output may be audio, priced higher than text (gpt-audio: $64/M against $10/M):
# the worst case prices it so (epsilon, already spent, refuses and names the worst case)
eq "audio model: refused" "$(call "$KE" "{\"model\":\"gpt-audio\",\"max_tokens\":100,$MSG}")" 400
wa=$(jq -r .error.message "$T/b" | sed -n 's/.*could cost up to \$\([0-9.]*\).*/\1/p')
check "audio model: output priced as audio (worst \$$wa >= \$0.0064)" awk -v w="$wa" 'BEGIN { exit !(w >= 0.0064) }'
# content the provider adds, which the request's bytes do not bound: a previous response (the
# bound is the context window, as for an image: the short request is routed to gpt-4o-mini,
# 128,000 x $0.15/M + 10 x $0.6/M, over delta's budget) ...
GR="http://127.0.0.1:$GW_PORT/v1/responses" GM="http://127.0.0.1:$GW_PORT/v1/messages"
callto() { # url, key, body -> writes $T/b, echoes status
    curl -s -o "$T/b" -w '%{http_code}' -H "Authorization: Bearer $2" "$1" -d "$3"
}
worst() { jq -r .error.message "$T/b" | sed -n 's/.*could cost up to \$\([0-9.]*\).*/\1/p'; }
eq "previous_response_id: bounded by the context window" \
    "$(callto "$GR" "$KD" '{"model":"gpt-4o","max_output_tokens":10,"previous_response_id":"resp_1","input":"go on"}')" 400
eq "... priced so" "$(worst)" 0.019206
# ... tools the provider defines (web search: its results are prompt tokens, and each search
# is billed: claude-sonnet-4-5, 1,000,000 tokens as 1-hour cache writes at $12/M above 200,000,
# 10 output tokens at $22.5/M, 5 searches at $10 a thousand)
WS='"tools":[{"type":"web_search_20250305","name":"web_search"'
eq "web search without max_uses: 400" \
    "$(callto "$GM" "$KD" "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10,$WS}],$MSG}")" 400
check "... saying why" grep -q "cannot bound the web searches" "$T/b"
eq "web search with max_uses 5: refused" \
    "$(callto "$GM" "$KD" "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":10,$WS,\"max_uses\":5}],$MSG}")" 400
eq "... its worst case: the context window as 1-hour cache writes, the output, 5 searches" "$(worst)" 12.050225
# a plain message's input may be billed as 1-hour cache writes ($6/M, the dearest input kind):
# B bytes bound B tokens
body='{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}'
eq "a message: refused by epsilon" "$(callto "$GM" "$KE" "$body")" 429
eq "... its input priced as 1-hour cache writes" "$(worst)" \
    "$(awk -v b="${#body}" 'BEGIN { printf "%.6f", b * 6 / 1e6 + 10 * 15 / 1e6 }' | sed 's/0*$//; s/\.$//')"
# with tools, Anthropic adds a system prompt of its own: 530 tokens at most, added to the bound
body='{"model":"claude-sonnet-4-5","max_tokens":10,"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}'
eq "a message with tools: more than epsilon's whole budget" "$(callto "$GM" "$KE" "$body")" 400
eq "... its bound adds Anthropic's tool prompt" "$(worst)" \
    "$(awk -v b="${#body}" 'BEGIN { printf "%.6f", (b + 530) * 6 / 1e6 + 10 * 15 / 1e6 }' | sed 's/0*$//; s/\.$//')"
eq "n=1: admitted" "$(call "$KD" "{\"model\":\"budget-d\",\"max_tokens\":100,\"n\":1,$MSG}")" 200

# an attempt that times out after its request was sent may be billed: charged its worst case
# ($0.00007: 8 x $2.5/M + 5 x $10/M), and a retry needs a hold of its own; zeta's $0.000175
# holds two such attempts, so the third is not made, and the next call is refused
eq "timeouts after sending: the call fails" "$(call "$KZ" "{\"model\":\"lost-test\",\"max_tokens\":5,$MSG}")" 502
check "... not retried past the budget" grep -q "failed after 2 attempt(s).*not retried: budget" "$T/b"
eq "... both attempts charged: the next call is refused" "$(call "$KZ" "{\"model\":\"lost-test\",\"max_tokens\":5,$MSG}")" 429
check "... as having spent \$0.00014" grep -q 'has spent \$0.00014 of its' "$T/b"

# a stream the client leaves before its usage counts its whole token bound against the tokens
# per minute (8 + 500 of eta's 1,000): the third such stream in a minute is refused
while [ "$(date +%S | sed 's/^0//')" -gt 50 ]; do sleep 1; done
codes=""
for i in 1 2 3; do
    curl -s -N -o /dev/null --max-time 0.4 -H "Authorization: Bearer $KT" "$G" \
        -d "{\"model\":\"cut-test\",\"stream\":true,\"max_tokens\":500,$MSG}"
    sleep 0.2
done
eq "streams left before their usage: the tokens-per-minute limit reached" \
    "$(call "$KT" "{\"model\":\"cut-test\",\"max_tokens\":5,$MSG}")" 429
eq "... as a rate limit" "$(jq -r .error.type "$T/b")" rate_limit_exceeded

# rate limit: 3 requests per minute for beta
codes=""
for i in 1 2 3 4; do codes="$codes $(call "$KB" "{\"model\":\"gpt-4o-mini\",$MSG}")"; done
eq "rpm 3" "$codes" " 200 200 200 429"
eq "rate limit type" "$(jq -r .error.type "$T/b")" rate_limit_exceeded
ra=$(hget Retry-After)
check "a rate limit's Retry-After: the seconds to the minute's turn ($ra)" [ "${ra:-0}" -ge 1 ] && [ "${ra:-99}" -le 60 ]

# the spend recorded, from the spool, priced by `infercost cost`
kill -TERM "$GW_PID"; wait "$GW_PID" 2>/dev/null
cp "$T/spool.jsonl" "$T/spool1.jsonl"
spent() { # key id: exact sum of priced events (via infercost cost)
    jq -c "select(.key_id==\"$1\")" "$T/spool1.jsonl" | "$IC" cost | jq -r .total_usd |
        awk '{ split($1, p, "."); i += p[1]; f = f + ("0." p[2]) } END { printf "%.12f\n", i + f }'
}
sa=$(spent alpha); sc=$(spent gamma)
check "alpha spent $sa <= 0.002" awk -v s="$sa" 'BEGIN { exit !(s <= 0.002) }'
check "gamma spent $sc <= 0.01" awk -v s="$sc" 'BEGIN { exit !(s <= 0.01 && s > 0) }'
eq "alpha events" "$(jq -r 'select(.key_id=="alpha") | .customer' "$T/spool1.jsonl" | sort -u)" acme
eq "a call lost after sending: recorded as usage_incomplete, not as \$0" \
    "$(jq -r 'select(.key_id=="zeta" and .status=="upstream_error") | .tags.usage_incomplete' "$T/spool1.jsonl")" true
eq "refused calls are not forwarded" "$(jq -r 'select(.key_id=="alpha")' "$T/spool1.jsonl" | jq -s length)" 4

# second gateway without require_key, for routing and cache
sed -e 's/"require_key":true,//' "$T/gw.json" >"$T/gw2.json"
start_gw "$T/gw2.json" || { finish; exit 1; }
G="http://127.0.0.1:$GW_PORT/v1/chat/completions"
served() { curl -s -D "$T/h" -o "$T/b" "$G" "${@:2}" -d "$1" >/dev/null; hget X-Infercost-Model-Served; }
eq "keyword route" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"I want a REFUND now please"}]}')" gpt-4.1
eq "regex route" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"status of ticket #4521 please, and more text"}]}')" o4-mini
eq "tag route" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"a question that is long enough to skip the small rule"}]}' -H "X-Infercost-Customer: vip")" gpt-4.1-mini
eq "size route" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}')" gpt-4o-mini
# a rule whose regex backtracks catastrophically on this prompt gives up at the match limit
# (IC_ROUTE_REGEX_MATCH_LIMIT): the call goes on to the next rules instead of holding the loop
eq "catastrophic regex: no match" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}]}')" gpt-4o
eq "the same rule matches what it should" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}')" gpt-4.1-nano
eq "no route: as asked" "$(served '{"model":"gpt-4o","messages":[{"role":"user","content":"a question that is long enough to skip the small-prompt rule of this config"}]}')" gpt-4o
# a rule on prompt size in tokens (exact, o200k for gpt-4.1): 807 >= 700 takes the rule; 607
# ("hello" x 600: 3,661 body bytes, 915 by a 4-characters-per-token estimate) does not
eq "token route: over" "$(served "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"$HELLO\"}]}")" gpt-4.1-nano
H600=$(printf 'hello %.0s' $(seq 1 599))hello
eq "token route: under" "$(served "{\"model\":\"gpt-4.1\",\"messages\":[{\"role\":\"user\",\"content\":\"$H600\"}]}")" gpt-4.1
# the same on embeddings (cl100k, exact): inputs "hello world" are 2 tokens each, so 150 of them
# are 300 (the rule) and 149 are 298 (not), counted in one call (ic_count_texts_for_model_in);
# one text of 298 tokens, and token ids (one token each: 2 x 150), count as well
E="http://127.0.0.1:$GW_PORT/v1/embeddings"
embed_served() { curl -s -D "$T/h" -o "$T/b" "$E" -d "$1" >/dev/null; hget X-Infercost-Model-Served; }
inputs() { printf '"hello world"%.0s,' $(seq 1 "$1") | sed 's/,$//'; }
EMB='"model":"text-embedding-3-small","input"'
eq "embeddings token route: 300" "$(embed_served "{$EMB:[$(inputs 150)]}")" text-embedding-3-large
eq "embeddings token route: 298" "$(embed_served "{$EMB:[$(inputs 149)]}")" text-embedding-3-small
H149="$(printf 'hello world %.0s' $(seq 1 148))hello world"
eq "embeddings token route: one text of 298" "$(embed_served "{$EMB:\"$H149\"}")" text-embedding-3-small
IDS=$(printf '15339,%.0s' $(seq 1 149))15339
eq "embeddings token route: 300 ids" "$(embed_served "{$EMB:[[$IDS],[$IDS]]}")" text-embedding-3-large
eq "auto: cheapest of the tier" "$(served '{"model":"auto","messages":[{"role":"user","content":"hi"}]}')" gpt-4.1-nano
for i in $(seq 1 40); do served "{\"model\":\"split-x\",$MSG}"; done | sort | uniq -c >"$T/split"
n4o=$(awk '$2=="gpt-4o"{print $1}' "$T/split"); nmini=$(awk '$2=="gpt-4o-mini"{print $1}' "$T/split")
check "weights 3:1 ($n4o/$nmini)" [ "${n4o:-0}" -gt "${nmini:-0}" ] && check "both served" [ "${nmini:-0}" -gt 0 ]
# fallbacks
eq "5xx -> fallback" "$(served "{\"model\":\"fb-test\",$MSG}")" gpt-4o-mini
eq "fallback upstream" "$(hget X-Infercost-Upstream)" good
# the overhead histogram (/metrics) is the gateway's own time: this call waits 300 ms for the
# slow upstream's timeout, then 5+ ms of backoff, and neither may count as overhead
ovh() { curl -s "http://127.0.0.1:$GW_PORT/metrics" | sed -n "s/^infercost_gateway_overhead_seconds_$1 //p"; }
osum0=$(ovh sum); ocount0=$(ovh count); t0=$(date +%s%N)
eq "timeout -> fallback" "$(served "{\"model\":\"timeout-test\",$MSG}")" gpt-4.1-mini
ms=$(( ($(date +%s%N) - t0) / 1000000 )); osum1=$(ovh sum)
eq "overhead: one more call" "$(ovh count)" $((ocount0 + 1))
check "overhead excludes the upstream wait ($(awk -v a="$osum0" -v b="$osum1" 'BEGIN {printf "%.1f", (b - a) * 1000}') ms of $ms ms)" \
    awk -v a="$osum0" -v b="$osum1" -v w="$ms" 'BEGIN { exit !(w >= 300 && b - a >= 0 && b - a < 0.15) }'
eq "overhead +Inf bucket = count" "$(ovh 'bucket{le="+Inf"}')" "$(ovh count)"
t0=$(date +%s%N)
code=$(curl -s -o "$T/b" -w '%{http_code}' "$G" -d "{\"model\":\"allbad-test\",$MSG}")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "all attempts fail: the provider's 503" "$code" 503
check "bounded retries (${ms} ms)" [ "$ms" -lt 2000 ]
# cache: temperature 0 is cached, the hit costs 0 and records the saving
B="{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}"
curl -s -D "$T/h1" -o "$T/b1" "$G" -d "$B"; curl -s -D "$T/h2" -o "$T/b2" "$G" -d "$B"
eq "miss then hit" "$(grep -i '^X-Infercost-Cache:' "$T/h1" "$T/h2" | tr -d '\r' | awk '{print $2}' | tr '\n' ' ')" "miss hit "
check "same body" cmp -s "$T/b1" "$T/b2"
eq "hit costs 0" "$(grep -i '^X-Infercost-Cost:' "$T/h2" | tr -d '\r' | cut -d' ' -f2)" 0
eq "saving = first cost" "$(grep -i '^X-Infercost-Saved:' "$T/h2" | tr -d '\r' | cut -d' ' -f2)" "$(grep -i '^X-Infercost-Cost:' "$T/h1" | tr -d '\r' | cut -d' ' -f2)"
B2="{\"temperature\":0,\"messages\":[{\"content\":\"cache me\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\",\"stream\":false,\"user\":\"u1\"}"
curl -s -D "$T/h3" -o /dev/null "$G" -d "$B2"
eq "normalized: key order, stream, user ignored" "$(hget X-Infercost-Cache < /dev/null; grep -i '^X-Infercost-Cache:' "$T/h3" | tr -d '\r' | cut -d' ' -f2)" hit
B3='{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"cache \u006de"}]}'
curl -s -D "$T/h3b" -o /dev/null "$G" -d "$B3"
eq "normalized: the same string escaped otherwise" "$(grep -i '^X-Infercost-Cache:' "$T/h3b" | tr -d '\r' | cut -d' ' -f2)" hit
B4='{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":["cache me"]}]}'
curl -s -D "$T/h3c" -o /dev/null "$G" -d "$B4"
eq "another shape is another request" "$(grep -i '^X-Infercost-Cache:' "$T/h3c" | tr -d '\r' | cut -d' ' -f2)" miss
curl -s -D "$T/h3d" -o /dev/null "$G" -d '{"model":"gpt-4o-mini","temperature":0.0,"messages":[{"role":"user","content":"cache me"}]}'
eq "normalized: 0.0 is 0" "$(grep -i '^X-Infercost-Cache:' "$T/h3d" | tr -d '\r' | cut -d' ' -f2)" hit
eq "a cache header that is neither on nor off" "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Infercost-Cache: maybe' "$G" -d "$B")" 400
eq "a body with more after the object" "$(curl -s -o /dev/null -w '%{http_code}' "$G" -d "$B {\"x\":1}")" 400
curl -s -D "$T/h4" -o /dev/null "$G" -d "{\"model\":\"gpt-4o-mini\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}"
eq "not deterministic: not cached" "$(grep -ci '^X-Infercost-Cache:' "$T/h4")" 0
curl -s -D "$T/h5" -o /dev/null "$G" -H "X-Infercost-Cache: on" -d "{\"model\":\"gpt-4o-mini\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}"
curl -s -D "$T/h5" -o /dev/null "$G" -H "X-Infercost-Cache: on" -d "{\"model\":\"gpt-4o-mini\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"cache me\"}]}"
eq "opt-in header" "$(grep -i '^X-Infercost-Cache:' "$T/h5" | tr -d '\r' | cut -d' ' -f2)" hit
m=$(curl -s "http://127.0.0.1:$GW_PORT/metrics")
check "metrics cache hits" grep -q '^infercost_cache_hits_total 5$' <<<"$m"
check "metrics retries" grep -q '^infercost_retries_total [1-9]' <<<"$m"
check "metrics fallbacks" grep -q '^infercost_fallbacks_total [1-9]' <<<"$m"
check "no key's spend on /metrics unless key_metrics is set" bash -c '! grep -q "^infercost_key_" <<<"$1"' _ "$m"
kill -TERM "$GW_PID"; wait "$GW_PID"
eq "clean exit (no leak, no error)" "$?" 0
eq "cache hit event" "$(jq -r 'select(.cache_hit) | .model_served' "$T/spool.jsonl" | sort -u)" gpt-4o-mini
eq "auto event" "$(jq -r 'select(.routed_from=="auto") | .model_served' "$T/spool.jsonl")" gpt-4.1-nano
eq "fallback event" "$(jq -r 'select(.routed_from=="fb-test") | .model_served + " " + .status + " " + (.fallback | tostring)' "$T/spool.jsonl")" "gpt-4o-mini 200 true"
eq "only fallbacks marked so" "$(jq -r 'select(.fallback) | .routed_from' "$T/spool.jsonl" "$T/spool1.jsonl" | sort -u | tr '\n' ' ')" "fb-test timeout-test "
eq "all-bad event" "$(jq -r 'select(.routed_from=="allbad-test") | .status' "$T/spool.jsonl")" 503
"$IC" ingest --ledger "$T/ledger.db" --quiet "$T/spool.jsonl" "$T/spool1.jsonl" 2>"$T/ierr"
eq "the ledger takes every event, failed calls included" "$?" 0
# what the rules saved: the calls they moved off gpt-4o, gpt-4.1 and text-embedding-3-small,
# priced by `infercost cost` as served and on the model asked for, against whatif --unroute
jq -c 'select((.routed_from == "gpt-4o" or .routed_from == "gpt-4.1" or .routed_from == "text-embedding-3-small")
              and .model != .routed_from and (.cache_hit | not) and (.fallback | not) and .status == "200")' "$T/spool.jsonl" "$T/spool1.jsonl" >"$T/moved.jsonl"
jq -c '.model = .routed_from | del(.model_served)' "$T/moved.jsonl" >"$T/asked.jsonl"
total() { "$IC" cost --summary "$1" | sed -n 's/^total spend: *\$//p'; }
want=$(node -e 'const p = (s) => { const [a, b = ""] = s.split("."); return BigInt(a + b.padEnd(12, "0")); };
  const d = p(process.argv[1]) - p(process.argv[2]), s = (d < 0n ? -d : d).toString().padStart(13, "0");
  console.log((d < 0n ? "-" : "") + (s.slice(0, -12) + "." + s.slice(-12)).replace(/\.?0+$/, ""))' "$(total "$T/moved.jsonl")" "$(total "$T/asked.jsonl")")
"$IC" whatif --ledger "$T/ledger.db" --unroute --format json >"$T/unroute.json"
eq "unroute: the moved calls" "$(jq -r .total.moved "$T/unroute.json")" "$(wc -l <"$T/moved.jsonl")"
eq "unroute: the calls fallbacks served, apart" "$(jq -r .total.by_fallback "$T/unroute.json")" \
    "$(jq -c 'select(.fallback and .status == "200")' "$T/spool.jsonl" "$T/spool1.jsonl" | wc -l)"
check "unroute: some moved" [ "$(wc -l <"$T/moved.jsonl")" -ge 4 ]
eq "unroute: the saving, to the pico-dollar" "$(jq -r .total.saving_usd "$T/unroute.json")" "$want"
check "unroute: routing saved money here" grep -q "^routing saved" <("$IC" whatif --ledger "$T/ledger.db" --unroute)
"$IC" dashboard --ledger "$T/ledger.db" --out "$T/d.html" 2>/dev/null
check "the dashboard says what routing saved" grep -qF "title=\"\$${want#-}\">" "$T/d.html"
check "... and how many calls it moved" grep -q "saved by routing ($(wc -l <"$T/moved.jsonl") calls moved" "$T/d.html"
finish
