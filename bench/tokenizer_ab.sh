#!/usr/bin/env bash
# bench/tokenizer_ab.sh: in-process A/B of the tokenizer on a shared machine. Compiles the
# tokenizer sources (src/lib/{tokenizer,bpe,bpe_backtrack,pretokenize}.c and their headers) of
# git revision A (or a directory holding them) and of B (default: the working tree), partially
# links each into one object whose only global symbols are the entry points, renamed A_* and
# B_*, and runs bench/tokenizer_ab.c: the two versions alternate call by call on the inputs of
# bench/tokenizer.sh, so the load of the other sessions weighs on both alike. Prints best and
# median MB/s (thread CPU time) and the ratios B/A. Needs the inputs (bench/tokenizer.sh makes
# them) and `make all` (build/embedded.o).
# Usage: bench/tokenizer_ab.sh A [B] [REPS (default 20)] [ENCODING...]; IC_AB_FILES (a space-separated
# list) replaces the five inputs.
set -eu
cd "$(dirname "$0")/.."
a=${1:?usage: bench/tokenizer_ab.sh A [B] [REPS] [ENCODING...]}
b=${2:-tree}
reps=${3:-20}
shift $(($# < 3 ? $# : 3))
encs=${*:-o200k_base cl100k_base}
W=build/bench/tokab
rm -rf "$W"
mkdir -p "$W"
. bench/tok_sources.sh
srcs() { # revision-or-dir-or-"tree", name -> directory with the sources
    tok_sources "$1" "$W/$2"
    echo "$W/$2"
}
obj() { # prefix dir -> object
    local p=$1 d=$2
    for f in tokenizer bpe bpe_backtrack pretokenize; do
        cc -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -I"$d" -Isrc/lib -c "$d/$f.c" -o "$d/$f.o"
    done
    ld -r -o "$d/all.o" "$d"/tokenizer.o "$d"/bpe.o "$d"/bpe_backtrack.o "$d"/pretokenize.o
    objcopy -G ic_tokenizer_open -G ic_tokenizer_count -G ic_tokenizer_free "$d/all.o" "$d/g.o"
    objcopy --redefine-sym ic_tokenizer_open=${p}_ic_tokenizer_open \
        --redefine-sym ic_tokenizer_count=${p}_ic_tokenizer_count \
        --redefine-sym ic_tokenizer_free=${p}_ic_tokenizer_free "$d/g.o" "$W/$p.o"
}
obj A "$(srcs "$a" a)"
obj B "$(srcs "$b" b)"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude bench/tokenizer_ab.c "$W/A.o" "$W/B.o" $tok_support \
    -lpthread -lm -o "$W/tokenizer_ab"
T=build/bench/tok
files=${IC_AB_FILES:-$T/multilingual.txt $T/messages.txt $T/cjk.txt $T/english.txt $T/code.txt}
echo "A = $a, B = $b; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for e in $encs; do
    # shellcheck disable=SC2086
    "$W/tokenizer_ab" "$e" "$reps" $files
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
