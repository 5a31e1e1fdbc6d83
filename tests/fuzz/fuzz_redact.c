/* fuzz_redact.c: libFuzzer target for the redaction of provider keys (ic_redact_keys, and
 * ic_error_set's messages). The checks live in harness_redact.h (shared with
 * tests/unit/test_fuzz_regress.c). Not part of the library or the normal build:
 * tests/fuzz/build.sh builds it. */
#include "harness_redact.h"
#include "entry.h"

FZ_ENTRY(redact)
