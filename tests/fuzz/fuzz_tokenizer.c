/* fuzz_tokenizer.c: libFuzzer target for the tokenizer on any bytes (the first byte picks the
 * encoding and whether special tokens are recognised). The checks live in harness_tokenizer.h
 * (shared with tests/unit/test_fuzz_regress.c). Not part of the library or the normal build:
 * tests/fuzz/build.sh builds it. */
#include "harness_tokenizer.h"
#include "entry.h"

FZ_ENTRY(tokenizer)
