/* ledger.c: the backend-agnostic half of the ledger (ledger.h). It picks a backend from the
 * target name and runs each appended batch as one transaction, with the batch's rollup deltas
 * (only for events the backend actually inserted) so the daily rollups commit together with the
 * events. It builds ic_ledger_batch (layout in ledger_internal.h): on the producer's thread each
 * event's row body is packed and its names numbered in the batch's own table; sealing it (on
 * either thread) orders it by (time, id) and sums its rollup deltas per key. ic_ledger_append goes through a batch too; a backend without insert_batch gets the
 * old event-by-event path. Also the varints and the event detail format. It never prices and
 * never prints. */
#include "infercost/ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "infercost/timeutil.h"
#include "infercost/units.h"
#include "ledger_internal.h"

struct ic_ledger {
    const ic_ledger_ops *ops;
    void *st;
};

/* varint writers inlined into the packers (defined with the varints below) */
static inline void put_u64(ic__wbuf *w, uint64_t v);
static inline void put_money(ic__wbuf *w, ic_money v);

const char *ic_event_rollup_model(const ic_event *e)
{
    if (e->model_served && e->model_served[0])
        return e->model_served;
    return e->model ? e->model : "";
}

bool ic__status_is_error(const char *s)
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

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s[0..n) percent-decoded into out (cap > n); malformed escapes kept as they are */
static void pct_decode(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = 0;
}

void ic_ledger_target_display(const char *target, char *out, size_t cap)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", target ? target : "");
    char *scheme = strstr(buf, "://");
    if (scheme) { /* "user:password@host" -> "user@host"; the last '@' before the parameters,
                   * so that an unencoded '/' or '@' in a password is cut too */
        char *host = scheme + 3, *at = NULL;
        for (char *p = host; *p && *p != '?' && *p != '#'; p++)
            if (*p == '@')
                at = p;
        if (at) {
            char *colon = memchr(host, ':', (size_t)(at - host));
            if (colon)
                memmove(colon, at, strlen(at) + 1);
        }
    }
    /* parameters whose name, percent-decoded, is "password" or "sslpassword" are dropped */
    char *q = strchr(buf, '?');
    if (q) {
        char kept[1024];
        size_t k = 0;
        for (char *p = q + 1; *p;) {
            size_t len = strcspn(p, "&");
            size_t nl = strcspn(p, "=");
            char name[1024];
            pct_decode(p, nl < len ? nl : len, name);
            if (strcmp(name, "password") && strcmp(name, "sslpassword")) {
                k += (size_t)snprintf(kept + k, sizeof kept - k, "%s%.*s", k ? "&" : "", (int)len, p);
                if (k >= sizeof kept)
                    k = sizeof kept - 1;
            }
            p += len + (p[len] == '&');
        }
        kept[k] = 0;
        snprintf(q, sizeof buf - (size_t)(q - buf), "%s%s", k ? "?" : "", kept);
    }
    snprintf(out, cap, "%s", buf);
}

bool ic_ledger_is_url(const char *target)
{
    return !strncmp(target, "postgres://", 11) || !strncmp(target, "postgresql://", 13);
}

ic_status ic_ledger_open(ic_ledger **out, const char *target, bool readonly, ic_error *err)
{
    *out = NULL;
    if (!target || !target[0])
        return ic_error_set(err, IC_ERR_INVALID, "no ledger path given");
    if (ic_ledger_is_url(target))
        return ic_ledger_open_with(out, &ic_ledger_pg_ops, target, readonly, err);
    if (!strncmp(target, "sqlite:", 7))
        target += 7;
    if (!target[0]) /* SQLite would open a temporary database, lost at close */
        return ic_error_set(err, IC_ERR_INVALID, "no ledger path given after sqlite:");
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

void ic__rollup_from_event(const ic_event *e, ic_rollup *r)
{
    memset(r, 0, sizeof *r);
    r->day = ic_time_day(e->t_ms);
    r->provider = nz(e->provider);
    r->model = ic_event_rollup_model(e);
    r->customer = nz(e->customer);
    r->feature = nz(e->feature);
    r->requests = 1;
    r->cache_hits = e->cache_hit;
    r->errors = ic__status_is_error(e->status);
    r->input_tokens = e->input_tokens;
    r->cache_read_tokens = e->cache_read_tokens;
    r->cache_write_tokens = e->cache_write_tokens;
    r->output_tokens = e->output_tokens;
    r->reasoning_tokens = e->reasoning_tokens;
    r->cost = e->cost;
    r->cost_input = e->cost_input;
    r->cost_output = e->cost_output;
    r->cache_saved = e->cache_saved;
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
    int64_t day = ic_time_day(e->t_ms);
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
    r->errors += ic__status_is_error(e->status);
    r->input_tokens += e->input_tokens;
    r->cache_read_tokens += e->cache_read_tokens;
    r->cache_write_tokens += e->cache_write_tokens;
    r->output_tokens += e->output_tokens;
    r->reasoning_tokens += e->reasoning_tokens;
    r->cost += e->cost;
    r->cost_input += e->cost_input;
    r->cost_output += e->cost_output;
    r->cache_saved += e->cache_saved;
    return IC_OK;
}

/* the old path, for a backend without insert_batch: event by event */
static ic_status append_each(ic_ledger *l, const ic_event *ev, size_t n, size_t *ninserted,
                             bool *dup_flags, ic_error *err)
{
    rtable t = {0};
    size_t added = 0;
    ic_status st = l->ops->begin(l->st, err);
    if (st != IC_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        bool ins = false;
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

static ic_status append_batch(ic_ledger *l, ic_ledger_batch *b, size_t *ninserted,
                              ic_money *cost, bool *dup_flags, ic_error *err);

/* what every appended event must be: an id, and a cost the rollups can sum (IC_EVENT_COST_MAX) */
static ic_status event_ok(const ic_event *e, ic_error *err)
{
    if (!e->id || !e->id[0])
        return ic_error_set(err, IC_ERR_INVALID, "event without an id");
    if (e->cost > IC_EVENT_COST_MAX || e->cost < -IC_EVENT_COST_MAX ||
        e->cache_saved > IC_EVENT_COST_MAX || e->cache_saved < -IC_EVENT_COST_MAX)
        return ic_error_set(err, IC_ERR_RANGE, "event %.100s: a cost beyond $1,000,000 for one "
                            "call", e->id);
    return IC_OK;
}

ic_status ic_ledger_append(ic_ledger *l, const ic_event *ev, size_t n, size_t *ninserted,
                           bool *dup_flags, ic_error *err)
{
    if (ninserted)
        *ninserted = 0;
    if (n == 0)
        return IC_OK;
    for (size_t i = 0; i < n; i++) { /* all or nothing: every event checked before any is written */
        ic_status bad = event_ok(&ev[i], err);
        if (bad != IC_OK)
            return bad;
    }
    if (!l->ops->insert_batch)
        return append_each(l, ev, n, ninserted, dup_flags, err);
    ic_ledger_batch *b = NULL;
    ic_status st = ic_ledger_batch_new(&b, err);
    for (size_t i = 0; i < n && st == IC_OK; i++)
        st = ic_ledger_batch_add(b, &ev[i], err);
    if (st == IC_OK)
        st = append_batch(l, b, ninserted, NULL, dup_flags, err);
    ic_ledger_batch_free(b);
    return st;
}

/* ---- batches (ledger_internal.h has the layout) ---- */

ic_status ic_ledger_batch_new(ic_ledger_batch **out, ic_error *err)
{
    ic_ledger_batch *b = calloc(1, sizeof *b);
    if (!b)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    *out = b;
    ic_ledger_batch_clear(b);
    return IC_OK;
}

void ic_ledger_batch_free(ic_ledger_batch *b)
{
    if (!b)
        return;
    free(b->ent);
    free(b->arena);
    free(b->name_off);
    free(b->nhash);
    free(b->slots);
    free(b->shash);
    free(b->order);
    free(b->dup);
    free(b);
}

void ic_ledger_batch_clear(ic_ledger_batch *b)
{
    b->n = 0;
    b->alen = 0;
    b->nnames = 0;
    b->nslots = 0;
    b->sealed = false;
    if (b->nhash)
        memset(b->nhash, 0, b->capnhash * sizeof *b->nhash);
    if (b->shash)
        memset(b->shash, 0, b->capshash * sizeof *b->shash);
    for (int i = 0; i < IC__NNAMES; i++)
        b->last[i] = 0;
}

size_t ic_ledger_batch_count(const ic_ledger_batch *b) { return b->n; }

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

/* len bytes (plus a NUL when text) at a fresh arena offset, after gap free bytes */
static bool arena_put(ic_ledger_batch *b, const void *s, size_t len, size_t gap, bool text,
                      size_t *off)
{
    size_t need = b->alen + gap + len + (text ? 1 : 0);
    if (!grow((void **)&b->arena, &b->acap, need, 1))
        return false;
    *off = b->alen + gap;
    memcpy(b->arena + *off, s, len);
    if (text)
        b->arena[*off + len] = 0;
    b->alen = need;
    return true;
}

static bool names_rehash(ic_ledger_batch *b, size_t ncap)
{
    uint32_t *nh = calloc(ncap, sizeof *nh);
    if (!nh)
        return false;
    for (size_t i = 1; i < b->nnames; i++) {
        const char *x = ic__bname(b, (uint32_t)i);
        size_t j = XXH3_64bits(x, strlen(x)) & (ncap - 1);
        while (nh[j])
            j = (j + 1) & (ncap - 1);
        nh[j] = (uint32_t)i + 1;
    }
    free(b->nhash);
    b->nhash = nh;
    b->capnhash = ncap;
    return true;
}

/* local index of a name (0 for absent or ""); UINT32_MAX when out of memory */
static uint32_t bname(ic_ledger_batch *b, int field, const char *s)
{
    if (!s || !s[0])
        return 0;
    uint32_t last = b->last[field];
    if (last && !strcmp(ic__bname(b, last), s))
        return last;
    if (b->nnames == 0) { /* name 0 is "" */
        size_t off;
        if (!grow((void **)&b->name_off, &b->capnames, 1, sizeof *b->name_off) ||
            !arena_put(b, "", 0, 0, true, &off))
            return UINT32_MAX;
        b->name_off[0] = off;
        b->nnames = 1;
    }
    if ((b->nnames + 1) * 2 > b->capnhash && !names_rehash(b, b->capnhash ? b->capnhash * 2 : 64))
        return UINT32_MAX;
    size_t len = strlen(s);
    size_t j = XXH3_64bits(s, len) & (b->capnhash - 1);
    while (b->nhash[j]) {
        uint32_t i = b->nhash[j] - 1;
        if (!strcmp(ic__bname(b, i), s))
            return b->last[field] = i;
        j = (j + 1) & (b->capnhash - 1);
    }
    size_t off;
    if (!grow((void **)&b->name_off, &b->capnames, b->nnames + 1, sizeof *b->name_off) ||
        !arena_put(b, s, len, 0, true, &off))
        return UINT32_MAX;
    uint32_t i = (uint32_t)b->nnames++;
    b->name_off[i] = off;
    b->nhash[j] = i + 1;
    return b->last[field] = i;
}

static uint64_t slot_hash(int64_t day, uint32_t p, uint32_t m, uint32_t c, uint32_t f)
{
    uint64_t k[3] = {(uint64_t)day, (uint64_t)p << 32 | m, (uint64_t)c << 32 | f};
    return XXH3_64bits(k, sizeof k);
}

static bool slots_rehash(ic_ledger_batch *b, size_t ncap)
{
    uint32_t *nh = calloc(ncap, sizeof *nh);
    if (!nh)
        return false;
    for (size_t i = 0; i < b->nslots; i++) {
        const ic__bslot *x = &b->slots[i];
        size_t j = slot_hash(x->day, x->p, x->m, x->c, x->f) & (ncap - 1);
        while (nh[j])
            j = (j + 1) & (ncap - 1);
        nh[j] = (uint32_t)i + 1;
    }
    free(b->shash);
    b->shash = nh;
    b->capshash = ncap;
    return true;
}

/* the rollup slot of a key; UINT32_MAX when out of memory */
static uint32_t bslot(ic_ledger_batch *b, uint32_t prev, int64_t day, uint32_t p, uint32_t m,
                      uint32_t c, uint32_t f)
{
    if (prev != UINT32_MAX) { /* consecutive events mostly share the key */
        const ic__bslot *x = &b->slots[prev];
        if (x->day == day && x->p == p && x->m == m && x->c == c && x->f == f)
            return prev;
    }
    if ((b->nslots + 1) * 2 > b->capshash && !slots_rehash(b, b->capshash ? b->capshash * 2 : 64))
        return UINT32_MAX;
    size_t j = slot_hash(day, p, m, c, f) & (b->capshash - 1);
    while (b->shash[j]) {
        uint32_t i = b->shash[j] - 1;
        const ic__bslot *x = &b->slots[i];
        if (x->day == day && x->p == p && x->m == m && x->c == c && x->f == f)
            return i;
        j = (j + 1) & (b->capshash - 1);
    }
    if (!grow((void **)&b->slots, &b->capslots, b->nslots + 1, sizeof *b->slots))
        return UINT32_MAX;
    uint32_t i = (uint32_t)b->nslots++;
    ic__bslot *x = &b->slots[i];
    memset(x, 0, sizeof *x);
    x->day = day;
    x->p = p;
    x->m = m;
    x->c = c;
    x->f = f;
    b->shash[j] = i + 1;
    return i;
}

ic_status ic_ledger_batch_add_src(ic_ledger_batch *b, const ic_event *e, const char *file,
                                  uint64_t line, ic_error *err)
{
    ic_status ok = event_ok(e, err);
    if (ok != IC_OK)
        return ok;
    if (b->n >= UINT32_MAX - 1 ||
        !grow((void **)&b->ent, &b->cap, b->n + 1, sizeof *b->ent))
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    ic__bent *x = &b->ent[b->n];
    size_t idl = strlen(e->id);
    if (idl > INT32_MAX)
        return ic_error_set(err, IC_ERR_RANGE, "event %.100s: id too long", e->id);
    /* the id, then the gap for the row header, then the row body packed in place (docs/ledger.md;
     * ledger_sqlite.c decodes it): everything after the names */
    enum { BODY_MAX = IC_EVENT_DETAIL_MAX + 2048 };
    if (!grow((void **)&b->arena, &b->acap, b->alen + idl + 1 + IC__ROW_GAP + BODY_MAX, 1))
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    x->id_len = (uint32_t)idl;
    x->id_off = b->alen;
    memcpy(b->arena + x->id_off, e->id, idl + 1);
    x->body_off = x->id_off + idl + 1 + IC__ROW_GAP;
    ic__wbuf w = {b->arena + x->body_off, 0, BODY_MAX, false};
    put_u64(&w, line);
    put_u64(&w, e->input_tokens);
    put_u64(&w, e->cache_read_tokens);
    put_u64(&w, e->cache_write_tokens);
    put_u64(&w, e->output_tokens);
    put_u64(&w, e->reasoning_tokens);
    put_money(&w, e->cost);
    put_money(&w, e->cost_input);
    put_money(&w, e->cost_output);
    ic__put_i64(&w, e->latency_ms);
    /* flag 4: the cache saving follows (rows written before schema version 3 never set it);
     * flag 8: served by a fallback target */
    put_u64(&w, (uint64_t)e->cache_hit | (uint64_t)e->batch << 1 |
                    (uint64_t)(e->cache_saved != 0) << 2 | (uint64_t)e->fallback << 3);
    if (e->cache_saved)
        put_money(&w, e->cache_saved);
    ic__put_bytes(&w, nz(e->task), strlen(nz(e->task)));
    ic__put_bytes(&w, nz(e->tags), strlen(nz(e->tags)));
    ic__put_bytes(&w, e->detail ? (const void *)e->detail : "", e->detail ? e->detail_len : 0);
    if (e->request_hash && e->request_hash[0]) /* optional tail: rows without it end here */
        ic__put_bytes(&w, e->request_hash, strlen(e->request_hash));
    if (w.overflow)
        return ic_error_set(err, IC_ERR_RANGE, "event %.100s: too large to store", e->id);
    b->alen = x->body_off + w.n;
    const char *nt[IC__NNAMES] = {e->provider, e->model,  e->model_served, e->api_flavor,
                                  e->customer, e->feature, e->key_id, e->status,
                                  e->routed_from, file};
    for (int i = 0; i < IC__NNAMES; i++)
        if ((x->name[i] = bname(b, i, nt[i])) == UINT32_MAX)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    x->t = e->t_ms;
    x->body_len = (uint32_t)w.n;
    x->error = ic__status_is_error(e->status);
    x->cache_hit = e->cache_hit;
    x->tok[0] = e->input_tokens;
    x->tok[1] = e->cache_read_tokens;
    x->tok[2] = e->cache_write_tokens;
    x->tok[3] = e->output_tokens;
    x->tok[4] = e->reasoning_tokens;
    x->cost = e->cost;
    x->cost_input = e->cost_input;
    x->cost_output = e->cost_output;
    x->cache_saved = e->cache_saved;
    x->slot = UINT32_MAX; /* summed by ic_ledger_batch_seal */
    b->n++;
    b->sealed = false;
    return IC_OK;
}

ic_status ic__insert_one(void *state,
                         ic_status (*insert_batch)(void *, ic_ledger_batch *, bool *, ic_error *),
                         const ic_event *e, bool *inserted, ic_error *err)
{
    ic_ledger_batch *b = NULL;
    ic_status st = ic_ledger_batch_new(&b, err);
    if (st == IC_OK)
        st = ic_ledger_batch_add(b, e, err);
    if (st == IC_OK)
        st = ic_ledger_batch_seal(b, err);
    bool dup = false;
    if (st == IC_OK)
        st = insert_batch(state, b, &dup, err);
    *inserted = st == IC_OK && !dup;
    ic_ledger_batch_free(b);
    return st;
}

ic_status ic_ledger_batch_add(ic_ledger_batch *b, const ic_event *e, ic_error *err)
{
    /* split "file:line" as the store keeps it: the file as a name, the line as a number */
    const char *src = nz(e->source), *colon = strrchr(src, ':');
    if (colon && colon[1]) {
        const char *d = colon + 1;
        uint64_t v = 0;
        bool ok = true;
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || v > (UINT64_MAX - 9) / 10) {
                ok = false;
                break;
            }
            v = v * 10 + (uint64_t)(*d - '0');
        }
        if (ok) {
            char f[1024];
            size_t n = (size_t)(colon - src) < sizeof f - 1 ? (size_t)(colon - src) : sizeof f - 1;
            memcpy(f, src, n);
            f[n] = 0;
            return ic_ledger_batch_add_src(b, e, f, v, err);
        }
    }
    return ic_ledger_batch_add_src(b, e, src, 0, err);
}

/* (time, entry) keys, sorted by an LSD radix sort on the time: stable, and byte positions where
 * every key agrees (most of them: a batch spans days, not decades) cost one counting pass.
 * It replaced qsort, a twelfth of the parser thread's time on the bench/ledger.sh workload
 * (logs grouped by task, so a fifth of the events step back in time). */
typedef struct tkey {
    uint64_t k; /* t with the sign bit flipped: unsigned order = signed order */
    uint32_t i;
} tkey;

static void radix_sort(tkey *a, tkey *tmp, size_t n)
{
    tkey *src = a, *dst = tmp;
    for (int sh = 0; sh < 64; sh += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[(src[i].k >> sh) & 255]++;
        if (cnt[(src[0].k >> sh) & 255] == n)
            continue;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(src[i].k >> sh) & 255]++] = src[i];
        tkey *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

static const ic_ledger_batch *cmp_batch; /* for cmp_tie; set under ties_mu */
static pthread_mutex_t ties_mu = PTHREAD_MUTEX_INITIALIZER;

static int cmp_tie(const void *x, const void *y)
{
    const tkey *p = x, *q = y;
    int c = strcmp(ic__bid(cmp_batch, &cmp_batch->ent[p->i]),
                   ic__bid(cmp_batch, &cmp_batch->ent[q->i])); /* unsigned bytes: SQLite's BINARY */
    if (c)
        return c;
    return p->i < q->i ? -1 : p->i > q->i; /* stable: the first of two equal events wins */
}

/* events of the same millisecond: by id (a run of more than a few goes to qsort) */
static void sort_ties(const ic_ledger_batch *b, tkey *a, size_t n)
{
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && a[e].k == a[s].k)
            e++;
        if (e - s > 16) {
            pthread_mutex_lock(&ties_mu);
            cmp_batch = b;
            qsort(a + s, e - s, sizeof *a, cmp_tie);
            pthread_mutex_unlock(&ties_mu);
        } else {
            for (size_t i = s + 1; i < e; i++) { /* insertion sort, stable */
                tkey v = a[i];
                const char *vid = ic__bid(b, &b->ent[v.i]);
                size_t j = i;
                while (j > s && strcmp(ic__bid(b, &b->ent[a[j - 1].i]), vid) > 0) {
                    a[j] = a[j - 1];
                    j--;
                }
                a[j] = v;
            }
        }
        s = e;
    }
}

/* the batch's rollup deltas, from scratch: one slot per (day, provider, model, customer,
 * feature), each entry pointing at its slot */
static ic_status batch_roll(ic_ledger_batch *b, ic_error *err)
{
    b->nslots = 0;
    if (b->shash)
        memset(b->shash, 0, b->capshash * sizeof *b->shash);
    uint32_t prev = UINT32_MAX;
    for (size_t i = 0; i < b->n; i++) {
        ic__bent *x = &b->ent[i];
        /* the rollup model: model_served when given, else model (ic_event_rollup_model) */
        uint32_t rm = x->name[2] ? x->name[2] : x->name[1];
        uint32_t si = bslot(b, prev, ic_time_day(x->t), x->name[0], rm, x->name[4],
                            x->name[5]);
        if (si == UINT32_MAX)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        x->slot = prev = si;
        ic__bslot *r = &b->slots[si];
        r->requests++;
        r->cache_hits += x->cache_hit;
        r->errors += x->error;
        for (int k = 0; k < 5; k++)
            r->tok[k] += x->tok[k];
        r->cost += x->cost;
        r->cost_input += x->cost_input;
        r->cost_output += x->cost_output;
        r->cache_saved += x->cache_saved;
    }
    return IC_OK;
}

ic_status ic_ledger_batch_seal(ic_ledger_batch *b, ic_error *err)
{
    if (b->sealed)
        return IC_OK;
    ic_status st = batch_roll(b, err);
    if (st != IC_OK)
        return st;
    /* order and dup are sized with the entries */
    uint32_t *o = realloc(b->order, (b->cap ? b->cap : 1) * sizeof *o);
    if (!o)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    b->order = o;
    bool *d = realloc(b->dup, (b->cap ? b->cap : 1) * sizeof *d);
    if (!d)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    b->dup = d;
    size_t n = b->n, i;
    for (i = 1; i < n; i++) { /* logs often come in time order already */
        const ic__bent *p = &b->ent[i - 1], *q = &b->ent[i];
        if (q->t < p->t || (q->t == p->t && strcmp(ic__bid(b, p), ic__bid(b, q)) > 0))
            break;
    }
    if (i >= n) {
        for (i = 0; i < n; i++)
            o[i] = (uint32_t)i;
    } else {
        tkey *k = malloc(2 * n * sizeof *k);
        if (!k)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        for (i = 0; i < n; i++) {
            k[i].k = (uint64_t)b->ent[i].t ^ (UINT64_C(1) << 63);
            k[i].i = (uint32_t)i;
        }
        radix_sort(k, k + n, n);
        sort_ties(b, k, n);
        for (i = 0; i < n; i++)
            o[i] = k[i].i;
        free(k);
    }
    b->sealed = true;
    return IC_OK;
}

static ic_status append_batch(ic_ledger *l, ic_ledger_batch *b, size_t *ninserted,
                              ic_money *cost, bool *dup_flags, ic_error *err)
{
    if (ninserted)
        *ninserted = 0;
    if (cost)
        *cost = 0;
    if (b->n == 0)
        return IC_OK;
    if (!l->ops->insert_batch)
        return ic_error_set(err, IC_ERR_INVALID, "the %s ledger backend cannot append batches",
                            l->ops->name);
    ic_status st = ic_ledger_batch_seal(b, err);
    if (st != IC_OK)
        return st;
    ic__bslot *sums = malloc(b->nslots * sizeof *sums);
    if (!sums)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    memcpy(sums, b->slots, b->nslots * sizeof *sums);
    if ((st = l->ops->begin(l->st, err)) != IC_OK) {
        free(sums);
        return st;
    }
    memset(b->dup, 0, b->n * sizeof *b->dup);
    if ((st = l->ops->insert_batch(l->st, b, b->dup, err)) != IC_OK)
        goto fail;
    size_t added = 0;
    ic_money c = 0;
    for (size_t i = 0; i < b->n; i++) {
        const ic__bent *x = &b->ent[i];
        if (!b->dup[i]) {
            added++;
            c += x->cost;
            continue;
        }
        ic__bslot *r = &sums[x->slot]; /* a duplicate adds nothing to the rollups */
        r->requests--;
        r->cache_hits -= x->cache_hit;
        r->errors -= x->error;
        for (int k = 0; k < 5; k++)
            r->tok[k] -= x->tok[k];
        r->cost -= x->cost;
        r->cost_input -= x->cost_input;
        r->cost_output -= x->cost_output;
        r->cache_saved -= x->cache_saved;
    }
    for (size_t i = 0; i < b->nslots; i++) {
        const ic__bslot *x = &sums[i];
        if (!x->requests)
            continue;
        ic_rollup r = {
            .day = x->day, .provider = ic__bname(b, x->p), .model = ic__bname(b, x->m),
            .customer = ic__bname(b, x->c), .feature = ic__bname(b, x->f),
            .requests = x->requests, .cache_hits = x->cache_hits, .errors = x->errors,
            .input_tokens = x->tok[0], .cache_read_tokens = x->tok[1],
            .cache_write_tokens = x->tok[2], .output_tokens = x->tok[3],
            .reasoning_tokens = x->tok[4], .cost = x->cost, .cost_input = x->cost_input,
            .cost_output = x->cost_output, .cache_saved = x->cache_saved,
        };
        if ((st = l->ops->rollup_add(l->st, &r, err)) != IC_OK)
            goto fail;
    }
    if ((st = l->ops->commit(l->st, err)) != IC_OK)
        goto fail;
    free(sums);
    if (dup_flags)
        memcpy(dup_flags, b->dup, b->n * sizeof *dup_flags);
    if (ninserted)
        *ninserted = added;
    if (cost)
        *cost = c;
    return IC_OK;
fail:
    l->ops->rollback(l->st);
    free(sums);
    return st;
}

ic_status ic_ledger_append_batch(ic_ledger *l, ic_ledger_batch *b, size_t *ninserted,
                                 ic_money *cost, ic_error *err)
{
    return append_batch(l, b, ninserted, cost, NULL, err);
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

/* inlined into the packers of this file: they run once per event per field */
static inline void put_u64(ic__wbuf *w, uint64_t v)
{
    if (w->cap - w->n < 10) {
        put_u128(w, v);
        return;
    }
    unsigned char *p = w->p + w->n;
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    w->n = (size_t)(p - w->p);
}

void ic__put_u64(ic__wbuf *w, uint64_t v) { put_u64(w, v); }
void ic__put_i64(ic__wbuf *w, int64_t v)
{
    put_u128(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
static inline void put_money(ic__wbuf *w, ic_money v)
{
    ic_u128 z = ((ic_u128)v << 1) ^ (ic_u128)(v >> 127);
    if (z <= UINT64_MAX)
        put_u64(w, (uint64_t)z);
    else
        put_u128(w, z);
}
void ic__put_money(ic__wbuf *w, ic_money v) { put_money(w, v); }
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

bool ic__body_decode(const unsigned char *d, size_t len, const char *file, ic_event *e,
                     ic__rowtext *rb, bool detail)
{
    ic__rbuf r = {d, len, 0, false};
    uint64_t line = ic__get_u64(&r);
    e->source = NULL; /* formatted only with detail: it costs a third of a raw scan's decode */
    if (detail) {
        if (line)
            snprintf(rb->source, sizeof rb->source, "%.1000s:%llu", file,
                     (unsigned long long)line);
        else
            snprintf(rb->source, sizeof rb->source, "%.1000s", file);
        e->source = rb->source;
    }
    e->input_tokens = ic__get_u64(&r);
    e->cache_read_tokens = ic__get_u64(&r);
    e->cache_write_tokens = ic__get_u64(&r);
    e->output_tokens = ic__get_u64(&r);
    e->reasoning_tokens = ic__get_u64(&r);
    e->cost = ic__get_money(&r);
    e->cost_input = ic__get_money(&r);
    e->cost_output = ic__get_money(&r);
    e->latency_ms = ic__get_i64(&r);
    uint64_t fl = ic__get_u64(&r);
    e->cache_hit = fl & 1;
    e->batch = (fl >> 1) & 1;
    e->fallback = (fl >> 3) & 1;
    e->cache_saved = fl & 4 ? ic__get_money(&r) : 0;
    e->task = ic__get_str(&r, rb->task, sizeof rb->task);
    e->tags = ic__get_str(&r, rb->tags, sizeof rb->tags);
    uint64_t dl = ic__get_u64(&r);
    if (r.bad || dl > r.n - r.at)
        return false;
    e->detail = d + r.at;
    e->detail_len = (size_t)dl;
    r.at += (size_t)dl;
    /* the optional tail: the request hash (rows written before it end at the detail) */
    e->request_hash = r.at < r.n ? ic__get_str(&r, rb->request_hash, sizeof rb->request_hash)
                                 : NULL;
    if (r.bad)
        return false;
    e->usage_json = e->items = NULL;
    if (detail) {
        if (ic_event_detail_render(e->detail, e->detail_len, rb->usage, sizeof rb->usage,
                                   rb->items, sizeof rb->items) != IC_OK)
            return false;
        e->usage_json = rb->usage;
        e->items = rb->items;
    }
    return true;
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

static inline void put_unit(ic__wbuf *w, int unit) /* after codes_init */
{
    if (unit >= 0 && unit < IC_UNITS_MAX && code_of_unit[unit]) {
        put_u64(w, (uint64_t)code_of_unit[unit]);
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
    pthread_once(&codes_once, codes_init);
    uint64_t nset = 0; /* counted, not __builtin_popcountll: a libgcc call without -mpopcnt */
    for (uint64_t bits = u->present; bits; bits &= bits - 1)
        nset++;
    put_u64(&w, nset);
    int slot = 0;
    for (uint64_t bits = u->present; bits; bits &= bits - 1) {
        put_unit(&w, __builtin_ctzll(bits));
        put_u64(&w, u->v[slot++]); /* values are packed in unit order (usage.h) */
    }
    put_u64(&w, c ? (uint64_t)c->nitems : 0);
    for (int i = 0; c && i < c->nitems; i++) {
        const ic_cost_item *it = &c->items[i];
        put_unit(&w, it->unit);
        put_u64(&w, it->charged);
        put_u64(&w, it->price.mant);
        put_u64(&w, it->price.scale);
        put_u64(&w, it->per);
        put_money(&w, it->usd);
    }
    return w.overflow ? 0 : w.n;
}

/* the usage part of a packed detail into *u (u NULL: skipped over) */
static ic_status read_usage(ic__rbuf *r, ic_usage *u, ic_error *err)
{
    char nb[128];
    if (u)
        ic_usage_clear(u);
    uint64_t nu = ic__get_u64(r);
    for (uint64_t i = 0; i < nu && !r->bad; i++) {
        const char *name = get_unit(r, nb, sizeof nb);
        uint64_t v = ic__get_u64(r);
        if (r->bad || !u)
            continue;
        int unit = ic_unit_find(name);
        if (unit < 0)
            return ic_error_set(err, IC_ERR_PARSE, "recorded usage has a unit this build does not "
                                "know: %s", name);
        ic_status st = ic_usage_set(u, unit, v, err);
        if (st != IC_OK)
            return st;
    }
    return r->bad ? ic_error_set(err, IC_ERR_PARSE, "recorded usage is malformed") : IC_OK;
}

ic_status ic_event_detail_usage(const unsigned char *d, size_t len, ic_usage *u, ic_error *err)
{
    ic__rbuf r = {d, len, 0, false};
    return read_usage(&r, u, err);
}

ic_status ic_event_detail_cost(const unsigned char *d, size_t len, ic_cost *c, ic_error *err)
{
    ic__rbuf r = {d, len, 0, false};
    memset(c, 0, sizeof *c);
    ic_status st = read_usage(&r, NULL, err);
    if (st != IC_OK)
        return st;
    char nb[128];
    uint64_t ni = ic__get_u64(&r);
    if (ni > IC_UNITS_MAX)
        return ic_error_set(err, IC_ERR_PARSE, "recorded cost is malformed");
    for (uint64_t i = 0; i < ni && !r.bad; i++) {
        ic_cost_item *it = &c->items[c->nitems];
        const char *name = get_unit(&r, nb, sizeof nb);
        it->charged = ic__get_u64(&r);
        it->price.mant = ic__get_u64(&r);
        it->price.scale = (uint8_t)ic__get_u64(&r);
        it->per = ic__get_u64(&r);
        it->usd = ic__get_money(&r);
        if (r.bad)
            break;
        if ((it->unit = ic_unit_find(name)) < 0)
            return ic_error_set(err, IC_ERR_PARSE, "recorded cost has a unit this build does not "
                                "know: %s", name);
        c->total += it->usd;
        c->nitems++;
    }
    return r.bad ? ic_error_set(err, IC_ERR_PARSE, "recorded cost is malformed") : IC_OK;
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
