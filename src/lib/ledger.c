/* ledger.c: the backend-agnostic half of the ledger (ledger.h). It picks a backend from the
 * target name, runs each appended batch as one transaction, and accumulates the batch's rollup
 * deltas in a small hash table (only for events the backend actually inserted) so the daily
 * rollups commit together with the events. It never prices and never prints. */
#include "infercost/ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "infercost/units.h"
#include "ledger_internal.h"

struct ic_ledger {
    const ic_ledger_ops *ops;
    void *st;
};

const char *ic_event_rollup_model(const ic_event *e)
{
    if (e->model_served && e->model_served[0])
        return e->model_served;
    return e->model ? e->model : "";
}

static bool status_is_error(const char *s)
{
    if (!s || !s[0])
        return false;
    if (!strcasecmp(s, "ok") || !strcasecmp(s, "success") || !strcasecmp(s, "completed") ||
        !strcasecmp(s, "unset"))
        return false;
    if (s[0] == '2' && strlen(s) == 3) /* an HTTP 2xx */
        return false;
    return true;
}

ic_status ic_ledger_open_with(ic_ledger **out, const ic_ledger_ops *ops, const char *target,
                              bool readonly, ic_error *err)
{
    *out = NULL;
    ic_ledger *l = calloc(1, sizeof *l);
    if (!l)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    l->ops = ops;
    ic_status st = ops->open(&l->st, target, readonly, err);
    if (st != IC_OK) {
        free(l);
        return st;
    }
    *out = l;
    return IC_OK;
}

ic_status ic_ledger_open(ic_ledger **out, const char *target, bool readonly, ic_error *err)
{
    *out = NULL;
    if (!target || !target[0])
        return ic_error_set(err, IC_ERR_INVALID, "no ledger path given");
    if (!strncmp(target, "postgres://", 11) || !strncmp(target, "postgresql://", 13))
        return ic_error_set(err, IC_ERR_INVALID,
                            "%.40s...: the PostgreSQL ledger backend is not built in this version "
                            "(use a SQLite file path)", target);
    if (!strncmp(target, "sqlite:", 7))
        target += 7;
    return ic_ledger_open_with(out, &ic_ledger_sqlite_ops, target, readonly, err);
}

void ic_ledger_close(ic_ledger *l)
{
    if (!l)
        return;
    l->ops->close(l->st);
    free(l);
}

const char *ic_ledger_backend(const ic_ledger *l) { return l->ops->name; }

/* ---- rollup accumulation for one batch ---- */

typedef struct racc {
    bool used;
    uint64_t h;
    ic_rollup r;
} racc;

typedef struct rtable {
    racc *slots;
    size_t cap, n;
} rtable;

static const char *nz(const char *s) { return s ? s : ""; }

static uint64_t rkey_hash(int64_t day, const char *p, const char *m, const char *c, const char *f)
{
    XXH3_state_t s;
    XXH3_64bits_reset(&s);
    XXH3_64bits_update(&s, &day, sizeof day);
    const char *parts[4] = {p, m, c, f};
    for (int i = 0; i < 4; i++)
        XXH3_64bits_update(&s, parts[i], strlen(parts[i]) + 1);
    return XXH3_64bits_digest(&s);
}

static bool rkey_eq(const ic_rollup *r, int64_t day, const char *p, const char *m, const char *c,
                    const char *f)
{
    return r->day == day && !strcmp(r->provider, p) && !strcmp(r->model, m) &&
           !strcmp(r->customer, c) && !strcmp(r->feature, f);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void ic__rollup_from_event(const ic_event *e, ic_rollup *r)
{
    memset(r, 0, sizeof *r);
    r->day = floor_div(e->t_ms, 86400000);
    r->provider = nz(e->provider);
    r->model = ic_event_rollup_model(e);
    r->customer = nz(e->customer);
    r->feature = nz(e->feature);
    r->requests = 1;
    r->cache_hits = e->cache_hit;
    r->errors = status_is_error(e->status);
    r->input_tokens = e->input_tokens;
    r->cache_read_tokens = e->cache_read_tokens;
    r->cache_write_tokens = e->cache_write_tokens;
    r->output_tokens = e->output_tokens;
    r->reasoning_tokens = e->reasoning_tokens;
    r->cost = e->cost;
    r->cost_input = e->cost_input;
    r->cost_output = e->cost_output;
}

static ic_status rtable_add(rtable *t, const ic_event *e, ic_error *err)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        racc *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].used) {
                size_t j = t->slots[i].h & (ncap - 1);
                while (ns[j].used)
                    j = (j + 1) & (ncap - 1);
                ns[j] = t->slots[i];
            }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    int64_t day = floor_div(e->t_ms, 86400000);
    const char *p = nz(e->provider), *m = ic_event_rollup_model(e), *c = nz(e->customer),
               *f = nz(e->feature);
    uint64_t h = rkey_hash(day, p, m, c, f);
    size_t j = h & (t->cap - 1);
    while (t->slots[j].used && !(t->slots[j].h == h && rkey_eq(&t->slots[j].r, day, p, m, c, f)))
        j = (j + 1) & (t->cap - 1);
    racc *a = &t->slots[j];
    if (!a->used) {
        a->used = true;
        a->h = h;
        a->r.day = day;
        a->r.provider = p;
        a->r.model = m;
        a->r.customer = c;
        a->r.feature = f;
        t->n++;
    }
    ic_rollup *r = &a->r;
    r->requests++;
    r->cache_hits += e->cache_hit;
    r->errors += status_is_error(e->status);
    r->input_tokens += e->input_tokens;
    r->cache_read_tokens += e->cache_read_tokens;
    r->cache_write_tokens += e->cache_write_tokens;
    r->output_tokens += e->output_tokens;
    r->reasoning_tokens += e->reasoning_tokens;
    r->cost += e->cost;
    r->cost_input += e->cost_input;
    r->cost_output += e->cost_output;
    return IC_OK;
}

ic_status ic_ledger_append(ic_ledger *l, const ic_event *ev, size_t n, size_t *ninserted,
                           bool *dup_flags, ic_error *err)
{
    if (ninserted)
        *ninserted = 0;
    if (n == 0)
        return IC_OK;
    rtable t = {0};
    size_t added = 0;
    ic_status st = l->ops->begin(l->st, err);
    if (st != IC_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        bool ins = false;
        if (!ev[i].id || !ev[i].id[0]) {
            st = ic_error_set(err, IC_ERR_INVALID, "event without an id");
            goto fail;
        }
        st = l->ops->insert(l->st, &ev[i], &ins, err);
        if (st != IC_OK)
            goto fail;
        if (dup_flags)
            dup_flags[i] = !ins;
        if (ins) {
            added++;
            if ((st = rtable_add(&t, &ev[i], err)) != IC_OK)
                goto fail;
        }
    }
    for (size_t i = 0; i < t.cap; i++)
        if (t.slots[i].used && (st = l->ops->rollup_add(l->st, &t.slots[i].r, err)) != IC_OK)
            goto fail;
    if ((st = l->ops->commit(l->st, err)) != IC_OK)
        goto fail;
    free(t.slots);
    if (ninserted)
        *ninserted = added;
    return IC_OK;
fail:
    l->ops->rollback(l->st);
    free(t.slots);
    return st;
}

ic_status ic_ledger_scan_events(ic_ledger *l, const ic_ledger_filter *f, ic_event_cb cb,
                                void *arg, ic_error *err)
{
    ic_ledger_filter none = {0};
    return l->ops->scan_events(l->st, f ? f : &none, cb, arg, err);
}

ic_status ic_ledger_scan_rollups(ic_ledger *l, const ic_ledger_filter *f, ic_rollup_cb cb,
                                 void *arg, ic_error *err)
{
    ic_ledger_filter none = {0};
    return l->ops->scan_rollups(l->st, f ? f : &none, cb, arg, err);
}

ic_status ic_ledger_revenue_put(ic_ledger *l, const char *customer, const char *period,
                                ic_money amount, ic_error *err)
{
    return ic_ledger_revenue_put_many(l, &customer, &period, &amount, 1, err);
}

ic_status ic_ledger_revenue_put_many(ic_ledger *l, const char *const *customers,
                                     const char *const *periods, const ic_money *amounts,
                                     size_t n, ic_error *err)
{
    ic_status st = l->ops->begin(l->st, err);
    if (st != IC_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if ((st = l->ops->revenue_put(l->st, customers[i], periods[i], amounts[i], err)) != IC_OK) {
            l->ops->rollback(l->st);
            return st;
        }
    st = l->ops->commit(l->st, err);
    if (st != IC_OK)
        l->ops->rollback(l->st);
    return st;
}

ic_status ic_ledger_scan_revenue(ic_ledger *l, ic_revenue_cb cb, void *arg, ic_error *err)
{
    return l->ops->scan_revenue(l->st, cb, arg, err);
}

ic_status ic_ledger_stats_get(ic_ledger *l, ic_ledger_stats *out, ic_error *err)
{
    memset(out, 0, sizeof *out);
    return l->ops->stats(l->st, out, err);
}

/* ---- varints ---- */

static void put_u128(ic__wbuf *w, ic_u128 v)
{
    do {
        unsigned char b = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= 0x80;
        if (w->n < w->cap)
            w->p[w->n++] = b;
        else
            w->overflow = true;
    } while (v);
}

void ic__put_u64(ic__wbuf *w, uint64_t v) { put_u128(w, v); }
void ic__put_i64(ic__wbuf *w, int64_t v)
{
    put_u128(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
void ic__put_money(ic__wbuf *w, ic_money v)
{
    put_u128(w, ((ic_u128)v << 1) ^ (ic_u128)(v >> 127));
}
void ic__put_bytes(ic__wbuf *w, const void *s, size_t len)
{
    ic__put_u64(w, len);
    if (w->n + len > w->cap) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->n, s, len);
    w->n += len;
}

static ic_u128 get_u128(ic__rbuf *r)
{
    ic_u128 v = 0;
    for (int shift = 0; shift < 128; shift += 7) {
        if (r->at >= r->n) {
            r->bad = true;
            return 0;
        }
        unsigned char b = r->p[r->at++];
        v |= (ic_u128)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

uint64_t ic__get_u64(ic__rbuf *r)
{
    ic_u128 v = get_u128(r);
    if (v > UINT64_MAX)
        r->bad = true;
    return (uint64_t)v;
}
int64_t ic__get_i64(ic__rbuf *r)
{
    uint64_t z = ic__get_u64(r);
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}
ic_money ic__get_money(ic__rbuf *r)
{
    ic_u128 z = get_u128(r);
    return (ic_money)(z >> 1) ^ -(ic_money)(z & 1);
}
const char *ic__get_str(ic__rbuf *r, char *buf, size_t cap)
{
    uint64_t len = ic__get_u64(r);
    if (r->bad || len > r->n - r->at) {
        r->bad = true;
        buf[0] = 0;
        return buf;
    }
    size_t k = len < cap - 1 ? (size_t)len : cap - 1;
    memcpy(buf, r->p + r->at, k);
    buf[k] = 0;
    r->at += (size_t)len;
    return buf;
}

/* ---- event detail ----
 * Unit codes are fixed here forever (1-based; 0 = the name follows as text), so that a stored
 * event never depends on the order of a later units.yml. Layout: nusage, (code[, name], value)*,
 * nitems, (code[, name], charged, price mantissa, price scale, per, amount)*. */

static const char *const unit_codes[] = {
    NULL, "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "input_text_tokens", "output_text_tokens", "cache_text_read_tokens", "cache_text_write_tokens",
    "input_audio_tokens", "output_audio_tokens", "cache_audio_read_tokens",
    "cache_audio_write_tokens", "input_image_tokens", "output_image_tokens",
    "cache_image_read_tokens", "cache_image_write_tokens", "input_video_tokens",
    "output_video_tokens", "cache_video_read_tokens", "cache_video_write_tokens",
    "input_tool_tokens", "input_text_tool_tokens", "input_audio_tool_tokens",
    "input_image_tool_tokens", "input_video_tool_tokens", "output_reasoning_tokens",
    "output_text_reasoning_tokens", "output_audio_reasoning_tokens",
    "output_image_reasoning_tokens", "output_video_reasoning_tokens", "output_citation_tokens",
    "output_text_citation_tokens", "output_audio_citation_tokens", "output_image_citation_tokens",
    "output_video_citation_tokens", "input_characters", "input_text_messages", "audio_seconds",
    "input_audio_seconds", "output_audio_seconds", "input_pixels", "input_document_pages",
    "input_annotated_document_pages", "rerank_searches", "web_searches", "social_searches",
    "storage_searches", "code_executions", "requests",
};
#define NCODES (sizeof unit_codes / sizeof unit_codes[0])

static int code_of_unit[IC_UNITS_MAX]; /* 0: not in the table */
static pthread_once_t codes_once = PTHREAD_ONCE_INIT;

static void codes_init(void)
{
    for (int u = 0; u < IC_UNITS_MAX && u < ic_unit_count(); u++) {
        const char *name = ic_unit_name(u);
        for (size_t i = 1; i < NCODES; i++)
            if (name && !strcmp(unit_codes[i], name))
                code_of_unit[u] = (int)i;
    }
}

static void put_unit(ic__wbuf *w, int unit)
{
    pthread_once(&codes_once, codes_init);
    if (unit >= 0 && unit < IC_UNITS_MAX && code_of_unit[unit]) {
        ic__put_u64(w, (uint64_t)code_of_unit[unit]);
        return;
    }
    const char *name = ic_unit_name(unit);
    ic__put_u64(w, 0);
    ic__put_bytes(w, name ? name : "?", name ? strlen(name) : 1);
}

static const char *get_unit(ic__rbuf *r, char *buf, size_t cap)
{
    uint64_t code = ic__get_u64(r);
    if (code == 0)
        return ic__get_str(r, buf, cap);
    if (code >= NCODES) {
        r->bad = true;
        return "?";
    }
    return unit_codes[code];
}

size_t ic_event_detail_pack(const ic_usage *u, const ic_cost *c, unsigned char *buf, size_t cap)
{
    ic__wbuf w = {buf, 0, cap, false};
    ic__put_u64(&w, (uint64_t)__builtin_popcountll(u->present));
    int slot = 0;
    for (uint64_t bits = u->present; bits; bits &= bits - 1) {
        put_unit(&w, __builtin_ctzll(bits));
        ic__put_u64(&w, u->v[slot++]); /* values are packed in unit order (usage.h) */
    }
    ic__put_u64(&w, c ? (uint64_t)c->nitems : 0);
    for (int i = 0; c && i < c->nitems; i++) {
        const ic_cost_item *it = &c->items[i];
        put_unit(&w, it->unit);
        ic__put_u64(&w, it->charged);
        ic__put_u64(&w, it->price.mant);
        ic__put_u64(&w, it->price.scale);
        ic__put_u64(&w, it->per);
        ic__put_money(&w, it->usd);
    }
    return w.overflow ? 0 : w.n;
}

ic_status ic_event_detail_render(const unsigned char *d, size_t len, char *usage_json,
                                 size_t ucap, char *items, size_t icap)
{
    ic__rbuf r = {d, len, 0, false};
    char nb[128], pb[64], mb[IC_MONEY_STRLEN];
    size_t n = 0;
    uint64_t nu = ic__get_u64(&r);
    n += (size_t)snprintf(usage_json, ucap, "{");
    for (uint64_t i = 0; i < nu && !r.bad; i++) {
        const char *name = get_unit(&r, nb, sizeof nb);
        uint64_t v = ic__get_u64(&r);
        if (n < ucap)
            n += (size_t)snprintf(usage_json + n, ucap - n, "%s\"%s\":%llu", i ? "," : "", name,
                                  (unsigned long long)v);
    }
    if (n < ucap)
        snprintf(usage_json + n, ucap - n, "}");
    n = 0;
    items[0] = 0;
    uint64_t ni = ic__get_u64(&r);
    for (uint64_t i = 0; i < ni && !r.bad; i++) {
        const char *name = get_unit(&r, nb, sizeof nb);
        uint64_t charged = ic__get_u64(&r);
        ic_decimal p;
        p.mant = ic__get_u64(&r);
        p.scale = (uint8_t)ic__get_u64(&r);
        uint64_t per = ic__get_u64(&r);
        ic_money usd = ic__get_money(&r);
        if (n < icap)
            n += (size_t)snprintf(items + n, icap - n, "%s%s %llu %s %llu %s", i ? ";" : "", name,
                                  (unsigned long long)charged,
                                  ic_decimal_format(p, pb, sizeof pb), (unsigned long long)per,
                                  ic_money_format(usd, mb, sizeof mb));
    }
    if (r.bad)
        return IC_ERR_PARSE;
    return IC_OK;
}
