/* fuzz_merge.c: libFuzzer target for the byte-pair merge of one piece (any bytes; the first picks
 * the encoding) against the plain heap merge. The check lives in harness_merge.h (shared with
 * tests/unit/test_fuzz_regress.c). Not part of the library or the normal build: tests/fuzz/build.sh
 * builds it. */
#include "harness_merge.h"
#include "entry.h"

FZ_ENTRY(merge)
