/* budget.c: the in-memory budget and rate-limit store (budget.h). Per key: spend and in-flight
 * holds for the current UTC day and month (a period change resets the settled spend, holds carry
 * over), and a one-minute window of requests and tokens; beside them, when the budgets are shared,
 * the other gateways' sums as the budget store's thread last read them (budget_pg.c), counted in
 * while their periods are the current ones. The event loop reserves and settles; the budget
 * store's thread takes what changed and puts the others' sums in; a mutex keeps them apart. */
#include "budget.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/timeutil.h"

typedef struct kstate {
    char *id;
    int64_t day, month;        /* period numbers: days since epoch, y*12+m */
    ic_money day_spent, month_spent, held;
    int64_t minute;            /* minute number of the window */
    uint32_t req;
    uint64_t tok, tok_held;
    bool queued;               /* on the list of keys gw_budget_memory_changed takes next */
    struct kstate *qnext;
    struct kstate *next;
} kstate;

/* the other gateways' sums, by key: built by the budget store's thread outside the lock and
 * swapped in whole (open addressing, at most half full) */
typedef struct others {
    size_t mask;
    gw_budget_row *slot; /* key_id NULL: empty */
} others;

typedef struct mem {
    pthread_mutex_t mu;
    kstate **b;                /* chained, grown to keep about one key a bucket */
    size_t nb, n;
    kstate *changed;           /* changed since the last gw_budget_memory_changed, or holding */
    others *o;                 /* NULL: none */
} mem;

/* k onto the list of keys to write next (a shared store's: budget_pg.c) */
static void mark(mem *m, kstate *k)
{
    if (!k->queued) {
        k->queued = true;
        k->qnext = m->changed;
        m->changed = k;
    }
}

static uint64_t hs(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static void periods(int64_t now_ms, int64_t *day, int64_t *month)
{
    int64_t d = now_ms >= 0 ? now_ms / 86400000 : -((-now_ms + 86399999) / 86400000);
    int64_t y;
    unsigned m, dd;
    ic_civil_from_days(d, &y, &m, &dd);
    *day = d;
    *month = y * 12 + (int64_t)m;
}

void gw_budget_periods(int64_t now_ms, int64_t *day, int64_t *month, int64_t *minute)
{
    periods(now_ms, day, month);
    *minute = now_ms / 60000;
}

static void grow(mem *s)
{
    size_t nb = s->nb ? s->nb * 2 : 256;
    kstate **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still right */
    for (size_t i = 0; i < s->nb; i++)
        for (kstate *k = s->b[i], *n; k; k = n) {
            n = k->next;
            size_t h = hs(k->id) & (nb - 1);
            k->next = b[h];
            b[h] = k;
        }
    free(s->b);
    s->b = b;
    s->nb = nb;
}

static kstate *get(mem *s, const char *id, int64_t now_ms)
{
    if (s->n >= s->nb)
        grow(s);
    if (!s->nb)
        return NULL;
    size_t h = hs(id) & (s->nb - 1);
    kstate *k;
    for (k = s->b[h]; k; k = k->next)
        if (!strcmp(k->id, id))
            break;
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k || !(k->id = strdup(id))) {
            free(k);
            return NULL;
        }
        k->next = s->b[h];
        s->b[h] = k;
        s->n++;
    }
    int64_t d, m;
    periods(now_ms, &d, &m);
    if (k->day != d) {
        k->day = d;
        k->day_spent = 0;
    }
    if (k->month != m) {
        k->month = m;
        k->month_spent = 0;
    }
    int64_t minute = now_ms / 60000;
    if (k->minute != minute) {
        k->minute = minute;
        k->req = 0;
        k->tok = 0;
    }
    return k;
}

static const gw_budget_row *others_find(const others *o, const char *id)
{
    if (!o)
        return NULL;
    for (size_t i = hs(id) & o->mask; o->slot[i].key_id; i = (i + 1) & o->mask)
        if (!strcmp(o->slot[i].key_id, id))
            return &o->slot[i];
    return NULL;
}

static void others_free(others *o)
{
    if (!o)
        return;
    for (size_t i = 0; i <= o->mask; i++)
        free(o->slot[i].key_id);
    free(o->slot);
    free(o);
}

/* the other gateways' part (o, NULL: none) of k's counters in k's (current) periods */
static ic_money o_day(const kstate *k, const gw_budget_row *o)
{
    return o && o->day == k->day ? o->day_spent : 0;
}
static ic_money o_month(const kstate *k, const gw_budget_row *o)
{
    return o && o->month == k->month ? o->month_spent : 0;
}
static uint64_t o_req(const kstate *k, const gw_budget_row *o)
{
    return o && o->minute == k->minute ? o->requests : 0;
}
static uint64_t o_tok(const kstate *k, const gw_budget_row *o)
{
    return o && o->minute == k->minute ? o->tokens : 0;
}

/* What key k (NULL: never seen) has used in the periods of now, the other gateways' sums o
 * (NULL: none) included: what a reserve checks, and what /metrics shows. A period of k's that is
 * not now's counts nothing. */
static void usage_of(const kstate *k, const gw_budget_row *o, const kstate *now, gw_key_usage *u)
{
    bool day = k && k->day == now->day, month = k && k->month == now->month,
         minute = k && k->minute == now->minute;
    u->day_spent = (day ? k->day_spent : 0) + o_day(now, o);
    u->month_spent = (month ? k->month_spent : 0) + o_month(now, o);
    u->held = (k ? k->held : 0) + (o ? o->held : 0);
    u->requests = (minute ? k->req : 0) + o_req(now, o);
    u->tokens = (minute ? k->tok : 0) + (k ? k->tok_held : 0) + o_tok(now, o);
}

static bool reserve_locked(mem *m, const char *key_id, const gw_limits *lim, ic_money worst,
                           uint64_t tokens, int64_t now_ms, char *why, size_t whycap)
{
    kstate *k = get(m, key_id, now_ms);
    char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN], c[IC_MONEY_STRLEN], d[IC_MONEY_STRLEN];
    if (!k) {
        snprintf(why, whycap, "out of memory");
        return false;
    }
    gw_key_usage u; /* get() has put k in the current periods */
    usage_of(k, others_find(m->o, key_id), k, &u);
    if (lim->rpm && u.requests + 1 > lim->rpm) {
        snprintf(why, whycap, "rate limit: %u requests per minute reached for key '%s'", lim->rpm,
                 key_id);
        return false;
    }
    if (lim->tpm && u.tokens >= lim->tpm) {
        snprintf(why, whycap, "rate limit: %llu tokens per minute reached for key '%s'",
                 (unsigned long long)lim->tpm, key_id);
        return false;
    }
    if (lim->has_day && u.day_spent + u.held + worst > lim->day) {
        snprintf(why, whycap,
                 "budget: key '%s' has spent $%s of its $%s daily budget (plus $%s in flight); "
                 "this call could cost up to $%s",
                 key_id, ic_money_format(u.day_spent, a, sizeof a),
                 ic_money_format(lim->day, b, sizeof b), ic_money_format(u.held, c, sizeof c),
                 ic_money_format(worst, d, sizeof d));
        return false;
    }
    if (lim->has_month && u.month_spent + u.held + worst > lim->month) {
        snprintf(why, whycap,
                 "budget: key '%s' has spent $%s of its $%s monthly budget (plus $%s in flight); "
                 "this call could cost up to $%s",
                 key_id, ic_money_format(u.month_spent, a, sizeof a),
                 ic_money_format(lim->month, b, sizeof b), ic_money_format(u.held, c, sizeof c),
                 ic_money_format(worst, d, sizeof d));
        return false;
    }
    k->held += worst;
    k->req++;
    k->tok_held += tokens;
    mark(m, k);
    return true;
}

static bool mem_reserve(void *store, const char *key_id, const gw_limits *lim, ic_money worst,
                        uint64_t tokens, int64_t now_ms, char *why, size_t whycap)
{
    mem *m = store;
    pthread_mutex_lock(&m->mu);
    bool ok = reserve_locked(m, key_id, lim, worst, tokens, now_ms, why, whycap);
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static void mem_settle(void *store, const char *key_id, ic_money reserved,
                       uint64_t tokens_reserved, ic_money actual, uint64_t tokens, int64_t now_ms)
{
    mem *m = store;
    pthread_mutex_lock(&m->mu);
    kstate *k = get(m, key_id, now_ms);
    if (!k) {
        pthread_mutex_unlock(&m->mu);
        return;
    }
    k->held -= reserved;
    if (k->held < 0)
        k->held = 0;
    k->day_spent += actual;
    k->month_spent += actual;
    k->tok += tokens;
    k->tok_held = k->tok_held > tokens_reserved ? k->tok_held - tokens_reserved : 0;
    mark(m, k);
    pthread_mutex_unlock(&m->mu);
}

/* Read-only (a /metrics scrape must not add keys to the store, which a shared store would then
 * write): a key never seen, or seen in an earlier period, counts nothing here for that period. */
static void mem_usage(void *store, const char *key_id, int64_t now_ms, gw_key_usage *out)
{
    mem *m = store;
    kstate now = {0}, *k = NULL;
    periods(now_ms, &now.day, &now.month);
    now.minute = now_ms / 60000;
    pthread_mutex_lock(&m->mu);
    for (k = m->nb ? m->b[hs(key_id) & (m->nb - 1)] : NULL; k && strcmp(k->id, key_id); k = k->next)
        ;
    usage_of(k, others_find(m->o, key_id), &now, out);
    pthread_mutex_unlock(&m->mu);
}

static void mem_free(void *store)
{
    mem *s = store;
    for (size_t i = 0; i < s->nb; i++)
        for (kstate *k = s->b[i], *n; k; k = n) {
            n = k->next;
            free(k->id);
            free(k);
        }
    free(s->b);
    others_free(s->o);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void *gw_budget_memory_new(void)
{
    mem *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->mu, NULL);
    return m;
}

void gw_budget_rows_free(gw_budget_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        free(rows[i].key_id);
    free(rows);
}

/* one row of k's counters into rows[*n], grown as needed; false when out of memory */
static bool take(gw_budget_row **rows, size_t *n, size_t *cap, const kstate *k)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        gw_budget_row *r = realloc(*rows, nc * sizeof *r);
        if (!r)
            return false;
        *rows = r;
        *cap = nc;
    }
    gw_budget_row *r = &(*rows)[*n];
    if (!(r->key_id = strdup(k->id)))
        return false;
    r->day = k->day;
    r->month = k->month;
    r->minute = k->minute;
    r->day_spent = k->day_spent;
    r->month_spent = k->month_spent;
    r->held = k->held;
    r->requests = k->req;
    r->tokens = k->tok + k->tok_held;
    (*n)++;
    return true;
}

/* The list, not a scan of every key: the lock is held for the keys that changed only. */
long gw_budget_memory_changed(void *store, bool all, gw_budget_row **out)
{
    mem *m = store;
    size_t n = 0, cap = 0;
    gw_budget_row *rows = NULL;
    bool ok = true;
    pthread_mutex_lock(&m->mu);
    if (all) {
        for (size_t i = 0; ok && i < m->nb; i++)
            for (kstate *k = m->b[i]; ok && k; k = k->next)
                ok = take(&rows, &n, &cap, k);
    } else {
        for (kstate *k = m->changed; ok && k; k = k->qnext)
            ok = take(&rows, &n, &cap, k);
    }
    if (ok) { /* taken: off the list, but for the keys still holding, sent again next time */
        kstate *k = m->changed;
        m->changed = NULL;
        while (k) {
            kstate *next = k->qnext;
            k->queued = false;
            if (k->held || k->tok_held)
                mark(m, k);
            k = next;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (!ok) { /* out of memory: the list stays for the next call */
        gw_budget_rows_free(rows, n);
        *out = NULL;
        return -1;
    }
    *out = rows;
    return (long)n;
}

void gw_budget_memory_set_others(void *store, const gw_budget_row *rows, size_t n)
{
    mem *m = store;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    others *o = calloc(1, sizeof *o);
    if (o && !(o->slot = calloc(cap, sizeof *o->slot))) {
        free(o);
        o = NULL;
    }
    if (!o)
        return; /* out of memory: the last sums stay */
    o->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t j = hs(rows[i].key_id) & o->mask;
        while (o->slot[j].key_id && strcmp(o->slot[j].key_id, rows[i].key_id))
            j = (j + 1) & o->mask;
        char *id = o->slot[j].key_id ? o->slot[j].key_id : strdup(rows[i].key_id);
        if (!id)
            continue;
        o->slot[j] = rows[i];
        o->slot[j].key_id = id;
    }
    pthread_mutex_lock(&m->mu); /* only the swap under the lock */
    others *old = m->o;
    m->o = o;
    pthread_mutex_unlock(&m->mu);
    others_free(old);
}

void gw_budget_memory_restore(void *store, const gw_budget_row *row, int64_t now_ms)
{
    mem *m = store;
    pthread_mutex_lock(&m->mu);
    kstate *k = get(m, row->key_id, now_ms);
    if (k && row->day == k->day && row->day_spent > k->day_spent)
        k->day_spent = row->day_spent;
    if (k && row->month == k->month && row->month_spent > k->month_spent)
        k->month_spent = row->month_spent;
    if (k)
        mark(m, k);
    pthread_mutex_unlock(&m->mu);
}

const gw_budget_ops gw_budget_memory_ops = {mem_reserve, mem_settle, mem_usage, mem_free};
