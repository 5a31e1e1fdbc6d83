/* server.h: the gateway process state shared by server.c (start, listen, signals, drain) and
 * proxy.c (the request path). One event loop thread owns all of it; the spool writer and the
 * ledger sink are the only other threads and touch only the spool and the ledger. */
#ifndef IC_GW_SERVER_H
#define IC_GW_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "infercost/catalog.h"
#include "budget.h"
#include "cache.h"
#include "config.h"
#include "ledger_sink.h"
#include "metrics.h"
#include "spool.h"
#include "upstream.h"

struct event_base;
struct evhttp;
struct evbuffer;
struct event;
struct evhttp_bound_socket;
struct evhttp_request;
struct gw_call;

typedef struct gw_server {
    gw_config *cfg;
    ic_catalog *cat;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    gw_up *up;
    gw_spool *spool;
    gw_ledger_sink *ledger; /* NULL unless the config names a ledger */
    const gw_budget_ops *bops;
    void *bstore;
    struct gw_budget_sync *bsync; /* NULL unless the config names a budget_store */
    const gw_cache_ops *cops;
    void *cstore;
    gw_metrics m;
    int alog_fd;            /* -1: no access log */
    struct evbuffer *alog;
    struct event *alog_timer;
    char idprefix[32];
    uint64_t seq;
    bool draining;
    struct gw_call *calls;  /* in flight, for shutdown */
    struct gw_call *free_calls; /* recycled calls (proxy.c), at most GW_FREE_CALLS */
    int nfree_calls;
    struct json_tokener *tok;   /* the request parser, reused */
    struct ic_count_cache *counts; /* token counters kept from request to request (estimate.h) */
    int64_t ts_sec;             /* event timestamps: the second ts_prefix holds */
    char ts_prefix[24];
    int64_t date_sec;           /* the response Date header: the second date holds */
    char date[40];
    const struct ic_provider *prov_openai, *prov_anthropic; /* usage extractors, found once */
    bool need_prompt_text;  /* some route matches keywords/regex (or tokens, on a non-chat API) */
    bool need_prompt_tokens;/* some route matches min/max_prompt_tokens */
} gw_server;

#define GW_FREE_CALLS 256

/* the evhttp request callback (proxy.c) */
void gw_proxy_handle(struct evhttp_request *req, void *arg);
/* cancel and free whatever is still in flight (at exit after the drain timeout) */
void gw_proxy_abort_all(gw_server *s);
/* free the recycled calls and the parser (at exit) */
void gw_proxy_free_pool(gw_server *s);
/* flush the buffered access log (timer and exit) */
void gw_access_log_flush(gw_server *s);

#endif
