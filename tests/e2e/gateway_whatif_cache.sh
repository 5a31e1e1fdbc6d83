#!/usr/bin/env bash
# gateway_whatif_cache.sh: `infercost whatif --response-cache` against the gateway's own cache.
# The same calls go through two gateways in front of the same mock provider, one with the exact
# cache off and one with it on. The first records each cacheable request's hash; the what-if on
# its ledger must come to what the second gateway actually spent, hit for hit.
. "$(dirname "$0")/gateway_common.bash"
export IC_TEST_PROVIDER_KEY="sk-fake-wcache"
start_mock good || { finish; exit 1; }
export IC_TEST_HASH_SECRET="a-test-secret-not-a-real-one"
for c in off on keyed; do
    enabled=false; [ "$c" = on ] && enabled=true
    key=""; [ "$c" = keyed ] && key=',"hash_key_env":"IC_TEST_HASH_SECRET"'
    cat >"$T/gw-$c.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$T/spool-$c.jsonl","cache":{"enabled":$enabled,"ttl_s":3600$key},
 "upstreams":[{"name":"good","provider":"openai","base_url":"http://127.0.0.1:$MOCK_PORT/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
done
R1='{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"what is our refund policy?"}]}'
R1b='{"messages":[{"content":"what is our refund policy?","role":"user"}],"temperature":0,"model":"gpt-4o-mini","user":"u7"}'
R2='{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"summarize ticket 4521"}]}'
R3='{"model":"gpt-4o","temperature":0.7,"messages":[{"role":"user","content":"write a haiku"}]}'
RS='{"model":"gpt-4o-mini","temperature":0,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"what is our refund policy?"}]}'
E1='{"model":"text-embedding-3-small","input":["refund policy","ticket 4521"]}'
send() { # the same calls, in the same order, to the gateway on GW_PORT
    local G="http://127.0.0.1:$GW_PORT/v1" b
    for b in "$R1" "$R1" "$R2" "$R1b" "$R3" "$R3" "$R2"; do
        curl -s -o /dev/null "$G/chat/completions" -d "$b"
    done
    curl -s -o /dev/null "$G/chat/completions" -H "X-Infercost-Cache: off" -d "$R1"
    curl -s -o /dev/null "$G/chat/completions" -d "$RS"
    curl -s -o /dev/null "$G/embeddings" -d "$E1"
    curl -s -o /dev/null "$G/embeddings" -d "$E1"
}
for c in off on keyed; do
    start_gw "$T/gw-$c.json" || { finish; exit 1; }
    send
    kill -TERM "$GW_PID"; wait "$GW_PID"
    eq "gateway (cache $c): clean exit" "$?" 0
    "$IC" ingest --ledger "$T/$c.db" --quiet "$T/spool-$c.jsonl"
    eq "ingest (cache $c)" "$?" 0
done

# the hash is recorded with the cache off too, for the requests the cache could answer
S="$T/spool-off.jsonl"
eq "calls recorded" "$(wc -l <"$S")" 11
eq "hashed: deterministic, not streamed, not opted out" "$(jq -r 'select(.request_hash) | .routed_from' "$S" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" \
    "gpt-4ox2 gpt-4o-minix3 text-embedding-3-smallx2 "
eq "not hashed: temperature 0.7, opted out, streamed" "$(jq -r 'select(.request_hash == null) | .routed_from' "$S" | sort | tr '\n' ' ')" \
    "gpt-4o gpt-4o gpt-4o-mini gpt-4o-mini "
eq "normalized: key order and user do not change the hash" "$(jq -r 'select(.routed_from == "gpt-4o-mini") | .request_hash // empty' "$S" | sort -u | wc -l)" 1
check "a SHA-256 in hex" bash -c "jq -r '.request_hash // empty' '$S' | grep -qvE '^[0-9a-f]{64}\$' && exit 1 || exit 0"
eq "the same hash with the cache on (its key)" "$(jq -r '.request_hash // empty' "$S" | sort -u)" "$(jq -r '.request_hash // empty' "$T/spool-on.jsonl" | sort -u)"
eq "cache off: no hit" "$(jq -r 'select(.cache_hit)' "$S" | jq -s length)" 0
hits=$(jq -r 'select(.cache_hit)' "$T/spool-on.jsonl" | jq -s length)
eq "cache on: the repeats hit" "$hits" 4

# the what-if on the cache-off ledger = what the cache-on gateway spent
"$IC" whatif --ledger "$T/off.db" --response-cache 1h --format json >"$T/w.json" 2>"$T/w.err"
eq "whatif exit" "$?" 0
eq "whatif: hits" "$(jq -r .total.cached "$T/w.json")" "$hits"
spent_on=$("$IC" report --ledger "$T/on.db" --format json | jq -r '.total.cost_usd')
spent_off=$("$IC" report --ledger "$T/off.db" --format json | jq -r '.total.cost_usd')
eq "whatif: cost as recorded" "$(jq -r .total.cost_usd "$T/w.json")" "$spent_off"
eq "whatif: cost with the cache = the cached gateway's spend" "$(jq -r .total.whatif_usd "$T/w.json")" "$spent_on"
check "a saving" awk -v a="$spent_off" -v b="$spent_on" 'BEGIN { exit !(a > b) }'
# what the cache-on gateway's hits saved, as the ledger reports it: the what-if's saving, to the
# pico-dollar, by the rollups and by the events; and as `cost --summary` and the dashboard say it
"$IC" report --ledger "$T/on.db" --format json >"$T/r-on.json"
saved=$(jq -r .total.cache_saved_usd "$T/r-on.json")
eq "report: the hits" "$(jq -r .total.cache_hits "$T/r-on.json")" "$hits"
eq "report: what they saved = the what-if's saving" "$saved" "$(jq -r .total.saving_usd "$T/w.json")"
eq "report --raw: the same" "$("$IC" report --ledger "$T/on.db" --raw --format json | jq -r .total.cache_saved_usd)" "$saved"
eq "report on the cache-off ledger: nothing saved" "$(jq -r .total.cache_saved_usd <("$IC" report --ledger "$T/off.db" --format json))" 0
check "cost --summary: the response cache's saving" grep -qx "response cache saved: \$$saved ($hits calls answered from a cache, not paid)" <("$IC" cost --summary "$T/spool-on.jsonl")
"$IC" dashboard --ledger "$T/on.db" --out "$T/d.html" 2>/dev/null
check "dashboard: the saving" grep -q "title=\"\$$saved\"[^<]*</b><span>saved by the response cache ($hits calls answered)" "$T/d.html"
eq "whatif: calls without a hash counted" "$(jq -r .total.no_request_hash "$T/w.json")" 4
"$IC" whatif --ledger "$T/off.db" --response-cache 1h >"$T/w.txt"
check "table: the scenario" grep -q "the gateway's response cache on, entries kept 1h" "$T/w.txt"
check "table: the cached column" grep -q "cached" "$T/w.txt"
check "table: calls without a hash" grep -q "^4 calls carry no request hash" "$T/w.txt"
# with the cache already on, a what-if of the same cache changes nothing: the hits stay hits
"$IC" whatif --ledger "$T/on.db" --response-cache 1h --format json >"$T/w2.json"
eq "cache-on ledger: nothing more" "$(jq -r '.total.saving_usd + " " + (.total.cached | tostring)' "$T/w2.json")" "0 0"
# keyed hashes (cache.hash_key_env): the same equalities, other values, the same what-if
K="$T/spool-keyed.jsonl"
eq "keyed: as many hashed calls" "$(jq -r '.request_hash // empty' "$K" | wc -l)" 7
eq "keyed: as many distinct requests" "$(jq -r '.request_hash // empty' "$K" | sort -u | wc -l)" "$(jq -r '.request_hash // empty' "$S" | sort -u | wc -l)"
eq "keyed: no hash in common with the unkeyed ones" "$(comm -12 <(jq -r '.request_hash // empty' "$K" | sort -u) <(jq -r '.request_hash // empty' "$S" | sort -u) | wc -l)" 0
"$IC" whatif --ledger "$T/keyed.db" --response-cache 1h --format json >"$T/wk.json"
eq "keyed: the same what-if" "$(jq -r '.total.cached, .total.saving_usd' "$T/wk.json" | tr '\n' ' ')" "$(jq -r '.total.cached, .total.saving_usd' "$T/w.json" | tr '\n' ' ')"
absent "keyed: the secret is not in the spool" "$IC_TEST_HASH_SECRET" "$K"
absent "keyed: nor in the gateway's output" "$IC_TEST_HASH_SECRET" "$T/gw.err"
# bad lifetimes
for bad in 0 -5 1w 366d 5x ""; do
    "$IC" whatif --ledger "$T/off.db" --response-cache "$bad" >/dev/null 2>"$T/e"
    eq "--response-cache '$bad' refused" "$?" 2
done
check "the message says what a lifetime is" grep -q "1s to 365d" "$T/e"
finish
