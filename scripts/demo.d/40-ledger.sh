#!/usr/bin/env bash
# scripts/demo.d/40-ledger.sh: the ledger on a small AI product's last 90 days: generate a
# deterministic workload (8 customers, 4 features, 5 models, agent tasks, growth) and its revenue,
# ingest it (twice: the second run adds nothing), then report, margin, a routing evaluation, what-if and forecast.
set -eu
L="$DEMO/ledger.db"
rm -f "$L" "$L-wal" "$L-shm" "$L.rejects.jsonl"
echo "== ledger: a 90-day workload of a small AI product"
"$IC" generate-workload --days 90 --seed 42 --out "$DEMO/workload.jsonl" --revenue "$DEMO/revenue.csv"
echo "\$ infercost ingest --ledger $L workload.jsonl   (twice: idempotent)"
"$IC" ingest --ledger "$L" "$DEMO/workload.jsonl"
"$IC" ingest --ledger "$L" "$DEMO/workload.jsonl"
"$IC" revenue import --ledger "$L" "$DEMO/revenue.csv"
echo
echo "\$ infercost report --by model"
"$IC" report --ledger "$L" --by model
echo
echo "\$ infercost report --by feature --percentiles --month 2026-08"
"$IC" report --ledger "$L" --by feature --percentiles --month 2026-08 | sed -n '1,8p'
echo
echo "\$ infercost margin"
"$IC" margin --ledger "$L" || true # exit 1: a customer is under water
echo
echo "\$ infercost route-eval --set gsm8k   (what a routing rule keeps: RouteLLM's GSM8K, GPT-4 vs Mixtral)"
"$IC" route-eval --set gsm8k --router random --router prompt-tokens --router 'regex:(?i)how many|total' --router optimal
echo
echo "\$ infercost whatif --swap claude-sonnet-4-5=claude-haiku-4-5 --share 64 --share-by input-tokens --by customer"
echo "  (that prompt-size rule on this product's traffic: the longest 36% of prompts stay on Sonnet)"
"$IC" whatif --ledger "$L" --swap claude-sonnet-4-5=claude-haiku-4-5 --share 64 --share-by input-tokens --by customer
echo
echo "\$ infercost whatif --batch --feature summarize"
"$IC" whatif --ledger "$L" --batch --feature summarize
echo
echo "\$ infercost whatif --response-cache 1d --feature search"
echo "  (the gateway's response cache, replayed on the search calls' request hashes)"
"$IC" whatif --ledger "$L" --response-cache 1d --feature search
echo
echo "\$ infercost forecast --months 12"
"$IC" forecast --ledger "$L" --months 12
"$IC" export --format focus --ledger "$L" --out "$DEMO/focus.csv"
echo
echo "\$ infercost dashboard --out build/demo/dashboard.html   (one HTML page: open it in a browser)"
"$IC" dashboard --ledger "$L" --out "$DEMO/dashboard.html"
