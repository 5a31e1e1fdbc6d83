/* sse.h: an incremental Server-Sent-Events splitter for the proxy: bytes in as they arrive from a
 * provider, whole events out (each with its terminating blank line, byte for byte), so that the
 * gateway forwards complete events without further buffering and can look at each one (usage,
 * injected include_usage chunk). It does not parse JSON. */
#ifndef IC_GW_SSE_H
#define IC_GW_SSE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_sse {
    char *buf;
    size_t len, cap, scan;
} gw_sse;

/* Called per complete event (text includes the final "\n\n" / "\r\n\r\n"). Return false to stop. */
typedef bool (*gw_sse_cb)(void *arg, const char *ev, size_t len);

void gw_sse_init(gw_sse *s);
void gw_sse_free(gw_sse *s);
/* Feed bytes; returns false on out of memory or when cb stopped. */
bool gw_sse_feed(gw_sse *s, const char *data, size_t len, gw_sse_cb cb, void *arg);
/* Bytes of an unfinished event left at the end of the stream (sent as is by the caller). */
static inline size_t gw_sse_pending(const gw_sse *s) { return s->len; }

/* True if the event is an OpenAI chat chunk carrying only usage ("choices":[] and a usage
 * object): the chunk stream_options.include_usage adds. */
bool gw_sse_is_usage_only_chunk(const char *ev, size_t len);

#endif
