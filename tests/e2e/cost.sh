#!/usr/bin/env bash
# tests/e2e/cost.sh: the pricing commands end to end through the real binary ($IC_BIN):
# cost (good lines, every kind of bad line, exit codes, order across threads and blocks,
# --summary, overlays), price and models. Prints "P passed, F failed".
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# --- the issue's example, exactly
line='{"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":4740,"cache_write_tokens":4735,"output_tokens":255}}'
out=$(echo "$line" | "$IC" cost); rc=$?
expect_eq "example output" "$out" '{"provider":"anthropic","model":"claude-sonnet-4-5","total_usd":"0.02159625","items":[{"unit":"input_tokens","charged":5,"price_per":"3","per":1000000,"usd":"0.000015"},{"unit":"cache_write_tokens","charged":4735,"price_per":"3.75","per":1000000,"usd":"0.01775625"},{"unit":"output_tokens","charged":255,"price_per":"15","per":1000000,"usd":"0.003825"}]}'
expect_eq "example exit" "$rc" 0
# a line that is JSON but not an object says so (json-c alone would wait for more of "1")
expect_has "a bare value" "$(printf 'null\n1\n' | "$IC" cost 2>/dev/null)" '{"line":2,"error":"expected a JSON object per line"}'
# an empty timestamp is an error, not the epoch's prices (a cache of the last time parsed once
# took "" for its empty initial entry)
out=$(echo '{"provider":"openai","model":"gpt-5.6-luna","timestamp":"","usage":{"input_tokens":1000000}}' | "$IC" cost 2>/dev/null)
expect_has "empty timestamp refused" "$out" '"error":"timestamp: expected an RFC 3339 time'

# --- every error keeps its line, the run goes on, exit 1
cat > "$T/mixed.jsonl" <<'JSONL'
{"model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":5}}
{"model":"nope-model-x","usage":{"input_tokens":1}}

{bad json
{"model":"gpt-4o","usage":{"input_tokens":-1}}
{"model":"gpt-4o","usage":{"input_tokens":1.5}}
{"model":"gpt-4o","usage":{"input_tokens":10,"cache_read_tokens":11}}
{"model":"gpt-4o","usage":{"input_tokens":123456789012345678901234567890}}
{"model":"gpt-4o","usage":{"inptu_tokens":1}}
{"provider":"foo","model":"gpt-4o","usage":{"input_tokens":1}}
{"provider":"openai","api_flavor":"chat","timestamp":"2026-03-01T10:00:00Z","response":{"model":"gpt-4o","usage":{"prompt_tokens":20,"completion_tokens":3}}}
{"provider":"openai","api_flavor":"chat","response":{"model":"gpt-4o","choices":[]}}
{"model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":5}}
JSONL
out=$("$IC" cost "$T/mixed.jsonl" 2>"$T/err"); rc=$?
expect_eq "one output line per input line" "$(echo "$out" | wc -l)" 13
expect_eq "exit 1 when a line fails" "$rc" 1
expect_has "unknown model suggests" "$(echo "$out" | sed -n 2p)" '{"line":2,"error":"unknown model \"nope-model-x\"'
expect_eq "empty line" "$(echo "$out" | sed -n 3p)" '{"line":3,"error":"empty line"}'
expect_has "bad json" "$(echo "$out" | sed -n 4p)" '{"line":4,"error":"invalid JSON'
expect_eq "negative" "$(echo "$out" | sed -n 5p)" '{"line":5,"error":"usage.input_tokens: negative count -1"}'
expect_eq "fractional" "$(echo "$out" | sed -n 6p)" '{"line":6,"error":"usage.input_tokens: fractional count 1.5"}'
expect_eq "cache above input" "$(echo "$out" | sed -n 7p)" '{"line":7,"error":"cache_read_tokens (11) cannot exceed input_tokens (10)"}'
expect_has "too large" "$(echo "$out" | sed -n 8p)" 'number too large'
expect_has "unknown usage key" "$(echo "$out" | sed -n 9p)" 'unknown usage key \"inptu_tokens\"'
expect_has "unknown provider" "$(echo "$out" | sed -n 10p)" 'unknown provider \"foo\"'
expect_has "response line priced with usage" "$(echo "$out" | sed -n 11p)" '"total_usd":"0.00008","items":'
expect_has "response line shows usage" "$(echo "$out" | sed -n 11p)" '"usage":{"input_tokens":20,"output_tokens":3}'
expect_has "response without usage" "$(echo "$out" | sed -n 12p)" '{"line":12,"error":"response: missing value at `usage'
expect_has "line after errors priced" "$(echo "$out" | sed -n 13p)" '"total_usd":"0.0003"'
expect_has "stderr summary" "$(cat "$T/err")" "10 of 13 lines could not be priced (first: line 2"

# --- the provider from the API URL
out=$(echo '{"api_url":"https://api.anthropic.com/v1/messages","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100000}}' | "$IC" cost)
expect_has "api_url finds the provider" "$out" '{"provider":"anthropic","model":"claude-sonnet-4-5","total_usd":"0.3"'
out=$(echo '{"api_url":"https://example.com/v1","model":"gpt-4o","usage":{"input_tokens":1}}' | "$IC" cost 2>/dev/null)
expect_has "api_url that matches nothing" "$out" 'api_url: no provider'

# --- a response-cache hit costs nothing and says what it saved
out=$(echo '{"model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","cache_hit":true,"usage":{"input_tokens":1000000}}' | "$IC" cost)
expect_eq "cache hit" "$out" '{"provider":"openai","model":"gpt-4o","total_usd":"0","items":[],"cache_hit":true,"saved_usd":"2.5"}'

# --- never a silent $0: a model the catalog cannot price exits non-zero
echo '{"model":"totally-unknown","usage":{"input_tokens":5}}' | "$IC" cost >/dev/null 2>&1
expect_eq "unknown model exit" "$?" 1

# --- order and content are the same whatever the threads; lines span read blocks
awk 'BEGIN{srand(7); split("gpt-4o claude-sonnet-4-5 gemini-2.5-pro gpt-4o-mini deepseek-chat",m," ");
  for(i=0;i<60000;i++){inp=1000+int(rand()*300000); cr=int(inp*rand()/2);
  printf "{\"model\":\"%s\",\"timestamp\":\"2026-0%d-01T%02d:00:00Z\",\"usage\":{\"input_tokens\":%d,\"cache_read_tokens\":%d,\"output_tokens\":%d}}\n", m[i%5+1], 1+i%9, i%24, inp, cr, int(rand()*4000)}}' > "$T/big.jsonl"
"$IC" cost --threads 1 "$T/big.jsonl" > "$T/o1"; r1=$?
"$IC" cost --threads 4 "$T/big.jsonl" > "$T/o4"; r4=$?
"$IC" cost --threads 3 - < "$T/big.jsonl" > "$T/o3"; r3=$?
expect_eq "threads exit" "$r1$r4$r3" "000"
expect_eq "lines out" "$(wc -l < "$T/o4")" 60000
if cmp -s "$T/o1" "$T/o4" && cmp -s "$T/o1" "$T/o3"; then ok; else bad "threads change the output"; fi
IC_RECORD_FAST_PATH=0 "$IC" cost "$T/big.jsonl" > "$T/oj"
if cmp -s "$T/o1" "$T/oj"; then ok; else bad "fast path and json-c path disagree"; fi

# --- a line longer than a read block, and CRLF line ends
big=$(head -c 1500000 /dev/zero | tr '\0' 'a')
printf '{"model":"gpt-4o","customer":"%s","usage":{"input_tokens":1}}\r\n{"model":"gpt-4o","usage":{"input_tokens":1000000}}\r\n' "$big" > "$T/long.jsonl"
out=$("$IC" cost "$T/long.jsonl")
expect_has "long line refused by field" "$(echo "$out" | sed -n 1p)" '{"line":1,"error":"customer: longer than 127 bytes"}'
expect_has "CRLF line after it" "$(echo "$out" | sed -n 2p)" '"total_usd":"2.5"'

# --- summary
out=$("$IC" cost --summary "$T/big.jsonl")
expect_has "summary header" "$out" "Spend by provider and model (60000 calls priced)"
expect_has "summary cache saving" "$out" "cache reads saved: \$"
expect_has "summary provider" "$out" "anthropic"

# --- catalog options
"$IC" cost --catalog /nonexistent.json < /dev/null 2>"$T/err"; rc=$?
expect_eq "missing catalog exit" "$rc" 2
expect_has "missing catalog message" "$(cat "$T/err")" "/nonexistent.json: No such file or directory"
cat > "$T/overlay.json" <<'JSON'
[{"id":"openai","models":[{"id":"gpt-4o","match":{"equals":"gpt-4o"},"prices":{"input_mtok":2,"output_mtok":8}}]}]
JSON
out=$(echo '{"model":"gpt-4o","usage":{"input_tokens":1000000}}' | "$IC" cost --overlay "$T/overlay.json")
expect_has "overlay overrides" "$out" '"total_usd":"2"'
# an Anthropic stream cut before its message_delta: message_start's output count is a placeholder,
# so the line is refused rather than priced low; with the delta it prices
MS='event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n'
MD='event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":120}}\n\n'
out=$(printf '%s\n' "{\"provider\":\"anthropic\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"stream\":\"$MS\"}" \
    "{\"provider\":\"anthropic\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"stream\":\"$MS$MD\"}" | "$IC" cost 2>/dev/null)
expect_has "cut Anthropic stream refused" "$(echo "$out" | sed -n 1p)" 'no message_delta event (a cut stream)'
expect_has "whole Anthropic stream priced" "$(echo "$out" | sed -n 2p)" '"total_usd":"0.001815"'

# absurd prices and counts: too large to price, never a wrapped (negative) amount
cat > "$T/huge.json" <<'JSON'
[{"id":"openai","models":[{"id":"gpt-4o","match":{"equals":"gpt-4o"},"prices":{"input_mtok":60000000000000000,"output_mtok":60000000000000000}}]}]
JSON
out=$(echo '{"model":"gpt-4o","usage":{"input_tokens":1000000000000000,"output_tokens":1000000000000000}}' | "$IC" cost --overlay "$T/huge.json" 2>/dev/null)
expect_has "huge call: refused" "$out" 'too large to price'
out=$(for i in 1 2 3; do echo '{"model":"gpt-4o","usage":{"input_tokens":10}}'; done | "$IC" cost --overlay "$T/huge.json" --summary 2>/dev/null)
expect_has "huge calls: a summary, not negative" "$out" 'total spend:  $1800000000000'
echo '[{"id":"x"' > "$T/bad.json"
"$IC" cost --overlay "$T/bad.json" < /dev/null 2>"$T/err"; rc=$?
expect_eq "bad overlay exit" "$rc" 2
expect_has "bad overlay names the file" "$(cat "$T/err")" "$T/bad.json:"
expect_has "bad overlay says why" "$(cat "$T/err")" "invalid JSON"
# an overlay price the reference would refuse (a key outside units.yml) refuses the overlay at
# once, naming the model and the key, rather than loading it and failing at the first call
echo '[{"id":"x","models":[{"id":"m","match":{"equals":"m"},"prices":{"outptu_mtok":1,"input_mtok":1}}]}]' >"$T/typo.json"
"$IC" price m --provider x --overlay "$T/typo.json" >/dev/null 2>"$T/err"; expect_eq "overlay with a typo: exit" $? 2
expect_has "overlay with a typo: says which" "$(cat "$T/err")" "provider x: model m: price key outptu_mtok is not in units.yml"
cat > "$T/litellm.json" <<'JSON'
{"my-model": {"litellm_provider": "openai", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05}}
JSON
out=$(echo '{"provider":"openai","model":"my-model","usage":{"input_tokens":1000,"output_tokens":100}}' | "$IC" cost --overlay "$T/litellm.json")
expect_has "litellm overlay" "$out" '"total_usd":"0.0045"'
"$IC" cost --bogus < /dev/null 2>/dev/null
expect_eq "unknown option exit" "$?" 2
# numeric options: a value that is not a whole number in range is refused, named, exit 2, and
# nothing is written (generate-workload --events -5 once wrapped to 2^64 - 5 events)
for args in "cost --threads 0" "cost --threads 2x" "generate-workload --events -5" \
            "generate-workload --days abc" "generate-workload --growth 5x" "generate-workload --seed 1e3" \
            "report --top -1" "forecast --months 0" "ingest --batch 0" "ingest --threads 3"; do
    # shellcheck disable=SC2086
    err=$("$IC" $args < /dev/null 2>&1 > "$T/numeric.out")
    expect_eq "numeric option refused: $args" "$?" 2
    set -- $args
    expect_has "numeric option named: $args" "$err" "$2 wants a"
    expect_has "numeric option quoted: $args" "$err" "not '$3'"
    expect_eq "numeric option writes nothing: $args" "$(wc -c < "$T/numeric.out")" 0
done
expect_eq "generate-workload --events N" "$("$IC" generate-workload --days 3 --events 10 | wc -l)" 10

# --- price and models
out=$("$IC" price claude-sonnet-4-5 --provider anthropic --at 2026-03-01)
expect_has "price shows current" "$out" "input_mtok"
expect_has "price shows tiers" "$out" "above 200000 input tokens"
expect_has "price shows history" "$out" "price history"
out=$("$IC" price gpt-5.6-luna --at 2026-08-01 --json)
expect_has "price json history" "$out" '"when":"from 2026-07-30"'
"$IC" price claude-sonet-4-5 --provider anthropic 2>"$T/err"; rc=$?
expect_eq "price unknown exit" "$rc" 1
expect_has "price suggests" "$(cat "$T/err")" "nearest: claude-sonnet-4-5"
out=$("$IC" models sonnet-4 --provider anthropic)
# a price the model does not have is "-", never another row's or stray bytes
expect_eq "models: no output price" "$("$IC" models voyage-3-lite | awk '$2=="voyage-3-lite"{print $4, $5}')" "0.02 -"
expect_has "models --json: no window is null" "$("$IC" models voyage-3-lite --json)" '"context_window":null'
expect_eq "models: no price at all" "$("$IC" models mai-ds-r1:free --provider azure | awk '$2=="mai-ds-r1:free"{print $4, $5}')" "- -"
expect_has "models finds" "$out" "claude-sonnet-4-5"
out=$("$IC" models --json gpt-4o-mini)
expect_has "models json" "$out" '"model":"gpt-4o-mini"'
"$IC" models zzzz-no-such >/dev/null; expect_eq "models none exit" "$?" 1
out=$("$IC" --help)
expect_has "help lists cost" "$out" "cost"

finish
