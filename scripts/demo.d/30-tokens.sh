#!/usr/bin/env bash
# scripts/demo.d/30-tokens.sh: token counting before a call: exact tiktoken counts for OpenAI
# models (o200k_base, cl100k_base), a labelled estimate for Claude, and the pre-request cost of
# a chat request with its worst case.
set -eu
printf 'The quick brown fox can'"'"'t jump over 1234567 lazy dogs.\n日本語のテキストも数えます。\n' > "$DEMO/text.txt"
echo "== infercost count: exact tiktoken ids, as OpenAI counts them"
echo "\$ infercost count --ids text.txt"
"$IC" count --ids "$DEMO/text.txt"
echo "\$ infercost count --model gpt-4 --lines text.txt"
"$IC" count --model gpt-4 --lines "$DEMO/text.txt"
echo "\$ infercost count --model claude-sonnet-4-5 text.txt   (no public tokenizer: an estimate)"
"$IC" count --model claude-sonnet-4-5 "$DEMO/text.txt"
echo
echo "== infercost estimate: what a request will cost, before it is sent"
echo "\$ infercost estimate examples/request.json"
"$IC" estimate examples/request.json
echo "\$ infercost estimate --model claude-sonnet-4-5 examples/request.json"
"$IC" estimate --model claude-sonnet-4-5 examples/request.json
echo
