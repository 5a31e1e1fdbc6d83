/* csvin.c: reading CSV records (csvin.h). */
#include "csvin.h"

int ic__csv_split(char *s, size_t len, char **f, int maxf)
{
    int n = 0;
    size_t i = 0;
    for (;;) {
        if (n == maxf)
            return -1;
        char *w = s + i, *start = w;
        if (i < len && s[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                *w++ = s[i++];
            }
            if (i < len && s[i] != ',')
                return -1;
        } else {
            while (i < len && s[i] != ',')
                *w++ = s[i++];
        }
        f[n++] = start;
        bool more = i < len && s[i] == ',';
        *w = 0;
        if (!more)
            break;
        i++;
    }
    return n;
}

bool ic__csv_quotes_open(const char *s, size_t len)
{
    bool in = false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '"')
            in = !in;
    return in;
}
