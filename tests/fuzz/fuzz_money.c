/* fuzz_money.c: libFuzzer target for ic_decimal_parse / ic_money_of / ic_money_format / ic_money_parse round trips against a bignum check.
 * The checks live in harness.h (shared with tests/unit/test_fuzz_regress.c). Not part of the
 * library or the normal build: tests/fuzz/build.sh builds it. */
#include "entry.h"

FZ_ENTRY(money)
