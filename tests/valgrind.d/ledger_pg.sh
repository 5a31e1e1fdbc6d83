# tests/valgrind.d/ledger_pg.sh: the ledger on PostgreSQL under memcheck (a throwaway server,
# tests/pg_server.bash): ingest, a repeat of it, the reports, revenue, what-if and a refused
# connection (sourced by tests/valgrind.sh with IC, TMP and check set).
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
    pg_stop
else
    echo "valgrind: no PostgreSQL server: $PG_SKIP"
    fail=$((fail + 1))
fi
