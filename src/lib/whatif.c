/* whatif.c: what-if savings (whatif.h). One pass over the period's events (two with --share-by
 * input-tokens: the first finds the cut): each call the scenario applies to is priced again
 * through the pricing core (ic_price_usage, from the usage packed in the event) when it moves to
 * another model, reads more from the prompt cache or takes another date's prices, then its token
 * items get the batch discount; sums per group and for the whole period are exact ic_money.
 * Revenue comes from the margin's reading of it (economics_internal.h), so both commands count
 * the same months. */
#include "infercost/whatif.h"

#include <stdlib.h>
#include <string.h>

#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "csvout.h"
#include "economics_internal.h"
#include "ledger_internal.h"
#include "strmap.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* The batch APIs that take every model's calls at one discount on their tokens: OpenAI Batch API
 * and Anthropic Message Batches (50% of input and output, cache reads and writes included),
 * Gemini Batch Mode (50%). Sources: docs/ledger.md ("infercost whatif"). */
static const struct {
    const char *provider;
    uint32_t bp;
} batch_discounts[] = {{"openai", 5000}, {"anthropic", 5000}, {"google", 5000}};

uint32_t ic_whatif_batch_discount_bp(const char *provider_id)
{
    for (size_t i = 0; provider_id && i < sizeof batch_discounts / sizeof batch_discounts[0]; i++)
        if (!strcmp(provider_id, batch_discounts[i].provider))
            return batch_discounts[i].bp;
    return 0;
}

typedef struct sizekey { /* a call's place in the order of --share by size */
    uint64_t tokens, h;
} sizekey;

typedef struct keyvec {
    sizekey *v;
    size_t n, cap;
} keyvec;

/* One request hash in the response cache: when the answer it holds went in (INT64_MIN: none
 * yet), and the answers of calls still in flight, which go in when they complete. */
#define PENDING_MAX 4
struct rentry {
    int64_t done;
    int64_t pending[PENDING_MAX];
    int npending;
};

typedef struct wb {
    ic_whatif *w;
    const ic_whatif_opts *o;
    ic_smap groups;
    size_t cap;
    bool oom;
    keyvec sizes[IC_WHATIF_MAX_SWAPS]; /* share_smallest: the keys of each swap's calls */
    sizekey cutoff[IC_WHATIF_MAX_SWAPS]; /* ... and the first key that does not move */
    ic_smap rcache;                      /* response cache: request hash -> index in entries */
    struct rentry *entries;
    size_t nentries, capentries;
} wb;

static bool key_less(sizekey a, sizekey b)
{
    return a.tokens != b.tokens ? a.tokens < b.tokens : a.h < b.h;
}

static int cmp_key(const void *a, const void *b)
{
    sizekey x = *(const sizekey *)a, y = *(const sizekey *)b;
    return key_less(x, y) ? -1 : key_less(y, x);
}

static sizekey key_of(const ic_event *e)
{
    return (sizekey){e->input_tokens, XXH3_64bits(e->id, strlen(e->id))};
}

static ic_whatif_row *row_of(wb *b, const char *key)
{
    bool fresh;
    ic_whatif *w = b->w;
    size_t i = ic__smap_get(&b->groups, key, w->nrows, &fresh);
    if (i == SIZE_MAX)
        return NULL;
    if (fresh) {
        if (w->nrows == b->cap) {
            size_t nc = b->cap ? b->cap * 2 : 32;
            ic_whatif_row *nr = realloc(w->rows, nc * sizeof *nr);
            if (!nr)
                return NULL;
            w->rows = nr;
            b->cap = nc;
        }
        memset(&w->rows[w->nrows], 0, sizeof w->rows[0]);
        if (!(w->rows[w->nrows].key = strdup(key)))
            return NULL;
        w->nrows++;
    }
    return &w->rows[i];
}

static bool eq_or_any(const char *want, const char *have)
{
    return !want || !*want || !strcmp(want, have ? have : "");
}

static void note_unpriced(ic_whatif *w, const ic_event *e, const char *why)
{
    if (!w->first_unpriced[0])
        snprintf(w->first_unpriced, sizeof w->first_unpriced, "event %.200s: %.300s", e->id, why);
}

/* the first swap that matches the call, or -1 */
static int swap_of(const ic_whatif_opts *o, const ic_event *e)
{
    const char *served = ic_event_rollup_model(e);
    for (int i = 0; i < o->nswaps; i++)
        if (!strcmp(o->swaps[i].from, "*") || !strcmp(o->swaps[i].from, served ? served : ""))
            return i;
    return -1;
}

/* whether the scenario applies to the call (the filter's exact matches) */
static bool applies(const ic_whatif_opts *o, const ic_event *e)
{
    const ic_ledger_filter *f = &o->filter;
    return eq_or_any(f->provider, e->provider) && eq_or_any(f->model, ic_event_rollup_model(e)) &&
           eq_or_any(f->customer, e->customer) && eq_or_any(f->feature, e->feature);
}

/* share_smallest, first pass: the size keys of the calls each swap matches */
static int on_event_size(const ic_event *e, void *arg)
{
    wb *b = arg;
    int i;
    if (e->cache_hit || !applies(b->o, e) || (i = swap_of(b->o, e)) < 0)
        return 0;
    keyvec *kv = &b->sizes[i];
    if (kv->n == kv->cap) {
        size_t nc = kv->cap ? kv->cap * 2 : 1024;
        sizekey *nv = realloc(kv->v, nc * sizeof *nv);
        if (!nv) {
            b->oom = true;
            return 1;
        }
        kv->v = nv;
        kv->cap = nc;
    }
    kv->v[kv->n++] = key_of(e);
    return 0;
}

/* The response cache, in time order (the scan's, by start time): whether the call is answered
 * from it. A call that is not, and succeeds, puts its answer in when it completes (its time plus
 * its latency, as the gateway stores an answer once it has it all), replacing the entry then; a
 * hit does not extend the entry's life, and a recorded cache hit stores nothing. Answers still in
 * flight are kept apart until the scan reaches their completion (at most PENDING_MAX per request;
 * past that the one that would complete last is dropped, which can only undercount hits). */
static bool response_hit(wb *b, const ic_event *e)
{
    if (!e->request_hash || !e->request_hash[0] || e->cache_hit)
        return false;
    bool fresh;
    size_t i = ic__smap_get(&b->rcache, e->request_hash, b->nentries, &fresh);
    if (i == SIZE_MAX) {
        b->oom = true;
        return false;
    }
    if (fresh) {
        if (b->nentries == b->capentries) {
            size_t nc = b->capentries ? b->capentries * 2 : 1024;
            struct rentry *ne = realloc(b->entries, nc * sizeof *ne);
            if (!ne) {
                b->oom = true;
                return false;
            }
            b->entries = ne;
            b->capentries = nc;
        }
        b->entries[b->nentries++] = (struct rentry){.done = INT64_MIN};
    }
    struct rentry *r = &b->entries[i];
    for (int k = 0; k < r->npending;) { /* answers completed by now go in, the latest last */
        if (r->pending[k] <= e->t_ms) {
            if (r->pending[k] > r->done)
                r->done = r->pending[k];
            r->pending[k] = r->pending[--r->npending];
        } else {
            k++;
        }
    }
    if (r->done != INT64_MIN && e->t_ms - r->done < b->o->response_cache_ms)
        return true;
    if (ic__status_is_error(e->status))
        return false;
    /* a latency past a day is not one: clamped, so that the sum cannot overflow */
    int64_t lat = e->latency_ms < 0 ? 0 : e->latency_ms > 86400000 ? 86400000 : e->latency_ms;
    int64_t c = e->t_ms + lat;
    if (lat == 0) {
        r->done = c;
    } else if (r->npending < PENDING_MAX) {
        r->pending[r->npending++] = c;
    } else {
        int last = 0;
        for (int k = 1; k < PENDING_MAX; k++)
            last = r->pending[k] > r->pending[last] ? k : last;
        if (c < r->pending[last])
            r->pending[last] = c;
    }
    return false;
}

/* when the scenario prices a call: at its own time, or on the --at date at its time of day */
static int64_t price_time(const ic_whatif_opts *o, const ic_event *e)
{
    if (!o->at)
        return e->t_ms;
    return ic_time_day(o->at_ms) * 86400000 + (e->t_ms - ic_time_day(e->t_ms) * 86400000);
}

/* the units of input, cache reads and cache writes (u[0..2]); false if units.yml lacks one */
static bool input_units(int u[3], ic_error *err)
{
    u[0] = ic_unit_find("input_tokens");
    u[1] = ic_unit_find("cache_read_tokens");
    u[2] = ic_unit_find("cache_write_tokens");
    if (u[0] >= 0 && u[1] >= 0 && u[2] >= 0)
        return true;
    ic_error_set(err, IC_ERR_CATALOG, "units.yml lacks the input and cache units");
    return false;
}

/* --cache-read: at least bp/10000 of the input tokens read from the cache, no more than the input
 * not already written to it */
static bool more_cache_reads(uint32_t bp, ic_usage *u, ic_error *err)
{
    int k[3];
    if (!input_units(k, err))
        return false;
    int ui = k[0], ur = k[1], uw = k[2];
    uint64_t in = ic_usage_get(u, ui), rd = ic_usage_get(u, ur), wr = ic_usage_get(u, uw);
    uint64_t want = (uint64_t)((ic_u128)in * bp / 10000); /* rounded down */
    if (want > in - (wr < in ? wr : in))
        want = in - (wr < in ? wr : in);
    return want <= rd || ic_usage_set(u, ur, want, err) == IC_OK;
}

/* --trim-input: the input tokens that are neither cache reads nor writes cut by bp/10000 (rounded
 * down), as prompt compression would shorten them */
static bool trim_input(uint32_t bp, ic_usage *u, ic_error *err)
{
    int k[3];
    if (!input_units(k, err))
        return false;
    uint64_t in = ic_usage_get(u, k[0]), cached = ic_usage_get(u, k[1]) + ic_usage_get(u, k[2]);
    uint64_t cut = cached >= in ? 0 : (uint64_t)((ic_u128)(in - cached) * bp / 10000);
    return cut == 0 || ic_usage_set(u, k[0], in - cut, err) == IC_OK;
}

/* The call priced on m (NULL: the model that priced it, e->provider and e->model, as ingest
 * resolved them) into *c: with the scenario's time and cache reads, or (scenario false) as it was
 * priced, at its own time from its recorded usage. false, with the reason noted, when it cannot
 * be priced whole. */
static bool reprice(wb *b, const ic_event *e, const ic_model *m, bool scenario, ic_cost *c)
{
    ic_error err = {0};
    ic_usage u;
    const ic_provider *p;
    if (!m && ic_catalog_resolve(b->o->catalog, e->provider, e->model, &p, &m, &err) != IC_OK) {
        note_unpriced(b->w, e, err.msg);
        return false;
    }
    if (!e->detail_len) {
        note_unpriced(b->w, e, "no usage recorded");
        return false;
    }
    if (ic_event_detail_usage(e->detail, e->detail_len, &u, &err) != IC_OK ||
        (scenario && b->o->trim_input_bp && !trim_input(b->o->trim_input_bp, &u, &err)) ||
        (scenario && b->o->cache_read_bp && !more_cache_reads(b->o->cache_read_bp, &u, &err)) ||
        ic_price_usage(m, &u, scenario ? price_time(b->o, e) : e->t_ms, c, &err) != IC_OK) {
        note_unpriced(b->w, e, err.msg);
        return false;
    }
    for (int unit = 0; c->unpriced && unit < IC_UNITS_MAX; unit++)
        if ((c->unpriced >> unit) & 1) {
            char why[256];
            snprintf(why, sizeof why, "%s has no price for %s", ic_model_id(m), ic_unit_name(unit));
            note_unpriced(b->w, e, why);
            return false;
        }
    return true;
}

/* unroute: whether the router moved the call, and the model the client asked for (*asked; NULL
 * when the catalog cannot price that name, with the reason noted). Not moved: no routed_from, or
 * it resolves to the model that priced the call (gpt-4o served as gpt-4o-2024-08-06); a failed
 * call (nothing billed either way); a call a fallback target served (counted apart). */
static bool routed(wb *b, const ic_event *e, const ic_model **asked)
{
    *asked = NULL;
    if (!e->routed_from || !e->routed_from[0] ||
        !strcmp(e->routed_from, e->model ? e->model : "") || ic__status_is_error(e->status))
        return false;
    if (e->fallback) {
        b->w->by_fallback++;
        return false;
    }
    const ic_provider *p;
    const ic_model *served = NULL, *m = NULL;
    ic_error err = {0}, err2 = {0};
    if (ic_catalog_resolve(b->o->catalog, e->provider, e->model, &p, &served, &err) != IC_OK)
        served = NULL;
    /* the name on the call's own provider first (an Azure deployment of gpt-4o), then anywhere */
    if (ic_catalog_resolve(b->o->catalog, e->provider, e->routed_from, &p, &m, &err) != IC_OK &&
        ic_catalog_resolve(b->o->catalog, NULL, e->routed_from, &p, &m, &err2) != IC_OK) {
        char why[1000];
        snprintf(why, sizeof why, "routed from '%s', which the catalog does not price: %.400s",
                 e->routed_from, err2.msg);
        note_unpriced(b->w, e, why);
        return true;
    }
    if (m == served)
        return false;
    *asked = m;
    return true;
}

/* what a cost's token items come to: the part a batch discount applies to */
static ic_money token_part(const ic_cost *c)
{
    ic_money t = 0;
    for (int i = 0; i < c->nitems; i++) {
        const char *fam = ic_unit_family(c->items[i].unit);
        if (fam && !strcmp(fam, "tokens"))
            t += c->items[i].usd;
    }
    return t;
}

/* The call's cost under the scenario; *moved, *batched and *unpriced say what happened to it.
 * A call that stays on its model keeps its recorded cost plus the change the scenario makes to
 * its price (the scenario's price minus the price now of what it recorded), so that a catalog
 * that prices its usage otherwise today (another feed, an overlay not given) is not shown as a
 * saving; such calls are counted in catalog_differs. */
static ic_money scenario_cost(wb *b, const ic_event *e, bool hit, bool *moved, bool *batched,
                              bool *unpriced)
{
    const ic_whatif_opts *o = b->o;
    const ic_model *m = NULL;
    *moved = *batched = *unpriced = false;
    if (e->cache_hit)
        return e->cost;
    int i = swap_of(o, e);
    if (i >= 0)
        b->w->swap_matched[i]++;
    if (hit)
        return 0; /* the gateway answers it from the cache, at $0 */
    if (o->unroute) { /* a scenario of its own (ic_whatif_build) */
        ic_cost asked, served;
        if (!routed(b, e, &m))
            return e->cost;
        /* the difference the two models make by today's catalog, on the recorded cost: a
         * catalog that prices the call otherwise than the ledger recorded it (an overlay not
         * given) moves both sides alike */
        if (!m || !reprice(b, e, m, false, &asked) || !reprice(b, e, NULL, false, &served)) {
            *unpriced = true;
            return e->cost;
        }
        if (served.total != e->cost)
            b->w->catalog_differs++;
        *moved = true;
        return e->cost + (asked.total - served.total);
    }
    if (i >= 0) {
        bool in = o->share_bp == 0 || o->share_bp >= 10000 ||
                  (o->share_smallest ? key_less(key_of(e), b->cutoff[i])
                                     : XXH3_64bits(e->id, strlen(e->id)) % 10000 < o->share_bp);
        if (in) {
            m = o->swaps[i].to;
            *moved = true;
        }
    }
    ic_money cost = e->cost, tokens = 0;
    bool tokens_known = false;
    ic_cost now, then;
    if (*moved) {
        if (reprice(b, e, m, true, &now)) {
            cost = now.total;
            tokens = token_part(&now);
            tokens_known = true;
        } else { /* it stays on its model */
            *moved = false;
            *unpriced = true;
            m = NULL;
        }
    }
    if (!*moved && (o->batch || o->at || o->cache_read_bp || o->trim_input_bp)) {
        ic_error err = {0};
        if (!e->detail_len || ic_event_detail_cost(e->detail, e->detail_len, &then, &err) != IC_OK) {
            note_unpriced(b->w, e, e->detail_len ? err.msg : "no usage recorded");
            *unpriced = true;
        } else {
            tokens = token_part(&then);
            tokens_known = true;
        }
    }
    if (!*moved && tokens_known && (o->at || o->cache_read_bp || o->trim_input_bp)) {
        ic_cost base;
        if (reprice(b, e, NULL, false, &base) && reprice(b, e, NULL, true, &now)) {
            if (base.total != e->cost)
                b->w->catalog_differs++;
            cost = e->cost + (now.total - base.total);
            tokens += token_part(&now) - token_part(&base);
        } else {
            *unpriced = true;
        }
    }
    if (o->batch && !e->batch && tokens_known) {
        const char *pid = m ? ic_provider_id(ic_model_provider(m)) : e->provider;
        uint32_t bp = o->batch_bp ? o->batch_bp : ic_whatif_batch_discount_bp(pid);
        if (bp) {
            cost -= ic_money_div_round(tokens * (ic_money)bp, 10000);
            *batched = true;
        } else {
            b->w->no_batch_price++;
        }
    }
    return cost;
}

static int on_event(const ic_event *e, void *arg)
{
    wb *b = arg;
    const ic_whatif_opts *o = b->o;
    const char *served = ic_event_rollup_model(e);
    bool in = applies(o, e);
    bool hit = o->response_cache_ms > 0 && response_hit(b, e);
    if (b->oom)
        return 1;
    b->w->total.period_cost += e->cost;
    for (int i = 0; i < o->nswaps; i++)
        b->w->swap_seen[i] += !strcmp(o->swaps[i].from, "*") ||
                              !strcmp(o->swaps[i].from, served ? served : "");
    if (!in && o->by != IC_DIM_CUSTOMER)
        return 0; /* in no row: only the period's total counts it */
    char month[8];
    const char *key;
    switch (o->by) {
    case IC_DIM_PROVIDER: key = e->provider; break;
    case IC_DIM_MODEL: key = served; break;
    case IC_DIM_CUSTOMER: key = e->customer; break;
    case IC_DIM_FEATURE: key = e->feature; break;
    default: {
        int64_t y;
        unsigned mo, d;
        ic_civil_from_days(ic_time_day(e->t_ms), &y, &mo, &d);
        snprintf(month, sizeof month, "%04d-%02u", (int)y, mo);
        key = month;
    }
    }
    ic_whatif_row *r = row_of(b, key ? key : "");
    if (!r) {
        b->oom = true;
        return 1;
    }
    r->period_cost += e->cost;
    if (!in)
        return 0;
    bool moved, batched, unpriced;
    ic_money after = scenario_cost(b, e, hit, &moved, &batched, &unpriced);
    if (o->response_cache_ms > 0 && !e->cache_hit && (!e->request_hash || !e->request_hash[0]))
        b->w->unhashed++;
    r->requests++;
    r->cached += hit;
    r->moved += moved;
    r->batched += batched;
    r->unpriced += unpriced;
    r->before += e->cost;
    r->after += after;
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const ic_whatif_row *x = a, *y = b;
    ic_money sx = x->before - x->after, sy = y->before - y->after;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    if (x->before != y->before)
        return x->before > y->before ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int cmp_month_rows(const void *a, const void *b)
{
    return strcmp(((const ic_whatif_row *)a)->key, ((const ic_whatif_row *)b)->key);
}

ic_status ic_whatif_build(ic_ledger *l, const ic_whatif_opts *o, ic_whatif **out, ic_error *err)
{
    *out = NULL;
    if (!o->catalog)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: no catalog");
    if (o->nswaps < 0 || o->nswaps > IC_WHATIF_MAX_SWAPS)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: at most %d model swaps",
                            IC_WHATIF_MAX_SWAPS);
    for (int i = 0; i < o->nswaps; i++)
        if (!o->swaps[i].from || !o->swaps[i].to)
            return ic_error_set(err, IC_ERR_INVALID, "what-if: a swap needs both models");
    if (o->share_bp > 10000 || o->batch_bp >= 10000 || o->cache_read_bp > 10000 ||
        o->trim_input_bp > 10000)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: a share or discount above 100%%");
    if (o->response_cache_ms < 0)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: a negative response cache lifetime");
    if (o->by != IC_DIM_PROVIDER && o->by != IC_DIM_MODEL && o->by != IC_DIM_CUSTOMER &&
        o->by != IC_DIM_FEATURE && o->by != IC_DIM_MONTH)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: group by provider, model, customer, "
                            "feature or month");
    if (o->unroute && (o->nswaps || o->batch || o->at || o->cache_read_bp || o->trim_input_bp ||
                       o->response_cache_ms))
        return ic_error_set(err, IC_ERR_INVALID, "what-if: unroute is a scenario of its own (what "
                            "routing saved, at the calls' own prices)");
    if (!o->nswaps && !o->batch && !o->at && !o->cache_read_bp && !o->trim_input_bp &&
        !o->response_cache_ms && !o->unroute)
        return ic_error_set(err, IC_ERR_INVALID, "what-if: no scenario (a model swap, the batch "
                            "discount, more cache reads, the response cache, another date's "
                            "prices or the calls unrouted)");
    ic_whatif *w = calloc(1, sizeof *w);
    if (!w)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    w->opts = *o;
    wb b = {.w = w, .o = &w->opts};
    ic_ledger_filter period = {.from_ms = o->filter.from_ms, .to_ms = o->filter.to_ms};
    ic_status st = IC_OK;
    if (o->share_smallest && o->share_bp && o->share_bp < 10000) {
        st = ic_ledger_scan_events(l, &period, on_event_size, &b, err);
        for (int i = 0; st == IC_OK && i < o->nswaps; i++) {
            keyvec *kv = &b.sizes[i];
            if (kv->n > 1)
                qsort(kv->v, kv->n, sizeof *kv->v, cmp_key);
            size_t k = (size_t)((uint64_t)kv->n * o->share_bp / 10000);
            /* k < n unless n is 0 (no call: nothing to move, and a call committed by a
             * concurrent ingest between the two scans does not move either) */
            b.cutoff[i] = k < kv->n ? kv->v[k] : (sizekey){0, 0};
        }
    }
    if (st == IC_OK && !b.oom)
        st = ic_ledger_scan_events(l, &period, on_event, &b, err);
    for (int i = 0; i < IC_WHATIF_MAX_SWAPS; i++)
        free(b.sizes[i].v);
    if (st == IC_OK && b.oom)
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    ic_margin *m = NULL;
    if (st == IC_OK)
        st = ic__margin_revenue(l, &period, &m, err);
    ic_smap revenue = {0}; /* by customer: customer -> the margin's row */
    for (size_t c = 0; st == IC_OK && o->by == IC_DIM_CUSTOMER && c < m->nrows; c++) {
        bool fresh;
        if (ic__smap_get(&revenue, m->rows[c].customer, c, &fresh) == SIZE_MAX)
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    if (st == IC_OK) {
        for (size_t i = 0; i < w->nrows; i++) {
            ic_whatif_row *r = &w->rows[i];
            w->total.requests += r->requests;
            w->total.moved += r->moved;
            w->total.cached += r->cached;
            w->total.batched += r->batched;
            w->total.unpriced += r->unpriced;
            w->total.before += r->before;
            w->total.after += r->after;
            if (o->by != IC_DIM_CUSTOMER)
                continue;
            size_t c = ic__smap_find(&revenue, r->key);
            if (c != SIZE_MAX) {
                r->revenue = m->rows[c].revenue;
                r->has_revenue = m->rows[c].has_revenue;
            }
        }
        size_t kept = 0; /* rows with no call the scenario applies to (by customer, with a
                            filter) are left out: the period's total still counts them */
        for (size_t i = 0; i < w->nrows; i++) {
            if (w->rows[i].requests)
                w->rows[kept++] = w->rows[i];
            else
                free(w->rows[i].key);
        }
        w->nrows = kept;
        w->total.revenue = m->total.revenue;
        w->total.has_revenue = m->total.has_revenue;
        if (w->nrows > 1)
            qsort(w->rows, w->nrows, sizeof *w->rows,
                  o->by == IC_DIM_MONTH ? cmp_month_rows : cmp_rows);
    }
    ic_margin_free(m);
    ic__smap_free(&revenue);
    ic__smap_free(&b.groups);
    ic__smap_free(&b.rcache);
    free(b.entries);
    if (st != IC_OK) {
        ic_whatif_free(w);
        return st;
    }
    *out = w;
    return IC_OK;
}

void ic_whatif_free(ic_whatif *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nrows; i++)
        free(w->rows[i].key);
    free(w->rows);
    free(w);
}

/* ---- writing ---- */

/* "12.34" (percent, two decimals, half-even) of part in whole; "-" when whole is 0 */
static void pct_text(char *buf, size_t cap, ic_money part, ic_money whole)
{
    if (whole <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    ic__share_text(buf, cap, part, whole);
}

/* a lifetime in the largest whole unit: "7d", "1h", "90m", "45s" */
static void span_text(int64_t ms, char *buf, size_t cap)
{
    static const struct {
        int64_t ms;
        char u;
    } units[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            snprintf(buf, cap, "%lld%c", (long long)(ms / units[i].ms), units[i].u);
            return;
        }
    if (ms % 1000 == 0)
        snprintf(buf, cap, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, cap, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
}

static void scenario_text(const ic_whatif_opts *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    if (o->unroute)
        n += (size_t)snprintf(buf, cap, "each call the router moved on the model it was asked for "
                              "(same tokens)");
    for (int i = 0; i < o->nswaps && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s -> %s:%s", i ? ", " : "",
                              !strcmp(o->swaps[i].from, "*") ? "every model" : o->swaps[i].from,
                              ic_provider_id(ic_model_provider(o->swaps[i].to)),
                              ic_model_id(o->swaps[i].to));
    if (o->nswaps && o->share_bp && o->share_bp < 10000 && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " for %u.%02u%% of the calls (%s)",
                              o->share_bp / 100, o->share_bp % 100,
                              o->share_smallest ? "those with the fewest input tokens"
                                                : "chosen by event id");
    if (o->batch && n < cap) {
        if (o->batch_bp)
            n += (size_t)snprintf(buf + n, cap - n, "%sbatch API at %u.%02u%% off", n ? "; " : "",
                                  o->batch_bp / 100, o->batch_bp % 100);
        else
            n += (size_t)snprintf(buf + n, cap - n, "%sbatch API at each provider's discount",
                                  n ? "; " : "");
    }
    if (o->trim_input_bp && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%sprompts %u.%02u%% shorter (uncached input)",
                              n ? "; " : "", o->trim_input_bp / 100, o->trim_input_bp % 100);
    if (o->cache_read_bp && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%sat least %u.%02u%% of input read from the prompt "
                              "cache", n ? "; " : "", o->cache_read_bp / 100,
                              o->cache_read_bp % 100);
    if (o->response_cache_ms > 0 && n < cap) {
        char d[32];
        span_text(o->response_cache_ms, d, sizeof d);
        n += (size_t)snprintf(buf + n, cap - n, "%sthe gateway's response cache on, entries kept %s",
                              n ? "; " : "", d);
    }
    if (o->at && n < cap) {
        char d[32];
        ic_time_format(o->at_ms, d, sizeof d);
        n += (size_t)snprintf(buf + n, cap - n, "%sthe prices of %.10s (at each call's time of day)",
                              n ? "; " : "", d);
    }
}

static void json_money(FILE *f, const char *name, ic_money m)
{
    char a[IC_MONEY_STRLEN];
    fprintf(f, ",\"%s\":\"%s\"", name, ic_money_format(m, a, sizeof a));
}

static void json_pct(FILE *f, const char *name, ic_money part, ic_money whole)
{
    char s[32];
    pct_text(s, sizeof s, part, whole);
    if (s[0] == '-' && !s[1])
        fprintf(f, ",\"%s\":null", name);
    else
        fprintf(f, ",\"%s\":\"%s\"", name, s);
}

static void json_row(FILE *f, const ic_whatif *w, const ic_whatif_row *r)
{
    bool cust = w->opts.by == IC_DIM_CUSTOMER;
    fputc('{', f);
    if (r->key) {
        fputs("\"key\":", f);
        (void)ic_json_fputs(r->key, f);
        fputc(',', f);
    }
    fprintf(f, "\"calls\":%llu,\"moved\":%llu,\"batched\":%llu", (unsigned long long)r->requests,
            (unsigned long long)r->moved, (unsigned long long)r->batched);
    if (w->opts.response_cache_ms > 0)
        fprintf(f, ",\"cached\":%llu", (unsigned long long)r->cached);
    fprintf(f, ",\"unpriced\":%llu", (unsigned long long)r->unpriced);
    json_money(f, "cost_usd", r->before);
    json_money(f, "whatif_usd", r->after);
    json_money(f, "saving_usd", r->before - r->after);
    json_pct(f, "saving_pct", r->before - r->after, r->before);
    if ((cust || !r->key) && r->has_revenue) {
        json_money(f, "revenue_usd", r->revenue);
        json_pct(f, "cost_share_pct", r->period_cost, r->revenue);
        json_pct(f, "whatif_cost_share_pct", r->period_cost - (r->before - r->after), r->revenue);
    }
}

ic_status ic_whatif_write(const ic_whatif *w, ic_report_format fmt, FILE *f, ic_error *err)
{
    char sc[IC_WHATIF_MAX_SWAPS * 640 + 256], a[IC_MONEY_STRLEN];
    scenario_text(&w->opts, sc, sizeof sc);
    bool cust = w->opts.by == IC_DIM_CUSTOMER, rcache = w->opts.response_cache_ms > 0;
    const ic_whatif_row *t = &w->total;
    if (fmt == IC_FMT_JSON) {
        fputs("{\"scenario\":", f);
        (void)ic_json_fputs(sc, f);
        fprintf(f, ",\"by\":\"%s\",\"rows\":[", ic_dim_name(w->opts.by));
        for (size_t i = 0; i < w->nrows; i++) {
            if (i)
                fputc(',', f);
            json_row(f, w, &w->rows[i]);
            fputc('}', f);
        }
        fputs("],\"total\":", f);
        json_row(f, w, t);
        json_money(f, "period_cost_usd", t->period_cost);
        json_money(f, "period_whatif_usd", t->period_cost - (t->before - t->after));
        fprintf(f, ",\"no_batch_discount\":%llu,\"catalog_differs\":%llu,",
                (unsigned long long)w->no_batch_price, (unsigned long long)w->catalog_differs);
        if (w->opts.response_cache_ms > 0)
            fprintf(f, "\"no_request_hash\":%llu,", (unsigned long long)w->unhashed);
        if (w->opts.unroute)
            fprintf(f, "\"by_fallback\":%llu,", (unsigned long long)w->by_fallback);
        fputs("\"first_unpriced\":", f);
        if (w->first_unpriced[0])
            (void)ic_json_fputs(w->first_unpriced, f);
        else
            fputs("null", f);
        fputs("}}\n", f);
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    ic__trow *rows = calloc(w->nrows + 1, sizeof *rows);
    if (!rows)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i <= w->nrows; i++) {
        const ic_whatif_row *r = i < w->nrows ? &w->rows[i] : t;
        if (i == w->nrows && fmt == IC_FMT_CSV)
            break;
        ic__trow *c = &rows[n++];
        int k = 0;
        snprintf(c->c[k++], IC__CELL, "%s", r->key ? (r->key[0] ? r->key : "(none)") : "TOTAL");
        snprintf(c->c[k++], IC__CELL, "%llu", (unsigned long long)r->requests);
        snprintf(c->c[k++], IC__CELL, "%llu", (unsigned long long)r->moved);
        snprintf(c->c[k++], IC__CELL, "%llu", (unsigned long long)r->batched);
        if (rcache)
            snprintf(c->c[k++], IC__CELL, "%llu", (unsigned long long)r->cached);
        snprintf(c->c[k++], IC__CELL, "%llu", (unsigned long long)r->unpriced);
        snprintf(c->c[k++], IC__CELL, "%s", ic_money_format(r->before, a, sizeof a));
        snprintf(c->c[k++], IC__CELL, "%s", ic_money_format(r->after, a, sizeof a));
        snprintf(c->c[k++], IC__CELL, "%s", ic_money_format(r->before - r->after, a, sizeof a));
        pct_text(c->c[k++], IC__CELL, r->before - r->after, r->before);
        if (cust) {
            snprintf(c->c[k++], IC__CELL, "%s",
                     r->has_revenue ? ic_money_format(r->revenue, a, sizeof a) : "-");
            ic__share_text(c->c[k++], IC__CELL, r->period_cost, r->revenue);
            ic__share_text(c->c[k++], IC__CELL, r->period_cost - (r->before - r->after),
                           r->revenue);
        }
    }
    const char *head[13] = {ic_dim_name(w->opts.by), "calls", "moved", "batched"};
    int nh = 4;
    if (rcache)
        head[nh++] = "cached";
    const char *rest[] = {"unpriced", "cost_usd", "whatif_usd", "saving_usd", "saving_%",
                          "revenue_usd", "cost_%", "whatif_cost_%"};
    for (int i = 0; i < (cust ? 8 : 5); i++)
        head[nh++] = rest[i];
    bool num[13];
    for (int i = 0; i < nh; i++)
        num[i] = i > 0;
    if (fmt == IC_FMT_MD)
        fprintf(f, "### What if: %s\n\n", sc);
    else if (fmt == IC_FMT_TABLE)
        fprintf(f, "what if: %s\n", sc);
    ic__table_emit(f, fmt, head, nh, rows, n, num);
    free(rows);
    if (fmt != IC_FMT_CSV) {
        char b[IC_MONEY_STRLEN], s1[32], s2[32];
        ic_money after = t->period_cost - (t->before - t->after);
        fprintf(f, "%sthe period: $%s -> $%s", fmt == IC_FMT_MD ? "\n" : "\n",
                ic_money_format(t->period_cost, a, sizeof a), ic_money_format(after, b, sizeof b));
        if (t->has_revenue) {
            ic__share_text(s1, sizeof s1, t->period_cost, t->revenue);
            ic__share_text(s2, sizeof s2, after, t->revenue);
            fprintf(f, ", cost share of revenue %s%% -> %s%%", s1, s2);
        }
        fputs("\n", f);
        if (w->opts.unroute) {
            ic_money d = t->after - t->before;
            const char *calls = t->moved == 1 ? "call" : "calls";
            if (!t->moved)
                fputs("none of the calls selected was routed to another model that the catalog "
                      "prices\n", f);
            else if (d >= 0)
                fprintf(f, "routing saved $%s: the %llu %s it moved would have cost that much "
                           "more on the models asked for\n",
                        ic_money_format(d, a, sizeof a), (unsigned long long)t->moved, calls);
            else
                fprintf(f, "routing cost $%s more than the models asked for would have, on the "
                           "%llu %s it moved\n",
                        ic_money_format(-d, a, sizeof a), (unsigned long long)t->moved, calls);
            if (w->by_fallback)
                fprintf(f, "%llu %s answered by a fallback (the target chosen first failed): not "
                           "a routing decision, left as %s\n",
                        (unsigned long long)w->by_fallback,
                        w->by_fallback == 1 ? "call was" : "calls were",
                        w->by_fallback == 1 ? "it is" : "they are");
        }
        if (w->no_batch_price)
            fprintf(f, "%llu calls left at full price: their provider publishes no batch discount "
                       "(give one with --batch-discount)\n",
                    (unsigned long long)w->no_batch_price);
        if (w->catalog_differs)
            fprintf(f, "%llu calls: today's catalog prices their recorded usage otherwise than the "
                       "ledger recorded (a newer feed, or an overlay not given): the scenario's "
                       "change is applied to their recorded cost\n",
                    (unsigned long long)w->catalog_differs);
        if (w->unhashed)
            fprintf(f, "%llu calls carry no request hash (streamed, not deterministic, or not "
                       "through the gateway): no response cache would answer them\n",
                    (unsigned long long)w->unhashed);
        if (t->unpriced)
            fprintf(f, "%llu %s at %s recorded cost: the scenario could not price %s (first: %s)\n",
                    (unsigned long long)t->unpriced, t->unpriced == 1 ? "call kept" : "calls kept",
                    t->unpriced == 1 ? "its" : "their", t->unpriced == 1 ? "it" : "them",
                    w->first_unpriced);
    }
    return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
}
