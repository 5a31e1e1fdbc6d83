# tests/valgrind.d/ledger.sh: the ledger commands under memcheck on the small fixtures, and
# route-eval on one shipped set (sourced by tests/valgrind.sh with IC, TMP and check set).
LFX=tests/e2e/ledger-fixtures
check "ingest jsonl" "$IC" ingest -q --ledger "$TMP/vg.db" "$LFX/calls.jsonl"
check "ingest otlp" "$IC" ingest -q --ledger "$TMP/vg.db" "$LFX/spans.otlp.json"
check "ingest litellm csv" "$IC" ingest -q --ledger "$TMP/vg.db" "$LFX/litellm.csv"
check "ingest rejects" "$IC" ingest -q --threads 1 --ledger "$TMP/vg.db" "$LFX/bad.jsonl"
check "report" "$IC" report --ledger "$TMP/vg.db" --by customer,month --percentiles
printf 'customer,period,revenue\nacme,2026-03,0.05\nbeta,2026-03,0.02\n' >"$TMP/vg-rev.csv"
check "revenue import" "$IC" revenue import --ledger "$TMP/vg.db" "$TMP/vg-rev.csv"
check "margin" "$IC" margin --ledger "$TMP/vg.db"
check "forecast" "$IC" forecast --ledger "$TMP/vg.db" --months 3
check "whatif" "$IC" whatif --ledger "$TMP/vg.db" --swap gpt-4o=gpt-4o-mini --share 50 --batch --by customer
check "whatif json" "$IC" whatif --ledger "$TMP/vg.db" --at 2026-08-01 --format json
for i in 1 2 3; do # the same request three times: the second and third are cache hits
    printf '{"id":"vg-rc%s","provider":"openai","model":"gpt-4o","timestamp":"2026-03-02T10:00:0%sZ","usage":{"input_tokens":100,"output_tokens":10},"request_hash":"%064d","latency_ms":5}\n' "$i" "$i" 7
done >"$TMP/vg-rc.jsonl"
check "ingest request hashes" "$IC" ingest -q --ledger "$TMP/vg.db" "$TMP/vg-rc.jsonl"
check "whatif response cache" "$IC" whatif --ledger "$TMP/vg.db" --response-cache 5m --swap gpt-4o=gpt-4o-mini
check "whatif bad model" "$IC" whatif --ledger "$TMP/vg.db" --swap gpt-4o=no-such-model
# keys, tags, a cache hit's saving, routed calls (one from a tier name), a fallback
{ printf '{"id":"vg-k1","provider":"openai","model":"gpt-4o-mini","routed_from":"gpt-4o","timestamp":"2026-03-03T10:00:00Z","usage":{"input_tokens":100},"key_id":"k1","tags":{"team":"a","n":3}}\n'
  printf '{"id":"vg-k2","provider":"openai","model":"gpt-4o-mini","routed_from":"auto","timestamp":"2026-03-03T10:00:01Z","usage":{"input_tokens":100},"tags":{"team":"b"},"cache_hit":true}\n'
  printf '{"id":"vg-k3","provider":"openai","model":"gpt-4o-mini","routed_from":"gpt-4o","timestamp":"2026-03-03T10:00:02Z","usage":{"input_tokens":100},"fallback":true}\n'; } >"$TMP/vg-kt.jsonl"
check "ingest keys, tags, hits, routes" "$IC" ingest -q --ledger "$TMP/vg.db" "$TMP/vg-kt.jsonl"
check "report by key and tag" "$IC" report --ledger "$TMP/vg.db" --by key,tag:team --tag n=3 --format md
check "whatif unroute" "$IC" whatif --ledger "$TMP/vg.db" --unroute --by customer
check "export focus" "$IC" export --format focus --ledger "$TMP/vg.db" --out "$TMP/vg-focus.csv"
# the same file again: every event found by the batch path's range read, nothing inserted
check "ingest duplicates" "$IC" ingest -q --ledger "$TMP/vg.db" "$LFX/calls.jsonl"
check "dashboard" "$IC" dashboard --ledger "$TMP/vg.db" --out "$TMP/vg-dash.html"
check "forecast json" "$IC" forecast --ledger "$TMP/vg.db" --months 2 --format json
# PCRE2's JIT code is opaque to memcheck (false reports): the interpreter, as for the gateway
INFERCOST_NO_JIT=1 check "route-eval" "$IC" route-eval --set gsm8k --router prompt-tokens --router 'regex:(?i)how many' --router keywords:total,sum --router optimal
