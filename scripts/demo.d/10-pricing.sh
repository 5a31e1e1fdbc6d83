#!/usr/bin/env bash
# demo step: price the shipped example workload (data/examples/workload.jsonl: 3,000 calls over
# February 2026, five providers, prompt caching and reasoning tokens) and summarize it.
set -eu
echo "== infercost cost: one exact, itemized price per call (first 2 of 3,000 lines)"
"$IC" cost data/examples/workload.jsonl > "$DEMO/priced.jsonl"
head -n 2 "$DEMO/priced.jsonl"
echo
echo "== infercost cost --summary data/examples/workload.jsonl"
"$IC" cost --summary data/examples/workload.jsonl
echo
echo "== infercost price claude-sonnet-4-5 --provider anthropic --at 2026-02-15"
"$IC" price claude-sonnet-4-5 --provider anthropic --at 2026-02-15 | head -n 15
echo
