/* harness_redact.h: the check of fuzz_redact (provider keys cut out of text, ic_redact_keys in
 * status.h), shared with the regression replay (tests/unit/test_fuzz_regress.c). Properties: the
 * text never grows; what comes out holds no key the library would recognise (ic__has_key); a
 * second pass changes nothing; a text without "sk-" or "AIza" comes out as it went in; every
 * error message (ic_error_set, cut to its buffer or not) holds no key characters past a prefix's
 * first 6 when the input was a whole key. fz_redact returns 0 when the input passed, or 1 with the
 * reason in why[]. It must not print. */
#ifndef IC_FUZZ_HARNESS_REDACT_H
#define IC_FUZZ_HARNESS_REDACT_H

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "infercost/status.h"
#include "redact.h"

static int fz_redact(const uint8_t *data, size_t size, char *why, size_t cap)
{
    if (size > 1 << 16)
        return 0;
    char *a = malloc(size + 1), *b = malloc(size + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memcpy(a, data, size);
    size_t n = ic_redact_keys(a, size);
    int bad = 0;
    if (n > size) {
        snprintf(why, cap, "redaction grew the text: %zu -> %zu bytes", size, n);
        bad = 1;
    } else if (ic__has_key(a, n)) {
        snprintf(why, cap, "a key is left after redaction");
        bad = 1;
    } else {
        memcpy(b, a, n);
        size_t m = ic_redact_keys(b, n);
        if (m != n || memcmp(a, b, n)) {
            snprintf(why, cap, "a second redaction changed the text (%zu -> %zu bytes)", n, m);
            bad = 1;
        } else if (!memmem(data, size, "sk-", 3) && !memmem(data, size, "AIza", 4) &&
                   (n != size || memcmp(a, data, size))) {
            snprintf(why, cap, "a text without a key prefix was changed");
            bad = 1;
        }
    }
    if (!bad && size && !memchr(data, 0, size)) {
        /* a message quoting the text, cut to its buffer at every length: no key survives */
        memcpy(b, data, size);
        b[size] = 0;
        ic_error e;
        ic_error_set(&e, IC_ERR_INVALID, "value \"%s\"", b);
        if (ic__has_key(e.msg, strlen(e.msg))) {
            snprintf(why, cap, "a key is left in an error message");
            bad = 1;
        }
    }
    free(a);
    free(b);
    return bad;
}

#endif
