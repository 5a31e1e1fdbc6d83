/* fuzz_record.c: libFuzzer target for one input line: ic_record_parse (fast and json-c paths compared), ic_record_price, ic_cost_to_json.
 * The checks live in harness.h (shared with tests/unit/test_fuzz_regress.c). Not part of the
 * library or the normal build: tests/fuzz/build.sh builds it. */
#include "entry.h"

FZ_ENTRY(record)
