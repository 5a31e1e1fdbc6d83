/* redact.c: provider keys cut out of text that leaves the library (redact.h). ic_error_set runs
 * every error message through it (and the CLI its own, through ic_redact_keys), ingest every
 * refused line, and ingest refuses an event whose kept metadata holds one. */
#include "redact.h"

#include "infercost/status.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* "sk-" or "AIza" at p: the prefix's length, or 0 */
static size_t prefix_at(const char *p, size_t left)
{
    return left >= 3 && !memcmp(p, "sk-", 3) ? 3 : left >= 4 && !memcmp(p, "AIza", 4) ? 4 : 0;
}

static bool keych(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_'; }

/* a key can start at s[i]: not inside a word. In JSON text (a refused line, the tags) the
 * character before may end an escape, \n or \u000a, and still start a word */
static bool starts(const char *s, size_t i)
{
    if (s[i] != 's' && s[i] != 'A')
        return false;
    if (i == 0 || !isalnum((unsigned char)s[i - 1]))
        return true;
    if (i >= 2 && s[i - 2] == '\\' && strchr("nrtbf", s[i - 1]))
        return true;
    if (i >= 6 && s[i - 6] == '\\' && s[i - 5] == 'u' && isxdigit((unsigned char)s[i - 4]) &&
        isxdigit((unsigned char)s[i - 3]) && isxdigit((unsigned char)s[i - 2]) &&
        isxdigit((unsigned char)s[i - 1]))
        return true;
    return false;
}

/* the length of the key at s[i] (prefix and key characters, at least 16 of those), or 0 */
static size_t key_at(const char *s, size_t i, size_t n)
{
    size_t pre = prefix_at(s + i, n - i);
    if (!pre)
        return 0;
    size_t k = pre;
    while (i + k < n && keych(s[i + k]))
        k++;
    return k - pre >= 16 ? k : 0;
}

int ic__has_key(const char *s, size_t n)
{
    for (size_t i = 0; i + 19 <= n; i++)
        if (starts(s, i) && key_at(s, i, n))
            return 1;
    return 0;
}

/* Left to right, the text shifted as each key shrinks, so that every test reads the text as it
 * was around the key. What may be part of a key is starred after its prefix, at its length: 8 to
 * 15 key characters (a key cut by a message's %.40s, say), or any number that runs to the end of
 * the text (a message cut to its buffer, a line cut to 200 bytes). */
size_t ic_redact_keys(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!starts(s, i))
            continue;
        size_t k = key_at(s, i, n);
        if (k) {
            memcpy(s + i + 6, "[redacted]", 10);
            memmove(s + i + 16, s + i + k, n - i - k);
            n -= k - 16;
            i += 15;
            continue;
        }
        size_t pre = prefix_at(s + i, n - i), e = i + pre;
        while (pre && e < n && keych(s[e]))
            e++;
        if (pre && (e - i - pre >= 8 || (e == n && e > i + pre))) {
            memset(s + i + pre, '*', e - i - pre);
            i = e - 1;
        }
    }
    return n;
}
