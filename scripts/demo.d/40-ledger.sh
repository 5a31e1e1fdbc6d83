#!/usr/bin/env bash
# scripts/demo.d/40-ledger.sh: the ledger on a small AI product's last 90 days: generate a
# deterministic workload (8 customers, 4 features, 5 models, agent tasks, growth) and its revenue,
# ingest it (twice: the second run adds nothing), then report, margin, what-if and forecast.
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
echo "\$ infercost whatif --swap claude-sonnet-4-5=claude-haiku-4-5 --share 50 --by customer"
"$IC" whatif --ledger "$L" --swap claude-sonnet-4-5=claude-haiku-4-5 --share 50 --by customer
echo
echo "\$ infercost whatif --batch --feature summarize"
"$IC" whatif --ledger "$L" --batch --feature summarize
echo
echo "\$ infercost forecast --months 12"
"$IC" forecast --ledger "$L" --months 12
"$IC" export --format focus --ledger "$L" --out "$DEMO/focus.csv"
