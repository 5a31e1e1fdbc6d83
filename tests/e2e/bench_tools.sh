#!/usr/bin/env bash
# tests/e2e/bench_tools.sh: the tokenizer's before/after tools (bench/tokenizer_ab.sh,
# tokenizer_parts.sh, tokenizer_cpu.sh) still build and run. They compile the tokenizer's sources
# by hand against a list of the library's other files (bench/tok_sources.sh), which a change
# elsewhere in the library can silently break, as status.c calling redact.c once did. One short
# round each on a small input, HEAD against the working tree; the figures are not checked.
# Prints "P passed, F failed".
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/common.bash
[ -f build/embedded.o ] || make -s build/embedded.o >/dev/null
in="$T/in.txt"
for _ in $(seq 40); do
    cat README.md
    printf '数据处理和分析。 Обработка данных. Ελληνικά κείμενα. हिन्दी पाठ. it'"'"'S 12345\n'
done > "$in"

out=$(IC_AB_FILES="$in" bash bench/tokenizer_ab.sh HEAD tree 1 o200k_base 2>&1)
expect_has "tokenizer_ab runs" "$out" "B/A med"
out=$(bash bench/tokenizer_parts.sh HEAD tree 1 cl100k_base "$in" 2>&1)
expect_has "tokenizer_parts runs" "$out" "merge all"
out=$(IC_CPU_FILES="$in" bash bench/tokenizer_cpu.sh HEAD 1 1 2>&1)
expect_has "tokenizer_cpu runs" "$out" "tree      o200k_base"
finish
