/* fuzz_gentext.c: libFuzzer target for the gateway's reading of generated text from stream events
 * and answers (src/gateway/gentext.c). The checks live in harness_gentext.h (shared with
 * tests/unit/test_fuzz_regress.c). Not part of the normal build: tests/fuzz/build.sh builds it. */
#include "entry.h"
#include "harness_gentext.h"

FZ_ENTRY(gentext)
