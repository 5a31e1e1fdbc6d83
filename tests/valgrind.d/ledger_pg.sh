# tests/valgrind.d/ledger_pg.sh: the ledger on PostgreSQL under memcheck (a throwaway server,
# tests/pg_server.bash): ingest, a repeat of it, the reports, revenue, what-if, a refused
# connection, and the gateway with its budgets shared there (sourced by tests/valgrind.sh with
# IC, TMP and check set).
. tests/pg_server.bash
if pg_start "$TMP/vgpg"; then
    LFX=tests/e2e/ledger-fixtures
    check "pg ingest" "$IC" ingest -q --ledger "$IC_PG_URL" "$LFX/calls.jsonl" "$LFX/litellm.csv"
    check "pg ingest duplicates" "$IC" ingest -q --ledger "$IC_PG_URL" "$LFX/calls.jsonl"
    check "pg report" "$IC" report --ledger "$IC_PG_URL" --by customer,month --percentiles
    check "pg report raw" "$IC" report --ledger "$IC_PG_URL" --raw --customer acme
    printf 'customer,period,revenue\nacme,2026-03,0.05\n' >"$TMP/vgpg-rev.csv"
    check "pg revenue import" "$IC" revenue import --ledger "$IC_PG_URL" "$TMP/vgpg-rev.csv"
    check "pg margin" "$IC" margin --ledger "$IC_PG_URL"
    check "pg whatif" "$IC" whatif --ledger "$IC_PG_URL" --swap gpt-4o=gpt-4o-mini
    check "pg refused" "$IC" report --ledger "postgresql://postgres@/nodb?host=$TMP/vgpg&port=$PG_PORT"
    # the gateway with its budgets in the same database (vg_wait_port, vg_server_done: gateway.sh)
    "$IC" mock-provider --listen 127.0.0.1:0 >"$TMP/bmock.out" 2>&1 &
    BMOCK=$!
    if BMP=$(vg_wait_port "$TMP/bmock.out" "$BMOCK"); then
        cat >"$TMP/bgw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$TMP/bspool.jsonl","budget_store":"$IC_PG_URL","gateway_id":"vg","budget_sync_ms":50,
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$BMP/v1","api_key_env":"IC_VG_PROVIDER_KEY"}],
 "keys":[{"id":"k","sha256":"$(echo ick-valgrind-key-00000000000 | "$IC" serve --hash-key)","budget_usd_day":"0.0005","rpm":100}]}
JSON
        pg_psql -c "INSERT INTO infercost_budget VALUES ('k', 'other', 0, 0, 0, 0, 0.0001, 0, 1, 1, now())" >/dev/null 2>&1
        "${VG[@]}" "$IC" serve --config "$TMP/bgw.json" --listen 127.0.0.1:0 >"$TMP/bgw.out" 2>"$TMP/bgw.err" &
        VBGW=$!
        if BGP=$(vg_wait_port "$TMP/bgw.out" "$VBGW"); then
            for _ in 1 2 3 4; do
                curl -s -o /dev/null -H "Authorization: Bearer ick-valgrind-key-00000000000" \
                    "http://127.0.0.1:$BGP/v1/chat/completions" \
                    -d '{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}'
                sleep 0.2
            done
            curl -s -o /dev/null "http://127.0.0.1:$BGP/metrics"
            vg_server_done "serve with a budget store" "$VBGW" "$TMP/bgw.err"
        else
            echo "valgrind: serve with a budget store did not start: $(cat "$TMP/bgw.err")"
            fail=$((fail + 1))
        fi
        sed "s|/infercost?|/nodb?|" "$TMP/bgw.json" >"$TMP/bgw-bad.json"
        check "serve, budget store refused" "$IC" serve --config "$TMP/bgw-bad.json" \
            --listen 127.0.0.1:0
    fi
    kill "$BMOCK" 2>/dev/null
    wait "$BMOCK" 2>/dev/null
    pg_stop
else
    echo "valgrind: no PostgreSQL server: $PG_SKIP"
    fail=$((fail + 1))
fi
