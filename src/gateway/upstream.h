/* upstream.h: the gateway's HTTP client to providers: libcurl's multi interface driven by the
 * gateway's libevent loop (one multi handle, connection reuse/keep-alive pools, TLS and HTTP/2
 * from curl). A call streams the response to callbacks as bytes arrive; it never blocks the loop.
 * It knows nothing about routing, pricing or budgets. */
#ifndef IC_GW_UPSTREAM_H
#define IC_GW_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

typedef struct gw_up gw_up;         /* the client (one per event loop) */
typedef struct gw_up_call gw_up_call;

enum { GW_UP_OK = 0, GW_UP_PAUSE = 1, GW_UP_ABORT = -1 };

typedef struct gw_up_cb {
    /* first body bytes (or end with no body) of a response: HTTP status, Content-Type, and the
     * provider headers worth passing to the client ("Name: value\n" lines: request ids, rate
     * limits, Retry-After, processing time; never an organization or project id) */
    void (*on_head)(void *arg, int status, const char *content_type, const char *pass_headers);
    /* body bytes as they arrive: return GW_UP_OK (consumed), GW_UP_PAUSE (not consumed: the
     * same bytes come again after gw_up_resume) or GW_UP_ABORT */
    int (*on_data)(void *arg, const char *data, size_t len);
    /* the call ended: ok, or a transport error (message in err, never containing a key); sent:
     * the request's body went out, at least in part (a timeout then may still be billed), as
     * against an error before (no connection, a name that does not resolve, a proxy refusing) */
    void (*on_done)(void *arg, bool ok, bool sent, const char *err);
} gw_up_cb;

gw_up *gw_up_new(struct event_base *base, long connect_timeout_ms);
void gw_up_free(gw_up *u);

/* Start a POST (body != NULL) or GET. headers: NULL-terminated "Name: value" strings (copied).
 * The body is copied. Returns NULL on setup failure. */
gw_up_call *gw_up_start(gw_up *u, const char *url, const char *const *headers, const char *body,
                        size_t len, long timeout_ms, const gw_up_cb *cb, void *arg);
/* Cancel a call that has not ended; no callback follows. Not from inside a callback. */
void gw_up_cancel(gw_up_call *c);
/* Whether a call that has not ended has sent body bytes or had an answer begin (on_done's
 * "sent", asked before the end) */
bool gw_up_sent(gw_up_call *c);
int gw_up_active(const gw_up *u);
/* Resume a call whose on_data returned GW_UP_PAUSE. Not from inside a callback. */
void gw_up_resume(gw_up_call *c);

#endif
