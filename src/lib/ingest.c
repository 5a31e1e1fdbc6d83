/* ingest.c: logs -> priced events -> ledger (ingest.h).
 *
 * Shape: a parser reads the stream, recognizes each line's form, turns it into ic_record(s),
 * prices each with the pricing core (ic_record_parse / ic_record_price: the only place a price
 * is computed) and adds the events to an ic_ledger_batch (ledger.h), which packs their rows and
 * numbers their names there and then. A full batch goes to the writer, which appends it to the
 * ledger in one transaction. With threads = 2 the parser runs on its own thread and hands
 * batches over through a two-slot queue, so parsing/pricing and SQLite writing overlap on a
 * 2-core machine (bench/ledger.sh measures both modes). JSONL after its first line is read in
 * 1 MiB blocks and handled in place.
 *
 * Forms (detected per line, or once for a whole-document file):
 *   - a line containing "resourceSpans": OTLP/JSON traces; each span with GenAI attributes
 *     becomes an event, other spans are skipped;
 *   - a line with "request_id" and "call_type"/"spend": a LiteLLM spend-log row;
 *   - anything else: a record line for ic_record_parse.
 *   A file starting with '[' or with a JSON value spanning lines is read as one document (an
 *   array of rows/records, or one OTLP object); a file whose first line is a CSV header naming
 *   request_id is a LiteLLM CSV export.
 * This file must not print, and must never store a provider key: LiteLLM's api_key column is
 * kept only when it is a hash (then as a 12-character prefix). */
#include "infercost/ingest.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/units.h"
#include "csvin.h"
#include "redact.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------ batches ---- */

/* A batch is a ledger batch (ledger.h: packed, named and summed here, on the parser thread) plus
 * the parser's counters as of its end. */
typedef struct batch {
    ic_ledger_batch *lb;
    uint64_t lines, bytes, rejected, skipped, events;
    bool last;
} batch;

static void batch_clear(batch *b)
{
    ic_ledger_batch_clear(b->lb);
    b->last = false;
}

/* ------------------------------------------------------------------ context ---- */

typedef struct ctx {
    ic_ledger *l;
    const ic_ingest_opts *o;
    const char *source;
    size_t batch_size;
    int u_in, u_out, u_cr, u_cw, u_reason;
    batch *cur;
    /* counters of the parser */
    uint64_t lines, bytes, rejected, skipped, events;
    /* writer results */
    ic_ingest_stats *st;
    ic_status wstatus;
    ic_error werr;
    /* threads */
    bool threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *full[2];    /* queue of filled batches */
    int nfull;
    batch *free_b[3];
    int nfree;
    bool stop;         /* writer failed: parser should stop */
    json_object *reject_src; /* a refusal with no text shows this object (an OTLP span) */
    batch slots[3];
} ctx;

/* A refused line goes to the caller as it was read, but for provider keys in it (a LiteLLM row's
 * raw api_key, a key pasted into a log): each is cut to its first 6 characters and
 * "[redacted]" (redact.h), so that no key reaches a rejects file. The reason is an error
 * message, redacted already (ic_error_set). */
static void reject(ctx *c, uint64_t line, const char *reason, const char *text, size_t len)
{
    c->rejected++;
    if (!c->o->reject)
        return;
    if (!text && c->reject_src) /* serialized only when refused */
        text = json_object_to_json_string_length(c->reject_src, JSON_C_TO_STRING_PLAIN, &len);
    char *clean = NULL;
    size_t w = len;
    if (ic__has_key(text, len)) {
        if (!(clean = malloc(len)))
            return; /* out of memory: better no line than a key */
        memcpy(clean, text, len);
        w = ic_redact_keys(clean, len);
    }
    c->o->reject(c->o->arg, c->source, line, reason, clean ? clean : text, w);
    free(clean);
}

/* ------------------------------------------------------------------ writer ---- */

static ic_status write_batch(ctx *c, batch *b)
{
    ic_ingest_stats *st = c->st;
    size_t n = ic_ledger_batch_count(b->lb);
    if (n) {
        size_t ins = 0;
        ic_money cost = 0;
        ic_error e = {0};
        ic_status s = ic_ledger_append_batch(c->l, b->lb, &ins, &cost, &e);
        if (s != IC_OK) {
            c->werr = e;
            return s;
        }
        st->inserted += ins;
        st->duplicates += n - ins;
        st->cost += cost;
    }
    /* the parser's counters travel with the batch (no shared state with the parser thread) */
    st->lines = b->lines;
    st->bytes = b->bytes;
    st->events = b->events;
    if (c->o->progress) {
        ic_ingest_stats snap = *st;
        snap.rejected += b->rejected;
        snap.skipped += b->skipped;
        c->o->progress(c->o->arg, &snap);
    }
    return IC_OK;
}

static void *writer_main(void *arg)
{
    ctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->nfull == 0)
            pthread_cond_wait(&c->cv, &c->mu);
        batch *b = c->full[0];
        c->full[0] = c->full[1];
        c->nfull--;
        pthread_mutex_unlock(&c->mu);
        bool last = b->last;
        ic_status s = c->wstatus == IC_OK ? write_batch(c, b) : IC_OK;
        pthread_mutex_lock(&c->mu);
        if (s != IC_OK) {
            c->wstatus = s;
            c->stop = true;
        }
        batch_clear(b);
        c->free_b[c->nfree++] = b;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (last)
            break;
    }
    return NULL;
}

/* hand the current batch to the writer and get an empty one; false if the writer failed */
static bool emit(ctx *c, bool last)
{
    batch *b = c->cur;
    /* Not sealed here: ordering the batch and summing its rollups is left to the writer's
     * append, which waits for the parser about a quarter of the time (bench/ledger.sh). With
     * threads = 1 it makes no difference. */
    b->lines = c->lines;
    b->bytes = c->bytes;
    b->rejected = c->rejected;
    b->skipped = c->skipped;
    b->events = c->events;
    b->last = last;
    if (!c->threaded) {
        if (c->wstatus == IC_OK) {
            c->wstatus = write_batch(c, b);
        }
        batch_clear(b);
        return c->wstatus == IC_OK;
    }
    pthread_mutex_lock(&c->mu);
    while (c->nfull == 2)
        pthread_cond_wait(&c->cv, &c->mu);
    c->full[c->nfull++] = b;
    pthread_cond_broadcast(&c->cv);
    c->cur = NULL;
    if (!last) {
        while (c->nfree == 0)
            pthread_cond_wait(&c->cv, &c->mu);
        c->cur = c->free_b[--c->nfree];
    }
    bool ok = !c->stop;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* ------------------------------------------------------------------ events ---- */

static void hash_id(const char *text, size_t len, char out[40])
{
    XXH128_hash_t h = XXH3_128bits(text, len);
    snprintf(out, 40, "h:%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* Price r and add it to the batch. id must be non-empty. Returns false on out-of-memory. */
static bool add_record(ctx *c, const ic_record *r, const char *id, uint64_t line,
                       const char *text, size_t len)
{
    ic_cost cost;
    ic_error err; /* filled by whatever fails; not zeroed per event (516 bytes, a tenth of this
                   * function's time) */
    err.status = IC_OK;
    err.msg[0] = 0;
    if (!r->has_time) {
        /* an event is identified by its time and id (docs/ledger.md): "now" would make a
         * re-run add it again */
        reject(c, line, "no timestamp: the ledger needs the time of each call", text, len);
        return true;
    }
    /* what the ledger keeps as written: no provider key may be among it (from any source: a key
     * pasted as a customer id, a LiteLLM row's key alias) */
    const char *kept[][2] = {{"id", id},           {"customer", r->customer},
                             {"feature", r->feature}, {"task", r->task},
                             {"key_id", r->key_id}, {"model", r->model},
                             {"model_served", r->model_served}, {"routed_from", r->routed_from},
                             {"status", r->status}, {"tags", r->tags},
                             {"request_hash", r->request_hash}};
    for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++) {
        size_t n = kept[k][1] ? strlen(kept[k][1]) : 0;
        if (n >= 19 && ic__has_key(kept[k][1], n)) {
            snprintf(err.msg, sizeof err.msg, "%s: holds what looks like a provider key (sk-..., "
                     "AIza...): refused, so that no key reaches the ledger", kept[k][0]);
            reject(c, line, err.msg, text, len);
            return true;
        }
    }
    if (ic_record_price(c->o->catalog, r, c->o->now_ms, &cost, &err) != IC_OK) {
        reject(c, line, err.msg, text, len);
        return true;
    }
    if (cost.total > IC_EVENT_COST_MAX || cost.saved > IC_EVENT_COST_MAX) {
        char a[IC_MONEY_STRLEN];
        snprintf(err.msg, sizeof err.msg, "usage: this call would cost $%s, more than the $1,000,000 "
                 "the ledger takes for one call (are the token counts right?)",
                 ic_money_format(cost.total + cost.saved, a, sizeof a));
        reject(c, line, err.msg, text, len);
        return true;
    }
    unsigned char detail[IC_EVENT_DETAIL_MAX];
    ic_event e; /* every field set below (a zeroing initializer cost as much again) */
    e.id = id;
    e.t_ms = r->t_ms;
    e.provider = ic_provider_id(cost.provider);
    e.model = r->model;
    e.model_served = r->model_served;
    e.api_flavor = r->api_flavor;
    /* the five common kinds in one walk over the reported units (usage.h): ic_usage_get finds
     * a value's slot with a popcount, a libgcc call on a build without -mpopcnt */
    e.input_tokens = e.cache_read_tokens = e.cache_write_tokens = e.output_tokens =
        e.reasoning_tokens = 0;
    int slot = 0;
    for (uint64_t bits = r->usage.present; bits; bits &= bits - 1, slot++) {
        int u = __builtin_ctzll(bits);
        uint64_t v = r->usage.v[slot];
        if (u == c->u_in)
            e.input_tokens = v;
        else if (u == c->u_out)
            e.output_tokens = v;
        else if (u == c->u_cr)
            e.cache_read_tokens = v;
        else if (u == c->u_cw)
            e.cache_write_tokens = v;
        else if (u == c->u_reason)
            e.reasoning_tokens = v;
    }
    e.cost = cost.total;
    e.cost_input = cost.input;
    e.cost_output = cost.output;
    e.cache_saved = cost.saved;
    e.detail = detail;
    e.detail_len = ic_event_detail_pack(&r->usage, &cost, detail, sizeof detail);
    e.customer = r->customer;
    e.feature = r->feature;
    e.task = r->task;
    e.key_id = r->key_id;
    e.status = r->status;
    e.routed_from = r->routed_from;
    e.request_hash = r->request_hash;
    e.tags = r->tags;
    e.latency_ms = r->latency_ms;
    e.cache_hit = r->cache_hit;
    e.batch = r->batch;
    e.fallback = r->fallback;
    e.usage_json = e.items = e.source = NULL;
    ic_status s = ic_ledger_batch_add_src(c->cur->lb, &e, c->source, line, &err);
    if (s == IC_ERR_NOMEM)
        return false;
    if (s != IC_OK) { /* no id, or too large to store: this event only */
        reject(c, line, err.msg, text, len);
        return true;
    }
    c->events++;
    if (ic_ledger_batch_count(c->cur->lb) >= c->batch_size)
        return emit(c, false); /* false: the writer failed, stop parsing */
    return true;
}

static void record_init(ic_record *r)
{
    memset(r, 0, sizeof *r);
    r->latency_ms = -1;
}

static void scpy(char *dst, size_t cap, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
}

/* ------------------------------------------------------------------ record lines ---- */

static bool do_record_line(ctx *c, const char *text, size_t len, uint64_t line)
{
    ic_record r;
    ic_error err = {0};
    if (ic_record_parse(c->o->catalog, text, len, &r, &err) != IC_OK) {
        reject(c, line, err.msg, text, len);
        return true;
    }
    char hid[40];
    const char *id = r.id;
    if (!id[0]) {
        hash_id(text, len, hid);
        id = hid;
    }
    return add_record(c, &r, id, line, text, len);
}

/* ------------------------------------------------------------------ json helpers ---- */

static json_object *jget(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v))
        return v;
    return NULL;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v = jget(o, k);
    if (!v || json_object_is_type(v, json_type_null))
        return NULL;
    return json_object_get_string(v);
}

/* a non-negative integer from a JSON number or numeric string; false if absent; *bad if invalid */
static bool jcount(json_object *v, uint64_t *out, bool *bad)
{
    if (!v || json_object_is_type(v, json_type_null))
        return false;
    if (json_object_is_type(v, json_type_int)) {
        int64_t x = json_object_get_int64(v);
        if (x < 0) {
            *bad = true;
            return false;
        }
        *out = (uint64_t)x;
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d >= 0 && d <= 1e15) || d != (double)(uint64_t)d) { /* range first: the cast of a
                                                                  * larger double, or NaN, is UB */
            *bad = true;
            return false;
        }
        *out = (uint64_t)d;
        return true;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (!*s)
            return false;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (*end || s[0] == '-' || !isdigit((unsigned char)s[0]) || errno == ERANGE) {
            *bad = true;
            return false;
        }
        *out = x;
        return true;
    }
    *bad = true;
    return false;
}

static ic_status set_unit(ctx *c, ic_record *r, int unit, uint64_t v, const char *field,
                          ic_error *err)
{
    (void)c;
    if (unit < 0)
        return IC_OK;
    if (ic_usage_set(&r->usage, unit, v, err) != IC_OK) {
        ic_error_prefix(err, "%s", field);
        return err->status;
    }
    return IC_OK;
}

/* ------------------------------------------------------------------ OpenTelemetry ---- */

static const char *otel_provider(const char *s)
{
    static const char *map[][2] = {
        {"aws.bedrock", "aws"},       {"az.ai.openai", "azure"},   {"azure.ai.openai", "azure"},
        {"azure.ai.inference", "azure"}, {"gcp.gemini", "google"}, {"gcp.vertex_ai", "google"},
        {"gcp.gen_ai", "google"},     {"vertex_ai", "google"},     {"gemini", "google"},
        {"mistral_ai", "mistral"},    {"x_ai", "x-ai"},            {"xai", "x-ai"},
        {"deepseek", "deepseek"},     {"groq", "groq"},            {"perplexity", "perplexity"},
        {"cohere", "cohere"},         {"openai", "openai"},        {"anthropic", "anthropic"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i][0]))
            return map[i][1];
    return s;
}

/* value of an OTLP AnyValue as text (strings, ints as decimal text, bools "true"/"false") */
static const char *otel_text(json_object *val, char *buf, size_t cap)
{
    json_object *x;
    if ((x = jget(val, "stringValue")))
        return json_object_get_string(x);
    if ((x = jget(val, "intValue"))) {
        snprintf(buf, cap, "%s", json_object_get_string(x));
        return buf;
    }
    if ((x = jget(val, "boolValue")))
        return json_object_get_boolean(x) ? "true" : "false";
    if ((x = jget(val, "doubleValue"))) {
        snprintf(buf, cap, "%s", json_object_get_string(x));
        return buf;
    }
    return NULL;
}

static json_object *otel_attr(json_object *attrs, const char *key)
{
    size_t n = attrs && json_object_is_type(attrs, json_type_array) ? json_object_array_length(attrs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(attrs, i);
        const char *k = jstr(a, "key");
        if (k && !strcmp(k, key))
            return jget(a, "value");
    }
    return NULL;
}

static json_object *otel_count_value(json_object *v)
{
    json_object *x;
    if ((x = jget(v, "intValue")))
        return x;
    if ((x = jget(v, "doubleValue")))
        return x;
    if ((x = jget(v, "stringValue")))
        return x;
    return NULL;
}

static int64_t nanos_to_ms(json_object *v, bool *ok)
{
    uint64_t ns = 0;
    bool bad = false;
    *ok = jcount(v, &ns, &bad) && !bad;
    return (int64_t)(ns / 1000000);
}

static bool otel_span(ctx *c, json_object *res_attrs, json_object *span, uint64_t line)
{
    json_object *at = jget(span, "attributes");
    char b1[64], b2[64];
    const char *tmp;
    json_object *v;
    const char *prov = NULL, *req_model = NULL, *resp_model = NULL;
    if ((v = otel_attr(at, "gen_ai.provider.name")) || (v = otel_attr(at, "gen_ai.system")))
        prov = otel_text(v, b1, sizeof b1);
    if ((v = otel_attr(at, "gen_ai.request.model")))
        req_model = otel_text(v, b2, sizeof b2);
    if ((v = otel_attr(at, "gen_ai.response.model")))
        resp_model = json_object_get_string(jget(v, "stringValue"));
    bool genai = prov || req_model || resp_model || otel_attr(at, "gen_ai.usage.input_tokens") ||
                 otel_attr(at, "gen_ai.usage.output_tokens");
    if (!genai) {
        c->skipped++;
        return true;
    }
    const char *trace = jstr(span, "traceId"), *sid = jstr(span, "spanId");
    /* what a refusal shows: the span itself (serialized only then, by reject), not the document
     * it came in (a document of many spans would otherwise be copied once per refused span) */
    const char *text = NULL;
    size_t len = 0;
    c->reject_src = span;
    char why[256];
    if (!trace || !sid || !trace[0] || !sid[0]) {
        reject(c, line, "GenAI span without traceId/spanId", text, len);
        return true;
    }
    if (!req_model && !resp_model) {
        snprintf(why, sizeof why, "span %.40s: no gen_ai.request.model or gen_ai.response.model",
                 sid);
        reject(c, line, why, text, len);
        return true;
    }
    ic_record r;
    record_init(&r);
    scpy(r.provider, sizeof r.provider, prov ? otel_provider(prov) : "");
    /* price the served model when the span names it (more specific), keep the requested one */
    scpy(r.model, sizeof r.model, req_model ? req_model : resp_model);
    if (resp_model && req_model && strcmp(resp_model, req_model))
        scpy(r.model_served, sizeof r.model_served, resp_model);
    static const char *keys[][2] = {
        {"gen_ai.usage.input_tokens", "input_tokens"},
        {"gen_ai.usage.prompt_tokens", "input_tokens"},
        {"gen_ai.usage.output_tokens", "output_tokens"},
        {"gen_ai.usage.completion_tokens", "output_tokens"},
        {"gen_ai.usage.cache_read.input_tokens", "cache_read_tokens"},
        {"gen_ai.usage.cache_read_input_tokens", "cache_read_tokens"},
        {"gen_ai.usage.cache_creation.input_tokens", "cache_write_tokens"},
        {"gen_ai.usage.cache_creation_input_tokens", "cache_write_tokens"},
        {"gen_ai.usage.reasoning.output_tokens", "output_reasoning_tokens"},
    };
    uint64_t vals[5] = {0}; /* in, out, cr, cw, reasoning */
    bool have[5] = {0};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object *a = otel_attr(at, keys[i][0]);
        if (!a)
            continue;
        uint64_t x = 0;
        bool bad = false;
        if (!jcount(otel_count_value(a), &x, &bad) || bad) {
            snprintf(why, sizeof why, "span %.40s: %s is not a non-negative integer", sid,
                     keys[i][0]);
            reject(c, line, why, text, len);
            return true;
        }
        int k = !strcmp(keys[i][1], "input_tokens")    ? 0
                : !strcmp(keys[i][1], "output_tokens") ? 1
                : !strcmp(keys[i][1], "cache_read_tokens") ? 2
                : !strcmp(keys[i][1], "cache_write_tokens") ? 3 : 4;
        if (!have[k]) {
            vals[k] = x;
            have[k] = true;
        }
    }
    if (!have[0] && !have[1]) {
        snprintf(why, sizeof why, "span %.40s: no gen_ai.usage.input_tokens/output_tokens", sid);
        reject(c, line, why, text, len);
        return true;
    }
    /* The semantic conventions say input_tokens SHOULD include cached tokens. Some
     * instrumentations of Anthropic report them apart; when the cache counts exceed the input,
     * they cannot be included, so they are added (docs/ledger.md). */
    if (vals[2] + vals[3] > vals[0])
        vals[0] += vals[2] + vals[3];
    ic_error err = {0};
    int units[5] = {c->u_in, c->u_out, c->u_cr, c->u_cw, c->u_reason};
    static const char *names[5] = {"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
                                   "gen_ai.usage.cache_read.input_tokens",
                                   "gen_ai.usage.cache_creation.input_tokens",
                                   "gen_ai.usage.reasoning.output_tokens"};
    for (int k = 0; k < 5; k++)
        if ((have[k] || k == 0) &&
            set_unit(c, &r, units[k], vals[k], names[k], &err) != IC_OK) {
            reject(c, line, err.msg, text, len);
            return true;
        }
    bool ok1, ok2;
    int64_t t0 = nanos_to_ms(jget(span, "startTimeUnixNano"), &ok1);
    int64_t t1 = nanos_to_ms(jget(span, "endTimeUnixNano"), &ok2);
    if (ok1) {
        r.t_ms = t0;
        r.has_time = true;
        if (ok2 && t1 >= t0)
            r.latency_ms = t1 - t0;
    }
    scpy(r.task, sizeof r.task, trace);
    const char *ckeys[] = {"customer", "app.customer", "enduser.id", "user.id"};
    for (size_t i = 0; i < 4 && !r.customer[0]; i++)
        if ((v = otel_attr(at, ckeys[i])) && (tmp = otel_text(v, b1, sizeof b1)))
            scpy(r.customer, sizeof r.customer, tmp);
    const char *fkeys[] = {"feature", "app.feature"};
    for (size_t i = 0; i < 2 && !r.feature[0]; i++)
        if ((v = otel_attr(at, fkeys[i])) && (tmp = otel_text(v, b1, sizeof b1)))
            scpy(r.feature, sizeof r.feature, tmp);
    if (!r.feature[0] && (v = otel_attr(res_attrs, "service.name")) &&
        (tmp = otel_text(v, b1, sizeof b1)))
        scpy(r.feature, sizeof r.feature, tmp);
    json_object *status = jget(span, "status");
    json_object *code = jget(status, "code");
    if (code) {
        const char *cs = json_object_get_string(code);
        if (!strcmp(cs, "2") || !strcmp(cs, "STATUS_CODE_ERROR"))
            scpy(r.status, sizeof r.status, "error");
        else
            scpy(r.status, sizeof r.status, "ok");
    }
    char id[200];
    snprintf(id, sizeof id, "otel:%.64s:%.32s", trace, sid);
    return add_record(c, &r, id, line, text, len);
}

static bool do_otlp(ctx *c, json_object *doc, uint64_t line, const char *text, size_t len)
{
    json_object *rs = jget(doc, "resourceSpans");
    if (!rs || !json_object_is_type(rs, json_type_array)) {
        reject(c, line, "resourceSpans is not an array", text, len);
        return true;
    }
    for (size_t i = 0; i < json_object_array_length(rs); i++) {
        json_object *r = json_object_array_get_idx(rs, i);
        json_object *rattrs = jget(jget(r, "resource"), "attributes");
        json_object *ss = jget(r, "scopeSpans");
        if (!ss)
            ss = jget(r, "instrumentationLibrarySpans");
        size_t ns = ss && json_object_is_type(ss, json_type_array) ? json_object_array_length(ss) : 0;
        for (size_t j = 0; j < ns; j++) {
            json_object *spans = jget(json_object_array_get_idx(ss, j), "spans");
            size_t nsp = spans && json_object_is_type(spans, json_type_array)
                             ? json_object_array_length(spans) : 0;
            for (size_t k = 0; k < nsp; k++) {
                bool ok = otel_span(c, rattrs, json_object_array_get_idx(spans, k), line);
                c->reject_src = NULL;
                if (!ok)
                    return false;
            }
        }
    }
    return true;
}

/* ------------------------------------------------------------------ LiteLLM ---- */

static const char *litellm_provider(const char *s)
{
    static const char *map[][2] = {
        {"bedrock", "aws"},          {"bedrock_converse", "aws"}, {"vertex_ai", "google"},
        {"vertex_ai_beta", "google"}, {"gemini", "google"},       {"azure", "azure"},
        {"azure_ai", "azure"},       {"xai", "x-ai"},             {"together_ai", "together"},
        {"fireworks_ai", "fireworks"}, {"mistral", "mistral"},    {"text-completion-openai", "openai"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(s, map[i][0]))
            return map[i][1];
    return s;
}

/* a JSON object that may be given as an object or as JSON text (LiteLLM stores metadata as
 * either, depending on the database and the export); *owned set when the caller must put it */
static json_object *jobj_or_text(json_object *v, bool *owned)
{
    *owned = false;
    if (!v)
        return NULL;
    if (json_object_is_type(v, json_type_object))
        return v;
    if (json_object_is_type(v, json_type_string)) {
        json_object *p = json_tokener_parse(json_object_get_string(v));
        if (p && json_object_is_type(p, json_type_object)) {
            *owned = true;
            return p;
        }
        json_object_put(p);
    }
    return NULL;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* jcount, naming the first field that is not a count in *bad */
static bool count_of(json_object *v, uint64_t *out, const char **bad, const char *name)
{
    bool b = false;
    bool got = jcount(v, out, &b);
    if (b && !*bad)
        *bad = name;
    return got;
}

static bool do_litellm(ctx *c, json_object *row, uint64_t line, const char *text, size_t len)
{
    char why[300];
    const char *rid = jstr(row, "request_id");
    if (!rid || !rid[0]) {
        reject(c, line, "LiteLLM row without request_id", text, len);
        return true;
    }
    const char *model = jstr(row, "model");
    if (!model || !model[0]) {
        snprintf(why, sizeof why, "LiteLLM row %.60s: no model", rid);
        reject(c, line, why, text, len);
        return true;
    }
    ic_record r;
    record_init(&r);
    const char *prov = jstr(row, "custom_llm_provider");
    const char *slash = strchr(model, '/');
    if (prov && prov[0]) {
        scpy(r.provider, sizeof r.provider, litellm_provider(prov));
        /* "openai/gpt-4o" with provider openai: the catalog wants "gpt-4o" */
        if (slash && (size_t)(slash - model) == strlen(prov) && !strncmp(model, prov, strlen(prov)))
            model = slash + 1;
    }
    scpy(r.model, sizeof r.model, model);
    bool mown = false;
    json_object *mv = jget(row, "metadata");
    json_object *meta = jobj_or_text(mv, &mown);
    if (!meta && mv && json_object_is_type(mv, json_type_string) && json_object_get_string_len(mv) &&
        strcmp(json_object_get_string(mv), "null")) {
        /* its feature and tags would be lost without a word */
        snprintf(why, sizeof why, "LiteLLM row %.60s: metadata: not a JSON object", rid);
        reject(c, line, why, text, len);
        return true;
    }
    json_object *uo = jget(meta, "usage_object");
    const char *bad = NULL; /* the first count that is not a non-negative integer */
    uint64_t in = 0, out = 0, cr = 0, cw = 0, rs = 0;
    bool hin = count_of(jget(row, "prompt_tokens"), &in, &bad, "prompt_tokens");
    bool hout = count_of(jget(row, "completion_tokens"), &out, &bad, "completion_tokens");
    if (uo) {
        if (!hin)
            hin = count_of(jget(uo, "prompt_tokens"), &in, &bad, "usage_object.prompt_tokens");
        if (!hout)
            hout = count_of(jget(uo, "completion_tokens"), &out, &bad,
                            "usage_object.completion_tokens");
        if (!count_of(jget(jget(uo, "prompt_tokens_details"), "cached_tokens"), &cr, &bad,
                      "usage_object.prompt_tokens_details.cached_tokens"))
            count_of(jget(uo, "cache_read_input_tokens"), &cr, &bad,
                     "usage_object.cache_read_input_tokens");
        count_of(jget(uo, "cache_creation_input_tokens"), &cw, &bad,
                 "usage_object.cache_creation_input_tokens");
        count_of(jget(jget(uo, "completion_tokens_details"), "reasoning_tokens"), &rs, &bad,
                 "usage_object.completion_tokens_details.reasoning_tokens");
    }
    const char *feature = NULL;
    json_object *slm = jget(meta, "spend_logs_metadata");
    if (slm)
        feature = jstr(slm, "feature");
    if (bad || (!hin && !hout)) {
        if (bad)
            snprintf(why, sizeof why, "LiteLLM row %.60s: %s: not a non-negative integer", rid, bad);
        else
            snprintf(why, sizeof why, "LiteLLM row %.60s: no prompt_tokens/completion_tokens", rid);
        if (mown)
            json_object_put(meta);
        reject(c, line, why, text, len);
        return true;
    }
    /* LiteLLM reports OpenAI-shaped usage: prompt_tokens include cached tokens */
    if (cr + cw > in)
        in += cr + cw;
    ic_error err = {0};
    if (set_unit(c, &r, c->u_in, in, "prompt_tokens", &err) != IC_OK ||
        set_unit(c, &r, c->u_out, out, "completion_tokens", &err) != IC_OK ||
        (cr && set_unit(c, &r, c->u_cr, cr, "cached_tokens", &err) != IC_OK) ||
        (cw && set_unit(c, &r, c->u_cw, cw, "cache_creation_input_tokens", &err) != IC_OK) ||
        (rs && set_unit(c, &r, c->u_reason, rs, "reasoning_tokens", &err) != IC_OK)) {
        if (mown)
            json_object_put(meta);
        reject(c, line, err.msg, text, len);
        return true;
    }
    const char *ts = jstr(row, "startTime");
    int64_t t0 = 0, t1 = 0;
    if (ts && ts[0]) {
        if (ic_time_parse(ts, strlen(ts), &t0) != IC_OK) {
            snprintf(why, sizeof why, "LiteLLM row %.60s: startTime '%.40s' is not a timestamp",
                     rid, ts);
            if (mown)
                json_object_put(meta);
            reject(c, line, why, text, len);
            return true;
        }
        r.t_ms = t0;
        r.has_time = true;
        const char *te = jstr(row, "endTime");
        if (te && ic_time_parse(te, strlen(te), &t1) == IC_OK && t1 >= t0)
            r.latency_ms = t1 - t0;
    }
    const char *cust = jstr(row, "end_user");
    if (!cust || !cust[0])
        cust = jstr(row, "user");
    scpy(r.customer, sizeof r.customer, cust);
    scpy(r.feature, sizeof r.feature, feature);
    scpy(r.task, sizeof r.task, jstr(row, "session_id"));
    scpy(r.status, sizeof r.status, jstr(row, "status"));
    const char *ch = jstr(row, "cache_hit");
    r.cache_hit = ch && (!strcasecmp(ch, "true") || !strcmp(ch, "1"));
    /* api_key is LiteLLM's hash of the virtual key; a raw key (sk-...) is never kept */
    const char *k = jstr(row, "api_key");
    if (k && strlen(k) >= 32 && is_hex(k, strlen(k)))
        snprintf(r.key_id, sizeof r.key_id, "litellm:%.12s", k);
    json_object *tags = jget(row, "request_tags");
    if (tags && json_object_is_type(tags, json_type_array) && json_object_array_length(tags)) {
        json_object *t = json_object_new_object();
        json_object_object_add(t, "request_tags", json_object_get(tags));
        scpy(r.tags, sizeof r.tags, json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN));
        json_object_put(t);
    }
    if (mown)
        json_object_put(meta);
    char id[200];
    snprintf(id, sizeof id, "litellm:%.180s", rid);
    return add_record(c, &r, id, line, text, len);
}

/* ------------------------------------------------------------------ dispatch ---- */

static bool has(const char *s, size_t len, const char *needle)
{
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

static bool do_json_value(ctx *c, json_object *o, uint64_t line, const char *text, size_t len);

static bool do_line(ctx *c, const char *s, size_t len, uint64_t line)
{
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    if (!len) {
        c->skipped++;
        return true;
    }
    /* the common case first: a record line is recognized by parsing it */
    ic_record r;
    ic_error rerr; /* not zeroed per line: only read after a failure, which fills it */
    rerr.status = IC_OK;
    rerr.msg[0] = 0;
    if (ic_record_parse(c->o->catalog, s, len, &r, &rerr) == IC_OK) {
        char hid[40];
        const char *id = r.id;
        if (!id[0]) {
            hash_id(s, len, hid);
            id = hid;
        }
        return add_record(c, &r, id, line, s, len);
    }
    bool otlp = has(s, len, "\"resourceSpans\"");
    bool lite = !otlp && has(s, len, "\"request_id\"") &&
                (has(s, len, "\"call_type\"") || has(s, len, "\"spend\""));
    if (!otlp && !lite) {
        reject(c, line, rerr.msg, s, len);
        return true;
    }
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return false;
    json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    bool ok = true;
    if (!o || json_tokener_get_error(tok) != json_tokener_success) {
        char why[160];
        snprintf(why, sizeof why, "malformed JSON: %s",
                 json_tokener_error_desc(json_tokener_get_error(tok)));
        reject(c, line, why, s, len);
    } else {
        ok = do_json_value(c, o, line, s, len);
    }
    json_object_put(o);
    json_tokener_free(tok);
    return ok;
}

static bool do_json_value(ctx *c, json_object *o, uint64_t line, const char *text, size_t len)
{
    if (jget(o, "resourceSpans"))
        return do_otlp(c, o, line, text, len);
    if (jget(o, "request_id") && (jget(o, "call_type") || jget(o, "spend")))
        return do_litellm(c, o, line, text, len);
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    return do_record_line(c, s, strlen(s), line);
}

/* ------------------------------------------------------------------ CSV (LiteLLM) ---- */

#define CSV_MAXF 128

static bool csv_row(ctx *c, char **hdr, int nh, char *rec, size_t len, uint64_t line)
{
    while (len && (rec[len - 1] == '\n' || rec[len - 1] == '\r'))
        rec[--len] = 0;
    if (!len) {
        c->skipped++;
        return true;
    }
    char *copy = strdup(rec);
    if (!copy)
        return false;
    char *f[CSV_MAXF];
    int n = ic__csv_split(rec, len, f, CSV_MAXF);
    if (n != nh) {
        char why[120];
        snprintf(why, sizeof why, "CSV row has %d fields, the header has %d", n, nh);
        reject(c, line, why, copy, strlen(copy));
        free(copy);
        return true;
    }
    json_object *o = json_object_new_object();
    for (int i = 0; i < n; i++) {
        if (!f[i][0])
            continue;
        json_object_object_add(o, hdr[i], json_object_new_string(f[i]));
    }
    if (!jget(o, "call_type"))
        json_object_object_add(o, "call_type", json_object_new_string(""));
    bool ok = do_litellm(c, o, line, copy, strlen(copy));
    json_object_put(o);
    free(copy);
    return ok;
}

/* ------------------------------------------------------------------ the stream ---- */

static ic_status read_all(FILE *in, char **buf, size_t *len, const char *first, size_t flen,
                          ic_error *err, const char *source)
{
    size_t cap = flen + (1 << 16), n = flen;
    char *b = malloc(cap);
    if (!b)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    memcpy(b, first, flen);
    for (;;) {
        if (cap - n < (1 << 15)) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n - 1, in);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(in)) {
        free(b);
        return ic_error_set(err, IC_ERR_IO, "%s: read error", source);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return IC_OK;
}

/* The lines after the first of a line-per-record stream, read 1 MiB at a time and handled in
 * place, each NUL-terminated where its newline was: getline took the stream's lock and copied
 * every line (5% of the parser thread in bench/ledger.sh). The buffer grows for a longer line and
 * keeps JSONL_SLACK bytes beyond the data, so a scanner reading ahead in 16-byte steps stays
 * inside it. */
#define JSONL_CHUNK (1u << 20)
#define JSONL_SLACK 64

static bool jsonl_rest(ctx *c, FILE *in, uint64_t lineno, ic_error *perr)
{
    size_t cap = JSONL_CHUNK, len = 0, start = 0;
    char *buf = malloc(cap + JSONL_SLACK);
    if (!buf)
        return false;
    bool ok = true, eof = false;
    while (ok) {
        char *nl;
        while (ok && (nl = memchr(buf + start, '\n', len - start)) != NULL) {
            size_t l = (size_t)(nl - (buf + start));
            *nl = 0;
            lineno++;
            c->lines++;
            c->bytes += l + 1;
            ok = do_line(c, buf + start, l, lineno);
            start += l + 1;
        }
        if (!ok)
            break;
        if (eof) {
            if (start < len) { /* a last line without a newline */
                buf[len] = 0;
                lineno++;
                c->lines++;
                c->bytes += len - start;
                ok = do_line(c, buf + start, len - start, lineno);
            }
            break;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        start = 0;
        if (cap - len < JSONL_CHUNK / 4) { /* a line longer than the buffer: grow it */
            char *nb = realloc(buf, cap * 2 + JSONL_SLACK);
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, in);
        len += r;
        if (r == 0) {
            if (ferror(in)) {
                free(buf);
                ic_error_set(perr, IC_ERR_IO, "%s: read error", c->source);
                return false;
            }
            eof = true;
        }
    }
    free(buf);
    return ok;
}

static bool parse_stream(ctx *c, FILE *in, ic_error *perr)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t lineno = 0;
    bool ok = true;
    errno = 0;
    got = getline(&line, &cap, in);
    if (got < 0) {
        free(line);
        if (ferror(in)) { /* a directory, an I/O error: not an empty input */
            ic_error_set(perr, IC_ERR_IO, "%s: cannot read: %s", c->source,
                         strerror(errno ? errno : EIO));
            return false;
        }
        return true;
    }
    /* a UTF-8 byte-order mark (spreadsheets write one) is not part of the first line */
    if (got >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
        memmove(line, line + 3, (size_t)got - 2); /* with the NUL */
        got -= 3;
    }
    /* look at the first line to choose the mode */
    const char *p = line;
    while (*p && isspace((unsigned char)*p))
        p++;
    bool doc = *p == '[';
    if (*p == '{') {
        json_tokener *tok = json_tokener_new();
        json_object *o = json_tokener_parse_ex(tok, line, (int)got);
        if (!o && json_tokener_get_error(tok) == json_tokener_continue)
            doc = true;
        json_object_put(o);
        json_tokener_free(tok);
    }
    bool csv = !doc && *p != '{' && strstr(line, "request_id") && strchr(line, ',');
    if (doc) {
        char *all = NULL;
        size_t alen = 0;
        if (read_all(in, &all, &alen, line, (size_t)got, perr, c->source) != IC_OK) {
            free(line);
            c->wstatus = perr->status;
            return false;
        }
        free(line);
        c->bytes += alen;
        json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* as a JSONL line is read */
        bool nul = ic_json_has_nul(all, alen); /* json-c would cut keys at it */
        json_object *o = nul ? NULL : json_tokener_parse_ex(tok, all, (int)alen);
        if (nul) {
            c->lines++;
            reject(c, 1, "the JSON document contains a NUL character (\\u0000)", all,
                   alen > 200 ? 200 : alen);
        } else if (!o || json_tokener_get_error(tok) != json_tokener_success) {
            char why[160];
            snprintf(why, sizeof why, "malformed JSON document: %s",
                     json_tokener_error_desc(json_tokener_get_error(tok)));
            c->lines++;
            reject(c, 1, why, all, alen > 200 ? 200 : alen);
        } else if (json_object_is_type(o, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(o) && ok; i++) {
                json_object *it = json_object_array_get_idx(o, i);
                const char *t = json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN);
                c->lines++;
                ok = do_json_value(c, it, i + 1, t, strlen(t));
            }
        } else {
            c->lines++;
            ok = do_json_value(c, o, 1, all, alen > 200 ? 200 : alen);
        }
        json_object_put(o);
        json_tokener_free(tok);
        free(all);
        return ok;
    }
    if (csv) {
        c->lines++;
        c->bytes += (size_t)got;
        lineno = 1;
        char *hcopy = strdup(line);
        char *hdr[CSV_MAXF];
        size_t hl = strlen(hcopy);
        while (hl && (hcopy[hl - 1] == '\n' || hcopy[hl - 1] == '\r'))
            hcopy[--hl] = 0;
        int nh = ic__csv_split(hcopy, hl, hdr, CSV_MAXF);
        if (nh < 0) {
            reject(c, 1, "malformed CSV header", line, (size_t)got);
            free(hcopy);
            free(line);
            return true;
        }
        char *rec = NULL;
        size_t rlen = 0, rcap = 0;
        uint64_t rec_start = 0;
        while (ok && (got = getline(&line, &cap, in)) >= 0) {
            lineno++;
            c->lines++;
            c->bytes += (size_t)got;
            if (rlen + (size_t)got + 1 > rcap) {
                rcap = (rlen + (size_t)got + 1) * 2;
                char *nr = realloc(rec, rcap);
                if (!nr) {
                    ok = false;
                    break;
                }
                rec = nr;
            }
            if (!rlen)
                rec_start = lineno;
            memcpy(rec + rlen, line, (size_t)got);
            rlen += (size_t)got;
            rec[rlen] = 0;
            if (ic__csv_quotes_open(rec, rlen))
                continue; /* a quoted field goes on */
            ok = csv_row(c, hdr, nh, rec, rlen, rec_start);
            rlen = 0;
        }
        if (ok && rlen) {
            reject(c, rec_start, "unterminated quoted CSV field at end of input", rec, rlen);
        }
        free(rec);
        free(hcopy);
        free(line);
        return ok;
    }
    lineno++;
    c->lines++;
    c->bytes += (size_t)got;
    ok = do_line(c, line, (size_t)got, lineno);
    free(line);
    return ok && jsonl_rest(c, in, lineno, perr);
}

typedef struct parser_arg {
    ctx *c;
    FILE *in;
    bool ok;
    ic_error err;
} parser_arg;

ic_status ic_ingest_stream(ic_ledger *l, const ic_ingest_opts *o, FILE *in, const char *source,
                           ic_ingest_stats *st, ic_error *err)
{
    if (ic_units_init(err) != IC_OK)
        return err->status;
    ctx *c = calloc(1, sizeof *c);
    if (!c)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    c->l = l;
    c->o = o;
    c->source = source ? source : "-";
    c->batch_size = o->batch ? o->batch : IC_INGEST_BATCH;
    c->u_in = ic_unit_find("input_tokens");
    c->u_out = ic_unit_find("output_tokens");
    c->u_cr = ic_unit_find("cache_read_tokens");
    c->u_cw = ic_unit_find("cache_write_tokens");
    c->u_reason = ic_unit_find("output_reasoning_tokens");
    c->st = st;
    /* the writer owns *st during the run; the parser's counts start from what is there */
    c->lines = st->lines;
    c->bytes = st->bytes;
    c->events = st->events;
    uint64_t rej0 = st->rejected, skip0 = st->skipped;
    c->threaded = o->threads >= 2;
    for (int i = 0; i < 3; i++)
        if (ic_ledger_batch_new(&c->slots[i].lb, err) != IC_OK) {
            for (int j = 0; j < i; j++)
                ic_ledger_batch_free(c->slots[j].lb);
            free(c);
            return err->status;
        }
    c->cur = &c->slots[0];
    ic_error perr = {0};
    bool ok;
    if (!c->threaded) {
        ok = parse_stream(c, in, &perr);
        if (ok && c->wstatus == IC_OK)
            emit(c, true);
    } else {
        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        c->free_b[0] = &c->slots[1];
        c->free_b[1] = &c->slots[2];
        c->nfree = 2;
        pthread_t w;
        if (pthread_create(&w, NULL, writer_main, c) != 0) {
            for (int i = 0; i < 3; i++)
                ic_ledger_batch_free(c->slots[i].lb);
            free(c);
            return ic_error_set(err, IC_ERR_NOMEM, "cannot start the writer thread");
        }
        ok = parse_stream(c, in, &perr);
        if (!c->cur) { /* cannot happen: emit(last=false) always gives a batch back */
            pthread_mutex_lock(&c->mu);
            while (c->nfree == 0)
                pthread_cond_wait(&c->cv, &c->mu);
            c->cur = c->free_b[--c->nfree];
            pthread_mutex_unlock(&c->mu);
        }
        emit(c, true); /* always: the writer waits for the last batch */
        pthread_join(w, NULL);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
    }
    st->rejected = rej0 + c->rejected + (st->rejected - rej0);
    st->skipped = skip0 + c->skipped;
    st->lines = c->lines;
    st->bytes = c->bytes;
    st->events = c->events;
    ic_status s = IC_OK;
    if (c->wstatus != IC_OK) {
        *err = c->werr;
        s = c->wstatus;
    } else if (!ok) {
        if (perr.status != IC_OK) {
            *err = perr;
            s = perr.status;
        } else {
            s = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", c->source);
        }
    }
    for (int i = 0; i < 3; i++)
        ic_ledger_batch_free(c->slots[i].lb);
    free(c);
    return s;
}
