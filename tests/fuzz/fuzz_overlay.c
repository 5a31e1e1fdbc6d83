/* fuzz_overlay.c: libFuzzer target for ic_catalog_overlay_text on a small base catalog, then pricing/resolving every model.
 * The checks live in harness.h (shared with tests/unit/test_fuzz_regress.c). Not part of the
 * library or the normal build: tests/fuzz/build.sh builds it. */
#include "entry.h"

FZ_ENTRY(overlay)
