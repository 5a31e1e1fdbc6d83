/* fuzz_routecsv.c: libFuzzer target for a routing evaluation set given as a CSV
 * (ic_route_set_load_csv, then ic_route_eval_run with every kind of router). The checks live in
 * harness_route.h (shared with tests/unit/test_fuzz_regress.c). Not part of the library or the
 * normal build: tests/fuzz/build.sh builds it. */
#include "harness_route.h"
#include "entry.h"

FZ_ENTRY(routecsv)
