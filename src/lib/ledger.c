/* ledger.c: the backend-agnostic half of the ledger (ledger.h). It picks a backend from the
 * target name, runs each appended batch as one transaction, and accumulates the batch's rollup
 * deltas in a small hash table (only for events the backend actually inserted) so the daily
 * rollups commit together with the events. It never prices and never prints. */
#include "infercost/ledger.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

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
