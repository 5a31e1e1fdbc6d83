#!/usr/bin/env bash
# 55-shared-budget.sh: two gateways enforce one key's budget through PostgreSQL ("budget_store"),
# with a throwaway local server (tests/pg_server.bash; scripts/bootstrap installs it): calls
# alternate between them until the budget, counted across both, refuses. Run by scripts/demo with
# IC and DEMO set.
set -eu
D="$DEMO/shared-budget"
rm -rf "$D"; mkdir -p "$D"
. tests/pg_server.bash
export DEMO_PROVIDER_KEY="sk-demo-fake-key"
PIDS=()
trap 'for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done; pg_stop' EXIT
echo "== two gateways, one budget (budget_store: PostgreSQL)"
if ! pg_start "$D/pg"; then
    echo "  skipped: $PG_SKIP"
    exit 0
fi
port_of() { for _ in $(seq 1 100); do grep -q "listening on" "$1" 2>/dev/null && break; sleep 0.05; done
            sed -n 's/.*:\([0-9]*\)$/\1/p' "$1" | head -n1; }
"$IC" mock-provider --listen 127.0.0.1:0 >"$D/mock.out" 2>&1 & PIDS+=($!)
MP=$(port_of "$D/mock.out")
KEY="ick-demo-shared-budget-key-01"
P=()
for g in a b; do
    cat >"$D/gw-$g.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$D/spool-$g.jsonl","budget_store":"$IC_PG_URL","gateway_id":"gateway-$g",
 "upstreams":[{"name":"openai","provider":"openai","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"DEMO_PROVIDER_KEY"}],
 "keys":[{"id":"team-search","sha256":"$(echo "$KEY" | "$IC" serve --hash-key)","budget_usd_day":"0.002"}]}
JSON
    "$IC" serve --config "$D/gw-$g.json" >"$D/gw-$g.out" 2>"$D/gw-$g.err" & PIDS+=($!)
    P+=("$(port_of "$D/gw-$g.out")")
done
echo "gateways a (:${P[0]}) and b (:${P[1]}); key team-search: \$0.002 a day between them (without the store each would admit 4 of these calls, 8 in all)"
for i in 1 2 3 4 5 6 7 8; do
    g=$(( (i - 1) % 2 )); name=$([ $g = 0 ] && echo a || echo b)
    code=$(curl -s -D "$D/h" -o "$D/b" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
        "http://127.0.0.1:${P[$g]}/v1/chat/completions" \
        -d '{"model":"gpt-4o","max_tokens":100,"messages":[{"role":"user","content":"Find the Q3 report"}]}')
    if [ "$code" = 200 ]; then
        echo "  call $i via $name: 200, cost \$$(grep -i '^x-infercost-cost:' "$D/h" | tr -d '\r' | cut -d' ' -f2)"
    else
        echo "  call $i via $name: $code $(jq -r .error.message "$D/b")"
    fi
    sleep 0.5 # each gateway writes its counters and reads the other's every 200 ms
done
echo "what each gateway has written to the store:"
pg_psql -c "SELECT '  ' || gateway || ': spent \$' || day_spent_usd || ' today' FROM infercost_budget ORDER BY gateway"
