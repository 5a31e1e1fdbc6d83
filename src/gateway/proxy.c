/* proxy.c: the gateway's request path. For each API call: parse the body once (json-c), identify
 * the virtual key (hashed lookup) and the tags, route to candidates (router.c), serve exact-cache
 * hits, bound the worst-case cost and reserve it against the key's budget and rate limits, then
 * forward to the upstream (upstream.c) with the provider key from the environment. Streams pass
 * through event by event (sse.c) as they arrive; OpenAI chat streams get
 * stream_options.include_usage added when the client did not ask, and that extra chunk is kept
 * from the client. At the end: usage from the body or stream (usage.h), exact price (pricing.h),
 * budget settled, the event appended to the durable spool BEFORE the response's last bytes go
 * out, a cost header (or, for streams, a final SSE comment line), metrics and the access log.
 * 429/5xx/transport failures retry along the candidate list with backoff while nothing has
 * reached the client. It must never put a provider key or a virtual key in a log, an error, an
 * event or a response. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "infercost/estimate.h"
#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/tokenizer.h"
#include "infercost/units.h"
#include "infercost/usage.h"
#include "budget_pg.h"
#include "gentext.h"
#include "gw_util.h"
#include "router.h"
#include "server.h"
#include "sse.h"

#define LIT(b, s) evbuffer_add((b), s, sizeof(s) - 1)

enum ep { EP_CHAT, EP_RESPONSES, EP_EMBEDDINGS, EP_MESSAGES, EP_MODELS };
static const char *EP_PATH[] = {"/chat/completions", "/responses", "/embeddings", "/messages",
                                "/models"};
static const char *EP_FLAVOR[] = {"chat", "responses", "embeddings", "default", ""};

typedef struct gw_call {
    gw_server *s;
    struct evhttp_request *req;
    struct gw_call *prev, *next;
    int ep;
    json_object *body;
    char model_req[256];
    bool stream, client_usage, inject_usage;
    const char *inj_key;        /* the output bound the gateway wrote into the request, if any */
    /* the request as forwarded when the served model is the one asked for: the client's bytes
     * with only inj_key spliced in (fwd_body), instead of re-serializing the parsed body */
    char *fwd;
    size_t fwdlen;
    uint64_t max_out;           /* output bound of one choice */
    uint64_t out_bound;         /* of the whole call: max_out x n (chat "n" choices) */
    /* the request's bytes, valid only until the budget check (then freed): the prompt bound
     * counts tokens from them, on demand (prompt_bound_for) */
    const char *raw;
    size_t rawlen;
    struct { const char *enc; uint64_t v; } pb[3]; /* memo: bound per tokenizer encoding */
    int npb;
    int media;                  /* image/audio/file parts, or content the provider adds
                                 * (provider_adds): -1 not looked yet, 0 no, 1 yes */
    int64_t searches;           /* web searches the call may make: -1 unbounded */
    const gw_key_cfg *key;
    char customer[128], feature[128], task[128];
    char *tags;                 /* JSON object text or NULL */
    gw_cand cand[GW_MAX_CANDS];
    int ncand, attempt, max_attempts;
    bool hashed;                /* ckey holds the request's hash (a request the cache could answer) */
    bool by_fallback;           /* answered (2xx) by another target than the first chosen, that one
                                 * having failed: a route's fallback, a tier's next model, another
                                 * upstream */
    bool cacheable;             /* ... and the cache is on for it */
    uint8_t ckey[32];
    bool reserved;
    bool sent;                  /* the last attempt's request reached the provider (upstream.h) */
    ic_money worst;
    uint64_t tokens_bound;
    /* current attempt */
    gw_up_call *up;
    int status;
    char ctype[96];
    char pass[1024];            /* provider headers passed on (upstream.h) */
    struct evbuffer *resp;      /* non-streamed body (or an error body) */
    gw_sse sse;
    gw_gen gen;                 /* the text the stream carried, for estimating a cut call's usage */
    struct evbuffer *keep;      /* stream events that carry usage/model, for metering */
    struct evbuffer *out;
    bool streaming, client_gone, too_big, paused;
    bool final_usage;           /* the stream's last usage came (not Anthropic's message_start) */
    struct event *resume_ev;    /* deferred resume after the client drained its buffer */
    struct event *backoff;
    char last_err[512];
    char estimate[IC_MONEY_STRLEN]; /* the cost of usage the gateway estimated (step 10), or "" */
    uint64_t t0_us, tup_us;
    uint64_t excl_us;           /* upstream attempts + retry backoff: not the gateway's time */
    uint64_t tbackoff_us;
    int64_t t0_ms;
    char id[64];
} gw_call;

/* ---------- small helpers ---------- */

/* The overhead histogram (metrics.h): when the reply's last byte has been written to the client
 * socket, libevent calls on_reply_written with the call's "virtual start" (its start plus the
 * time spent on upstream attempts and backoff), so the call itself may be recycled meanwhile.
 * One event loop per process: the metrics it feeds are the server's (set in gw_proxy_handle). */
static gw_metrics *g_ovh_metrics;

static void on_reply_written(struct evhttp_request *req, void *arg)
{
    (void)req;
    uint64_t vstart = (uint64_t)(uintptr_t)arg, now = gw_mono_us();
    if (g_ovh_metrics)
        gw_metrics_observe_overhead(g_ovh_metrics, now > vstart ? now - vstart : 0);
}

/* The Date header evhttp would add, formatted once a second instead of per response (its
 * gmtime + strftime were 1.5% of the gateway's instructions per call, callgrind). The event
 * loop thread runs in the C locale, so the names are the HTTP ones. */
static void add_date(gw_server *s, struct evkeyvalq *h)
{
    time_t now = time(NULL);
    if ((int64_t)now != s->date_sec || !s->date[0]) {
        struct tm tm;
        if (!gmtime_r(&now, &tm) ||
            !strftime(s->date, sizeof s->date, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
            s->date[0] = 0;
            return; /* evhttp adds its own */
        }
        s->date_sec = (int64_t)now;
    }
    evhttp_add_header(h, "Date", s->date);
}

/* call just before the call's final evhttp_send_reply / evhttp_send_reply_end */
static void arm_overhead(gw_call *c)
{
    if (c && c->req && !c->client_gone)
        evhttp_request_set_on_complete_cb(c->req, on_reply_written,
                                          (void *)(uintptr_t)(c->t0_us + c->excl_us));
}

static const char *hdr(struct evhttp_request *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r), name);
}

/* a JSON value without NaN or an infinity anywhere in it (json-c reads them even in strict mode,
 * and writes them back as no JSON reader elsewhere takes them) */
static bool finite_json(json_object *o, int depth)
{
    if (depth > 32)
        return false;
    if (json_object_is_type(o, json_type_double))
        return isfinite(json_object_get_double(o));
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (!finite_json(json_object_array_get_idx(o, i), depth + 1))
                return false;
    } else if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v) {
            (void)k;
            if (!finite_json(v, depth + 1))
                return false;
        }
    }
    return true;
}

/* a tag from a header: valid UTF-8 within what the ledger takes (cap - 1 bytes: record.h), so
 * that the call's spool line is never refused for it */
static void copy_tag(char *dst, size_t cap, const char *v)
{
    gw_utf8_copy(dst, cap, v ? v : "");
}

static void log_access(gw_server *s, gw_call *c, struct evhttp_request *req, const char *path,
                       int status, const char *cache, const char *cost, const char *err)
{
    if (s->alog_fd < 0)
        return;
    char ts[40];
    ic_time_format(gw_now_ms(), ts, sizeof ts);
    struct evbuffer *b = s->alog;
    evbuffer_add_printf(b, "{\"ts\":\"%s\",\"method\":\"%s\",\"path\":", ts,
                        evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET" : "POST");
    gw_json_quote(b, path);
    evbuffer_add_printf(b, ",\"status\":%d", status);
    if (c) {
        evbuffer_add_printf(b, ",\"id\":\"%s\",\"latency_ms\":%.3f,\"model\":", c->id,
                            (double)(gw_mono_us() - c->t0_us) / 1000.0);
        gw_json_quote(b, c->model_req);
        if (c->ncand && c->attempt > 0) {
            const gw_cand *k = &c->cand[(c->attempt - 1) < c->ncand ? c->attempt - 1 : c->ncand - 1];
            LIT(b, ",\"upstream\":");
            gw_json_quote(b, s->cfg->upstreams[k->upstream].name);
            LIT(b, ",\"served\":");
            gw_json_quote(b, k->model);
        }
        evbuffer_add_printf(b, ",\"stream\":%s,\"attempts\":%d", c->stream ? "true" : "false",
                            c->attempt);
        if (c->key) {
            LIT(b, ",\"key_id\":");
            gw_json_quote(b, c->key->id);
        }
        if (c->customer[0]) {
            LIT(b, ",\"customer\":");
            gw_json_quote(b, c->customer);
        }
    }
    if (cache)
        evbuffer_add_printf(b, ",\"cache\":\"%s\"", cache);
    if (cost)
        evbuffer_add_printf(b, ",\"cost_usd\":\"%s\"", cost);
    if (c && c->estimate[0])
        evbuffer_add_printf(b, ",\"cost_estimate_usd\":\"%s\"", c->estimate);
    if (err) {
        LIT(b, ",\"error\":");
        gw_json_quote(b, err);
    }
    LIT(b, "}\n");
    if (evbuffer_get_length(b) > 65536)
        gw_access_log_flush(s);
}

static void count_status(gw_server *s, int status)
{
    int k = status / 100;
    s->m.req_by_class[k >= 1 && k <= 5 ? k : 0]++;
}

/* An error in the API's own shape: OpenAI {"error":{...}}, Anthropic {"type":"error",...}. */
static void send_json_error(gw_server *s, gw_call *c, struct evhttp_request *req, int ep,
                            int status, const char *type, const char *msg)
{
    struct evbuffer *b = evbuffer_new();
    if (ep == EP_MESSAGES) {
        evbuffer_add_printf(b, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", type);
        gw_json_quote(b, msg);
        LIT(b, "}}");
    } else {
        LIT(b, "{\"error\":{\"message\":");
        gw_json_quote(b, msg);
        evbuffer_add_printf(b, ",\"type\":\"%s\",\"param\":null,\"code\":\"%s\"}}", type, type);
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (c)
        evhttp_add_header(h, "X-Infercost-Request-Id", c->id);
    /* a rate limit frees up when its minute turns; a budget, when calls in flight settle or
     * its day or month turns, which the client cannot be told: no Retry-After then */
    if (status == 429 && !strcmp(type, "rate_limit_exceeded")) {
        char ra[8];
        snprintf(ra, sizeof ra, "%d", (int)(60 - gw_now_ms() / 1000 % 60));
        evhttp_add_header(h, "Retry-After", ra);
    }
    arm_overhead(c);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
    count_status(s, status);
    const char *uri = evhttp_request_get_uri(req);
    char path[256];
    size_t pl = strcspn(uri, "?");
    if (pl > 255)
        pl = 255;
    memcpy(path, uri, pl);
    path[pl] = 0;
    log_access(s, c, req, path, status, NULL, NULL, msg);
}

/* ---------- call lifecycle ---------- */

static void call_free(gw_call *c)
{
    gw_server *s = c->s;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->m.inflight--;
    json_object_put(c->body);
    free(c->tags);
    free(c->fwd);
    if (c->backoff)
        event_free(c->backoff);
    if (c->resume_ev)
        event_free(c->resume_ev);
    gw_sse_free(&c->sse);
    gw_gen_free(&c->gen);
    /* Recycle the call with its three (emptied) buffers: a call is larger than malloc's small
     * bins, and allocating one after many small frees made glibc consolidate its fast bins on
     * every request (perf: malloc_consolidate ~1.6% of the gateway's CPU at 2,000 RPS). */
    if (s->nfree_calls < GW_FREE_CALLS && c->resp && c->keep && c->out) {
        struct evbuffer *b[3] = {c->resp, c->keep, c->out};
        for (int i = 0; i < 3; i++)
            evbuffer_drain(b[i], evbuffer_get_length(b[i]));
        memset(c, 0, sizeof *c);
        c->resp = b[0];
        c->keep = b[1];
        c->out = b[2];
        c->next = s->free_calls;
        s->free_calls = c;
        s->nfree_calls++;
        return;
    }
    if (c->resp)
        evbuffer_free(c->resp);
    if (c->keep)
        evbuffer_free(c->keep);
    if (c->out)
        evbuffer_free(c->out);
    free(c);
}

/* a zeroed call with empty buffers, from the free list when it has one */
static gw_call *call_new(gw_server *s)
{
    gw_call *c = s->free_calls;
    if (c) {
        s->free_calls = c->next;
        s->nfree_calls--;
        c->next = NULL;
        return c;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->resp = evbuffer_new();
    c->keep = evbuffer_new();
    c->out = evbuffer_new();
    if (!c->resp || !c->keep || !c->out) {
        if (c->resp)
            evbuffer_free(c->resp);
        if (c->keep)
            evbuffer_free(c->keep);
        if (c->out)
            evbuffer_free(c->out);
        free(c);
        return NULL;
    }
    return c;
}

void gw_proxy_free_pool(gw_server *s)
{
    while (s->free_calls) {
        gw_call *c = s->free_calls;
        s->free_calls = c->next;
        evbuffer_free(c->resp);
        evbuffer_free(c->keep);
        evbuffer_free(c->out);
        free(c);
    }
    s->nfree_calls = 0;
    if (s->tok)
        json_tokener_free(s->tok);
    s->tok = NULL;
    ic_count_cache_free(s->counts);
    s->counts = NULL;
}

static const gw_cand *cur_cand(const gw_call *c)
{
    int i = c->attempt - 1;
    if (i >= c->ncand)
        i = c->ncand - 1;
    return &c->cand[i];
}


/* usage from the upstream's answer; the body's format (not the billing provider) decides how to
 * read it, so an OpenAI-compatible endpoint of any provider is read as OpenAI. */

/* The forwarded body without a re-serialization (callgrind: json-c's serializer was 5% of the
 * gateway's instructions per call): when the parse kept every key of the client's text (no
 * duplicates) and the only change is the output bound the gateway adds, the client's bytes go
 * out with that one key spliced in after the opening brace. Anything else (stream_options added,
 * lenient JSON, duplicate keys) leaves c->fwd NULL and start_attempt serializes the parsed body. */
static void fwd_body(gw_call *c)
{
    size_t keys = 0, open = 0;
    if (!c->raw || !gw_json_object_keys(c->raw, c->rawlen, &keys, &open))
        return;
    size_t want = (size_t)json_object_object_length(c->body) - (c->inj_key ? 1 : 0);
    if (keys != want || !keys)
        return;
    char num[24];
    int nl = 0;
    if (c->inj_key) {
        char d[24];
        int i = 24;
        uint64_t v = c->max_out;
        do {
            d[--i] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        nl = 24 - i;
        memcpy(num, d + i, (size_t)nl);
    }
    size_t kl = c->inj_key ? strlen(c->inj_key) : 0;
    size_t len = c->rawlen + (c->inj_key ? kl + (size_t)nl + 4 : 0);
    char *f = malloc(len);
    if (!f)
        return;
    size_t o = 0;
    memcpy(f, c->raw, open);
    o = open;
    if (c->inj_key) {
        f[o++] = '"';
        memcpy(f + o, c->inj_key, kl);
        o += kl;
        f[o++] = '"';
        f[o++] = ':';
        memcpy(f + o, num, (size_t)nl);
        o += (size_t)nl;
        f[o++] = ',';
    }
    memcpy(f + o, c->raw + open, c->rawlen - open);
    o += c->rawlen - open;
    c->fwd = f;
    c->fwdlen = o;
}

static bool extract_usage(gw_call *c, const char *text, size_t len, bool stream, ic_usage *u,
                          char *model, size_t mcap, char *why, size_t whycap)
{
    gw_server *s = c->s;
    ic_error err = {0};
    ic_usage_clear(u);
    model[0] = 0;
    if (c->ep == EP_EMBEDDINGS) {
        json_tokener *tk = json_tokener_new();
        json_object *o = tk && text ? json_tokener_parse_ex(tk, text, (int)len) : NULL, *us, *pt, *m;
        if (o && json_tokener_get_error(tk) != json_tokener_success) {
            json_object_put(o);
            o = NULL;
        }
        if (tk)
            json_tokener_free(tk);
        bool ok = false;
        if (o && json_object_object_get_ex(o, "usage", &us) &&
            json_object_object_get_ex(us, "prompt_tokens", &pt) &&
            json_object_is_type(pt, json_type_int)) {
            const char *n = json_object_get_string(pt);
            ok = ic_usage_set_text(u, "input_tokens", n, strlen(n), &err) == IC_OK;
            if (json_object_object_get_ex(o, "model", &m) && json_object_is_type(m, json_type_string))
                snprintf(model, mcap, "%s", json_object_get_string(m));
        }
        json_object_put(o);
        if (!ok)
            snprintf(why, whycap, "no usage.prompt_tokens in the embeddings response");
        return ok;
    }
    const ic_provider *p = c->ep == EP_MESSAGES ? s->prov_anthropic : s->prov_openai;
    if (!p) /* not in the catalog: the lookup again, for its (NULL) answer's sake */
        p = ic_catalog_find_provider(s->cat, c->ep == EP_MESSAGES ? "anthropic" : "openai");
    /* A whole response is mostly generated text; its usage is one small top-level object. Hand
     * the extractor {"usage":{...}} alone: a scan for it costs far less than parsing the body
     * (perf: the full parse was 12% of the gateway's CPU per call). Any doubt: the whole body. */
    char small[2048];
    size_t vs, ve;
    if (!stream && gw_json_top_object(text, len, "usage", &vs, &ve) && ve - vs + 12 < sizeof small) {
        memcpy(small, "{\"usage\":", 9);
        memcpy(small + 9, text + vs, ve - vs);
        small[9 + (ve - vs)] = '}';
        small[10 + (ve - vs)] = 0;
        text = small;
        len = 10 + (ve - vs);
    }
    ic_status st = stream ? ic_usage_extract_stream(p, EP_FLAVOR[c->ep], text, len, u, model, mcap, &err)
                          : ic_usage_extract(p, EP_FLAVOR[c->ep], text, len, u, model, mcap, &err);
    if (st != IC_OK) {
        snprintf(why, whycap, "%s", err.msg);
        return false;
    }
    return true;
}

/* one candidate's cost with in input tokens billed as kind a (-1: plain input) and out output
 * tokens as kind b; false if it does not price */
static bool price_as(gw_server *s, const gw_cand *k, uint64_t in, int a, uint64_t out, int b,
                     int64_t now, ic_money *total, ic_error *err)
{
    static int ui = -2, uo;
    if (ui == -2) {
        ui = ic_unit_find("input_tokens");
        uo = ic_unit_find("output_tokens");
    }
    ic_usage u;
    ic_cost cost;
    ic_usage_clear(&u);
    bool ok = ui >= 0 && uo >= 0 && ic_usage_set(&u, ui, in, err) == IC_OK &&
              (!out || ic_usage_set(&u, uo, out, err) == IC_OK);
    /* a kind with the kinds it is part of (1-hour cache writes are cache writes, which are
     * input): all of the side's tokens are of it */
    for (int side = 0; side < 2 && ok; side++) {
        int kind = side ? b : a;
        uint64_t n = side ? out : in, anc = kind >= 0 ? ic_unit_ancestors(kind) : 0;
        for (int x = 0; ok && anc; x++, anc >>= 1)
            if ((anc & 1) && x != ui && x != uo)
                ok = ic_usage_set(&u, x, n, err) == IC_OK;
        if (ok && kind >= 0)
            ok = ic_usage_set(&u, kind, n, err) == IC_OK;
    }
    ok = ok &&
              ic_price_call(s->cat, s->cfg->upstreams[k->upstream].provider, k->model, &u, now,
                            &cost, err) == IC_OK;
    if (ok)
        *total = cost.total;
    return ok;
}

/* Worst case for one candidate: the prompt bound as input, the output bound as output (plus
 * its web searches at the model's price per search), each priced also as every dearer kind it
 * could be billed as (input as cache writes of any duration, audio, image or video; output as
 * audio, image or video: the catalog prices those kinds as parts of the input and output). A kind's price adds to one side only, so the dearest
 * input kind is found with plain output, the dearest output kind with plain input, and the two
 * together are the worst case (every priced combination tried counts). The plain combination
 * must price; the others count where the model prices them. */
static bool worst_cost(gw_server *s, const gw_cand *k, uint64_t in, uint64_t out,
                       int64_t searches, ic_money *w, char *why, size_t whycap)
{
    static const char *const IN_KIND[] = {"cache_write_tokens", "cache_write_5m_tokens",
                                          "cache_write_1h_tokens", "input_audio_tokens",
                                          "input_image_tokens", "input_video_tokens"};
    static const char *const OUT_KIND[] = {"output_audio_tokens", "output_image_tokens",
                                           "output_video_tokens"};
    enum { NIN = sizeof IN_KIND / sizeof *IN_KIND, NOUT = sizeof OUT_KIND / sizeof *OUT_KIND };
    static int in_kind[NIN], out_kind[NOUT], found;
    if (!found) { /* the event loop's thread only */
        for (int i = 0; i < NIN; i++)
            in_kind[i] = ic_unit_find(IN_KIND[i]);
        for (int i = 0; i < NOUT; i++)
            out_kind[i] = ic_unit_find(OUT_KIND[i]);
        found = 1;
    }
    int64_t now = gw_now_ms();
    ic_error err = {0};
    ic_money plain, v;
    if (!price_as(s, k, in, -1, out, -1, now, &plain, &err)) {
        snprintf(why, whycap, "cannot bound the cost of %.64s/%.128s: %.280s",
                 s->cfg->upstreams[k->upstream].provider, k->model, err.msg);
        return false;
    }
    int best_in = -1, best_out = -1;
    ic_money top_in = plain, top_out = plain;
    for (int i = 0; in && i < NIN; i++)
        if (in_kind[i] >= 0 && price_as(s, k, in, in_kind[i], out, -1, now, &v, &err) && v > top_in)
            top_in = v, best_in = in_kind[i];
    for (int i = 0; out && i < NOUT; i++)
        if (out_kind[i] >= 0 && price_as(s, k, in, -1, out, out_kind[i], now, &v, &err) &&
            v > top_out)
            top_out = v, best_out = out_kind[i];
    *w = top_in > top_out ? top_in : top_out;
    if (best_in >= 0 && best_out >= 0 &&
        price_as(s, k, in, best_in, out, best_out, now, &v, &err) && v > *w)
        *w = v;
    /* web searches billed apiece, where the model prices them */
    static int us = -2;
    if (us == -2)
        us = ic_unit_find("web_searches");
    ic_usage u;
    ic_cost fee;
    ic_usage_clear(&u);
    if (searches > 0 && us >= 0 && ic_usage_set(&u, us, (uint64_t)searches, &err) == IC_OK &&
        ic_price_call(s->cat, s->cfg->upstreams[k->upstream].provider, k->model, &u, now, &fee,
                      &err) == IC_OK)
        *w += fee.total;
    return true;
}

#define SBLIT(b, s) gw_sb_add((b), s, sizeof(s) - 1)

static void add_tag_fields(gw_call *c, gw_sbuf *b, bool incomplete)
{
    if (c->customer[0]) {
        SBLIT(b, ",\"customer\":");
        gw_sb_quote(b, c->customer);
    }
    if (c->feature[0]) {
        SBLIT(b, ",\"feature\":");
        gw_sb_quote(b, c->feature);
    }
    if (c->task[0]) {
        SBLIT(b, ",\"task\":");
        gw_sb_quote(b, c->task);
    }
    if (c->key) {
        SBLIT(b, ",\"key_id\":");
        gw_sb_quote(b, c->key->id);
    }
    /* a call cut before its usage arrived (the client left, the upstream failed mid-stream) is
     * marked, so that its cost is not mistaken for a real $0 */
    if (incomplete) {
        SBLIT(b, ",\"tags\":{\"usage_incomplete\":true");
        if (c->tags && strcmp(c->tags, "{}")) {
            SBLIT(b, ",");
            gw_sb_str(b, c->tags + 1);
        } else
            SBLIT(b, "}");
    } else if (c->tags) {
        SBLIT(b, ",\"tags\":");
        gw_sb_str(b, c->tags);
    }
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ": the part up to the seconds is formatted once per second */
static void event_time(gw_server *s, int64_t ms, gw_sbuf *b)
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    if (sec != s->ts_sec || !s->ts_prefix[0]) {
        char full[40];
        /* +1 ms: the library leaves ".000" out of whole seconds, and the 24-character form is
         * what is cut below (without it this cache never held: callgrind, 2 snprintf per event) */
        ic_time_format(sec * 1000 + 1, full, sizeof full);
        if (strlen(full) != 24) { /* not the expected form: no cache, the library's text */
            ic_time_format(ms, full, sizeof full);
            gw_sb_str(b, full);
            return;
        }
        memcpy(s->ts_prefix, full, 19);
        s->ts_prefix[19] = 0;
        s->ts_sec = sec;
    }
    int m = (int)(ms - sec * 1000);
    char tail[6] = {'.', (char)('0' + m / 100), (char)('0' + m / 10 % 10), (char)('0' + m % 10), 'Z', 0};
    gw_sb_add(b, s->ts_prefix, 19);
    gw_sb_add(b, tail, 5);
}

/* The event: the `infercost cost` input form plus the ledger's metadata fields. Built without
 * printf in a stack buffer (perf: evbuffer_add_printf made vfprintf most of this function). */
static void write_event(gw_call *c, const char *provider, const char *model, const ic_usage *u,
                        const char *status, bool cache_hit, bool incomplete)
{
    gw_server *s = c->s;
    char stack[4096];
    gw_sbuf b;
    gw_sb_init(&b, stack, sizeof stack);
    SBLIT(&b, "{\"id\":\"");
    gw_sb_str(&b, c->id);
    SBLIT(&b, "\",\"timestamp\":\"");
    event_time(s, c->t0_ms, &b);
    SBLIT(&b, "\",\"provider\":");
    gw_sb_quote(&b, provider);
    SBLIT(&b, ",\"model\":");
    gw_sb_quote(&b, model);
    SBLIT(&b, ",\"usage\":");
    if (u->present) {
        /* what ic_usage_to_json writes ({"unit":N,...} in unit order), without its snprintf per
         * unit: callgrind put that at 3% of the gateway's instructions per call */
        char sep = '{';
        int i = 0;
        for (uint64_t bits = u->present; bits; bits &= bits - 1, i++) {
            gw_sb_add(&b, &sep, 1);
            sep = ',';
            SBLIT(&b, "\"");
            gw_sb_str(&b, ic_unit_name(__builtin_ctzll(bits)));
            SBLIT(&b, "\":");
            gw_sb_u64(&b, u->v[i]);
        }
        SBLIT(&b, "}");
    } else /* no usage came back: a failed call (providers do not bill those), or a cut one or an
          * answer without readable usage, which add_tag_fields marks usage_incomplete */
        SBLIT(&b, "{\"input_tokens\":0,\"output_tokens\":0}");
    add_tag_fields(c, &b, incomplete);
    SBLIT(&b, ",\"status\":\"");
    gw_sb_str(&b, status);
    SBLIT(&b, "\",\"latency_ms\":");
    gw_sb_u64(&b, (gw_mono_us() - c->t0_us) / 1000);
    if (cache_hit)
        SBLIT(&b, ",\"cache_hit\":true");
    else
        SBLIT(&b, ",\"cache_hit\":false");
    SBLIT(&b, ",\"routed_from\":");
    gw_sb_quote(&b, c->model_req);
    SBLIT(&b, ",\"model_served\":");
    gw_sb_quote(&b, model);
    SBLIT(&b, ",\"batch\":false");
    if (c->by_fallback)
        SBLIT(&b, ",\"fallback\":true");
    if (c->hashed) {
        /* keyed, when configured: whoever reads the ledger cannot then confirm a guessed request
         * by hashing it (equal requests still give equal hashes) */
        const char *k = s->cfg->cache_hash_key;
        uint8_t d[32];
        if (k)
            gw_hmac_sha256(k, strlen(k), c->ckey, sizeof c->ckey, d);
        char h[65];
        gw_hex32(k ? d : c->ckey, h);
        SBLIT(&b, ",\"request_hash\":\"");
        gw_sb_add(&b, h, 64);
        SBLIT(&b, "\"");
    }
    SBLIT(&b, "}");
    if (b.oom)
        fprintf(stderr, "infercost serve: out of memory: event %s not spooled\n", c->id);
    else
        gw_spool_append(s->spool, b.p, b.len);
    gw_sb_free(&b);
}

static void meter_usage(gw_server *s, const ic_usage *u)
{
    int ui = ic_unit_find("input_tokens"), uo = ic_unit_find("output_tokens"),
        uc = ic_unit_find("cache_read_tokens"), ur = ic_unit_find("output_reasoning_tokens");
    if (ui >= 0)
        s->m.input_tokens += ic_usage_get(u, ui);
    if (uo >= 0)
        s->m.output_tokens += ic_usage_get(u, uo);
    if (uc >= 0)
        s->m.cache_read_tokens += ic_usage_get(u, uc);
    if (ur >= 0)
        s->m.reasoning_tokens += ic_usage_get(u, ur);
}

static uint64_t usage_tokens(const ic_usage *u)
{
    int ui = ic_unit_find("input_tokens"), uo = ic_unit_find("output_tokens");
    return (ui >= 0 ? ic_usage_get(u, ui) : 0) + (uo >= 0 ? ic_usage_get(u, uo) : 0);
}

static ic_count_cache *counts_of(gw_server *s);

/* tokens of a text kept by gentext.c, for model: its kept part counted, the part past the limit
 * extrapolated from it */
static uint64_t gen_tokens(gw_server *s, const gw_gen *g, const char *model)
{
    ic_text_count tc = {0};
    ic_error err = {0};
    uint64_t n = 0;
    if (g->len && ic_count_text_for_model_in(counts_of(s), model, g->p, g->len, &tc, &err) == IC_OK)
        n = tc.tokens;
    if (g->dropped)
        n += g->len && n ? (uint64_t)((n * (unsigned __int128)g->dropped + g->len - 1) / g->len)
                         : (g->dropped + 3) / 4;
    return n;
}

/* Usage the provider did not report, estimated in u (docs/gateway.md, "What happens to a call",
 * step 10): a stream cut before its usage arrived, an answer without usage, a call lost after
 * its request was sent. The input the provider reported (Anthropic's message_start) stays; else
 * the prompt is counted as `infercost estimate` counts it (exactly for a model with a tiktoken
 * encoding).
 * The output is the larger of what was reported and the text received, counted with the
 * model's tokenizer: the stream's deltas, or a whole answer's text (answer), or nothing for a
 * call lost before any answer. What the provider did not send (reasoning it keeps hidden,
 * tokens generated after the cut) is not in it. */
static void estimate_usage(gw_call *c, const char *model, ic_usage *u, bool answer)
{
    gw_server *s = c->s;
    int ui = ic_unit_find("input_tokens"), uo = ic_unit_find("output_tokens");
    if (ui < 0 || uo < 0)
        return;
    ic_error err = {0};
    if (!(u->present >> ui & 1) && c->body) {
        size_t len = 0;
        const char *req = json_object_to_json_string_length(c->body, JSON_C_TO_STRING_PLAIN, &len);
        ic_chat_count cc;
        uint64_t in = 0;
        if (c->ep == EP_CHAT && req &&
            ic_chat_count_request_in(counts_of(s), req, len, model, &cc, &err) == IC_OK) {
            in = cc.prompt_tokens;
        } else {
            gw_gen t = {0};
            gw_gen_json(&t, c->body, GW_GEN_REQUEST_KEYS);
            in = gen_tokens(s, &t, model);
            gw_gen_free(&t);
        }
        ic_usage_set(u, ui, in, &err);
    }
    uint64_t out = 0;
    if (c->streaming) {
        out = gen_tokens(s, &c->gen, model);
    } else if (answer && evbuffer_get_length(c->resp)) {
        size_t n = evbuffer_get_length(c->resp);
        json_tokener *tk = json_tokener_new();
        json_object *b = tk ? json_tokener_parse_ex(tk, (const char *)evbuffer_pullup(c->resp, -1),
                                                    (int)(n < INT32_MAX ? n : INT32_MAX))
                            : NULL;
        if (tk)
            json_tokener_free(tk);
        if (b) {
            gw_gen t = {0};
            gw_gen_answer(&t, b);
            out = gen_tokens(s, &t, model);
            gw_gen_free(&t);
            json_object_put(b);
        }
    }
    if (out > ic_usage_get(u, uo) || !(u->present >> uo & 1))
        ic_usage_set(u, uo, out, &err);
}

static void start_attempt(gw_call *c);
static void add_pass_headers(struct evkeyvalq *h, const char *pass);

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_call *c = arg;
    c->excl_us += gw_mono_us() - c->tbackoff_us;
    start_attempt(c);
}

/* Finish: meter, settle, spool, answer. Called once per call. */
static void finish_call(gw_call *c, bool transport_ok)
{
    gw_server *s = c->s;
    const gw_cand *k = cur_cand(c);
    const gw_upstream_cfg *up = &s->cfg->upstreams[k->upstream];
    ic_usage u;
    ic_usage_clear(&u); /* no body, or an extraction that fails early: no usage */
    char model[256], why[512] = "", costs[IC_MONEY_STRLEN] = "";
    bool have_usage = false, priced = false;
    ic_cost cost;
    char path[128];
    gw_scopy(path, sizeof path, "/v1", EP_PATH[c->ep]);
    if (c->streaming) {
        /* an unfinished last event goes out as it is */
        if (gw_sse_pending(&c->sse) && !c->client_gone) {
            struct evbuffer *b = evbuffer_new();
            evbuffer_add(b, c->sse.buf, c->sse.len);
            evhttp_send_reply_chunk(c->req, b);
            evbuffer_free(b);
        }
        size_t n = evbuffer_get_length(c->keep);
        if (n)
            have_usage = extract_usage(c, (const char *)evbuffer_pullup(c->keep, -1), n, true, &u,
                                       model, sizeof model, why, sizeof why);
    } else if (transport_ok && c->status >= 200 && c->status < 300) {
        size_t n = evbuffer_get_length(c->resp);
        /* every parse below is length-bounded: no NUL needed, no copy of the body */
        const char *txt = (const char *)evbuffer_pullup(c->resp, -1);
        have_usage = extract_usage(c, txt, n, false, &u, model, sizeof model, why, sizeof why);
    }
    /* the served model as the provider names it; else the one we asked for */
    const char *served = k->model;
    /* an answer the provider bills (2xx, or a stream that began) whose usage could not be read:
     * its cost is not known, so it is never taken for $0 */
    bool usage_unknown = (!have_usage && c->status >= 200 && c->status < 300 &&
                          (transport_ok || c->streaming)) ||
                         (!transport_ok && c->sent && !c->streaming); /* may be billed */
    /* a stream that was cut (the client left, or the upstream failed) before its last usage
     * came: what it reported falls short of what the provider bills (OpenAI sends usage at the
     * end; Anthropic's output count too: before it, message_start's placeholder) */
    bool cut = c->streaming && (c->client_gone || !transport_ok) && !c->final_usage;
    /* both are recorded with usage the gateway estimates, never as $0 */
    bool estimated = false;
    if (cut || usage_unknown) {
        estimate_usage(c, served, &u, transport_ok && !c->streaming);
        estimated = have_usage = u.present != 0;
    }
    if (have_usage) {
        ic_error err = {0};
        if (ic_price_call(s->cat, up->provider, served, &u, c->t0_ms, &cost, &err) == IC_OK) {
            priced = true;
            ic_money_format(cost.total, costs, sizeof costs);
            if (estimated)
                s->m.estimated_cost += cost.total;
            else
                s->m.cost += cost.total;
        } else {
            snprintf(why, sizeof why, "%s", err.msg);
            s->m.unpriced++;
        }
        if (estimated)
            s->m.estimated++;
        else
            meter_usage(s, &u);
    }
    if (estimated && priced)
        memcpy(c->estimate, costs, sizeof costs);
    /* settle: actual cost; unpriced, unknown or estimated usage keeps the whole reservation
     * charged, and so does a stream that was cut */
    if (c->reserved) {
        ic_money actual = priced && !estimated ? cost.total
                                               : (have_usage || usage_unknown ? c->worst : 0);
        uint64_t tokens = have_usage ? usage_tokens(&u) : 0;
        if (cut && actual < c->worst)
            actual = c->worst;
        /* what is charged as the worst case in money is so in tokens too: a stream cut before
         * its usage would otherwise cost the tokens-per-minute limit nothing */
        if ((cut || usage_unknown || (have_usage && !priced)) && tokens < c->tokens_bound)
            tokens = c->tokens_bound;
        s->bops->settle(s->bstore, c->key->id, c->worst, c->tokens_bound, actual, tokens,
                        gw_now_ms());
        c->reserved = false;
    }
    char st[32];
    if (c->client_gone)
        snprintf(st, sizeof st, "client_closed");
    else if (!transport_ok)
        snprintf(st, sizeof st, "upstream_error");
    else if (c->status >= 100 && c->status <= 999) {
        st[0] = (char)('0' + c->status / 100);
        st[1] = (char)('0' + c->status / 10 % 10);
        st[2] = (char)('0' + c->status % 10);
        st[3] = 0;
    } else
        snprintf(st, sizeof st, "%d", c->status);
    /* usage is missing or partial when a stream did not end normally, or an answer came without
     * usage that could be read: marked, its usage the gateway's estimate */
    bool incomplete = cut || usage_unknown;
    /* answered by another target than the first chosen, that one having failed */
    c->by_fallback = c->attempt > 1 && k != &c->cand[0] && transport_ok && !c->client_gone &&
                     c->status >= 200 && c->status < 300;
    write_event(c, up->provider, served, &u, st, false, incomplete);
    if (c->cacheable && priced && !estimated && !c->streaming && c->status == 200 &&
        evbuffer_get_length(c->resp) <= s->cfg->cache_max_entry_bytes) {
        gw_cached v;
        memset(&v, 0, sizeof v);
        v.len = evbuffer_get_length(c->resp);
        v.body = (char *)evbuffer_pullup(c->resp, -1);
        snprintf(v.ctype, sizeof v.ctype, "%s", c->ctype[0] ? c->ctype : "application/json");
        snprintf(v.provider, sizeof v.provider, "%s", up->provider);
        snprintf(v.model, sizeof v.model, "%s", served);
        snprintf(v.flavor, sizeof v.flavor, "%s", EP_FLAVOR[c->ep]);
        v.usage = u;
        s->cops->put(s->cstore, c->ckey, &v, gw_now_ms(), s->cfg->cache_ttl_s);
    }
    if (c->by_fallback)
        s->m.fallbacks++;
    if (c->streaming) {
        s->m.streams++;
        struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
        if (conn)
            evhttp_connection_set_closecb(conn, NULL, NULL);
        if (!c->client_gone) {
            struct evbuffer *b = evbuffer_new();
            if (priced && !estimated)
                evbuffer_add_printf(b, ": infercost-cost-usd=%s\n\n", costs);
            else if (priced)
                evbuffer_add_printf(b, ": infercost-cost-usd=unknown\n"
                                       ": infercost-cost-estimate-usd=%s\n\n", costs);
            else
                evbuffer_add_printf(b, ": infercost-cost-usd=unknown\n\n");
            evhttp_send_reply_chunk(c->req, b);
            evbuffer_free(b);
        } else
            s->m.client_aborts++;
        arm_overhead(c);
        evhttp_send_reply_end(c->req);
        count_status(s, 200);
        log_access(s, c, c->req, path, 200, c->cacheable ? "miss" : NULL,
                   priced && !estimated ? costs : NULL, why[0] ? why : NULL);
        call_free(c);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
    if (!transport_ok) { /* send_json_error adds the request id */
        if (c->estimate[0]) /* lost after it was sent: the provider may bill it */
            evhttp_add_header(h, "X-Infercost-Cost-Estimate", c->estimate);
        char msg[700];
        snprintf(msg, sizeof msg, "upstream '%s' failed after %d attempt(s): %s", up->name,
                 c->attempt, c->last_err);
        send_json_error(s, c, c->req, c->ep, 502, "upstream_error", msg);
        call_free(c);
        return;
    }
    evhttp_add_header(h, "X-Infercost-Request-Id", c->id);
    evhttp_add_header(h, "Content-Type", c->ctype[0] ? c->ctype : "application/json");
    evhttp_add_header(h, "X-Infercost-Model-Served", served);
    evhttp_add_header(h, "X-Infercost-Upstream", up->name);
    add_pass_headers(h, c->pass);
    if (c->cacheable)
        evhttp_add_header(h, "X-Infercost-Cache", "miss");
    if (priced && !estimated)
        evhttp_add_header(h, "X-Infercost-Cost", costs);
    else if (c->status >= 200 && c->status < 300) {
        if (priced) {
            evhttp_add_header(h, "X-Infercost-Cost-Error", "usage not reported by the provider");
            evhttp_add_header(h, "X-Infercost-Cost-Estimate", costs);
        } else
            evhttp_add_header(h, "X-Infercost-Cost-Error", "unpriced (see the spool and the access log)");
    }
    add_date(s, h);
    arm_overhead(c);
    evhttp_send_reply(c->req, c->status, NULL, c->resp);
    count_status(s, c->status);
    log_access(s, c, c->req, path, c->status, c->cacheable ? "miss" : NULL,
               priced && !estimated ? costs : NULL, why[0] && c->status < 300 ? why : NULL);
    call_free(c);
}

static bool retryable(const gw_call *c, bool ok)
{
    return !ok || c->status == 429 || c->status >= 500;
}

/* The "usage" keys of a stream event, in one pass: whether any is there, whether one holds an
 * object (a usage to meter), and where the first ',"usage":null' starts (NULL: none) */
static bool scan_usage(const char *ev, size_t len, bool *object, const char **null_at)
{
    const char *e = ev + len, *p = ev;
    bool any = false;
    *object = false;
    *null_at = NULL;
    while ((p = memmem(p, (size_t)(e - p), "\"usage\"", 7))) {
        any = true;
        const char *k = p;
        p += 7;
        if (!*null_at && k > ev && k[-1] == ',' && e - p >= 5 && !memcmp(p, ":null", 5))
            *null_at = k - 1;
        const char *v = p;
        while (v < e && *v == ' ')
            v++;
        if (v < e && *v == ':') {
            v++;
            while (v < e && *v == ' ')
                v++;
            *object = *object || (v < e && *v == '{');
        }
    }
    return any;
}

static bool sse_event(void *arg, const char *ev, size_t len)
{
    gw_call *c = arg;
    gw_gen_event(&c->gen, ev, len);
    bool object;
    const char *null_at;
    bool any = scan_usage(ev, len, &object, &null_at);
    /* only events that carry a usage object are kept for metering (OpenAI chat chunks with
     * include_usage all say "usage":null: keeping those would hold the whole stream) */
    if (object) {
        evbuffer_add(c->keep, ev, len);
        /* a usage object other than message_start's opening one (its output count is a
         * placeholder) is the stream's last word on usage: OpenAI's last chunk, Anthropic's
         * message_delta, Responses' response.completed */
        c->final_usage = c->final_usage || !memmem(ev, len, "message_start", 13);
    }
    if (c->inject_usage && any) {
        if (gw_sse_is_usage_only_chunk(ev, len))
            return true; /* the chunk we asked for: metered, not shown */
        /* the other chunks then carry "usage":null, which the client did not ask for either */
        if (null_at) {
            evbuffer_add(c->out, ev, (size_t)(null_at - ev));
            evbuffer_add(c->out, null_at + 13, len - (size_t)(null_at - ev) - 13);
            return true;
        }
    }
    evbuffer_add(c->out, ev, len);
    return true;
}

static void add_pass_headers(struct evkeyvalq *h, const char *pass)
{
    char line[512];
    while (*pass) {
        size_t n = strcspn(pass, "\n");
        if (n < sizeof line) {
            memcpy(line, pass, n);
            line[n] = 0;
            char *colon = strchr(line, ':');
            if (colon) {
                *colon = 0;
                const char *v = colon + 1;
                while (*v == ' ')
                    v++;
                evhttp_add_header(h, line, v);
            }
        }
        pass += n + (pass[n] == '\n');
    }
}

static void up_head(void *arg, int status, const char *ctype, const char *pass)
{
    gw_call *c = arg;
    c->status = status;
    gw_scopy(c->ctype, sizeof c->ctype, ctype ? ctype : "", NULL);
    gw_scopy(c->pass, sizeof c->pass, pass ? pass : "", NULL);
    if (c->stream && status == 200) {
        c->streaming = true;
        struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
        const gw_cand *k = cur_cand(c);
        evhttp_add_header(h, "Content-Type", c->ctype[0] ? c->ctype : "text/event-stream");
        evhttp_add_header(h, "Cache-Control", "no-cache");
        evhttp_add_header(h, "X-Infercost-Request-Id", c->id);
        evhttp_add_header(h, "X-Infercost-Model-Served", k->model);
        evhttp_add_header(h, "X-Infercost-Upstream", c->s->cfg->upstreams[k->upstream].name);
        add_pass_headers(h, c->pass);
        evhttp_send_reply_start(c->req, 200, "OK");
    }
}

/* Backpressure: a stream whose client has more than this many bytes still unsent pauses its
 * upstream transfer (curl keeps the bytes) until the client's buffer drains. */
#define GW_STREAM_PENDING_MAX (64 * 1024)

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_call *c = arg;
    if (c->paused && c->up) {
        c->paused = false;
        gw_up_resume(c->up); /* may end the call: c must not be used after this */
    }
}

static void wake(gw_call *c)
{
    if (c->paused && c->resume_ev)
        event_active(c->resume_ev, 0, 0);
}

static void on_chunk_written(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    wake(arg);
}

static void on_client_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    wake(arg);
}

static int up_data(void *arg, const char *data, size_t len)
{
    gw_call *c = arg;
    if (c->streaming) {
        struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
        if (!conn) {
            c->client_gone = true;
            return GW_UP_ABORT;
        }
        struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
        if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > GW_STREAM_PENDING_MAX) {
            if (!c->resume_ev)
                c->resume_ev = event_new(c->s->base, -1, 0, on_resume, c);
            c->paused = true;
            c->s->m.stream_pauses++;
            evhttp_connection_set_closecb(conn, on_client_close, c);
            return GW_UP_PAUSE;
        }
        gw_sse_feed(&c->sse, data, len, sse_event, c);
        if (gw_sse_pending(&c->sse) > c->s->cfg->max_body_bytes) {
            /* an "event" that never ends is not an SSE stream: stop rather than buffer it */
            snprintf(c->last_err, sizeof c->last_err,
                     "stream event larger than max_body_bytes (%zu)", c->s->cfg->max_body_bytes);
            return GW_UP_ABORT;
        }
        if (evbuffer_get_length(c->out))
            evhttp_send_reply_chunk_with_cb(c->req, c->out, on_chunk_written, c);
        return GW_UP_OK;
    }
    if (evbuffer_get_length(c->resp) + len > c->s->cfg->max_body_bytes * 4) {
        c->too_big = true;
        snprintf(c->last_err, sizeof c->last_err, "response larger than %zu bytes",
                 c->s->cfg->max_body_bytes * 4);
        return GW_UP_ABORT;
    }
    evbuffer_add(c->resp, data, len);
    return GW_UP_OK;
}

static gw_limits key_limits(const gw_key_cfg *k)
{
    return (gw_limits){k->has_day, k->has_month, k->day_usd, k->month_usd, k->rpm, k->tpm};
}

/* An attempt that failed after its request reached the provider may be billed all the same:
 * with a budget, it is charged its worst case, and the next attempt needs a hold of its own.
 * False when the budget has no room for another (the call ends with this attempt's error). */
static bool charge_lost_attempt(gw_call *c)
{
    gw_server *s = c->s;
    s->bops->settle(s->bstore, c->key->id, c->worst, c->tokens_bound, c->worst, c->tokens_bound,
                    gw_now_ms());
    c->reserved = false;
    gw_limits lim = key_limits(c->key);
    char why[512];
    if (!s->bops->reserve(s->bstore, c->key->id, &lim, c->worst, c->tokens_bound, gw_now_ms(),
                          why, sizeof why)) {
        size_t l = strlen(c->last_err);
        if (l + 16 < sizeof c->last_err)
            snprintf(c->last_err + l, sizeof c->last_err - l, "; not retried: %.200s", why);
        return false;
    }
    c->reserved = true;
    return true;
}

static void up_done(void *arg, bool ok, bool sent, const char *err)
{
    gw_call *c = arg;
    gw_server *s = c->s;
    c->up = NULL;
    c->sent = sent;
    uint64_t now = gw_mono_us();
    gw_metrics_observe_upstream(&s->m, now - c->tup_us);
    c->excl_us += now - c->tup_us;
    if (!ok)
        snprintf(c->last_err, sizeof c->last_err, "%s", c->too_big ? c->last_err : err ? err : "failed");
    if (retryable(c, ok) && !c->streaming && !c->client_gone && !c->too_big) {
        s->m.upstream_errors++;
        if (c->attempt < c->max_attempts && !s->draining &&
            (ok || !sent || !c->reserved || charge_lost_attempt(c))) {
            s->m.retries++;
            int shift = c->attempt - 1 < 6 ? c->attempt - 1 : 6;
            long ms = (long)s->cfg->backoff_ms << shift;
            ms += ms ? (long)(gw_rand64() % (uint64_t)(ms / 2 + 1)) : 0;
            if (!c->backoff)
                c->backoff = evtimer_new(s->base, on_backoff, c);
            struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
            evtimer_add(c->backoff, &tv);
            c->tbackoff_us = now;
            return;
        }
    }
    finish_call(c, ok);
}

static void start_attempt(gw_call *c)
{
    gw_server *s = c->s;
    c->attempt++;
    const gw_cand *k = cur_cand(c);
    const gw_upstream_cfg *up = &s->cfg->upstreams[k->upstream];
    /* reset per-attempt state */
    c->status = 0;
    c->sent = false;
    c->ctype[0] = 0;
    evbuffer_drain(c->resp, evbuffer_get_length(c->resp));
    evbuffer_drain(c->keep, evbuffer_get_length(c->keep));
    c->gen.len = 0;
    c->gen.dropped = 0;
    c->final_usage = false;
    gw_sse_free(&c->sse);
    gw_sse_init(&c->sse);
    char url[1024];
    gw_scopy(url, sizeof url, up->base_url, EP_PATH[c->ep]);
    const char *text;
    size_t tlen;
    if (c->fwd && !strcmp(k->model, c->model_req)) { /* the client's bytes (fwd_body) */
        text = c->fwd;
        tlen = c->fwdlen;
    } else {
        json_object_object_add(c->body, "model", json_object_new_string(k->model));
        text = json_object_to_json_string_ext(c->body, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        tlen = strlen(text);
    }
    char auth[1024], ver[256], beta[512];
    const char *hs[8];
    int nh = 0;
    hs[nh++] = "Content-Type: application/json";
    if (up->format == GW_FMT_ANTHROPIC) {
        gw_scopy(auth, sizeof auth, "x-api-key: ", up->api_key);
        const char *v = hdr(c->req, "anthropic-version");
        snprintf(ver, sizeof ver, "anthropic-version: %s", v ? v : "2023-06-01");
        hs[nh++] = ver;
        const char *b = hdr(c->req, "anthropic-beta");
        if (b) {
            snprintf(beta, sizeof beta, "anthropic-beta: %s", b);
            hs[nh++] = beta;
        }
    } else
        gw_scopy(auth, sizeof auth, "Authorization: Bearer ", up->api_key);
    hs[nh++] = auth;
    if (c->stream)
        hs[nh++] = "Accept: text/event-stream";
    hs[nh] = NULL;
    static const gw_up_cb cb = {up_head, up_data, up_done};
    c->tup_us = gw_mono_us();
    c->up = gw_up_start(s->up, url, hs, text, tlen, up->timeout_ms, &cb, c);
    memset(auth, 0, sizeof auth);
    if (!c->up) {
        snprintf(c->last_err, sizeof c->last_err, "could not start the upstream request");
        finish_call(c, false);
    }
}

/* ---------- request parsing ---------- */

/* The request headers the gateway reads, found in one pass over the list (the first of each
 * wins, as evhttp_find_header would give) instead of one case-insensitive scan per name. */
typedef struct req_hdrs {
    const char *auth, *api_key, *customer, *feature, *task, *tags, *cache;
} req_hdrs;

static void scan_headers(struct evhttp_request *r, req_hdrs *h)
{
    memset(h, 0, sizeof *h);
    struct evkeyvalq *q = evhttp_request_get_input_headers(r);
    for (struct evkeyval *kv = q->tqh_first; kv; kv = kv->next.tqe_next) {
        const char *k = kv->key, **slot = NULL;
        if ((k[0] | 0x20) == 'a') {
            if (!strcasecmp(k, "Authorization"))
                slot = &h->auth;
        } else if ((k[0] | 0x20) == 'x') {
            if (!strncasecmp(k, "X-Infercost-", 12)) {
                const char *t = k + 12;
                if (!strcasecmp(t, "Customer"))
                    slot = &h->customer;
                else if (!strcasecmp(t, "Feature"))
                    slot = &h->feature;
                else if (!strcasecmp(t, "Task"))
                    slot = &h->task;
                else if (!strcasecmp(t, "Tags"))
                    slot = &h->tags;
                else if (!strcasecmp(t, "Cache"))
                    slot = &h->cache;
            } else if (!strcasecmp(k, "x-api-key"))
                slot = &h->api_key;
        }
        if (slot && !*slot)
            *slot = kv->value;
    }
}

static void prompt_text(json_object *o, struct evbuffer *out, int depth)
{
    if (depth > 8 || !o)
        return;
    if (json_object_is_type(o, json_type_string)) {
        evbuffer_add(out, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        LIT(out, "\n");
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++)
            prompt_text(json_object_array_get_idx(o, i), out, depth + 1);
    } else if (json_object_is_type(o, json_type_object)) {
        json_object *v;
        if (json_object_object_get_ex(o, "content", &v))
            prompt_text(v, out, depth + 1);
        if (json_object_object_get_ex(o, "text", &v))
            prompt_text(v, out, depth + 1);
    }
}

/* The cache key: SHA-256 of the request normalized, fed as it is walked: keys sorted at every
 * level, fields that do not change the answer dropped (stream options, user ids, metadata).
 * Strings go in as a tag, their length and their bytes (no escaping: the length makes it
 * unambiguous), object keys as their length and bytes, other values as their JSON text behind
 * a tag and its length; objects and arrays as a tag and their count. Returns false when an
 * object has more keys than it sorts (256): then the key does not stand for the whole request,
 * and the request is not cached. */
static void hash_head(gw_sha256_ctx *h, char tag, size_t n) /* n: a length or a count */
{
    unsigned char head[9] = {(unsigned char)tag};
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    gw_sha256_update(h, head, sizeof head);
}

static void hash_item(gw_sha256_ctx *h, char tag, const char *s, size_t n)
{
    hash_head(h, tag, n);
    gw_sha256_update(h, s, n);
}

static bool normalize(json_object *o, gw_sha256_ctx *b, int depth)
{
    bool whole = true;
    if (json_object_is_type(o, json_type_object)) {
        const char *keys[256];
        size_t n = 0;
        json_object_object_foreach(o, k, val) {
            (void)val;
            if (depth == 0 && (!strcmp(k, "stream") || !strcmp(k, "stream_options") ||
                               !strcmp(k, "user") || !strcmp(k, "metadata") ||
                               !strcmp(k, "store") || !strcmp(k, "service_tier")))
                continue;
            if (n == 256)
                return false;
            keys[n++] = k;
        }
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
                const char *t = keys[j];
                keys[j] = keys[j - 1];
                keys[j - 1] = t;
            }
        hash_head(b, '{', n);
        for (size_t i = 0; i < n; i++) {
            json_object *v = NULL;
            json_object_object_get_ex(o, keys[i], &v);
            hash_item(b, 'k', keys[i], strlen(keys[i]));
            whole = whole && normalize(v, b, depth + 1);
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        hash_head(b, '[', n);
        for (size_t i = 0; i < n; i++)
            whole = whole && normalize(json_object_array_get_idx(o, i), b, depth + 1);
    } else if (json_object_is_type(o, json_type_string)) {
        hash_item(b, 's', json_object_get_string(o), (size_t)json_object_get_string_len(o));
    } else {
        /* a number with an integral value the same however written (0, 0.0, 0e0) */
        double d = json_object_is_type(o, json_type_double) ? json_object_get_double(o) : 0.5;
        char n[32];
        const char *t = n;
        if (d == (double)(long long)d && d > -9e15 && d < 9e15)
            snprintf(n, sizeof n, "%lld", (long long)d);
        else
            t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        hash_item(b, 'v', t, strlen(t));
    }
    return whole;
}

/* body[k] is absent, null, true or false */
static bool bool_or_absent(json_object *body, const char *k)
{
    json_object *v;
    return !json_object_object_get_ex(body, k, &v) || json_object_is_type(v, json_type_null) ||
           json_object_is_type(v, json_type_boolean);
}

static bool get_uint(json_object *body, const char *k, uint64_t *out, bool *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(body, k, &v) || json_object_is_type(v, json_type_null))
        return false;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) <= 0) {
        *bad = true;
        return false;
    }
    *out = (uint64_t)json_object_get_int64(v);
    return true;
}

/* ---------- the prompt bound (budgets, token limits) ----------
 *
 * Budgets must never be under-reserved, so this is an UPPER bound of the prompt tokens the
 * provider will bill, for one model:
 *  - chat/completions to a model with a public tokenizer (OpenAI's o200k/cl100k: estimate.h):
 *    the exact count by the cookbook's rules when every part of the request is one those rules
 *    count exactly (text messages; no tools, tool calls, images, audio or files), plus the JSON
 *    length of every top-level field that may reach the prompt and is not counted there
 *    (response_format's schema, tool_choice, ...; each token covers at least one byte);
 *  - embeddings to such a model: the tokens of each input string (token arrays: their length);
 *  - anything else (Anthropic, Gemini, open models, the Responses API whose framing is not
 *    published, parts the rules do not count): the request body's byte length. Every token of a
 *    byte-level BPE covers at least one byte of text, and a chat template's per-message overhead
 *    is smaller than the JSON framing of the message, so the body's length bounds the prompt.
 * Counted only when a budget or a token limit needs it, once per encoding per call. */
static const char *const CHAT_NO_PROMPT[] = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n",
    "stream", "stream_options", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
    "logprobs", "top_logprobs", "user", "seed", "store", "metadata", "service_tier",
    "parallel_tool_calls", "reasoning_effort", "modalities", "safety_identifier",
    "prompt_cache_key", NULL};

static uint64_t chat_extra_bytes(json_object *body)
{
    uint64_t n = 0;
    json_object_object_foreach(body, k, v) {
        bool counted = false;
        for (int i = 0; CHAT_NO_PROMPT[i] && !counted; i++)
            counted = !strcmp(k, CHAT_NO_PROMPT[i]);
        if (!counted)
            n += strlen(k) + strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    }
    return n;
}

/* The event loop's token counters, made on first use (NULL: count without them). They keep
 * the merged words of one request for the next: a system prompt sent with every request is
 * merged once. 640 KB each (16,384 entries): plenty for the prompts that recur, and little
 * next to the gateway's own memory. */
#define GW_COUNTS_BYTES (640 * 1024)
static ic_count_cache *counts_of(gw_server *s)
{
    if (!s->counts)
        s->counts = ic_count_cache_new(GW_COUNTS_BYTES);
    return s->counts;
}

/* tokens of an embeddings input (exact), false when a part is not text or token ids */
static bool embed_tokens(ic_count_cache *cc, json_object *in, const char *model, int depth,
                         uint64_t *out)
{
    if (json_object_is_type(in, json_type_string)) {
        ic_text_count tc;
        ic_error err = {0};
        if (ic_count_text_for_model_in(cc, model, json_object_get_string(in),
                                       (size_t)json_object_get_string_len(in), &tc,
                                       &err) != IC_OK ||
            tc.method != IC_COUNT_EXACT)
            return false;
        *out += tc.tokens;
        return true;
    }
    if (json_object_is_type(in, json_type_int) && depth > 0) {
        *out += 1; /* a token id */
        return true;
    }
    if (!json_object_is_type(in, json_type_array) || depth > 1)
        return false;
    size_t n = json_object_array_length(in), strings = 0;
    while (depth == 0 && strings < n &&
           json_object_is_type(json_object_array_get_idx(in, strings), json_type_string))
        strings++;
    if (n && strings == n) { /* texts: counted in one call (out of memory: unknown, false) */
        const char **texts = malloc(n * sizeof *texts);
        size_t *lens = malloc(n * sizeof *lens);
        bool ok = false;
        if (texts && lens) {
            for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(in, i);
                texts[i] = json_object_get_string(e);
                lens[i] = (size_t)json_object_get_string_len(e);
            }
            ic_text_count tc;
            ic_error err = {0};
            ok = ic_count_texts_for_model_in(cc, model, texts, lens, n, &tc, &err) == IC_OK &&
                 tc.method == IC_COUNT_EXACT;
            if (ok)
                *out += tc.tokens;
        }
        free(texts);
        free(lens);
        return ok;
    }
    for (size_t i = 0; i < n; i++)
        if (!embed_tokens(cc, json_object_array_get_idx(in, i), model, depth + 1, out))
            return false;
    return true;
}

static uint64_t text_bound_for(gw_call *c, const char *model)
{
    const char *enc = NULL;
    if ((c->ep == EP_CHAT || c->ep == EP_EMBEDDINGS) && c->raw)
        enc = ic_tokenizer_encoding_for_model(model);
    if (!enc)
        return c->rawlen;
    for (int i = 0; i < c->npb; i++)
        if (c->pb[i].enc == enc)
            return c->pb[i].v;
    uint64_t v = c->rawlen;
    ic_error err = {0};
    if (c->ep == EP_CHAT) {
        ic_chat_count cc;
        ic_count_cache *cs = counts_of(c->s);
        if (ic_chat_count_request_in(cs, c->raw, c->rawlen, model, &cc, &err) == IC_OK &&
            cc.method == IC_COUNT_EXACT && !cc.approximate && !cc.tools && !cc.images &&
            !cc.other_parts && !cc.tool_calls)
            v = cc.prompt_tokens + chat_extra_bytes(c->body);
    } else {
        json_object *in;
        uint64_t n = 0;
        if (json_object_object_get_ex(c->body, "input", &in) &&
            embed_tokens(counts_of(c->s), in, model, 0, &n))
            v = n;
    }
    if (c->npb < (int)(sizeof c->pb / sizeof c->pb[0])) {
        c->pb[c->npb].enc = enc;
        c->pb[c->npb++].v = v;
    }
    return v;
}

/* Parts whose tokens do not follow from the request's bytes: images (by URL or inline), audio,
 * files and documents (by id, URL or inline). A 100-byte image URL or a file id can cost
 * thousands of prompt tokens, so neither the byte bound nor the text count bounds them. */
static bool has_media(json_object *o, int depth)
{
    static const char *const MEDIA[] = {"image_url", "input_image", "image", "input_audio",
                                        "audio", "file", "input_file", "document", NULL};
    if (!o || depth > 16)
        return false;
    if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++)
            if (has_media(json_object_array_get_idx(o, i), depth + 1))
                return true;
        return false;
    }
    if (!json_object_is_type(o, json_type_object))
        return false;
    json_object *t;
    if (json_object_object_get_ex(o, "type", &t) && json_object_is_type(t, json_type_string))
        for (int i = 0; MEDIA[i]; i++)
            if (!strcmp(json_object_get_string(t), MEDIA[i]))
                return true;
    json_object_object_foreach(o, k, v) {
        (void)k;
        if ((json_object_is_type(v, json_type_array) || json_object_is_type(v, json_type_object)) &&
            has_media(v, depth + 1))
            return true;
    }
    return false;
}

/* Content the provider adds to the prompt that the request's bytes do not show: a stored
 * response or conversation it continues (previous_response_id, conversation), a stored prompt
 * (prompt), MCP servers and code containers (Anthropic), and every tool the provider defines
 * itself (any tools[] type but "function" and "custom": web search, file search, code
 * interpreter, computer use, bash, text editor, ...: their definitions and results are billed
 * as prompt tokens). *searches: the web searches it may run and bill per search (Anthropic's
 * max_uses on the tool, the Responses API's max_tool_calls, one for Chat Completions'
 * web_search_options); -1 when a web search tool has no bound. */
static bool provider_adds(json_object *body, int64_t *searches)
{
    static const char *const ADDS[] = {"previous_response_id", "conversation", "prompt",
                                       "mcp_servers", "container", "web_search_options", NULL};
    json_object *v, *tools;
    bool adds = false;
    *searches = 0;
    for (int i = 0; ADDS[i]; i++)
        if (json_object_object_get_ex(body, ADDS[i], &v) && !json_object_is_type(v, json_type_null) &&
            (strcmp(ADDS[i], "prompt") || json_object_is_type(v, json_type_object)))
            adds = true; /* (a "prompt" of the Responses API is an object: a stored prompt) */
    if (json_object_object_get_ex(body, "web_search_options", &v) &&
        !json_object_is_type(v, json_type_null))
        *searches = 1;
    if (!json_object_object_get_ex(body, "tools", &tools) ||
        !json_object_is_type(tools, json_type_array))
        return adds;
    int64_t calls = -1;
    if (json_object_object_get_ex(body, "max_tool_calls", &v) &&
        json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
        calls = json_object_get_int64(v);
    size_t n = json_object_array_length(tools);
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(tools, i), *ty, *mu;
        if (!json_object_is_type(t, json_type_object) ||
            !json_object_object_get_ex(t, "type", &ty) || !json_object_is_type(ty, json_type_string))
            continue; /* Anthropic's own tools have no type */
        const char *type = json_object_get_string(ty);
        if (!strcmp(type, "function") || !strcmp(type, "custom"))
            continue;
        adds = true;
        if (strncmp(type, "web_search", 10) || *searches < 0)
            continue;
        if (json_object_object_get_ex(t, "max_uses", &mu) && json_object_is_type(mu, json_type_int) &&
            json_object_get_int64(mu) >= 0 && json_object_get_int64(mu) <= 1000000)
            *searches += json_object_get_int64(mu);
        else if (calls >= 0 && calls <= 1000000)
            *searches += calls;
        else
            *searches = -1;
    }
    return adds;
}

#define GW_UNBOUNDED UINT64_MAX

/* The prompt bound for one candidate: the text bound (text_bound_for), or, when the request has
 * image/audio/file parts, the candidate model's context window (no prompt can be longer); with
 * no context window in the catalog, GW_UNBOUNDED (the caller refuses: nothing bounds it). */
/* Anthropic adds a system prompt of its own to every call with tools: at most 530 tokens in its
 * published table (docs.anthropic.com/en/docs/tool-use-pricing-and-tokens: Claude 3 Opus,
 * tool_choice auto; 346 for the current models), which the request's bytes do not show. */
#define ANTHROPIC_TOOL_PROMPT_MAX 530

static uint64_t prompt_bound_for(gw_call *c, const gw_cand *k)
{
    uint64_t v = text_bound_for(c, k->model);
    json_object *tools;
    if (c->s->cfg->upstreams[k->upstream].format == GW_FMT_ANTHROPIC &&
        json_object_object_get_ex(c->body, "tools", &tools) &&
        json_object_is_type(tools, json_type_array) && json_object_array_length(tools) > 0)
        v += ANTHROPIC_TOOL_PROMPT_MAX;
    if (c->media < 0) {
        bool adds = provider_adds(c->body, &c->searches);
        c->media = adds || has_media(c->body, 0);
    }
    if (!c->media)
        return v;
    const ic_provider *p = NULL;
    const ic_model *m = NULL;
    ic_error err = {0};
    uint64_t cw = 0;
    if (ic_catalog_resolve(c->s->cat, c->s->cfg->upstreams[k->upstream].provider, k->model, &p,
                           &m, &err) == IC_OK && m)
        cw = ic_model_context_window(m);
    if (!cw)
        return GW_UNBOUNDED;
    return cw > v ? cw : v;
}

/* The prompt's size for routing rules on tokens: the requested model's count (exact with its
 * tiktoken encoding, else the family's characters-per-token estimate, estimate.h); -1 if the
 * body cannot be counted. */
static int64_t route_tokens(gw_call *c, const char *ptext)
{
    ic_error err = {0};
    if (c->ep == EP_CHAT) {
        ic_chat_count cc;
        if (ic_chat_count_request_in(counts_of(c->s), c->raw, c->rawlen, c->model_req, &cc,
                                     &err) == IC_OK)
            return (int64_t)cc.prompt_tokens;
    }
    if (c->ep == EP_EMBEDDINGS) {
        json_object *in;
        uint64_t n = 0;
        if (json_object_object_get_ex(c->body, "input", &in) &&
            embed_tokens(counts_of(c->s), in, c->model_req, 0, &n))
            return (int64_t)n;
    }
    if (!ptext)
        return -1;
    ic_text_count tc;
    if (ic_count_text_for_model_in(counts_of(c->s), c->model_req, ptext, strlen(ptext), &tc,
                                   &err) != IC_OK)
        return -1;
    return (int64_t)tc.tokens;
}

static const gw_key_cfg *find_key(const gw_config *cfg, const char *presented)
{
    char h[65];
    gw_sha256_hex(presented, strlen(presented), h);
    for (size_t i = 0; i < cfg->nkeys; i++)
        if (!strcmp(cfg->keys[i].hash, h))
            return &cfg->keys[i];
    return NULL;
}

static void serve_cache_hit(gw_call *c, gw_cached *v)
{
    gw_server *s = c->s;
    ic_cost cost;
    ic_error err = {0};
    char saved[IC_MONEY_STRLEN] = "";
    s->m.cache_hits++;
    if (ic_price_call(s->cat, v->provider, v->model, &v->usage, c->t0_ms, &cost, &err) == IC_OK) {
        s->m.cache_saved += cost.total;
        ic_money_format(cost.total, saved, sizeof saved);
    }
    /* the event carries the original usage with cache_hit true: what was saved, at $0 */
    write_event(c, v->provider, v->model, &v->usage, "200", true, false);
    struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
    evhttp_add_header(h, "Content-Type", v->ctype);
    evhttp_add_header(h, "X-Infercost-Request-Id", c->id);
    evhttp_add_header(h, "X-Infercost-Cache", "hit");
    evhttp_add_header(h, "X-Infercost-Cost", "0");
    evhttp_add_header(h, "X-Infercost-Model-Served", v->model);
    if (saved[0])
        evhttp_add_header(h, "X-Infercost-Saved", saved);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, v->body, v->len);
    arm_overhead(c);
    evhttp_send_reply(c->req, 200, "OK", b);
    evbuffer_free(b);
    count_status(s, 200);
    char path[128];
    gw_scopy(path, sizeof path, "/v1", EP_PATH[c->ep]);
    log_access(s, c, c->req, path, 200, "hit", "0", NULL);
    free(v->body);
    call_free(c);
}

static void handle_api(gw_server *s, struct evhttp_request *req, int ep)
{
    gw_call *c = call_new(s);
    if (!c) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    c->s = s;
    c->req = req;
    c->ep = ep;
    c->media = -1;
    c->searches = 0;
    c->t0_us = gw_mono_us();
    c->t0_ms = gw_now_ms();
    {
        /* idprefix-seq, without printf */
        char d[24];
        int i = 24;
        uint64_t n = ++s->seq;
        do {
            d[--i] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        d[--i] = '-';
        size_t pl = gw_scopy(c->id, sizeof c->id, s->idprefix, NULL);
        size_t dl = (size_t)(24 - i);
        if (pl + dl < sizeof c->id) {
            memcpy(c->id + pl, d + i, dl);
            c->id[pl + dl] = 0;
        }
    }
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    s->m.inflight++;
    s->m.req_by_endpoint[ep]++;
    gw_sse_init(&c->sse);

    struct evbuffer *ib = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(ib);
    char msg[768];
    if (len > s->cfg->max_body_bytes) {
        snprintf(msg, sizeof msg, "request body of %zu bytes exceeds max_body_bytes (%zu)", len,
                 s->cfg->max_body_bytes);
        send_json_error(s, c, req, ep, 413, "invalid_request_error", msg);
        call_free(c);
        return;
    }
    /* one tokener for the process (the event loop is single-threaded), reset per request */
    if (!s->tok && !(s->tok = json_tokener_new())) {
        send_json_error(s, c, req, ep, 503, "server_error", "out of memory");
        call_free(c);
        return;
    }
    json_tokener *tok = s->tok;
    json_tokener_reset(tok);
    c->raw = (const char *)evbuffer_pullup(ib, -1);
    c->rawlen = len;
    c->body = json_tokener_parse_ex(tok, c->raw, (int)len);
    bool okj = c->body && json_tokener_get_error(tok) == json_tokener_success &&
               json_object_is_type(c->body, json_type_object);
    if (okj) { /* and nothing after it but white space: a second object would not be forwarded */
        size_t end = json_tokener_get_parse_end(tok);
        while (end < len && (c->raw[end] == ' ' || c->raw[end] == '\t' || c->raw[end] == '\n' ||
                             c->raw[end] == '\r'))
            end++;
        okj = end == len;
    }
    if (c->body && !okj) { /* an incomplete document leaves no object to keep */
        json_object_put(c->body);
        c->body = NULL;
    }
    if (!okj) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error",
                        "the request body is not a JSON object");
        call_free(c);
        return;
    }
    json_object *v;
    if (!json_object_object_get_ex(c->body, "model", &v) || !json_object_is_type(v, json_type_string) ||
        !json_object_get_string_len(v)) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error", "the request names no model");
        call_free(c);
        return;
    }
    /* what the gateway reserves for must be what the upstream reads: a NUL (\u0000), which json-c
     * cuts keys at ("max_tokens\u0000" would be read as max_tokens here and ignored upstream), and
     * "stream" or "include_usage" that are not booleans ("false" is true to json-c) are refused */
    const char *why_bad = ic_json_has_nul(c->raw, c->rawlen)
                              ? "the request body contains a NUL character (\\u0000)"
                          : !bool_or_absent(c->body, "stream")
                              ? "stream must be true or false"
                          : json_object_object_get_ex(c->body, "stream_options", &v) &&
                                  !bool_or_absent(v, "include_usage")
                              ? "stream_options.include_usage must be true or false"
                              : NULL;
    if (why_bad) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error", why_bad);
        call_free(c);
        return;
    }
    json_object_object_get_ex(c->body, "model", &v);
    gw_scopy(c->model_req, sizeof c->model_req, json_object_get_string(v), NULL);
    c->stream = ep != EP_EMBEDDINGS && json_object_object_get_ex(c->body, "stream", &v) &&
                json_object_get_boolean(v);
    json_object *so;
    if (c->stream && json_object_object_get_ex(c->body, "stream_options", &so) &&
        json_object_object_get_ex(so, "include_usage", &v))
        c->client_usage = json_object_get_boolean(v);

    /* virtual key */
    req_hdrs rh;
    scan_headers(req, &rh);
    const char *presented = NULL, *a = rh.auth;
    if (a && !strncasecmp(a, "Bearer ", 7))
        presented = a + 7;
    if (!presented)
        presented = rh.api_key;
    if (presented && *presented && s->cfg->nkeys)
        c->key = find_key(s->cfg, presented);
    if (s->cfg->require_key && !c->key) {
        s->m.refused_auth++;
        send_json_error(s, c, req, ep, 401, ep == EP_MESSAGES ? "authentication_error" : "invalid_api_key",
                        presented && *presented ? "unknown virtual key" : "a virtual key is required "
                        "(Authorization: Bearer KEY or x-api-key: KEY)");
        call_free(c);
        return;
    }
    copy_tag(c->customer, sizeof c->customer,
             c->key && c->key->customer ? c->key->customer : rh.customer);
    copy_tag(c->feature, sizeof c->feature,
             c->key && c->key->feature ? c->key->feature : rh.feature);
    copy_tag(c->task, sizeof c->task, rh.task);
    const char *tg = rh.tags;
    /* what the ledger takes (2,047 bytes) less the gateway's {"usage_incomplete":true, */
    enum { TAGS_MAX = sizeof(((ic_record *)0)->tags) - 1 - 24 };
    if (tg) {
        /* what the ledger takes (record.c): an object of at most 2,047 bytes as written, no NUL;
         * usage_incomplete is the gateway's own tag */
        /* the whole header one JSON object (nothing after it), written back as the ledger
         * keeps it: without spaces, "/" unescaped */
        json_tokener *jt = json_tokener_new();
        if (jt) /* JSON as the ledger's readers take it: no NaN, single quotes or comments */
            json_tokener_set_flags(jt, JSON_TOKENER_STRICT);
        json_object *t = jt ? json_tokener_parse_ex(jt, tg, (int)strlen(tg)) : NULL, *x;
        if (t && (json_tokener_get_error(jt) != json_tokener_success ||
                  tg[strspn(tg + json_tokener_get_parse_end(jt), " \t") +
                     json_tokener_get_parse_end(jt)])) {
            json_object_put(t);
            t = NULL;
        }
        if (jt)
            json_tokener_free(jt);
        const char *tw = NULL;
        if (t && json_object_is_type(t, json_type_object) && finite_json(t, 0))
            tw = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
        const char *why_tags =
            !tw ? "X-Infercost-Tags must be a JSON object such as {\"team\":\"search\"}"
            : !ic_utf8_valid(tg, strlen(tg)) ? "X-Infercost-Tags is not valid UTF-8"
            : strlen(tw) > TAGS_MAX ? "X-Infercost-Tags is longer than 2023 bytes (as JSON "
                                      "without spaces: the gateway may add its own tag)"
            : ic_json_has_nul(tg, strlen(tg)) ? "X-Infercost-Tags contains a NUL character"
            : json_object_object_get_ex(t, "usage_incomplete", &x)
                ? "X-Infercost-Tags: usage_incomplete is the gateway's own tag"
                : NULL;
        bool oom = !why_tags && !(c->tags = strdup(tw));
        json_object_put(t);
        if (why_tags || oom) {
            send_json_error(s, c, req, ep, oom ? 503 : 400,
                            oom ? "server_error" : "invalid_request_error",
                            oom ? "out of memory" : why_tags);
            call_free(c);
            return;
        }
    }

    /* output bound: the client's, or the configured default written into the request */
    bool bad = false;
    if (ep == EP_CHAT) {
        /* both may be given, and an upstream may read either (OpenAI the first, many
         * OpenAI-compatible servers the second): the bound is the larger */
        uint64_t mc = 0, mt = 0;
        bool hc = get_uint(c->body, "max_completion_tokens", &mc, &bad);
        bool ht = !bad && get_uint(c->body, "max_tokens", &mt, &bad);
        if (hc || ht) {
            c->max_out = mc > mt ? mc : mt;
        } else if (!bad) {
            c->max_out = s->cfg->default_max_tokens;
            c->inj_key = "max_completion_tokens";
            json_object_object_add(c->body, "max_completion_tokens",
                                   json_object_new_int64((int64_t)c->max_out));
        }
    } else if (ep == EP_RESPONSES) {
        if (!get_uint(c->body, "max_output_tokens", &c->max_out, &bad) && !bad) {
            c->max_out = s->cfg->default_max_tokens;
            c->inj_key = "max_output_tokens";
            json_object_object_add(c->body, "max_output_tokens",
                                   json_object_new_int64((int64_t)c->max_out));
        }
    } else if (ep == EP_MESSAGES) {
        if (!get_uint(c->body, "max_tokens", &c->max_out, &bad) && !bad) {
            c->max_out = s->cfg->default_max_tokens;
            c->inj_key = "max_tokens";
            json_object_object_add(c->body, "max_tokens", json_object_new_int64((int64_t)c->max_out));
        }
    }
    if (bad) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error",
                        "max_tokens / max_completion_tokens / max_output_tokens must be a positive integer");
        call_free(c);
        return;
    }
    /* chat "n": each choice may write max_out tokens, all billed. n is 1 to 128 (the API's
     * range) and max_out at most 10^15, so the bound cannot wrap */
    uint64_t choices = 1;
    if (ep == EP_CHAT && (get_uint(c->body, "n", &choices, &bad) || bad) &&
        (bad || choices > IC_CHAT_CHOICES_MAX)) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error",
                        "n must be an integer from 1 to 128");
        call_free(c);
        return;
    }
    if (c->max_out > IC_USAGE_VALUE_MAX) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error",
                        "max_tokens / max_completion_tokens / max_output_tokens is more than "
                        "1000000000000000");
        call_free(c);
        return;
    }
    c->out_bound = c->max_out * choices;
    /* routing */
    char *ptext = NULL;
    struct evbuffer *pt = NULL;
    if (s->need_prompt_text) {
        pt = evbuffer_new();
        json_object *m;
        if (json_object_object_get_ex(c->body, "messages", &m))
            prompt_text(m, pt, 0);
        if (json_object_object_get_ex(c->body, "input", &m))
            prompt_text(m, pt, 0);
        if (json_object_object_get_ex(c->body, "system", &m))
            prompt_text(m, pt, 0);
        if (json_object_object_get_ex(c->body, "instructions", &m))
            prompt_text(m, pt, 0);
        LIT(pt, "\0");
        ptext = (char *)evbuffer_pullup(pt, -1);
    }
    gw_route_req rr = {c->model_req, c->customer, c->feature, c->task, len, ptext,
                       s->need_prompt_tokens ? route_tokens(c, ptext) : -1,
                       ep == EP_MESSAGES ? GW_FMT_ANTHROPIC : GW_FMT_OPENAI, len, c->max_out};
    char why[512] = "";
    c->ncand = gw_route_pick(s, &rr, c->cand, GW_MAX_CANDS, why, sizeof why);
    if (pt)
        evbuffer_free(pt);
    if (c->ncand <= 0) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error", why);
        call_free(c);
        return;
    }
    c->max_attempts = 1 + s->cfg->max_retries;

    /* exact cache: deterministic, non-streamed requests. Their hash is the cache key, and goes
     * into the event even with the cache off, so that `infercost whatif --response-cache` can
     * tell what the cache would save. */
    const char *ch = rh.cache;
    if (ch && strcasecmp(ch, "on") && strcasecmp(ch, "off")) {
        send_json_error(s, c, req, ep, 400, "invalid_request_error",
                        "X-Infercost-Cache must be on or off");
        call_free(c);
        return;
    }
    if (!c->stream && !(ch && !strcasecmp(ch, "off"))) {
        json_object *t;
        bool det = ep == EP_EMBEDDINGS || (ch && !strcasecmp(ch, "on"));
        if (!det && json_object_object_get_ex(c->body, "temperature", &t) &&
            (json_object_is_type(t, json_type_int) || json_object_is_type(t, json_type_double)) &&
            json_object_get_double(t) == 0.0)
            det = true;
        if (det) {
            gw_sha256_ctx h;
            gw_sha256_init(&h);
            hash_item(&h, 'p', EP_PATH[ep], strlen(EP_PATH[ep]));
            c->hashed = normalize(c->body, &h, 0);
            c->cacheable = c->hashed && s->cfg->cache_enabled;
            gw_sha256_final(&h, c->ckey);
            gw_cached hit;
            if (c->cacheable && s->cops->get(s->cstore, c->ckey, gw_now_ms(), &hit)) {
                serve_cache_hit(c, &hit);
                return;
            }
            if (c->cacheable)
                s->m.cache_misses++;
        }
    }

    /* budget and rate limits: the worst case over the candidates */
    if (c->key && (c->key->has_day || c->key->has_month || c->key->rpm || c->key->tpm)) {
        ic_money worst = 0;
        bool money = c->key->has_day || c->key->has_month;
        uint64_t pmax = 0;
        for (int i = 0; i < c->ncand && (money || c->key->tpm); i++) {
            uint64_t pb = prompt_bound_for(c, &c->cand[i]);
            if (pb == GW_UNBOUNDED) {
                s->m.refused_budget++;
                snprintf(msg, sizeof msg,
                         "cannot bound the prompt of this call to %.128s: it has image, audio or "
                         "file parts, or content the provider adds (a previous response, a "
                         "conversation, a stored prompt, tools the provider defines), and the "
                         "catalog gives no context window for the model; a key with a budget or "
                         "a token limit needs a bound", c->cand[i].model);
                send_json_error(s, c, req, ep, 400, "invalid_request_error", msg);
                call_free(c);
                return;
            }
            if (money && c->searches < 0) {
                s->m.refused_budget++;
                send_json_error(s, c, req, ep, 400, "invalid_request_error",
                                "cannot bound the web searches of this call: give the web search "
                                "tool max_uses (Anthropic) or the request max_tool_calls (OpenAI "
                                "Responses); a key with a budget needs a bound");
                call_free(c);
                return;
            }
            if (pb > pmax)
                pmax = pb;
            ic_money w = 0;
            if (!money)
                continue;
            if (!worst_cost(s, &c->cand[i], pb, c->out_bound, c->searches, &w, why, sizeof why)) {
                s->m.refused_budget++;
                snprintf(msg, sizeof msg, "%s; a key with a budget can only call priced models", why);
                send_json_error(s, c, req, ep, 400, "invalid_request_error", msg);
                call_free(c);
                return;
            }
            if (w > worst)
                worst = w;
        }
        /* a call whose worst case is more than the whole budget can never be admitted: said
         * so, as a request to change (a 429 would have clients retry it) */
        for (int p = 0; p < 2; p++) {
            bool has = p ? c->key->has_month : c->key->has_day;
            ic_money whole = p ? c->key->month_usd : c->key->day_usd;
            if (!has || worst <= whole || !whole) /* a $0 budget: a frozen key, refused below */
                continue;
            char wa[IC_MONEY_STRLEN], wb[IC_MONEY_STRLEN];
            s->m.refused_budget++;
            snprintf(msg, sizeof msg,
                     "budget: this call could cost up to $%s, more than key '%s''s whole %s budget "
                     "of $%s (its prompt bound is %llu tokens%s, its output bound %llu tokens): "
                     "lower max_tokens or the prompt",
                     ic_money_format(worst, wa, sizeof wa), c->key->id, p ? "monthly" : "daily",
                     ic_money_format(whole, wb, sizeof wb), (unsigned long long)pmax,
                     c->media > 0 ? ", the model's context window: the request has parts or "
                                    "provider-added content its bytes do not bound" : "",
                     (unsigned long long)c->out_bound);
            send_json_error(s, c, req, ep, 400, "invalid_request_error", msg);
            call_free(c);
            return;
        }
        gw_limits lim = key_limits(c->key);
        c->tokens_bound = pmax + c->out_bound;
        if (!s->bops->reserve(s->bstore, c->key->id, &lim, worst, c->tokens_bound, gw_now_ms(),
                              why, sizeof why)) {
            if (!strncmp(why, "rate", 4))
                s->m.refused_rate++;
            else
                s->m.refused_budget++;
            send_json_error(s, c, req, ep, 429,
                            !strncmp(why, "rate", 4) ? "rate_limit_exceeded" : "budget_exceeded", why);
            call_free(c);
            return;
        }
        c->reserved = true;
        c->worst = worst;
    }

    /* the request to forward as the client wrote it, when only the output bound was added */
    if (!(ep == EP_CHAT && c->stream && !c->client_usage) &&
        strlen(c->model_req) + 1 < sizeof c->model_req)
        fwd_body(c);
    /* counted: free the request's bytes now, not at the end of the call */
    evbuffer_drain(ib, len);
    c->raw = NULL;

    /* usage from streams: ask for it when the client did not */
    if (ep == EP_CHAT && c->stream && !c->client_usage) {
        json_object *opts = NULL;
        if (!json_object_object_get_ex(c->body, "stream_options", &opts) ||
            !json_object_is_type(opts, json_type_object)) {
            opts = json_object_new_object();
            json_object_object_add(c->body, "stream_options", opts);
        }
        json_object_object_add(opts, "include_usage", json_object_new_boolean(1));
        c->inject_usage = true;
    }
    start_attempt(c);
}

/* GET /v1/models: the first OpenAI-format upstream's list, passed through. */
typedef struct models_call {
    gw_server *s;
    struct evhttp_request *req;
    struct evbuffer *b;
    int status;
    char ctype[96];
} models_call;

static void m_head(void *arg, int status, const char *ct, const char *pass)
{
    (void)pass;
    models_call *m = arg;
    m->status = status;
    snprintf(m->ctype, sizeof m->ctype, "%s", ct ? ct : "");
}
static int m_data(void *arg, const char *d, size_t n)
{
    models_call *m = arg;
    evbuffer_add(m->b, d, n);
    return evbuffer_get_length(m->b) < (8u << 20) ? GW_UP_OK : GW_UP_ABORT;
}
static void m_done(void *arg, bool ok, bool sent, const char *err)
{
    (void)sent;
    models_call *m = arg;
    m->s->m.inflight--;
    if (!ok) {
        send_json_error(m->s, NULL, m->req, EP_MODELS, 502, "upstream_error", err ? err : "failed");
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(m->req), "Content-Type",
                          m->ctype[0] ? m->ctype : "application/json");
        evhttp_send_reply(m->req, m->status, NULL, m->b);
        count_status(m->s, m->status);
        log_access(m->s, NULL, m->req, "/v1/models", m->status, NULL, NULL, NULL);
    }
    evbuffer_free(m->b);
    free(m);
}

static void handle_models(gw_server *s, struct evhttp_request *req)
{
    s->m.req_by_endpoint[EP_MODELS]++;
    if (s->cfg->require_key) { /* the list is fetched with the provider's key: keyed callers only */
        req_hdrs rh;
        scan_headers(req, &rh);
        const char *presented = rh.auth && !strncasecmp(rh.auth, "Bearer ", 7) ? rh.auth + 7
                                                                                : rh.api_key;
        if (!presented || !*presented || !find_key(s->cfg, presented)) {
            s->m.refused_auth++;
            send_json_error(s, NULL, req, EP_MODELS, 401, "invalid_api_key",
                            presented && *presented ? "unknown virtual key"
                                                    : "a virtual key is required (Authorization: "
                                                      "Bearer KEY or x-api-key: KEY)");
            return;
        }
    }
    for (size_t i = 0; i < s->cfg->nupstreams; i++) {
        const gw_upstream_cfg *up = &s->cfg->upstreams[i];
        if (up->format != GW_FMT_OPENAI)
            continue;
        models_call *m = calloc(1, sizeof *m);
        m->s = s;
        m->req = req;
        m->b = evbuffer_new();
        char url[1024], auth[1024];
        snprintf(url, sizeof url, "%s/models", up->base_url);
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", up->api_key);
        const char *hs[] = {auth, NULL};
        static const gw_up_cb cb = {m_head, m_data, m_done};
        s->m.inflight++;
        if (!gw_up_start(s->up, url, hs, NULL, 0, up->timeout_ms, &cb, m)) {
            s->m.inflight--;
            evbuffer_free(m->b);
            free(m);
            break;
        }
        memset(auth, 0, sizeof auth);
        return;
    }
    send_json_error(s, NULL, req, EP_MODELS, 404, "not_found", "no OpenAI-format upstream to list models");
}

/* client_timeout_ms (server.c) is a read and write timeout on the client's connection. Once a
 * request is read, the connection only waits for close while the answer is made, and a stream
 * may pause between events for longer than that: the read side loses its timeout until the
 * answer is complete, then gets it back for the next request on the connection. The write side
 * keeps it (it runs only while written data waits on a client that does not read). */
static void client_read_timeout(struct evhttp_request *req, const gw_server *s, bool on)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    if (!bev)
        return;
    struct timeval tv = {s->cfg->client_timeout_ms / 1000, (s->cfg->client_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, on ? &tv : NULL, &tv);
}

static void on_reply_complete(struct evhttp_request *req, void *arg)
{
    client_read_timeout(req, arg, true);
}

void gw_proxy_handle(struct evhttp_request *req, void *arg)
{
    gw_server *s = arg;
    g_ovh_metrics = &s->m;
    client_read_timeout(req, s, false);
    evhttp_request_set_on_complete_cb(req, on_reply_complete, s);
    const char *uri = evhttp_request_get_uri(req);
    char path[256];
    size_t pl = strcspn(uri, "?");
    if (pl > 255)
        pl = 255;
    memcpy(path, uri, pl);
    path[pl] = 0;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    if (!strcmp(path, "/healthz")) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "{\"status\":\"%s\",\"inflight\":%lld}",
                            s->draining ? "draining" : "ok", (long long)s->m.inflight);
        evhttp_add_header(oh, "Content-Type", "application/json");
        evhttp_send_reply(req, s->draining ? 503 : 200, NULL, b);
        evbuffer_free(b);
        return;
    }
    if (!strcmp(path, "/metrics")) {
        struct evbuffer *b = evbuffer_new();
        gw_metrics_render(&s->m, b);
        if (s->cfg->key_metrics)
            gw_metrics_render_keys(s->cfg, s->bops, s->bstore, gw_now_ms(), b);
        uint64_t ce = 0, cb = 0, cv = 0;
        s->cops->stats(s->cstore, &ce, &cb, &cv);
        evbuffer_add_printf(b,
                            "# HELP infercost_cache_entries Entries in the response cache.\n"
                            "# TYPE infercost_cache_entries gauge\ninfercost_cache_entries %llu\n"
                            "# HELP infercost_cache_bytes Bytes held by the response cache.\n"
                            "# TYPE infercost_cache_bytes gauge\ninfercost_cache_bytes %llu\n"
                            "# HELP infercost_cache_evictions_total LRU evictions.\n"
                            "# TYPE infercost_cache_evictions_total counter\ninfercost_cache_evictions_total %llu\n"
                            "# HELP infercost_spool_events_total Events appended to the spool.\n"
                            "# TYPE infercost_spool_events_total counter\ninfercost_spool_events_total %llu\n"
                            "# HELP infercost_spool_pending_bytes Journal bytes not yet in the spool file.\n"
                            "# TYPE infercost_spool_pending_bytes gauge\ninfercost_spool_pending_bytes %llu\n"
                            "# HELP infercost_spool_stalls_total Appends that waited for a full journal.\n"
                            "# TYPE infercost_spool_stalls_total counter\ninfercost_spool_stalls_total %llu\n",
                            (unsigned long long)ce, (unsigned long long)cb, (unsigned long long)cv,
                            (unsigned long long)gw_spool_events(s->spool),
                            (unsigned long long)gw_spool_pending_bytes(s->spool),
                            (unsigned long long)gw_spool_stalls(s->spool));
        if (s->ledger) {
            gw_ledger_stats ls;
            gw_ledger_sink_stats(s->ledger, &ls);
            evbuffer_add_printf(b,
                                "# HELP infercost_ledger_events_total Spool events stored in the ledger.\n"
                                "# TYPE infercost_ledger_events_total counter\ninfercost_ledger_events_total %llu\n"
                                "# HELP infercost_ledger_duplicates_total Spool events the ledger already held (replays).\n"
                                "# TYPE infercost_ledger_duplicates_total counter\ninfercost_ledger_duplicates_total %llu\n"
                                "# HELP infercost_ledger_rejected_total Spool lines the ledger's ingest refused.\n"
                                "# TYPE infercost_ledger_rejected_total counter\ninfercost_ledger_rejected_total %llu\n"
                                "# HELP infercost_ledger_errors_total Failed ledger passes (retried).\n"
                                "# TYPE infercost_ledger_errors_total counter\ninfercost_ledger_errors_total %llu\n"
                                "# HELP infercost_ledger_lag_bytes Spool bytes not yet in the ledger.\n"
                                "# TYPE infercost_ledger_lag_bytes gauge\ninfercost_ledger_lag_bytes %llu\n",
                                (unsigned long long)ls.inserted, (unsigned long long)ls.duplicates,
                                (unsigned long long)ls.rejected, (unsigned long long)ls.errors,
                                (unsigned long long)ls.lag_bytes);
        }
        if (s->bsync) {
            gw_budget_sync_stats bs;
            gw_budget_sync_stats_get(s->bsync, &bs);
            evbuffer_add_printf(b,
                                "# HELP infercost_budget_sync_total Exchanges with the shared budget store.\n"
                                "# TYPE infercost_budget_sync_total counter\ninfercost_budget_sync_total %llu\n"
                                "# HELP infercost_budget_sync_errors_total Exchanges with the shared budget store that failed.\n"
                                "# TYPE infercost_budget_sync_errors_total counter\ninfercost_budget_sync_errors_total %llu\n"
                                "# HELP infercost_budget_sync_age_seconds Time since the last exchange that succeeded.\n"
                                "# TYPE infercost_budget_sync_age_seconds gauge\ninfercost_budget_sync_age_seconds %.3f\n"
                                "# HELP infercost_budget_sync_last_seconds How long the last exchange took.\n"
                                "# TYPE infercost_budget_sync_last_seconds gauge\ninfercost_budget_sync_last_seconds %.6f\n"
                                "# HELP infercost_budget_sync_seconds_total Time spent in exchanges.\n"
                                "# TYPE infercost_budget_sync_seconds_total counter\ninfercost_budget_sync_seconds_total %.6f\n"
                                "# HELP infercost_budget_rows_written_total Key counters written to the budget store.\n"
                                "# TYPE infercost_budget_rows_written_total counter\ninfercost_budget_rows_written_total %llu\n",
                                (unsigned long long)bs.syncs, (unsigned long long)bs.errors,
                                (double)(gw_now_ms() - bs.last_ok_ms) / 1000,
                                (double)bs.last_us / 1e6, (double)bs.total_us / 1e6,
                                (unsigned long long)bs.rows);
        }
        evhttp_add_header(oh, "Content-Type", "text/plain; version=0.0.4");
        evhttp_send_reply(req, 200, NULL, b);
        evbuffer_free(b);
        return;
    }
    int ep = -1;
    const char *p = !strncmp(path, "/v1/", 4) ? path + 3 : path;
    for (int i = 0; i < 5; i++)
        if (!strcmp(p, EP_PATH[i]))
            ep = i;
    if (ep < 0) {
        send_json_error(s, NULL, req, EP_CHAT, 404, "not_found",
                        "unknown path (the gateway serves /v1/chat/completions, /v1/responses, "
                        "/v1/embeddings, /v1/messages, /v1/models, /healthz, /metrics)");
        return;
    }
    if (s->draining) {
        evhttp_add_header(oh, "Connection", "close");
        send_json_error(s, NULL, req, ep, 503, "unavailable", "the gateway is shutting down");
        return;
    }
    if (ep == EP_MODELS) {
        if (cmd != EVHTTP_REQ_GET) {
            send_json_error(s, NULL, req, ep, 405, "invalid_request_error", "use GET");
            return;
        }
        handle_models(s, req);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        send_json_error(s, NULL, req, ep, 405, "invalid_request_error", "use POST");
        return;
    }
    /* a call must be recorded: when the spool's disk has not kept up (full or failing) and most
     * of the journal waits for it, calls are refused rather than the event loop stalled on a
     * full journal */
    if (s->spool && gw_spool_pending_bytes(s->spool) > gw_spool_capacity(s->spool) / 4 * 3) {
        evhttp_add_header(oh, "Retry-After", "5");
        send_json_error(s, NULL, req, ep, 503, "unavailable",
                        "the gateway cannot record calls now: its spool's disk is full or failing "
                        "(see its stderr)");
        return;
    }
    handle_api(s, req, ep);
}

void gw_proxy_abort_all(gw_server *s)
{
    while (s->calls) {
        gw_call *c = s->calls;
        /* a request the provider had (not one waiting to retry, or still connecting) */
        bool at_provider = c->streaming || (c->up && gw_up_sent(c->up));
        if (c->up)
            gw_up_cancel(c->up);
        c->up = NULL;
        if (c->attempt > 0) {
            /* cut by the drain timeout after reaching a provider, which may bill it: record what
             * is known, marked incomplete, rather than nothing */
            ic_usage u;
            char model[256], why[256];
            ic_usage_clear(&u);
            size_t n = evbuffer_get_length(c->keep);
            if (c->streaming && n)
                extract_usage(c, (const char *)evbuffer_pullup(c->keep, -1), n, true, &u, model,
                              sizeof model, why, sizeof why);
            const gw_cand *k = cur_cand(c);
            if (at_provider)
                estimate_usage(c, k->model, &u, false);
            write_event(c, s->cfg->upstreams[k->upstream].provider, k->model, &u, "shutdown", false,
                        true);
        }
        /* in flight at a provider (or already answering): it may be billed, so its worst case
         * is charged, as for an attempt lost after its request was sent */
        if (c->reserved)
            s->bops->settle(s->bstore, c->key->id, c->worst, c->tokens_bound,
                            c->attempt > 0 ? c->worst : 0, c->attempt > 0 ? c->tokens_bound : 0,
                            gw_now_ms());
        if (c->streaming)
            evhttp_send_reply_end(c->req);
        else
            evhttp_send_error(c->req, 503, "shutting down");
        call_free(c);
    }
}

void gw_access_log_flush(gw_server *s)
{
    if (s->alog_fd < 0)
        return;
    while (evbuffer_get_length(s->alog))
        if (evbuffer_write(s->alog, s->alog_fd) < 0)
            break;
}
