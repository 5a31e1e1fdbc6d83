#!/usr/bin/env bash
# 50-gateway.sh: the gateway in front of the mock provider (nothing leaves this machine): calls
# priced on the fly, a stream metered, a stream the client leaves recorded with estimated usage,
# "auto" routed to the cheapest tier model, FAQ traffic
# routed to a smaller model by a rule, a cache hit at $0, a budget refusal, live spend from the
# ledger the gateway writes (by key and tag too), what the cache and the router saved, a crash
# (kill -9) and the journal's recovery, and the spool priced again by `infercost cost`. Run by
# scripts/demo with IC and DEMO set.
set -eu
D="$DEMO/gateway"
rm -rf "$D"; mkdir -p "$D"
export DEMO_PROVIDER_KEY="sk-demo-fake-key"   # the mock accepts any non-empty key
PIDS=()
trap 'for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done' EXIT
port_of() { for _ in $(seq 1 100); do grep -q "listening on" "$1" 2>/dev/null && break; sleep 0.05; done
            sed -n 's/.*:\([0-9]*\)$/\1/p' "$1" | head -n1; }
"$IC" mock-provider --listen 127.0.0.1:0 --latency-ms 30 --chunk-delay-ms 5 >"$D/mock.out" 2>&1 & PIDS+=($!)
MP=$(port_of "$D/mock.out")
KEY="ick-demo-customer-key-000001"
cat >"$D/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$D/spool.jsonl","ledger":"$D/ledger.db","cache":{"ttl_s":300},
 "upstreams":[{"name":"openai","provider":"openai","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"DEMO_PROVIDER_KEY"},
              {"name":"anthropic","provider":"anthropic","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"DEMO_PROVIDER_KEY"}],
 "routes":[{"name":"cheapest","match":{"model":"auto"},
            "tier":[{"upstream":"openai","model":"gpt-4o"},{"upstream":"openai","model":"gpt-4.1-mini"},{"upstream":"openai","model":"gpt-4o-mini"}]},
           {"name":"faq","match":{"model":"gpt-4o","feature":"faq"},"targets":[{"upstream":"openai","model":"gpt-4o-mini"}]}],
 "keys":[{"id":"demo-customer","sha256":"$(echo "$KEY" | "$IC" serve --hash-key)","customer":"acme","budget_usd_day":"0.004"}]}
JSON
start() { "$IC" serve --config "$D/gw.json" >"$D/gw.out" 2>>"$D/gw.err" & GW=$!; PIDS+=($GW); GP=$(port_of "$D/gw.out"); }
start
G="http://127.0.0.1:$GP/v1"
hdr() { grep -i "^$1:" "$D/h" | tr -d '\r' | cut -d' ' -f2; }
echo "== gateway: infercost serve on :$GP in front of the mock provider on :$MP"
curl -s -D "$D/h" -o /dev/null "$G/chat/completions" -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Summarize our Q3 numbers"}]}'
echo "chat gpt-4o                    cost \$$(hdr X-Infercost-Cost)"
curl -s -D "$D/h" -o /dev/null "$G/messages" -d '{"model":"claude-sonnet-4-5","max_tokens":200,"messages":[{"role":"user","content":"Hello"}]}'
echo "anthropic claude-sonnet-4-5    cost \$$(hdr X-Infercost-Cost)"
c=$(curl -sN "$G/chat/completions" -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Stream it"}]}' | sed -n 's/^: infercost-cost-usd=//p')
echo "streamed gpt-4o                cost \$$c (usage asked upstream, hidden from the client)"
curl -sN --max-time 0.09 "$G/chat/completions" -o /dev/null \
    -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Write a long essay"}]}' || true
echo "a client leaves a stream        recorded with estimated usage (OpenAI reports usage at the end only)"
curl -s -D "$D/h" -o /dev/null "$G/chat/completions" -d '{"model":"auto","messages":[{"role":"user","content":"Classify: spam?"}]}'
echo "model auto -> $(hdr X-Infercost-Model-Served)         cost \$$(hdr X-Infercost-Cost) (cheapest of the tier for this call)"
for q in "How do I reset my password?" "Where is my invoice?" "Can I change my plan?"; do
    curl -s -D "$D/h" -o /dev/null -H "X-Infercost-Feature: faq" -H 'X-Infercost-Tags: {"team":"support"}' \
        "$G/chat/completions" -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}]}"
done
echo "gpt-4o, feature faq, x3 -> $(hdr X-Infercost-Model-Served)  cost \$$(hdr X-Infercost-Cost) each (rule \"faq\"; tagged team=support)"
B='{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"What is 2+2?"}]}'
curl -s -D "$D/h" -o /dev/null "$G/chat/completions" -d "$B"; first=$(hdr X-Infercost-Cost)
curl -s -D "$D/h" -o /dev/null "$G/chat/completions" -d "$B"
echo "temperature 0, twice           cost \$$first then \$$(hdr X-Infercost-Cost) (cache $(hdr X-Infercost-Cache), saved \$$(hdr X-Infercost-Saved))"
echo "customer key with a \$0.004/day budget, calls of up to 300 output tokens:"
for i in 1 2 3 4 5; do
    code=$(curl -s -D "$D/h" -o "$D/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
        -H 'X-Infercost-Tags: {"team":"sales"}' "$G/chat/completions" \
        -d '{"model":"gpt-4o","max_tokens":300,"messages":[{"role":"user","content":"Draft a reply"}]}')
    if [ "$code" = 200 ]; then echo "  call $i: 200, cost \$$(hdr X-Infercost-Cost)"
    else echo "  call $i: $code $(jq -r .error.message "$D/b")"; fi
done
sleep 0.3
echo "live, while the gateway runs: infercost report --ledger (the gateway writes the ledger itself)"
"$IC" report --ledger "$D/ledger.db" --by customer,model 2>&1 | awk 'NF == 0 { exit } { print "  " $0 }'
echo "by virtual key and tag (infercost report --by key,tag:team; key, team, calls, cost, cache saved):"
"$IC" report --ledger "$D/ledger.db" --by key,tag:team --format json |
    jq -r '.rows[] | [.key, .["tag:team"], .requests, .cost_usd, .cache_saved_usd] | map(if . == "" then "(none)" else . end) | @tsv' |
    awk -F'\t' '{ printf "  %-14s %-9s %3s  $%-11s $%s\n", $1, $2, $3, $4, $5 }'
echo "what the router saved (infercost whatif --unroute: each routed call priced on the model asked for):"
"$IC" whatif --ledger "$D/ledger.db" --unroute 2>&1 | grep "^routing\|recorded cost" | sed 's/ (first: .*//; s/^/  /'
echo "  (that one is the \"auto\" call: no one model was asked for)"
echo "kill -9 the gateway, restart: the journal is replayed"
kill -9 "$GW"; wait "$GW" 2>/dev/null || true
start
grep -h "recovered\|listening" "$D/gw.err" || echo "  (every event had already reached the spool file)"
kill -TERM "$GW"; wait "$GW" 2>/dev/null || true
echo "spool: $(wc -l <"$D/spool.jsonl") events (refused calls never reached the provider); priced again by infercost cost:"
"$IC" cost "$D/spool.jsonl" | jq -r '[.model, .total_usd] | @tsv' | sort | uniq -c | sed 's/^/  /'
jq -r 'select(.cache_hit) | "  cache hit recorded: \(.model_served), cache_hit=\(.cache_hit)"' "$D/spool.jsonl"
jq -r 'select(.status == "client_closed") | "  stream the client left: \(.usage.input_tokens) prompt tokens counted, \(.usage.output_tokens) output tokens counted from the text streamed (usage_incomplete=\(.tags.usage_incomplete))"' "$D/spool.jsonl"
"$IC" cost --summary "$D/spool.jsonl" | grep '^total spend\|^of which estimated' | sed 's/^/  /'
echo "the ledger after the crash and restart: every spooled event once (requests = $(wc -l <"$D/spool.jsonl")):"
"$IC" report --ledger "$D/ledger.db" --by customer 2>&1 | sed -n '1,5p' | sed 's/^/  /'
