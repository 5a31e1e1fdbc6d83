/* redact.c: provider keys cut out of text that leaves the library (redact.h). ic_error_set runs
 * every error message through it (and the CLI its own, through ic_redact_keys), ingest every
 * refused line, and ingest refuses an event whose kept metadata holds one. */
#include "redact.h"

#include "infercost/status.h"

#include <ctype.h>
#include <string.h>

/* the length of the key starting at p (p < e), or 0 if none starts there */
static size_t key_at(const char *p, const char *e)
{
    size_t left = (size_t)(e - p);
    size_t pre = left >= 3 && !memcmp(p, "sk-", 3) ? 3 : left >= 4 && !memcmp(p, "AIza", 4) ? 4 : 0;
    if (!pre)
        return 0;
    size_t n = pre;
    while (n < left && (isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_'))
        n++;
    return n - pre >= 16 ? n : 0;
}

/* a key can start at s[i]: 's' or 'A' not inside a word */
static int starts(const char *s, size_t i)
{
    return (s[i] == 's' || s[i] == 'A') && (i == 0 || !isalnum((unsigned char)s[i - 1]));
}

int ic__has_key(const char *s, size_t n)
{
    for (size_t i = 0; i + 19 <= n; i++)
        if (starts(s, i) && key_at(s + i, s + n))
            return 1;
    return 0;
}

size_t ic_redact_keys(char *s, size_t len) { return ic__redact_keys(s, len); }

size_t ic__redact_keys(char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t k = starts(s, i) ? key_at(s + i, s + n) : 0;
        if (!k) {
            s[w++] = s[i++];
            continue;
        }
        memmove(s + w, s + i, 6);
        memcpy(s + w + 6, "[redacted]", 10);
        w += 16;
        i += k;
    }
    return w;
}
