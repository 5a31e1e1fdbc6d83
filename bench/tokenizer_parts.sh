#!/usr/bin/env bash
# bench/tokenizer_parts.sh: where a count call's time goes, for two versions of the tokenizer side
# by side. Builds the tokenizer sources of git revision A (or a directory holding them) and of B
# (default: the working tree) each into a shared object with bench/tokenizer_parts_lib.c, and runs
# bench/tokenizer_parts.c: cumulative stages of a count call (pre-split, key and hash,
# whole-piece probes, the whole call) and the merge alone over the distinct non-token
# pieces by kind, the two versions taking turns. Needs the inputs of bench/tokenizer.sh and
# `make all` (build/embedded.o).
# Usage: bench/tokenizer_parts.sh A [B] [REPS (default 15)] [ENCODING (default o200k_base)] [FILE...]
set -eu
cd "$(dirname "$0")/.."
a=${1:?usage: bench/tokenizer_parts.sh A [B] [REPS] [ENCODING] [FILE...]}
b=${2:-tree}
reps=${3:-15}
enc=${4:-o200k_base}
shift $(($# < 4 ? $# : 4))
files=${*:-build/bench/tok/multilingual.txt}
W=build/bench/tokparts
rm -rf "$W"
mkdir -p "$W"
. bench/tok_sources.sh
so() { # revision-or-dir-or-"tree", name
    local d="$W/$2"
    tok_sources "$1" "$d"
    cc -std=c11 -D_GNU_SOURCE -O2 -g -fPIC -shared -Iinclude -I"$d" -Isrc/lib -Ibuild \
        bench/tokenizer_parts_lib.c $tok_support \
        -lpthread -lm -o "$W/$2.so"
}
so "$a" a
so "$b" b
cc -std=c11 -D_GNU_SOURCE -O2 -Ibench bench/tokenizer_parts.c -ldl -o "$W/tokenizer_parts"
echo "A = $a, B = $b; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$W/tokenizer_parts" "$PWD/$W/a.so" "$PWD/$W/b.so" "$enc" "$reps" $files
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
