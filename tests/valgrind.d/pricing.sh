# valgrind cases for the pricing core (sourced by tests/valgrind.sh)
head -n 200 data/examples/workload.jsonl > "$TMP/w.jsonl"
printf '%s\n' '{"model":"nope"}' '{bad' '{"model":"gpt-4o","usage":{"input_tokens":-1}}' >> "$TMP/w.jsonl"
check "cost (200 lines + errors)" "$IC" cost --threads 2 "$TMP/w.jsonl"
check "cost --summary" "$IC" cost --summary "$TMP/w.jsonl"
check "price with history" "$IC" price gpt-5.6-luna --provider openai --at 2026-08-01
check "models search" "$IC" models sonnet
check "models without prices" "$IC" models mai-ds
printf '%s\n' '{"x-model":{"litellm_provider":"openai","input_cost_per_token":1e-06}}' > "$TMP/ll.json"
check "cost with a LiteLLM overlay" "$IC" cost --overlay "$TMP/ll.json" "$TMP/w.jsonl"
