/* upstream.c: libcurl multi driven by libevent (curl's socket/timer callbacks register events in
 * the gateway's loop), so thousands of upstream calls share one thread without blocking. Why
 * libcurl rather than libevent's own http client: providers are HTTPS (and HTTP/2 capable), and
 * curl brings TLS, proxies, HTTP/2 and a per-host connection pool; on the loopback bench the
 * per-call cost is a few µs (BENCHMARKS.md, gateway section). Easy handles are pooled and reused
 * so that their connection cache and DNS cache stay warm. It must never log headers: they carry
 * provider keys. */
#include "upstream.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

struct gw_up {
    struct event_base *base;
    bool no_proxy_env;          /* no proxy variable at start: tell curl, sparing its getenv()s */
    CURLM *multi;
    struct event *timer;
    long connect_timeout_ms;
    int active;
    CURL **pool;
    int npool, cappool;
    struct gw_up_call *free_calls; /* finished calls kept for reuse, at most FREE_CALLS */
    int nfree_calls;
};

/* A call is ~1.5 KiB (the header buffers): allocating and zeroing one per request was 1.6% of
 * the gateway's instructions (callgrind), so finished calls are kept, with their body buffer. */
#define FREE_CALLS 256
#define KEEP_BODY_BYTES (64u << 10) /* a reused call keeps a body buffer up to this size */

struct gw_up_call {
    gw_up *u;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    size_t bodycap;
    gw_up_cb cb;
    void *arg;
    bool head_sent;
    size_t npass;
    struct gw_up_call *next_free;
    /* not cleared on reuse (each is reset by its first byte or length) */
    char ctype[128];
    char pass[1024];
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct sockctx {
    struct event *ev;
    curl_socket_t fd;
    gw_up *u;
} sockctx;

static void head_once(gw_up_call *c)
{
    if (c->head_sent)
        return;
    c->head_sent = true;
    long code = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    c->pass[c->npass] = 0;
    c->cb.on_head(c->arg, (int)code, c->ctype, c->pass);
}

static void call_free(gw_up_call *c)
{
    gw_up *u = c->u;
    curl_multi_remove_handle(u->multi, c->easy);
    u->active--;
    curl_slist_free_all(c->hdrs);
    c->hdrs = NULL;
    if (u->npool < 256) {
        curl_easy_reset(c->easy);
        u->pool[u->npool++] = c->easy;
    } else
        curl_easy_cleanup(c->easy);
    c->easy = NULL;
    if (u->nfree_calls < FREE_CALLS && c->bodycap <= KEEP_BODY_BYTES) {
        c->next_free = u->free_calls;
        u->free_calls = c;
        u->nfree_calls++;
        return;
    }
    free(c->body);
    free(c);
}

/* a call with its header fields cleared: from the free list when it has one */
static gw_up_call *call_new(gw_up *u)
{
    gw_up_call *c = u->free_calls;
    if (!c) {
        c = calloc(1, sizeof *c);
        return c;
    }
    u->free_calls = c->next_free;
    u->nfree_calls--;
    char *body = c->body;
    size_t bodycap = c->bodycap;
    memset(c, 0, offsetof(gw_up_call, ctype));
    c->body = body;
    c->bodycap = bodycap;
    c->ctype[0] = 0;
    c->pass[0] = 0;
    c->errbuf[0] = 0;
    return c;
}

static void check_done(gw_up *u)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(u->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        gw_up_call *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        CURLcode rc = m->data.result;
        char err[CURL_ERROR_SIZE + 64];
        if (rc != CURLE_OK)
            snprintf(err, sizeof err, "%s%s%s", curl_easy_strerror(rc), c->errbuf[0] ? ": " : "",
                     c->errbuf);
        else
            err[0] = 0;
        if (rc == CURLE_OK)
            head_once(c);
        /* sent: body bytes went out (a proxy's CONNECT, or headers alone, do not bill a call) */
        curl_off_t sent = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_SIZE_UPLOAD_T, &sent);
        gw_up_cb cb = c->cb;
        void *arg = c->arg;
        call_free(c);
        cb.on_done(arg, rc == CURLE_OK, rc == CURLE_OK || sent > 0, rc == CURLE_OK ? NULL : err);
    }
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    gw_up *u = arg;
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(u->multi, fd, flags, &running);
    check_done(u);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_up *u = arg;
    int running;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(u);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    gw_up *u = userp;
    sockctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            event_free(sc->ev);
            free(sc);
            curl_multi_assign(u->multi, s, NULL);
        }
        return 0;
    }
    short ev = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
                       EV_PERSIST);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc)
            return -1;
        sc->fd = s;
        sc->u = u;
        sc->ev = event_new(u->base, s, ev, on_sock, u);
        curl_multi_assign(u->multi, s, sc);
        event_add(sc->ev, NULL);
        return 0;
    }
    /* only an actual change of interest touches epoll */
    if (event_get_events(sc->ev) == ev)
        return 0;
    event_del(sc->ev);
    event_assign(sc->ev, u->base, s, ev, on_sock, u);
    event_add(sc->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
    (void)m;
    gw_up *u = userp;
    if (ms < 0) {
        evtimer_del(u->timer);
        return 0;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(u->timer, &tv);
    return 0;
}

gw_up *gw_up_new(struct event_base *base, long connect_timeout_ms)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    gw_up *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->base = base;
    u->connect_timeout_ms = connect_timeout_ms;
    /* curl looks up the proxy variables (and no_proxy) with getenv() on every transfer; the
     * environment does not change under a running gateway, so when none is set, say so once */
    static const char *const PROXY_VARS[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                             "all_proxy", "ALL_PROXY", NULL};
    u->no_proxy_env = true;
    for (const char *const *v = PROXY_VARS; *v; v++)
        if (getenv(*v) && *getenv(*v))
            u->no_proxy_env = false;
    u->multi = curl_multi_init();
    u->timer = evtimer_new(base, on_timer, u);
    u->cappool = 256;
    u->pool = calloc((size_t)u->cappool, sizeof *u->pool);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, 4096L);
    curl_multi_setopt(u->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    return u;
}

void gw_up_free(gw_up *u)
{
    if (!u)
        return;
    for (int i = 0; i < u->npool; i++)
        curl_easy_cleanup(u->pool[i]);
    free(u->pool);
    while (u->free_calls) {
        gw_up_call *c = u->free_calls;
        u->free_calls = c->next_free;
        free(c->body);
        free(c);
    }
    curl_multi_cleanup(u->multi);
    event_free(u->timer);
    free(u);
}

int gw_up_active(const gw_up *u) { return u->active; }

static size_t write_cb(char *p, size_t sz, size_t n, void *arg)
{
    gw_up_call *c = arg;
    head_once(c);
    int r = c->cb.on_data(c->arg, p, sz * n);
    if (r == GW_UP_ABORT)
        return 0;
    if (r == GW_UP_PAUSE)
        return CURL_WRITEFUNC_PAUSE;
    return sz * n;
}

static size_t header_cb(char *p, size_t sz, size_t n, void *arg)
{
    gw_up_call *c = arg;
    size_t len = sz * n;
    static const char *const PASS[] = {"x-request-id:", "request-id:", "retry-after:",
                                       "x-ratelimit-", "anthropic-ratelimit-",
                                       "openai-processing-ms:", "openai-version:", NULL};
    if (len > 5 && !strncmp(p, "HTTP/", 5)) { /* a new response (after 1xx): start over */
        c->npass = 0;
        c->ctype[0] = 0;
        return len;
    }
    /* every name passed on starts with one of these letters (content-type: 'c'): most of a
     * response's header lines end here (callgrind: 1.3% of the instructions per call before) */
    char c0 = len ? (char)(p[0] | 0x20) : 0;
    if (c0 != 'x' && c0 != 'r' && c0 != 'a' && c0 != 'o' && c0 != 'c')
        return len;
    for (const char *const *h = PASS; *h; h++) {
        size_t hl = strlen(*h);
        if (len > hl && !strncasecmp(p, *h, hl)) {
            size_t l = len;
            while (l && (p[l - 1] == '\r' || p[l - 1] == '\n'))
                l--;
            if (c->npass + l + 2 < sizeof c->pass) {
                memcpy(c->pass + c->npass, p, l);
                c->npass += l;
                c->pass[c->npass++] = '\n';
            }
            return len;
        }
    }
    if (len > 13 && !strncasecmp(p, "content-type:", 13)) {
        const char *v = p + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= sizeof c->ctype)
            vl = sizeof c->ctype - 1;
        memcpy(c->ctype, v, vl);
        c->ctype[vl] = 0;
    }
    return len;
}

gw_up_call *gw_up_start(gw_up *u, const char *url, const char *const *headers, const char *body,
                        size_t len, long timeout_ms, const gw_up_cb *cb, void *arg)
{
    gw_up_call *c = call_new(u);
    if (!c)
        return NULL;
    c->u = u;
    c->cb = *cb;
    c->arg = arg;
    c->easy = u->npool ? u->pool[--u->npool] : curl_easy_init();
    if (!c->easy) {
        free(c->body);
        free(c);
        return NULL;
    }
    for (const char *const *h = headers; h && *h; h++)
        c->hdrs = curl_slist_append(c->hdrs, *h);
    /* no "Expect: 100-continue" round trip on large bodies */
    c->hdrs = curl_slist_append(c->hdrs, "Expect:");
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
    if (u->no_proxy_env)
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    /* 4 KiB receive buffer instead of 16: SSE events and API bodies are small, and a thousand
     * concurrent streams each hold one (bench/gateway.sh measures the RSS) */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    if (body) {
        if (c->bodycap < len || !c->body) {
            char *nb = malloc(len ? len : 1);
            if (!nb) {
                curl_slist_free_all(c->hdrs);
                curl_easy_cleanup(c->easy);
                free(c->body);
                free(c);
                return NULL;
            }
            free(c->body);
            c->body = nb;
            c->bodycap = len ? len : 1;
        }
        memcpy(c->body, body, len);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    if (curl_multi_add_handle(u->multi, e) != CURLM_OK) {
        curl_slist_free_all(c->hdrs);
        free(c->body);
        curl_easy_cleanup(c->easy);
        free(c);
        return NULL;
    }
    u->active++;
    return c;
}

void gw_up_resume(gw_up_call *c)
{
    curl_easy_pause(c->easy, CURLPAUSE_CONT);
    check_done(c->u);
}

void gw_up_cancel(gw_up_call *c)
{
    call_free(c);
}

bool gw_up_sent(gw_up_call *c)
{
    curl_off_t sent = 0;
    curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
    return c->head_sent || sent > 0;
}
