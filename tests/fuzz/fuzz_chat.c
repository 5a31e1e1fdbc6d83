/* fuzz_chat.c: libFuzzer target for counting and estimating a chat/completions request body
 * (ic_chat_count_request, its count-cache form, ic_estimate_request). The checks live in
 * harness_tokenizer.h (shared with tests/unit/test_fuzz_regress.c). Not part of the library or
 * the normal build: tests/fuzz/build.sh builds it. */
#include "harness_tokenizer.h"
#include "entry.h"

FZ_ENTRY(chat)
