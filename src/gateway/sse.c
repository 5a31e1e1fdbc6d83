/* sse.c: incremental SSE event splitter (sse.h). Events end at an empty line ("\n\n", "\r\n\r\n"
 * or "\n\r\n"); bytes are never altered. Memory use is one unfinished event per stream. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

void gw_sse_init(gw_sse *s) { memset(s, 0, sizeof *s); }

void gw_sse_free(gw_sse *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

bool gw_sse_feed(gw_sse *s, const char *data, size_t len, gw_sse_cb cb, void *arg)
{
    if (len == 0)
        return true;
    if (s->len + len > s->cap) {
        size_t nc = s->cap ? s->cap : 1024;
        while (nc < s->len + len)
            nc *= 2;
        char *nb = realloc(s->buf, nc);
        if (!nb)
            return false;
        s->buf = nb;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    size_t start = 0, i = s->scan;
    bool ok = true;
    while (i < s->len) {
        if (s->buf[i] == '\n') {
            /* blank line: the next line is empty (\n) or \r\n */
            size_t j = i + 1;
            if (j < s->len && s->buf[j] == '\r')
                j++;
            if (j < s->len && s->buf[j] == '\n') {
                size_t end = j + 1;
                if (ok && !cb(arg, s->buf + start, end - start))
                    ok = false;
                start = end;
                i = end;
                continue;
            }
            if (j >= s->len)
                break; /* need more bytes to decide */
        }
        i++;
    }
    if (start) {
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
        i -= start;
    }
    s->scan = i;
    return ok;
}

bool gw_sse_is_usage_only_chunk(const char *ev, size_t len)
{
    return memmem(ev, len, "\"choices\":[]", 12) && memmem(ev, len, "\"usage\":{", 9);
}
