/* fuzz_stream.c: libFuzzer target for ic_usage_extract_stream / ic_usage_extract on SSE text; the first byte picks provider and flavour.
 * The checks live in harness.h (shared with tests/unit/test_fuzz_regress.c). Not part of the
 * library or the normal build: tests/fuzz/build.sh builds it. */
#include "entry.h"

FZ_ENTRY(stream)
