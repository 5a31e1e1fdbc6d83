#!/usr/bin/env bash
# tests/fuzz/build.sh: builds the libFuzzer targets (fuzz_record, fuzz_overlay, fuzz_stream,
# fuzz_money for the pricing core; fuzz_tokenizer, fuzz_chat, fuzz_merge for token counting and
# estimates; fuzz_routecsv, fuzz_redact; fuzz_gentext for the gateway's reading of generated
# text) into build-fuzz/ with clang, ASan and UBSan, compiling the library sources directly
# (the Makefile uses gcc, which has no libFuzzer). The price feed, the unit registry and the two encodings' ranks are
# embedded. It never touches build/.
# Usage: tests/fuzz/build.sh [target...]     (run from anywhere; output in build-fuzz/)
#        tests/fuzz/build.sh tsan            (ThreadSanitizer driver build-fuzz/tsan_cost)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build-fuzz
CC=${CC:-clang}
mkdir -p "$B/obj"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(record overlay stream money tokenizer chat merge routecsv redact gentext)

# FZ_SRC=head: build from the last commit's src/lib and include (git archive), not the working
# tree, when someone is in the middle of editing the library
SRC=.
if [ "${FZ_SRC:-}" = head ]; then
    SRC=$B/head
    rm -rf "$SRC" && mkdir -p "$SRC"
    git archive HEAD src/lib include | tar -x -C "$SRC"
    B=$B/headbuild
    mkdir -p "$B/obj"
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $SAN -Wall -Wextra -Wno-missing-field-initializers -I$SRC/include -I$SRC/src/lib -I$B"
# the pricing core, the tokenizer and estimates, the routing evaluation, and what they need;
# nothing of the ledger or the gateway
LIB=(arena catalog csvin fileread litellm match money pricing record redact status timeutil units usage usage_stream
     tokenizer bpe bpe_backtrack pretokenize unicode_tables estimate route_eval strmap)

if [ ! -x "$B/embed" ] || [ tools/embed.c -nt "$B/embed" ]; then
    $CC -std=c11 -O2 tools/embed.c -o "$B/embed"
fi
EMBED=(data/genai-prices/data.json data/genai-prices/units.yml data/tokenizer/*.tiktoken)
if [ ! -f "$B/embedded.c" ] || [ -n "$(find "${EMBED[@]}" -newer "$B/embedded.c" | head -n1)" ] ||
   ! grep -q tiktoken "$B/embedded.c"; then
    "$B/embed" "$B/embedded.c" "${EMBED[@]}"
fi
objs=()
for f in "${LIB[@]}"; do
    o="$B/obj/$f.o"
    if [ ! -f "$o" ] || [ "$SRC/src/lib/$f.c" -nt "$o" ] || [ -n "$(find $SRC/include $SRC/src/lib -name '*.h' -newer "$o" | head -n1)" ]; then
        $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$SRC/src/lib/$f.c" -o "$o"
    fi
    objs+=("$o")
done
[ -f "$B/obj/embedded.o" ] && [ "$B/obj/embedded.o" -nt "$B/embedded.c" ] ||
    $CC -std=c11 -O0 -c "$B/embedded.c" -o "$B/obj/embedded.o"
objs+=("$B/obj/embedded.o")
if [ "${targets[0]}" = tsan ]; then
    # ThreadSanitizer driver (tsan_cost.c): its own objects, no libFuzzer
    TFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -I$SRC/include -I$SRC/src/lib"
    mkdir -p "$B/tsan"
    tobjs=()
    for f in "${LIB[@]}"; do
        $CC $TFLAGS -c "$SRC/src/lib/$f.c" -o "$B/tsan/$f.o"
        tobjs+=("$B/tsan/$f.o")
    done
    $CC $TFLAGS tests/fuzz/tsan_cost.c "${tobjs[@]}" "$B/obj/embedded.o" -ljson-c -lpcre2-8 -lyaml -lpthread -lm -o "$B/tsan_cost"
    echo "built $B/tsan_cost"
    exit 0
fi
for t in "${targets[@]}"; do
    $CC $CFLAGS -fsanitize=fuzzer -DFZ_BASE_CATALOG="\"$PWD/tests/fuzz/base_catalog.json\"" \
        "tests/fuzz/fuzz_$t.c" "${objs[@]}" -ljson-c -lpcre2-8 -lyaml -lpthread -lm -o "$B/fuzz_$t"
    echo "built $B/fuzz_$t"
done
