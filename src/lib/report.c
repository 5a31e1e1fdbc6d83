/* report.c: spend reports (report.h). One pass over the rollups or the events feeds a hash table
 * of groups (key = the chosen dimensions joined by \x1f; a tag's value read from the event's tags
 * with json-c); the same pass fills the month totals and
 * the per-(mover key, month) costs that give month-over-month change and the top movers. With
 * percentiles, each group keeps the cost of every request (16 bytes each) and a second table sums
 * cost per (group, task). All sums are ic_money; nothing is re-priced. */
#include "infercost/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "csvout.h"
#include "ledger_internal.h"
#include "strmap.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static const char *dim_names[IC_DIM_LAST] = {"provider", "model", "customer", "feature", "task",
                                             "day",      "week",  "month",    "key",     "tag"};

int ic_dim_parse(const char *name)
{
    for (int i = 0; i < IC_DIM_LAST; i++)
        if (!strcmp(name, dim_names[i]))
            return i;
    return -1;
}

const char *ic_dim_name(ic_dim d) { return d < IC_DIM_LAST ? dim_names[d] : "?"; }

const char *ic_dim_parse_tag(const char *name)
{
    if (strncmp(name, "tag:", 4))
        return NULL;
    size_t n = strlen(name + 4);
    return n >= 1 && n <= IC_REPORT_TAG_MAX ? name + 4 : NULL;
}

ic_money ic_money_div_round(ic_money a, uint64_t n)
{
    if (n == 0)
        return 0;
    bool neg = a < 0;
    ic_u128 x = neg ? (ic_u128)(-a) : (ic_u128)a;
    ic_u128 q = x / n, r = x % n;
    if (2 * r > n || (2 * r == n && (q & 1)))
        q++;
    return neg ? -(ic_money)q : (ic_money)q;
}

/* ---- building ---- */

typedef struct vec {
    ic_money *v;
    size_t n, cap;
} vec;

typedef struct mcost { /* a mover key in one month */
    size_t mover;
    char month[8];
    ic_money cost;
} mcost;

typedef struct builder {
    ic_report *r;
    const ic_report_opts *o;
    ic_smap groups;
    size_t cap;
    vec *req;          /* per group: cost of each request (percentiles) */
    ic_smap tasks;        /* group \x1f task -> index into task_cost */
    ic_money *task_cost;
    size_t *task_group;
    size_t ntask, task_cap;
    ic_smap months;
    size_t months_cap;
    ic_smap movers;       /* mover key -> index into mover_names */
    char **mover_names;
    size_t nmover_names, mover_names_cap;
    ic_smap mover_month;  /* mover \x1f month -> index into mc */
    mcost *mc;
    size_t nmc, mc_cap;
    bool want_tags; /* a tag dimension or a tag to match: each event's tags are parsed */
    bool oom;
} builder;

typedef struct contrib {
    int64_t day;
    const char *provider, *model, *customer, *feature, *task;
    uint64_t requests, cache_hits, errors;
    uint64_t in, cr, cw, out, rs;
    ic_money cost, cin, cout, saved;
    const char *key;                     /* events only: the virtual key */
    const char *tagv[IC_REPORT_MAX_DIMS]; /* events only: each IC_DIM_TAG dimension's value */
} contrib;

static void day_text(int64_t day, char *buf, size_t cap)
{
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u-%02u", (int)y, m, d);
}

static void month_text(int64_t day, char *buf, size_t cap)
{
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u", (int)y, m);
}

static void week_text(int64_t day, char *buf, size_t cap)
{
    /* ISO 8601 week: the week's Thursday decides the year */
    int64_t wd = ((day + 3) % 7 + 7) % 7; /* 0 = Monday (1970-01-01 was a Thursday) */
    int64_t thu = day - wd + 3;
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(thu, &y, &m, &d);
    int64_t jan1 = ic_days_from_civil(y, 1, 1);
    int week = (int)((thu - jan1) / 7) + 1;
    snprintf(buf, cap, "%04d-W%02d", (int)y, week);
}

static size_t mover_key(const builder *b, const contrib *c, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    bool any = false;
    for (int i = 0; i < b->o->ndims; i++) {
        const char *v = NULL;
        switch (b->o->dims[i]) {
        case IC_DIM_PROVIDER: v = c->provider; break;
        case IC_DIM_MODEL: v = c->model; break;
        case IC_DIM_CUSTOMER: v = c->customer; break;
        case IC_DIM_FEATURE: v = c->feature; break;
        case IC_DIM_TASK: v = c->task; break;
        case IC_DIM_KEY: v = c->key; break;
        case IC_DIM_TAG: v = c->tagv[i]; break;
        default: break;
        }
        if (!v)
            continue;
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", any ? " / " : "",
                              v[0] ? v : "(none)");
        any = true;
    }
    if (!any) /* no entity dimension: movers by model */
        n = (size_t)snprintf(buf, cap, "%s", c->model[0] ? c->model : "(none)");
    return n;
}

/* a dimension's value into a group key at key + n: U+001F, which separates the values, shown
 * as U+FFFD; at most 2,047 bytes (a tag value is shorter: the tags are) */
static size_t key_part(char *key, size_t cap, size_t n, const char *v)
{
    for (size_t k = 0; v[k] && k < 2047 && n + 4 < cap; k++) {
        if (v[k] == '\x1f') {
            memcpy(key + n, "\xef\xbf\xbd", 3);
            n += 3;
        } else {
            key[n++] = v[k];
        }
    }
    key[n] = 0;
    return n;
}

static void add(builder *b, const contrib *c, bool one_event)
{
    char key[IC_REPORT_MAX_DIMS * 2100], part[64];
    size_t n = 0;
    for (int i = 0; i < b->o->ndims; i++) {
        const char *v = "";
        switch (b->o->dims[i]) {
        case IC_DIM_PROVIDER: v = c->provider; break;
        case IC_DIM_MODEL: v = c->model; break;
        case IC_DIM_CUSTOMER: v = c->customer; break;
        case IC_DIM_FEATURE: v = c->feature; break;
        case IC_DIM_TASK: v = c->task; break;
        case IC_DIM_KEY: v = c->key ? c->key : ""; break;
        case IC_DIM_TAG: v = c->tagv[i] ? c->tagv[i] : ""; break;
        case IC_DIM_DAY: day_text(c->day, part, sizeof part); v = part; break;
        case IC_DIM_WEEK: week_text(c->day, part, sizeof part); v = part; break;
        case IC_DIM_MONTH: month_text(c->day, part, sizeof part); v = part; break;
        default: break;
        }
        if (i)
            key[n++] = '\x1f';
        n = key_part(key, sizeof key, n, v);
    }
    key[n] = 0;
    bool fresh;
    ic_report *r = b->r;
    size_t gi = ic__smap_get(&b->groups, key, r->nrows, &fresh);
    if (gi == SIZE_MAX) {
        b->oom = true;
        return;
    }
    if (fresh) {
        if (r->nrows == b->cap) {
            size_t nc = b->cap ? b->cap * 2 : 64;
            ic_report_row *nr = realloc(r->rows, nc * sizeof *nr);
            vec *nv = realloc(b->req, nc * sizeof *nv);
            if (nr)
                r->rows = nr;
            if (nv)
                b->req = nv;
            if (!nr || !nv) {
                b->oom = true;
                return;
            }
            b->cap = nc;
        }
        ic_report_row *row = &r->rows[r->nrows];
        memset(row, 0, sizeof *row);
        memset(&b->req[r->nrows], 0, sizeof b->req[0]);
        /* split the key back into its parts */
        char *save = key;
        for (int i = 0; i < b->o->ndims; i++) {
            char *sep = strchr(save, '\x1f');
            if (sep)
                *sep = 0;
            row->key[i] = strdup(save);
            if (!row->key[i])
                b->oom = true;
            save = sep ? sep + 1 : save + strlen(save);
        }
        r->nrows++;
    }
    ic_report_row *rows[2] = {&r->rows[gi], &r->total};
    for (int k = 0; k < 2; k++) {
        ic_report_row *w = rows[k];
        w->requests += c->requests;
        w->cache_hits += c->cache_hits;
        w->errors += c->errors;
        w->input_tokens += c->in;
        w->cache_read_tokens += c->cr;
        w->cache_write_tokens += c->cw;
        w->output_tokens += c->out;
        w->reasoning_tokens += c->rs;
        w->cost += c->cost;
        w->cost_input += c->cin;
        w->cost_output += c->cout;
        w->cache_saved += c->saved;
    }
    /* months */
    char mon[16];
    month_text(c->day, mon, sizeof mon);
    size_t mi = ic__smap_get(&b->months, mon, r->nmonths, &fresh);
    if (mi == SIZE_MAX) {
        b->oom = true;
        return;
    }
    if (fresh) {
        if (r->nmonths == b->months_cap) {
            size_t nc = b->months_cap ? b->months_cap * 2 : 16;
            ic_report_month *nm = realloc(r->months, nc * sizeof *nm);
            if (!nm) {
                b->oom = true;
                return;
            }
            r->months = nm;
            b->months_cap = nc;
        }
        memset(&r->months[r->nmonths], 0, sizeof r->months[0]);
        memcpy(r->months[r->nmonths].month, mon, 8);
        r->nmonths++;
    }
    r->months[mi].requests += c->requests;
    r->months[mi].cost += c->cost;
    /* movers */
    char mk[1200];
    mover_key(b, c, mk, sizeof mk);
    size_t mv = ic__smap_get(&b->movers, mk, b->nmover_names, &fresh);
    if (mv == SIZE_MAX) {
        b->oom = true;
        return;
    }
    if (fresh) {
        if (b->nmover_names == b->mover_names_cap) {
            size_t nc = b->mover_names_cap ? b->mover_names_cap * 2 : 64;
            char **nn = realloc(b->mover_names, nc * sizeof *nn);
            if (!nn) {
                b->oom = true;
                return;
            }
            b->mover_names = nn;
            b->mover_names_cap = nc;
        }
        b->mover_names[b->nmover_names++] = strdup(mk);
    }
    char mmk[1300];
    snprintf(mmk, sizeof mmk, "%zu\x1f%s", mv, mon);
    size_t ci = ic__smap_get(&b->mover_month, mmk, b->nmc, &fresh);
    if (ci == SIZE_MAX) {
        b->oom = true;
        return;
    }
    if (fresh) {
        if (b->nmc == b->mc_cap) {
            size_t nc = b->mc_cap ? b->mc_cap * 2 : 256;
            mcost *nm = realloc(b->mc, nc * sizeof *nm);
            if (!nm) {
                b->oom = true;
                return;
            }
            b->mc = nm;
            b->mc_cap = nc;
        }
        b->mc[b->nmc].mover = mv;
        memcpy(b->mc[b->nmc].month, mon, 8);
        b->mc[b->nmc].cost = 0;
        b->nmc++;
    }
    b->mc[ci].cost += c->cost;
    /* per request and per task */
    if (one_event && b->o->percentiles) {
        vec *v = &b->req[gi];
        if (v->n == v->cap) {
            size_t nc = v->cap ? v->cap * 2 : 64;
            ic_money *nv = realloc(v->v, nc * sizeof *nv);
            if (!nv) {
                b->oom = true;
                return;
            }
            v->v = nv;
            v->cap = nc;
        }
        v->v[v->n++] = c->cost;
        if (c->task && c->task[0]) {
            char tk[2400];
            snprintf(tk, sizeof tk, "%zu\x1f%s", gi, c->task);
            size_t ti = ic__smap_get(&b->tasks, tk, b->ntask, &fresh);
            if (ti == SIZE_MAX) {
                b->oom = true;
                return;
            }
            if (fresh) {
                if (b->ntask == b->task_cap) {
                    size_t nc = b->task_cap ? b->task_cap * 2 : 256;
                    ic_money *ntc = realloc(b->task_cost, nc * sizeof *ntc);
                    if (ntc)
                        b->task_cost = ntc;
                    size_t *ntg = realloc(b->task_group, nc * sizeof *ntg);
                    if (ntg)
                        b->task_group = ntg;
                    if (!ntc || !ntg) {
                        b->oom = true;
                        return;
                    }
                    b->task_cap = nc;
                }
                b->task_cost[b->ntask] = 0;
                b->task_group[b->ntask] = gi;
                b->ntask++;
            }
            b->task_cost[ti] += c->cost;
        }
    }
}

static int on_rollup(const ic_rollup *x, void *arg)
{
    builder *b = arg;
    contrib c = {x->day, x->provider, x->model, x->customer, x->feature, NULL,
                 x->requests, x->cache_hits, x->errors, x->input_tokens, x->cache_read_tokens,
                 x->cache_write_tokens, x->output_tokens, x->reasoning_tokens, x->cost,
                 x->cost_input, x->cost_output, x->cache_saved};
    add(b, &c, false);
    return b->oom;
}

/* a tag's value as text: a string's content, else its compact JSON; "" when absent */
static const char *tag_value(json_object *tags, const char *name)
{
    json_object *v;
    if (!tags || !json_object_object_get_ex(tags, name, &v))
        return "";
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int on_event(const ic_event *e, void *arg)
{
    builder *b = arg;
    const ic_report_opts *o = b->o;
    if (o->key_id && strcmp(o->key_id, e->key_id ? e->key_id : ""))
        return 0;
    /* tags are stored as a compact JSON object (record.c); one that does not parse counts as
     * no tags */
    json_object *tags = b->want_tags && e->tags && e->tags[0] ? json_tokener_parse(e->tags) : NULL;
    for (int k = 0; k < o->ntag_is; k++)
        if (strcmp(tag_value(tags, o->tag_is[k][0]), o->tag_is[k][1])) {
            json_object_put(tags);
            return 0;
        }
    ic_rollup x;
    ic__rollup_from_event(e, &x);
    contrib c = {x.day, x.provider, x.model, x.customer, x.feature, e->task ? e->task : "",
                 1, x.cache_hits, x.errors, x.input_tokens, x.cache_read_tokens,
                 x.cache_write_tokens, x.output_tokens, x.reasoning_tokens, x.cost,
                 x.cost_input, x.cost_output, x.cache_saved, e->key_id ? e->key_id : "", {NULL}};
    for (int i = 0; i < o->ndims; i++)
        if (o->dims[i] == IC_DIM_TAG)
            c.tagv[i] = tag_value(tags, o->tag[i]);
    add(b, &c, true);
    json_object_put(tags);
    return b->oom;
}

/* A raw scan that needs neither tasks nor single events (--raw alone) first sums the events per
 * (day, provider, model, customer, feature), exactly as the rollups do, then feeds those sums to
 * add(): building group keys per event (text formatting, four table lookups) was most of the
 * raw scan's time. The sums are the same integers either way. */
typedef struct pre {
    bool used;
    uint64_t h;
    contrib c; /* strings owned */
} pre;

typedef struct pretab {
    pre *v;
    size_t cap, n;
    bool oom;
} pretab;

static uint64_t pre_hash(const ic_rollup *x)
{
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, &x->day, sizeof x->day);
    const char *p[4] = {x->provider, x->model, x->customer, x->feature};
    for (int i = 0; i < 4; i++)
        XXH3_64bits_update(&st, p[i], strlen(p[i]) + 1);
    return XXH3_64bits_digest(&st);
}

static int on_event_pre(const ic_event *e, void *arg)
{
    pretab *t = arg;
    ic_rollup x;
    ic__rollup_from_event(e, &x);
    if ((t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1024;
        pre *nv = calloc(nc, sizeof *nv);
        if (!nv) {
            t->oom = true;
            return 1;
        }
        for (size_t i = 0; i < t->cap; i++)
            if (t->v[i].used) {
                size_t j = t->v[i].h & (nc - 1);
                while (nv[j].used)
                    j = (j + 1) & (nc - 1);
                nv[j] = t->v[i];
            }
        free(t->v);
        t->v = nv;
        t->cap = nc;
    }
    uint64_t h = pre_hash(&x);
    size_t j = h & (t->cap - 1);
    while (t->v[j].used &&
           !(t->v[j].h == h && t->v[j].c.day == x.day && !strcmp(t->v[j].c.provider, x.provider) &&
             !strcmp(t->v[j].c.model, x.model) && !strcmp(t->v[j].c.customer, x.customer) &&
             !strcmp(t->v[j].c.feature, x.feature)))
        j = (j + 1) & (t->cap - 1);
    contrib *c = &t->v[j].c;
    if (!t->v[j].used) {
        t->v[j].used = true;
        t->v[j].h = h;
        memset(c, 0, sizeof *c);
        c->day = x.day;
        c->provider = strdup(x.provider);
        c->model = strdup(x.model);
        c->customer = strdup(x.customer);
        c->feature = strdup(x.feature);
        t->n++;
        if (!c->provider || !c->model || !c->customer || !c->feature) {
            t->oom = true;
            return 1;
        }
    }
    c->requests++;
    c->cache_hits += x.cache_hits;
    c->errors += x.errors;
    c->in += x.input_tokens;
    c->cr += x.cache_read_tokens;
    c->cw += x.cache_write_tokens;
    c->out += x.output_tokens;
    c->rs += x.reasoning_tokens;
    c->cost += x.cost;
    c->cin += x.cost_input;
    c->cout += x.cost_output;
    c->saved += x.cache_saved;
    return 0;
}

static void pretab_feed(pretab *t, builder *b)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->v[i].used && !b->oom)
            add(b, &t->v[i].c, false);
    for (size_t i = 0; i < t->cap; i++)
        if (t->v[i].used) {
            free((char *)t->v[i].c.provider);
            free((char *)t->v[i].c.model);
            free((char *)t->v[i].c.customer);
            free((char *)t->v[i].c.feature);
        }
    free(t->v);
}

static int cmp_money(const void *a, const void *b)
{
    ic_money x = *(const ic_money *)a, y = *(const ic_money *)b;
    return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted vector */
static ic_money pct(const ic_money *v, size_t n, int p)
{
    if (!n)
        return 0;
    size_t rank = (size_t)(((uint64_t)p * n + 99) / 100); /* ceil(p/100 * n) */
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static int cmp_row_cost(const void *a, const void *b)
{
    const ic_report_row *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    for (int i = 0; i < IC_REPORT_MAX_DIMS && x->key[i] && y->key[i]; i++) {
        int c = strcmp(x->key[i], y->key[i]);
        if (c)
            return c;
    }
    return 0;
}

static const ic_report_opts *sort_opts;
static bool has_time_dim(const ic_report_opts *o)
{
    for (int i = 0; i < o->ndims; i++)
        if (o->dims[i] == IC_DIM_DAY || o->dims[i] == IC_DIM_WEEK || o->dims[i] == IC_DIM_MONTH)
            return true;
    return false;
}

static int cmp_row_keys(const void *a, const void *b)
{
    const ic_report_row *x = a, *y = b;
    for (int i = 0; i < sort_opts->ndims; i++) {
        int c = strcmp(x->key[i], y->key[i]);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_month(const void *a, const void *b)
{
    return strcmp(((const ic_report_month *)a)->month, ((const ic_report_month *)b)->month);
}

static int cmp_mover(const void *a, const void *b)
{
    const ic_report_mover *x = a, *y = b;
    ic_money dx = x->after - x->before, dy = y->after - y->before;
    if (dx < 0)
        dx = -dx;
    if (dy < 0)
        dy = -dy;
    if (dx != dy)
        return dx > dy ? -1 : 1;
    return strcmp(x->key, y->key);
}

ic_status ic_report_build(ic_ledger *l, const ic_report_opts *o, ic_report **out, ic_error *err)
{
    *out = NULL;
    if (o->ndims < 0 || o->ndims > IC_REPORT_MAX_DIMS || o->ntag_is < 0 ||
        o->ntag_is > IC_REPORT_MAX_TAGS)
        return ic_error_set(err, IC_ERR_INVALID, "report: at most %d dimensions and %d tag values",
                            IC_REPORT_MAX_DIMS, IC_REPORT_MAX_TAGS);
    for (int i = 0; i < o->ndims; i++)
        if (o->dims[i] >= IC_DIM_LAST ||
            (o->dims[i] == IC_DIM_TAG && (!o->tag[i] || !o->tag[i][0])))
            return ic_error_set(err, IC_ERR_INVALID, "report: dimension %d: %s", i + 1,
                                o->dims[i] >= IC_DIM_LAST ? "unknown" : "a tag needs its name");
    for (int i = 0; i < o->ntag_is; i++)
        if (!o->tag_is[i][0] || !o->tag_is[i][0][0] || !o->tag_is[i][1])
            return ic_error_set(err, IC_ERR_INVALID,
                                "report: a tag to match needs a name and a value");
    ic_report *r = calloc(1, sizeof *r);
    if (!r)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    r->opts = *o;
    builder b = {.r = r, .o = o, .want_tags = o->ntag_is > 0};
    /* per event: what the rollups do not hold (tasks, keys, tags, single costs) */
    bool per_event = o->percentiles || o->key_id || o->ntag_is;
    for (int i = 0; i < o->ndims; i++) {
        ic_dim d = o->dims[i];
        per_event = per_event || d == IC_DIM_TASK || d == IC_DIM_KEY || d == IC_DIM_TAG;
        b.want_tags = b.want_tags || d == IC_DIM_TAG;
        if (d == IC_DIM_TAG)
            snprintf(r->head[i], sizeof r->head[i], "tag:%.*s", IC_REPORT_TAG_MAX, o->tag[i]);
        else
            snprintf(r->head[i], sizeof r->head[i], "%s", ic_dim_name(d));
    }
    bool need_events = o->raw || per_event;
    r->from_events = need_events;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ic_status st;
    if (!need_events) {
        st = ic_ledger_scan_rollups(l, &o->filter, on_rollup, &b, err);
    } else if (per_event) {
        st = ic_ledger_scan_events(l, &o->filter, on_event, &b, err);
    } else {
        pretab pt = {0};
        st = ic_ledger_scan_events(l, &o->filter, on_event_pre, &pt, err);
        if (pt.oom)
            b.oom = true;
        pretab_feed(&pt, &b);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (st == IC_OK && b.oom)
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory building the report");
    if (st == IC_OK && o->percentiles) {
        /* per request */
        for (size_t g = 0; g < r->nrows; g++) {
            vec *v = &b.req[g];
            if (v->n > 1)
                qsort(v->v, v->n, sizeof *v->v, cmp_money);
            r->rows[g].p50 = pct(v->v, v->n, 50);
            r->rows[g].p95 = pct(v->v, v->n, 95);
            r->rows[g].p99 = pct(v->v, v->n, 99);
        }
        /* the total: merge all */
        size_t all = 0;
        for (size_t g = 0; g < r->nrows; g++)
            all += b.req[g].n;
        ic_money *tv = malloc((all ? all : 1) * sizeof *tv);
        if (!tv) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        } else {
            size_t k = 0;
            for (size_t g = 0; g < r->nrows; g++) {
                memcpy(tv + k, b.req[g].v, b.req[g].n * sizeof *tv);
                k += b.req[g].n;
            }
            if (all > 1)
                qsort(tv, all, sizeof *tv, cmp_money);
            r->total.p50 = pct(tv, all, 50);
            r->total.p95 = pct(tv, all, 95);
            r->total.p99 = pct(tv, all, 99);
            /* per task: costs of the tasks of each group */
            size_t *cnt = calloc(r->nrows + 1, sizeof *cnt);
            ic_money *sorted = malloc((b.ntask ? b.ntask : 1) * sizeof *sorted);
            size_t *start = calloc(r->nrows + 1, sizeof *start);
            if (!cnt || !sorted || !start) {
                st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            } else {
                for (size_t t = 0; t < b.ntask; t++)
                    cnt[b.task_group[t]]++;
                for (size_t g = 1; g <= r->nrows; g++)
                    start[g] = start[g - 1] + cnt[g - 1];
                memset(cnt, 0, (r->nrows + 1) * sizeof *cnt);
                for (size_t t = 0; t < b.ntask; t++) {
                    size_t g = b.task_group[t];
                    sorted[start[g] + cnt[g]++] = b.task_cost[t];
                }
                ic_money tsum = 0;
                for (size_t g = 0; g < r->nrows; g++) {
                    ic_money *v = sorted + start[g];
                    size_t n = cnt[g];
                    ic_money sum = 0;
                    for (size_t i = 0; i < n; i++)
                        sum += v[i];
                    tsum += sum;
                    if (n > 1)
                        qsort(v, n, sizeof *v, cmp_money);
                    r->rows[g].tasks = n;
                    r->rows[g].task_mean = ic_money_div_round(sum, n);
                    r->rows[g].task_p50 = pct(v, n, 50);
                    r->rows[g].task_p95 = pct(v, n, 95);
                    r->rows[g].task_p99 = pct(v, n, 99);
                }
                /* the total over tasks (a task split over groups counts once per group) */
                if (b.ntask > 1)
                    qsort(sorted, b.ntask, sizeof *sorted, cmp_money);
                r->total.tasks = b.ntask;
                r->total.task_mean = ic_money_div_round(tsum, b.ntask);
                r->total.task_p50 = pct(sorted, b.ntask, 50);
                r->total.task_p95 = pct(sorted, b.ntask, 95);
                r->total.task_p99 = pct(sorted, b.ntask, 99);
            }
            free(cnt);
            free(sorted);
            free(start);
            free(tv);
        }
    }
    if (st == IC_OK) {
        /* rows: by time when a time dimension is asked for, else largest cost first */
        if (has_time_dim(o)) {
            sort_opts = o;
            if (r->nrows > 1)
                qsort(r->rows, r->nrows, sizeof *r->rows, cmp_row_keys);
        } else {
            if (r->nrows > 1)
                qsort(r->rows, r->nrows, sizeof *r->rows, cmp_row_cost);
        }
        if (r->nmonths > 1)
            qsort(r->months, r->nmonths, sizeof *r->months, cmp_month);
        /* movers between the last two months */
        if (r->nmonths >= 2 && b.nmover_names) {
            const char *m1 = r->months[r->nmonths - 2].month, *m2 = r->months[r->nmonths - 1].month;
            r->movers = calloc(b.nmover_names, sizeof *r->movers);
            if (!r->movers) {
                st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            } else {
                for (size_t i = 0; i < b.nmover_names; i++) {
                    r->movers[i].key = b.mover_names[i];
                    b.mover_names[i] = NULL;
                }
                r->nmovers = b.nmover_names;
                for (size_t i = 0; i < b.nmc; i++) {
                    if (!strcmp(b.mc[i].month, m1))
                        r->movers[b.mc[i].mover].before += b.mc[i].cost;
                    else if (!strcmp(b.mc[i].month, m2))
                        r->movers[b.mc[i].mover].after += b.mc[i].cost;
                }
                if (r->nmovers > 1)
                    qsort(r->movers, r->nmovers, sizeof *r->movers, cmp_mover);
                if (r->nmovers > 5) {
                    for (size_t i = 5; i < r->nmovers; i++)
                        free(r->movers[i].key);
                    r->nmovers = 5;
                }
            }
        }
    }
    for (size_t g = 0; g < r->nrows && b.req; g++)
        free(b.req[g].v);
    free(b.req);
    ic__smap_free(&b.groups);
    ic__smap_free(&b.tasks);
    ic__smap_free(&b.months);
    ic__smap_free(&b.movers);
    ic__smap_free(&b.mover_month);
    for (size_t i = 0; i < b.nmover_names; i++)
        free(b.mover_names[i]);
    free(b.mover_names);
    free(b.mc);
    free(b.task_cost);
    free(b.task_group);
    if (st != IC_OK) {
        ic_report_free(r);
        return st;
    }
    *out = r;
    return IC_OK;
}

void ic_report_free(ic_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows; i++)
        for (int k = 0; k < IC_REPORT_MAX_DIMS; k++)
            free(r->rows[i].key[k]);
    free(r->rows);
    free(r->months);
    for (size_t i = 0; i < r->nmovers; i++)
        free(r->movers[i].key);
    free(r->movers);
    free(r);
}

/* ---- writing ---- */

/* A cell is its text in s (numbers, amounts: at most a sign and an amount), or p, a string the
 * report owns (a group's key, a mover's name): a table of 90,000 groups stays small. */
typedef struct cell {
    const char *p;
    char s[IC_MONEY_STRLEN + 2];
    bool num;
} cell;

#define MAXCOLS 32

typedef struct table {
    const char *head[MAXCOLS];
    int ncols;
    cell *cells; /* rows x ncols */
    size_t nrows, cap;
} table;

static cell *trow(table *t)
{
    if (t->nrows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        cell *n = realloc(t->cells, nc * (size_t)t->ncols * sizeof *n);
        if (!n) { /* the caller gives up: nothing of the table is kept */
            free(t->cells);
            t->cells = NULL;
            t->cap = t->nrows = 0;
            return NULL;
        }
        t->cells = n;
        t->cap = nc;
    }
    cell *c = &t->cells[t->nrows++ * (size_t)t->ncols];
    memset(c, 0, (size_t)t->ncols * sizeof *c);
    return c;
}

static void pct_text(char *buf, size_t cap, uint64_t part, uint64_t whole)
{
    if (!whole)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.1f", 100.0 * (double)part / (double)whole);
}

static void fill(const ic_report *r, const ic_report_row *w, cell *c, bool total)
{
    int k = 0;
    char m[IC_MONEY_STRLEN];
    for (int i = 0; i < r->opts.ndims; i++, k++) {
        c[k].p = total ? (i == 0 ? "TOTAL" : "") : (w->key[i][0] ? w->key[i] : "(none)");
        c[k].num = false;
    }
#define NUM(fmt, v) (snprintf(c[k].s, sizeof c[k].s, fmt, v), c[k++].num = true)
#define MON(v) (snprintf(c[k].s, sizeof c[k].s, "%s", ic_money_format(v, m, sizeof m)), c[k++].num = true)
    NUM("%llu", (unsigned long long)w->requests);
    NUM("%llu", (unsigned long long)w->input_tokens);
    NUM("%llu", (unsigned long long)w->cache_read_tokens);
    NUM("%llu", (unsigned long long)w->cache_write_tokens);
    NUM("%llu", (unsigned long long)w->output_tokens);
    NUM("%llu", (unsigned long long)w->reasoning_tokens);
    pct_text(c[k].s, sizeof c[k].s, w->cache_read_tokens, w->input_tokens);
    c[k++].num = true;
    MON(w->cost);
    MON(ic_money_div_round(w->cost, w->requests));
    NUM("%llu", (unsigned long long)w->cache_hits);
    MON(w->cache_saved);
    if (r->opts.percentiles) {
        MON(w->p50);
        MON(w->p95);
        MON(w->p99);
        NUM("%llu", (unsigned long long)w->tasks);
        MON(w->task_mean);
        MON(w->task_p50);
        MON(w->task_p95);
        MON(w->task_p99);
    }
    /* share of the total cost */
    if (r->total.cost > 0)
        snprintf(c[k].s, sizeof c[k].s, "%.1f",
                 100.0 * ic_money_to_double(w->cost) / ic_money_to_double(r->total.cost));
    else
        snprintf(c[k].s, sizeof c[k].s, "-");
    c[k++].num = true;
#undef NUM
#undef MON
}

static const char *table_cell(const void *ctx, size_t row, int col)
{
    const table *t = ctx;
    const cell *c = &t->cells[row * (size_t)t->ncols + (size_t)col];
    return c->p ? c->p : c->s;
}

static void write_table(const table *t, ic_report_format fmt, FILE *f)
{
    bool num[MAXCOLS]; /* a column is numeric as its first row's cell is */
    for (int j = 0; j < t->ncols; j++)
        num[j] = t->nrows && t->cells[(size_t)j].num;
    ic__table_write(f, fmt, t->head, t->ncols, t->nrows, table_cell, t, num);
}

static void set_heads(const ic_report *r, table *t)
{
    int k = 0;
    for (int i = 0; i < r->opts.ndims; i++)
        t->head[k++] = r->head[i];
    static const char *h1[] = {"requests", "input_tok", "cache_read", "cache_write", "output_tok",
                               "reasoning", "cached_%", "cost_usd", "per_request",
                               "cache_hits", "cache_saved_usd"};
    for (size_t i = 0; i < sizeof h1 / sizeof h1[0]; i++)
        t->head[k++] = h1[i];
    if (r->opts.percentiles) {
        static const char *h2[] = {"req_p50", "req_p95", "req_p99", "tasks",
                                   "per_task", "task_p50", "task_p95", "task_p99"};
        for (size_t i = 0; i < sizeof h2 / sizeof h2[0]; i++)
            t->head[k++] = h2[i];
    }
    t->head[k++] = "share_%";
    t->ncols = k;
}

static void change_text(char *buf, size_t cap, ic_money before, ic_money after)
{
    if (before == 0)
        snprintf(buf, cap, after ? "new" : "-");
    else
        snprintf(buf, cap, "%+.1f", 100.0 * (ic_money_to_double(after) - ic_money_to_double(before)) /
                                       ic_money_to_double(before));
}

static void json_row(const ic_report *r, const ic_report_row *w, FILE *f, bool total)
{
    char m[IC_MONEY_STRLEN];
    fputc('{', f);
    if (!total) {
        for (int i = 0; i < r->opts.ndims; i++) {
            ic_json_fputs(r->head[i], f);
            fputc(':', f);
            ic_json_fputs(w->key[i], f);
            fputc(',', f);
        }
    }
    fprintf(f, "\"requests\":%llu,\"errors\":%llu,\"cache_hits\":%llu,\"input_tokens\":%llu,"
               "\"cache_read_tokens\":%llu,\"cache_write_tokens\":%llu,\"output_tokens\":%llu,"
               "\"reasoning_tokens\":%llu,",
            (unsigned long long)w->requests, (unsigned long long)w->errors,
            (unsigned long long)w->cache_hits, (unsigned long long)w->input_tokens,
            (unsigned long long)w->cache_read_tokens, (unsigned long long)w->cache_write_tokens,
            (unsigned long long)w->output_tokens, (unsigned long long)w->reasoning_tokens);
    fprintf(f, "\"cost_usd\":\"%s\",", ic_money_format(w->cost, m, sizeof m));
    fprintf(f, "\"input_cost_usd\":\"%s\",", ic_money_format(w->cost_input, m, sizeof m));
    fprintf(f, "\"output_cost_usd\":\"%s\",", ic_money_format(w->cost_output, m, sizeof m));
    fprintf(f, "\"cost_per_request_usd\":\"%s\",",
            ic_money_format(ic_money_div_round(w->cost, w->requests), m, sizeof m));
    fprintf(f, "\"cache_saved_usd\":\"%s\"", ic_money_format(w->cache_saved, m, sizeof m));
    if (r->opts.percentiles) {
        fprintf(f, ",\"request_p50_usd\":\"%s\"", ic_money_format(w->p50, m, sizeof m));
        fprintf(f, ",\"request_p95_usd\":\"%s\"", ic_money_format(w->p95, m, sizeof m));
        fprintf(f, ",\"request_p99_usd\":\"%s\"", ic_money_format(w->p99, m, sizeof m));
        fprintf(f, ",\"tasks\":%llu", (unsigned long long)w->tasks);
        fprintf(f, ",\"cost_per_task_usd\":\"%s\"", ic_money_format(w->task_mean, m, sizeof m));
        fprintf(f, ",\"task_p50_usd\":\"%s\"", ic_money_format(w->task_p50, m, sizeof m));
        fprintf(f, ",\"task_p95_usd\":\"%s\"", ic_money_format(w->task_p95, m, sizeof m));
        fprintf(f, ",\"task_p99_usd\":\"%s\"", ic_money_format(w->task_p99, m, sizeof m));
    }
    fputc('}', f);
}

ic_status ic_report_write(const ic_report *r, ic_report_format fmt, FILE *f, ic_error *err)
{
    char m[IC_MONEY_STRLEN], m2[IC_MONEY_STRLEN], ch[32];
    size_t shown = r->opts.top > 0 && (size_t)r->opts.top < r->nrows ? (size_t)r->opts.top : r->nrows;
    if (fmt == IC_FMT_JSON) {
        fprintf(f, "{\"source\":\"%s\",\"group_by\":[", r->from_events ? "events" : "rollups");
        for (int i = 0; i < r->opts.ndims; i++) {
            if (i)
                fputc(',', f);
            ic_json_fputs(r->head[i], f);
        }
        fputs("],\"rows\":[", f);
        for (size_t i = 0; i < shown; i++) {
            if (i)
                fputc(',', f);
            json_row(r, &r->rows[i], f, false);
        }
        fputs("],\"total\":", f);
        json_row(r, &r->total, f, true);
        fputs(",\"months\":[", f);
        for (size_t i = 0; i < r->nmonths; i++) {
            change_text(ch, sizeof ch, i ? r->months[i - 1].cost : 0, r->months[i].cost);
            fprintf(f, "%s{\"month\":\"%s\",\"requests\":%llu,\"cost_usd\":\"%s\",\"change_pct\":",
                    i ? "," : "", r->months[i].month, (unsigned long long)r->months[i].requests,
                    ic_money_format(r->months[i].cost, m, sizeof m));
            if (i && r->months[i - 1].cost)
                fputs(ch[0] == '+' ? ch + 1 : ch, f); /* JSON numbers take no '+' */
            else
                fputs("null", f);
            fputc('}', f);
        }
        fputs("],\"movers\":[", f);
        for (size_t i = 0; i < r->nmovers; i++) {
            fprintf(f, "%s{\"key\":", i ? "," : "");
            ic_json_fputs(r->movers[i].key, f);
            fprintf(f, ",\"before_usd\":\"%s\",\"after_usd\":\"%s\"}",
                    ic_money_format(r->movers[i].before, m, sizeof m),
                    ic_money_format(r->movers[i].after, m2, sizeof m2));
        }
        fputs("]}\n", f);
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    table t = {0};
    set_heads(r, &t);
    for (size_t i = 0; i < shown; i++) {
        cell *c = trow(&t);
        if (!c)
            goto oom;
        fill(r, &r->rows[i], c, false);
    }
    if (fmt != IC_FMT_CSV) { /* CSV stays one record per group: no total line */
        cell *c = trow(&t);
        if (!c)
            goto oom;
        fill(r, &r->total, c, true);
    }
    if (fmt == IC_FMT_MD)
        fputs("### Spend\n\n", f);
    write_table(&t, fmt, f);
    free(t.cells);
    if (fmt == IC_FMT_CSV)
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    if (shown < r->nrows)
        fprintf(f, "(%zu more rows; --top 0 shows all)\n", r->nrows - shown);
    /* month over month */
    if (r->nmonths) {
        table mt = {.head = {"month", "requests", "cost_usd", "change_%"}, .ncols = 4};
        for (size_t i = 0; i < r->nmonths; i++) {
            cell *c = trow(&mt);
            if (!c)
                goto oom;
            snprintf(c[0].s, sizeof c[0].s, "%s", r->months[i].month);
            c[0].num = false;
            snprintf(c[1].s, sizeof c[1].s, "%llu", (unsigned long long)r->months[i].requests);
            snprintf(c[2].s, sizeof c[2].s, "%s", ic_money_format(r->months[i].cost, m, sizeof m));
            change_text(c[3].s, sizeof c[3].s, i ? r->months[i - 1].cost : 0, r->months[i].cost);
            if (!i)
                snprintf(c[3].s, sizeof c[3].s, "-");
            c[1].num = c[2].num = c[3].num = true;
        }
        fputs(fmt == IC_FMT_MD ? "\n### Month over month\n\n" : "\nmonth over month\n", f);
        write_table(&mt, fmt, f);
        free(mt.cells);
    }
    if (r->nmovers) {
        table vt = {.head = {"top movers", "before_usd", "after_usd", "change_usd", "change_%"},
                    .ncols = 5};
        for (size_t i = 0; i < r->nmovers; i++) {
            cell *c = trow(&vt);
            if (!c)
                goto oom;
            const ic_report_mover *v = &r->movers[i];
            c[0].p = v->key;
            c[0].num = false;
            snprintf(c[1].s, sizeof c[1].s, "%s", ic_money_format(v->before, m, sizeof m));
            snprintf(c[2].s, sizeof c[2].s, "%s", ic_money_format(v->after, m, sizeof m));
            ic_money d = v->after - v->before;
            snprintf(c[3].s, sizeof c[3].s, "%s%s", d > 0 ? "+" : "", ic_money_format(d, m, sizeof m));
            change_text(c[4].s, sizeof c[4].s, v->before, v->after);
            c[1].num = c[2].num = c[3].num = c[4].num = true;
        }
        fprintf(f, fmt == IC_FMT_MD ? "\n### Top movers (%s -> %s)\n\n" : "\ntop movers, %s -> %s\n",
                r->months[r->nmonths - 2].month, r->months[r->nmonths - 1].month);
        write_table(&vt, fmt, f);
        free(vt.cells);
    }
    return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
oom:
    return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
}
