/* mock_provider.c: `infercost mock-provider`, a local stand-in for OpenAI and Anthropic. It speaks
 * /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/models (OpenAI) and /v1/messages
 * (Anthropic), streaming (SSE) and not, with realistic usage blocks: prompt-cache hits on repeated
 * long prefixes (OpenAI: cached_tokens in 128-token steps past 1024; Anthropic: cache_control
 * writes then reads), reasoning tokens for reasoning models (o1/o3/o4/gpt-5), max_tokens caps with
 * finish_reason "length". Latency, per-chunk delay and an error rate are configurable so that
 * load tests, fallbacks and demos run without spending. Token counts are an estimate (4 bytes per
 * token), deterministic for a given request. It must never call a real provider and never log a
 * key. Threads: --threads N event loops share one port through SO_REUSEPORT. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "../cli/cli_common.h"
#include "../cli/command.h"
#include "gw_util.h"

typedef struct mock_opts {
    char host[64];
    int port;
    int latency_ms, jitter_ms, chunk_delay_ms;
    double error_rate;
    int error_status;
    int output_tokens;
    int threads;
    const char *expect_key; /* value from --expect-key-env, never printed */
    bool no_auth;
    bool no_usage; /* chat answers without usage, as servers that ignore stream_options do */
} mock_opts;

#define LIT(b, s) evbuffer_add((b), s, sizeof(s) - 1)

static mock_opts O;
static unsigned long long g_counter;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* Prompt prefixes seen before (for cache hits): an open-addressing set of 64-bit hashes, cleared
 * when it fills up. */
#define SEEN_CAP 65536
static uint64_t g_seen[SEEN_CAP];
static size_t g_nseen;

static bool seen_check_add(uint64_t h)
{
    if (!h)
        h = 1;
    pthread_mutex_lock(&g_lock);
    if (g_nseen > SEEN_CAP / 2) {
        memset(g_seen, 0, sizeof g_seen);
        g_nseen = 0;
    }
    size_t i = h & (SEEN_CAP - 1);
    bool found = false;
    while (g_seen[i]) {
        if (g_seen[i] == h) {
            found = true;
            break;
        }
        i = (i + 1) & (SEEN_CAP - 1);
    }
    if (!found) {
        g_seen[i] = h;
        g_nseen++;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    if (!h)
        h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static unsigned long long next_id(void)
{
    return __atomic_add_fetch(&g_counter, 1, __ATOMIC_RELAXED);
}

static uint64_t est_tokens(size_t bytes) { return bytes ? (bytes + 3) / 4 : 0; }

/* Text of a content value: a string, or an array of parts with "text" (or "input_text"). */
static void content_text(json_object *c, struct evbuffer *out)
{
    if (!c)
        return;
    if (json_object_is_type(c, json_type_string)) {
        evbuffer_add(out, json_object_get_string(c), (size_t)json_object_get_string_len(c));
        return;
    }
    if (json_object_is_type(c, json_type_array)) {
        size_t n = json_object_array_length(c);
        for (size_t i = 0; i < n; i++) {
            json_object *p = json_object_array_get_idx(c, i), *t;
            if (json_object_is_type(p, json_type_string))
                content_text(p, out);
            else if (json_object_object_get_ex(p, "text", &t))
                content_text(t, out);
            else if (json_object_object_get_ex(p, "content", &t))
                content_text(t, out);
        }
    }
}

static bool is_reasoning_model(const char *m)
{
    return (m[0] == 'o' && m[1] >= '1' && m[1] <= '9') || !strncmp(m, "gpt-5", 5) ||
           strstr(m, "reason") != NULL;
}

typedef struct gen {
    char model[256];
    uint64_t prompt, cached, cache_write, visible, reasoning;
    bool capped;
    char *text; /* visible words */
    char **words;
    size_t nwords;
} gen;

static const char *WORDS[] = {"The ", "mock ", "provider ", "answers ", "with ", "tokens ",
                              "so ", "that ", "costs ", "can ", "be ", "measured ",
                              "without ", "spending. "};

static void gen_output(gen *g, json_object *req, const char *max_key, const char *max_key2)
{
    json_object *v;
    uint64_t cap = 0;
    if ((json_object_object_get_ex(req, max_key, &v) ||
         (max_key2 && json_object_object_get_ex(req, max_key2, &v))) &&
        json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
        cap = (uint64_t)json_object_get_int64(v);
    g->visible = (uint64_t)O.output_tokens;
    g->reasoning = is_reasoning_model(g->model) ? 2 * g->visible : 0;
    g->capped = false;
    if (cap) {
        if (g->visible >= cap) {
            g->capped = g->visible > cap || g->reasoning > 0;
            g->visible = cap;
            g->reasoning = 0;
        } else if (g->visible + g->reasoning > cap) {
            g->reasoning = cap - g->visible;
            g->capped = true;
        }
    }
    g->nwords = g->visible;
    g->words = calloc(g->nwords ? g->nwords : 1, sizeof *g->words);
    size_t total = 0;
    for (size_t i = 0; i < g->nwords; i++) {
        g->words[i] = (char *)WORDS[i % (sizeof WORDS / sizeof *WORDS)];
        total += strlen(g->words[i]);
    }
    g->text = malloc(total + 1);
    size_t off = 0;
    for (size_t i = 0; i < g->nwords; i++) {
        size_t l = strlen(g->words[i]);
        memcpy(g->text + off, g->words[i], l);
        off += l;
    }
    g->text[off] = 0;
}

static void gen_free(gen *g)
{
    free(g->words);
    free(g->text);
}

/* OpenAI automatic prompt caching: a prompt of 1024+ tokens seen before reads its prefix from
 * cache in 128-token increments. */
static void openai_cache(gen *g, uint64_t prefix_hash)
{
    g->cached = 0;
    bool seen = seen_check_add(prefix_hash);
    if (g->prompt >= 1024 && seen)
        g->cached = (g->prompt / 128) * 128;
}

/* ---- a pending reply: a delayed whole response, or a stream sent one event per tick ---- */
typedef struct reply {
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct event *timer;
    int status;
    bool stream;
    char **events;
    size_t nev, next;
    struct evbuffer *body;
} reply;

static void reply_free(reply *r)
{
    if (r->timer)
        event_free(r->timer);
    for (size_t i = 0; i < r->nev; i++)
        free(r->events[i]);
    free(r->events);
    if (r->body)
        evbuffer_free(r->body);
    free(r);
}

/* A client that went away meanwhile does not free the request: libevent detaches it and frees it
 * at our final send, so the timers need no close callback. */
static void finish(reply *r) { reply_free(r); }

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reply *r = arg;
    if (!r->stream) {
        evhttp_send_reply(r->req, r->status, r->status == 200 ? "OK" : "Error", r->body);
        finish(r);
        return;
    }
    if (r->next == 0)
        evhttp_send_reply_start(r->req, 200, "OK");
    do {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, r->events[r->next], strlen(r->events[r->next]));
        evhttp_send_reply_chunk(r->req, b);
        evbuffer_free(b);
        r->next++;
    } while (r->next < r->nev && O.chunk_delay_ms == 0);
    if (r->next >= r->nev) {
        evhttp_send_reply_end(r->req);
        finish(r);
        return;
    }
    struct timeval tv = {O.chunk_delay_ms / 1000, (O.chunk_delay_ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

static void schedule(reply *r)
{
    struct event_base *base = evhttp_connection_get_base(evhttp_request_get_connection(r->req));
    r->conn = evhttp_request_get_connection(r->req);
    r->timer = evtimer_new(base, tick, r);
    int delay = O.latency_ms;
    if (O.jitter_ms > 0)
        delay += (int)(gw_rand64() % (uint64_t)(O.jitter_ms + 1));
    if (delay <= 0) {
        tick(-1, 0, r);
        return;
    }
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

static void push_event(reply *r, struct evbuffer *b)
{
    r->events = realloc(r->events, (r->nev + 1) * sizeof *r->events);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = 0;
    r->events[r->nev++] = s;
}

static reply *reply_new(struct evhttp_request *req, int status, bool stream)
{
    reply *r = calloc(1, sizeof *r);
    r->req = req;
    r->status = status;
    r->stream = stream;
    r->body = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", stream ? "text/event-stream" : "application/json");
    char rid[48];
    snprintf(rid, sizeof rid, "req_mock_%llu", next_id());
    evhttp_add_header(h, "x-request-id", rid);
    evhttp_add_header(h, "openai-organization", "org-mock-private");
    if (stream)
        evhttp_add_header(h, "Cache-Control", "no-cache");
    return r;
}

static void send_error(struct evhttp_request *req, int status, bool anthropic, const char *type,
                       const char *msg)
{
    reply *r = reply_new(req, status, false);
    if (anthropic) {
        evbuffer_add_printf(r->body, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", type);
        gw_json_quote(r->body, msg);
        LIT(r->body, "}}");
    } else {
        LIT(r->body, "{\"error\":{\"message\":");
        gw_json_quote(r->body, msg);
        evbuffer_add_printf(r->body, ",\"type\":\"%s\",\"param\":null,\"code\":null}}", type);
    }
    if (status == 429)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
    schedule(r);
}

/* ---- OpenAI chat completions ---- */
static void chat_usage(struct evbuffer *b, const gen *g)
{
    evbuffer_add_printf(b,
                        "{\"prompt_tokens\":%llu,\"completion_tokens\":%llu,\"total_tokens\":%llu,"
                        "\"prompt_tokens_details\":{\"cached_tokens\":%llu,\"audio_tokens\":0},"
                        "\"completion_tokens_details\":{\"reasoning_tokens\":%llu,\"audio_tokens\":0,"
                        "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}",
                        (unsigned long long)g->prompt,
                        (unsigned long long)(g->visible + g->reasoning),
                        (unsigned long long)(g->prompt + g->visible + g->reasoning),
                        (unsigned long long)g->cached, (unsigned long long)g->reasoning);
}

static void do_chat(struct evhttp_request *req, json_object *body)
{
    gen g = {0};
    json_object *v, *msgs;
    if (!json_object_object_get_ex(body, "model", &v) || !json_object_is_type(v, json_type_string)) {
        send_error(req, 400, false, "invalid_request_error", "you must provide a model parameter");
        return;
    }
    snprintf(g.model, sizeof g.model, "%s", json_object_get_string(v));
    if (!json_object_object_get_ex(body, "messages", &msgs) ||
        !json_object_is_type(msgs, json_type_array) || json_object_array_length(msgs) == 0) {
        send_error(req, 400, false, "invalid_request_error", "'messages' must be a non-empty array");
        return;
    }
    struct evbuffer *t = evbuffer_new();
    size_t n = json_object_array_length(msgs);
    uint64_t prefix = 0;
    g.prompt = 3;
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i), *c = NULL;
        if (m && json_object_object_get_ex(m, "content", &c)) {
            evbuffer_drain(t, evbuffer_get_length(t));
            content_text(c, t);
            size_t l = evbuffer_get_length(t);
            g.prompt += est_tokens(l) + 4;
            prefix = fnv((const char *)evbuffer_pullup(t, -1), l, prefix);
        }
    }
    evbuffer_free(t);
    prefix = fnv(g.model, strlen(g.model), prefix);
    openai_cache(&g, prefix);
    gen_output(&g, body, "max_completion_tokens", "max_tokens");
    bool stream = json_object_object_get_ex(body, "stream", &v) && json_object_get_boolean(v);
    bool inc = false;
    json_object *so;
    if (stream && json_object_object_get_ex(body, "stream_options", &so) &&
        json_object_object_get_ex(so, "include_usage", &v))
        inc = json_object_get_boolean(v) && !O.no_usage;
    unsigned long long id = next_id();
    long created = (long)time(NULL);
    const char *fin = g.capped ? "length" : "stop";
    reply *r = reply_new(req, 200, stream);
    if (!stream) {
        evbuffer_add_printf(r->body, "{\"id\":\"chatcmpl-mock-%llu\",\"object\":\"chat.completion\","
                                     "\"created\":%ld,\"model\":", id, created);
        gw_json_quote(r->body, g.model);
        LIT(r->body, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        gw_json_quote(r->body, g.text);
        evbuffer_add_printf(r->body, ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"%s\"}]", fin);
        if (!O.no_usage) {
            LIT(r->body, ",\"usage\":");
            chat_usage(r->body, &g);
        }
        LIT(r->body, ",\"system_fingerprint\":\"fp_mock\"}");
    } else {
        struct evbuffer *b = evbuffer_new();
        const char *un = inc ? ",\"usage\":null" : "";
        for (size_t i = 0; i <= g.nwords + 1; i++) {
            evbuffer_add_printf(b, "data: {\"id\":\"chatcmpl-mock-%llu\",\"object\":\"chat.completion.chunk\","
                                   "\"created\":%ld,\"model\":", id, created);
            gw_json_quote(b, g.model);
            LIT(b, ",\"system_fingerprint\":\"fp_mock\",\"choices\":[{\"index\":0,\"delta\":");
            if (i == 0)
                LIT(b, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]");
            else if (i <= g.nwords) {
                LIT(b, "{\"content\":");
                gw_json_quote(b, g.words[i - 1]);
                LIT(b, "},\"logprobs\":null,\"finish_reason\":null}]");
            } else
                evbuffer_add_printf(b, "{},\"logprobs\":null,\"finish_reason\":\"%s\"}]", fin);
            evbuffer_add_printf(b, "%s}\n\n", un);
            push_event(r, b);
        }
        if (inc) {
            evbuffer_add_printf(b, "data: {\"id\":\"chatcmpl-mock-%llu\",\"object\":\"chat.completion.chunk\","
                                   "\"created\":%ld,\"model\":", id, created);
            gw_json_quote(b, g.model);
            LIT(b, ",\"system_fingerprint\":\"fp_mock\",\"choices\":[],\"usage\":");
            chat_usage(b, &g);
            LIT(b, "}\n\n");
            push_event(r, b);
        }
        LIT(b, "data: [DONE]\n\n");
        push_event(r, b);
        evbuffer_free(b);
    }
    gen_free(&g);
    schedule(r);
}

/* ---- OpenAI responses ---- */
static void responses_obj(struct evbuffer *b, const gen *g, unsigned long long id, long created,
                          bool done)
{
    evbuffer_add_printf(b, "{\"id\":\"resp_mock_%llu\",\"object\":\"response\",\"created_at\":%ld,"
                           "\"status\":\"%s\",\"model\":", id, created,
                        done ? (g->capped ? "incomplete" : "completed") : "in_progress");
    gw_json_quote(b, g->model);
    LIT(b, ",\"output\":[");
    if (done) {
        if (g->reasoning)
            evbuffer_add_printf(b, "{\"type\":\"reasoning\",\"id\":\"rs_mock_%llu\",\"summary\":[]},", id);
        evbuffer_add_printf(b, "{\"type\":\"message\",\"id\":\"msg_mock_%llu\",\"status\":\"completed\","
                               "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":", id);
        gw_json_quote(b, g->text);
        LIT(b, ",\"annotations\":[]}]}");
    }
    LIT(b, "],\"usage\":");
    if (done)
        evbuffer_add_printf(b, "{\"input_tokens\":%llu,\"input_tokens_details\":{\"cached_tokens\":%llu},"
                               "\"output_tokens\":%llu,\"output_tokens_details\":{\"reasoning_tokens\":%llu},"
                               "\"total_tokens\":%llu}",
                            (unsigned long long)g->prompt, (unsigned long long)g->cached,
                            (unsigned long long)(g->visible + g->reasoning),
                            (unsigned long long)g->reasoning,
                            (unsigned long long)(g->prompt + g->visible + g->reasoning));
    else
        LIT(b, "null");
    LIT(b, "}");
}

static void do_responses(struct evhttp_request *req, json_object *body)
{
    gen g = {0};
    json_object *v, *in;
    if (!json_object_object_get_ex(body, "model", &v) || !json_object_is_type(v, json_type_string)) {
        send_error(req, 400, false, "invalid_request_error", "you must provide a model parameter");
        return;
    }
    snprintf(g.model, sizeof g.model, "%s", json_object_get_string(v));
    if (!json_object_object_get_ex(body, "input", &in)) {
        send_error(req, 400, false, "invalid_request_error", "missing required parameter: 'input'");
        return;
    }
    struct evbuffer *t = evbuffer_new();
    if (json_object_object_get_ex(body, "instructions", &v))
        content_text(v, t);
    content_text(in, t);
    size_t l = evbuffer_get_length(t);
    g.prompt = est_tokens(l) + 3;
    uint64_t prefix = fnv((const char *)evbuffer_pullup(t, -1), l, 0);
    prefix = fnv(g.model, strlen(g.model), prefix);
    evbuffer_free(t);
    openai_cache(&g, prefix);
    gen_output(&g, body, "max_output_tokens", NULL);
    bool stream = json_object_object_get_ex(body, "stream", &v) && json_object_get_boolean(v);
    unsigned long long id = next_id();
    long created = (long)time(NULL);
    reply *r = reply_new(req, 200, stream);
    if (!stream)
        responses_obj(r->body, &g, id, created, true);
    else {
        struct evbuffer *b = evbuffer_new();
        int seq = 0;
        evbuffer_add_printf(b, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":%d,\"response\":", seq++);
        responses_obj(b, &g, id, created, false);
        LIT(b, "}\n\n");
        push_event(r, b);
        for (size_t i = 0; i < g.nwords; i++) {
            evbuffer_add_printf(b, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
                                   "\"sequence_number\":%d,\"item_id\":\"msg_mock_%llu\",\"output_index\":0,"
                                   "\"content_index\":0,\"delta\":", seq++, id);
            gw_json_quote(b, g.words[i]);
            LIT(b, "}\n\n");
            push_event(r, b);
        }
        evbuffer_add_printf(b, "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":%d,\"response\":", seq++);
        responses_obj(b, &g, id, created, true);
        LIT(b, "}\n\n");
        push_event(r, b);
        evbuffer_free(b);
    }
    gen_free(&g);
    schedule(r);
}

/* ---- OpenAI embeddings ---- */
static void do_embeddings(struct evhttp_request *req, json_object *body)
{
    json_object *v, *in;
    char model[256];
    if (!json_object_object_get_ex(body, "model", &v) || !json_object_is_type(v, json_type_string)) {
        send_error(req, 400, false, "invalid_request_error", "you must provide a model parameter");
        return;
    }
    snprintf(model, sizeof model, "%s", json_object_get_string(v));
    if (!json_object_object_get_ex(body, "input", &in)) {
        send_error(req, 400, false, "invalid_request_error", "missing required parameter: 'input'");
        return;
    }
    int dims = 64;
    if (json_object_object_get_ex(body, "dimensions", &v) && json_object_get_int(v) > 0)
        dims = json_object_get_int(v) > 4096 ? 4096 : json_object_get_int(v);
    size_t n = json_object_is_type(in, json_type_array) ? json_object_array_length(in) : 1;
    uint64_t tokens = 0;
    reply *r = reply_new(req, 200, false);
    LIT(r->body, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_is_type(in, json_type_array) ? json_object_array_get_idx(in, i) : in;
        uint64_t h;
        if (json_object_is_type(item, json_type_array)) { /* token ids */
            tokens += json_object_array_length(item);
            h = fnv(json_object_to_json_string(item), strlen(json_object_to_json_string(item)), 0);
        } else {
            const char *s = json_object_get_string(item);
            size_t l = s ? strlen(s) : 0;
            tokens += est_tokens(l) ? est_tokens(l) : 1;
            h = fnv(s ? s : "", l, 0);
        }
        evbuffer_add_printf(r->body, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":[", i ? "," : "", i);
        for (int d = 0; d < dims; d++) {
            h ^= h << 13; h ^= h >> 7; h ^= h << 17;
            evbuffer_add_printf(r->body, "%s%.6f", d ? "," : "", (double)(h % 2000001) / 1000000.0 - 1.0);
        }
        LIT(r->body, "]}");
    }
    LIT(r->body, "],\"model\":");
    gw_json_quote(r->body, model);
    evbuffer_add_printf(r->body, ",\"usage\":{\"prompt_tokens\":%llu,\"total_tokens\":%llu}}",
                        (unsigned long long)tokens, (unsigned long long)tokens);
    schedule(r);
}

static void do_models(struct evhttp_request *req)
{
    static const char *ids[] = {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
                                "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini",
                                "text-embedding-3-small", "text-embedding-3-large",
                                "claude-sonnet-4-5", "claude-3-5-haiku-latest", "claude-opus-4-1"};
    reply *r = reply_new(req, 200, false);
    LIT(r->body, "{\"object\":\"list\",\"data\":[");
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        evbuffer_add_printf(r->body, "%s{\"id\":\"%s\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"mock\"}",
                            i ? "," : "", ids[i]);
    LIT(r->body, "]}");
    schedule(r);
}

/* ---- Anthropic messages ---- */
static bool has_cache_control(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, val) {
            if (!strcmp(k, "cache_control"))
                return true;
            if (has_cache_control(val))
                return true;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++)
            if (has_cache_control(json_object_array_get_idx(o, i)))
                return true;
    }
    return false;
}

static void do_messages(struct evhttp_request *req, json_object *body)
{
    gen g = {0};
    json_object *v, *msgs, *sys = NULL;
    if (!json_object_object_get_ex(body, "model", &v) || !json_object_is_type(v, json_type_string)) {
        send_error(req, 400, true, "invalid_request_error", "model: Field required");
        return;
    }
    snprintf(g.model, sizeof g.model, "%s", json_object_get_string(v));
    if (!json_object_object_get_ex(body, "max_tokens", &v) || !json_object_is_type(v, json_type_int)) {
        send_error(req, 400, true, "invalid_request_error", "max_tokens: Field required");
        return;
    }
    if (!json_object_object_get_ex(body, "messages", &msgs) ||
        !json_object_is_type(msgs, json_type_array) || json_object_array_length(msgs) == 0) {
        send_error(req, 400, true, "invalid_request_error", "messages: Field required");
        return;
    }
    struct evbuffer *t = evbuffer_new();
    uint64_t sys_tokens = 0, total = 1; /* 1: the request's framing */
    if (json_object_object_get_ex(body, "system", &sys)) {
        content_text(sys, t);
        sys_tokens = est_tokens(evbuffer_get_length(t));
        total += sys_tokens;
    }
    uint64_t prefix = fnv((const char *)evbuffer_pullup(t, -1), evbuffer_get_length(t), 0);
    size_t n = json_object_array_length(msgs);
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(msgs, i), *c = NULL;
        evbuffer_drain(t, evbuffer_get_length(t));
        if (m && json_object_object_get_ex(m, "content", &c))
            content_text(c, t);
        total += est_tokens(evbuffer_get_length(t)) + 3;
        if (i == 0 && !sys_tokens) { /* no system prompt: the first message is the cacheable
                                      * prefix (already counted above) */
            sys_tokens = est_tokens(evbuffer_get_length(t));
            prefix = fnv((const char *)evbuffer_pullup(t, -1), evbuffer_get_length(t), 0);
        }
    }
    evbuffer_free(t);
    g.prompt = total;
    /* cache_control marks the system prompt (or the first message) as a cacheable prefix: the
     * first call writes it, later calls read it (at least 1024 tokens, as Anthropic requires). */
    if (has_cache_control(body) && sys_tokens >= 1024) {
        prefix = fnv(g.model, strlen(g.model), prefix);
        if (seen_check_add(prefix ^ 0xa5a5a5a5ULL))
            g.cached = sys_tokens;
        else
            g.cache_write = sys_tokens;
    }
    gen_output(&g, body, "max_tokens", NULL);
    g.reasoning = 0; /* Anthropic folds thinking into output_tokens; none without "thinking" */
    uint64_t uncached = total - g.cached - g.cache_write;
    bool stream = json_object_object_get_ex(body, "stream", &v) && json_object_get_boolean(v);
    unsigned long long id = next_id();
    const char *stop = g.capped ? "max_tokens" : "end_turn";
    reply *r = reply_new(req, 200, stream);
    if (!stream) {
        evbuffer_add_printf(r->body, "{\"id\":\"msg_mock_%llu\",\"type\":\"message\",\"role\":\"assistant\",\"model\":", id);
        gw_json_quote(r->body, g.model);
        LIT(r->body, ",\"content\":[{\"type\":\"text\",\"text\":");
        gw_json_quote(r->body, g.text);
        evbuffer_add_printf(r->body, "}],\"stop_reason\":\"%s\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":%llu,"
                                     "\"cache_creation_input_tokens\":%llu,\"cache_read_input_tokens\":%llu,"
                                     "\"output_tokens\":%llu}}",
                            stop, (unsigned long long)uncached, (unsigned long long)g.cache_write,
                            (unsigned long long)g.cached, (unsigned long long)g.visible);
    } else {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock_%llu\","
                               "\"type\":\"message\",\"role\":\"assistant\",\"model\":", id);
        gw_json_quote(b, g.model);
        evbuffer_add_printf(b, ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":%llu,"
                               "\"cache_creation_input_tokens\":%llu,\"cache_read_input_tokens\":%llu,\"output_tokens\":1}}}\n\n",
                            (unsigned long long)uncached, (unsigned long long)g.cache_write,
                            (unsigned long long)g.cached);
        push_event(r, b);
        evbuffer_add_printf(b, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
                               "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
        push_event(r, b);
        evbuffer_add_printf(b, "event: ping\ndata: {\"type\": \"ping\"}\n\n");
        push_event(r, b);
        for (size_t i = 0; i < g.nwords; i++) {
            evbuffer_add_printf(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                                   "\"delta\":{\"type\":\"text_delta\",\"text\":");
            gw_json_quote(b, g.words[i]);
            LIT(b, "}}\n\n");
            push_event(r, b);
        }
        evbuffer_add_printf(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        push_event(r, b);
        evbuffer_add_printf(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"%s\","
                               "\"stop_sequence\":null},\"usage\":{\"output_tokens\":%llu}}\n\n",
                            stop, (unsigned long long)g.visible);
        push_event(r, b);
        evbuffer_add_printf(b, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        push_event(r, b);
        evbuffer_free(b);
    }
    gen_free(&g);
    schedule(r);
}

/* ---- dispatch ---- */
static void handle(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    char path[256];
    size_t pl = strcspn(uri, "?");
    snprintf(path, sizeof path, "%.*s", (int)(pl < 255 ? pl : 255), uri);
    bool anthropic = !strcmp(path, "/v1/messages");
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

    if (!strcmp(path, "/healthz")) {
        reply *r = reply_new(req, 200, false);
        LIT(r->body, "{\"status\":\"ok\"}");
        evhttp_send_reply(req, 200, "OK", r->body);
        reply_free(r);
        return;
    }
    if (!O.no_auth) {
        const char *k = NULL, *a = evhttp_find_header(in, "Authorization");
        if (a && !strncasecmp(a, "Bearer ", 7))
            k = a + 7;
        if (!k)
            k = evhttp_find_header(in, "x-api-key");
        if (!k || !*k || (O.expect_key && strcmp(k, O.expect_key) != 0)) {
            send_error(req, 401, anthropic, anthropic ? "authentication_error" : "invalid_api_key",
                       k && *k ? "invalid API key" : "no API key provided");
            return;
        }
    }
    if (!strcmp(path, "/v1/models") && cmd == EVHTTP_REQ_GET) {
        do_models(req);
        return;
    }
    bool known = !strcmp(path, "/v1/chat/completions") || !strcmp(path, "/v1/responses") ||
                 !strcmp(path, "/v1/embeddings") || anthropic;
    if (!known) {
        send_error(req, 404, anthropic, "not_found_error", "unknown path");
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        send_error(req, 405, anthropic, "invalid_request_error", "use POST");
        return;
    }
    if (O.error_rate > 0 && gw_rand01() < O.error_rate) {
        int st = O.error_status;
        send_error(req, st, anthropic,
                   st == 429 ? (anthropic ? "rate_limit_error" : "rate_limit_exceeded")
                             : (anthropic ? "overloaded_error" : "server_error"),
                   "mock-provider: injected error");
        return;
    }
    struct evbuffer *ib = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(ib);
    const char *txt = (const char *)evbuffer_pullup(ib, -1);
    json_tokener *tok = json_tokener_new();
    json_object *body = txt ? json_tokener_parse_ex(tok, txt, (int)len) : NULL;
    bool ok = body && json_tokener_get_error(tok) == json_tokener_success &&
              json_object_is_type(body, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(body);
        send_error(req, 400, anthropic, "invalid_request_error", "request body is not a JSON object");
        return;
    }
    if (!strcmp(path, "/v1/chat/completions"))
        do_chat(req, body);
    else if (!strcmp(path, "/v1/responses"))
        do_responses(req, body);
    else if (!strcmp(path, "/v1/embeddings"))
        do_embeddings(req, body);
    else
        do_messages(req, body);
    json_object_put(body);
}

static volatile sig_atomic_t g_stop;
static struct event_base **g_bases;

static void *loop_thread(void *arg)
{
    event_base_dispatch((struct event_base *)arg);
    return NULL;
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (int i = 0; i < O.threads; i++)
        event_base_loopbreak(g_bases[i]);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: infercost mock-provider [--listen HOST:PORT] [--latency-ms N] [--jitter-ms N]\n"
            "         [--chunk-delay-ms N] [--error-rate F] [--error-status CODE] [--output-tokens N]\n"
            "         [--threads N] [--expect-key-env VAR | --no-auth] [--no-usage]\n"
            "A local OpenAI + Anthropic stand-in for tests, demos and load tests (never calls a\n"
            "real provider). Endpoints: POST /v1/chat/completions, /v1/responses, /v1/embeddings,\n"
            "/v1/messages (Anthropic); GET /v1/models, /healthz. Streaming with \"stream\":true.\n"
            "  --listen HOST:PORT   default 127.0.0.1:8090; port 0 picks a free port\n"
            "  --latency-ms N       delay before the first byte (default 0); --jitter-ms adds 0..N\n"
            "  --chunk-delay-ms N   delay between streamed events (default 0)\n"
            "  --error-rate F       fraction of calls answered with --error-status (default 0, 500)\n"
            "  --output-tokens N    visible output tokens per answer (default 24; reasoning models\n"
            "                       add 2N reasoning tokens; max_tokens caps both)\n"
            "  --threads N          event loops sharing the port (default 1)\n"
            "  --expect-key-env VAR the API key must equal $VAR (else 401); --no-auth accepts none\n"
            "  --no-usage           chat answers carry no usage and streams ignore include_usage,\n"
            "                       as some OpenAI-compatible servers do\n"
            "Prints \"mock-provider listening on http://HOST:PORT\" once ready.\n");
}

static int cmd_mock(int argc, char **argv)
{
    memset(&O, 0, sizeof O);
    snprintf(O.host, sizeof O.host, "127.0.0.1");
    O.port = 8090;
    O.error_status = 500;
    O.output_tokens = 24;
    O.threads = 1;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        char *end;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--no-auth")) {
            O.no_auth = true;
            i++;
            continue;
        }
        if (!strcmp(argv[i], "--no-usage")) {
            O.no_usage = true;
            i++;
            continue;
        }
#define INTOPT(name, field, lo, hi)                                                          \
    if ((v = ic_cli_opt(name, argc, argv, &i, &bad))) {                                      \
        long x = strtol(v, &end, 10);                                                        \
        if (*end || x < (lo) || x > (hi)) {                                                  \
            ic_cli_error("%s: expected an integer from %d to %d, got '%s'", name, lo, hi, v);\
            return 2;                                                                        \
        }                                                                                    \
        O.field = (int)x;                                                                    \
        continue;                                                                            \
    }                                                                                        \
    if (bad)                                                                                 \
        return 2;
        INTOPT("--latency-ms", latency_ms, 0, 600000)
        INTOPT("--jitter-ms", jitter_ms, 0, 600000)
        INTOPT("--chunk-delay-ms", chunk_delay_ms, 0, 60000)
        INTOPT("--error-status", error_status, 400, 599)
        INTOPT("--output-tokens", output_tokens, 0, 100000)
        INTOPT("--threads", threads, 1, 64)
#undef INTOPT
        if ((v = ic_cli_opt("--error-rate", argc, argv, &i, &bad))) {
            O.error_rate = strtod(v, &end);
            if (*end || !(O.error_rate >= 0 && O.error_rate <= 1)) {
                ic_cli_error("--error-rate: expected a number from 0 to 1, got '%s'", v);
                return 2;
            }
            continue;
        }
        if (bad)
            return 2;
        if ((v = ic_cli_opt("--listen", argc, argv, &i, &bad))) {
            if (!gw_parse_listen(v, O.host, sizeof O.host, &O.port)) {
                ic_cli_error("--listen: expected HOST:PORT with an IPv4 address, got '%s'", v);
                return 2;
            }
            continue;
        }
        if (bad)
            return 2;
        if ((v = ic_cli_opt("--expect-key-env", argc, argv, &i, &bad))) {
            O.expect_key = getenv(v);
            if (!O.expect_key || !*O.expect_key) {
                ic_cli_error("--expect-key-env: environment variable %s is not set", v);
                return 2;
            }
            continue;
        }
        if (bad)
            return 2;
        ic_cli_error("mock-provider: unknown option '%s'", argv[i]);
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    g_bases = calloc((size_t)O.threads, sizeof *g_bases);
    struct evhttp **https = calloc((size_t)O.threads, sizeof *https);
    pthread_t *th = calloc((size_t)O.threads, sizeof *th);
    int port = O.port, rc = 0;
    for (int t = 0; t < O.threads; t++) {
        g_bases[t] = event_base_new();
        https[t] = evhttp_new(g_bases[t]);
        evhttp_set_gencb(https[t], handle, NULL);
        evhttp_set_allowed_methods(https[t], EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
        int got = gw_http_listen(g_bases[t], https[t], O.host, port);
        if (got < 0) {
            ic_cli_error("mock-provider: cannot listen on %s:%d: %s", O.host, port, strerror(errno));
            rc = 2;
            for (int k = 0; k <= t; k++) {
                evhttp_free(https[k]);
                event_base_free(g_bases[k]);
            }
            goto out;
        }
        port = got;
    }
    printf("mock-provider listening on http://%s:%d\n", O.host, port);
    fflush(stdout);
    {
        struct event *sigs[2];
        sigs[0] = evsignal_new(g_bases[0], SIGINT, on_signal, NULL);
        sigs[1] = evsignal_new(g_bases[0], SIGTERM, on_signal, NULL);
        event_add(sigs[0], NULL);
        event_add(sigs[1], NULL);
        for (int t = 1; t < O.threads; t++)
            pthread_create(&th[t], NULL, loop_thread, g_bases[t]);
        event_base_dispatch(g_bases[0]);
        /* the other loops cannot be woken from here without libevent's thread support: with
         * several threads a stop signal ends the process directly */
        if (O.threads > 1) {
            fflush(stdout);
            _exit(0);
        }
        event_free(sigs[0]);
        event_free(sigs[1]);
    }
    for (int t = 0; t < O.threads; t++) {
        evhttp_free(https[t]);
        event_base_free(g_bases[t]);
    }
out:
    free(g_bases);
    free(https);
    free(th);
    return rc;
}

IC_COMMAND(mock_provider, "mock-provider", "local OpenAI/Anthropic stand-in for tests, demos and load tests", cmd_mock);
