/* economics.c: revenue import and the margin report (economics.h). One scan of the period's
 * events gives cost per customer, per month and per (customer, task); the revenue table gives
 * revenue per customer and month. Shares are computed in integers (basis points, half-even);
 * doubles appear only in formatted percentages. Never prices, never prints on its own. */
#include "infercost/economics.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "csvin.h"
#include "csvout.h"
#include "economics_internal.h"
#include "strmap.h"

int ic_period_cuts_month(const ic_ledger_filter *f)
{
    int64_t ends[2] = {f->from_ms, f->to_ms};
    for (int e = 0; e < 2; e++) {
        int64_t y;
        unsigned mo, d;
        ic_civil_from_days(ic_time_day(ends[e]), &y, &mo, &d);
        if (ends[e] && (d != 1 || ends[e] % 86400000))
            return e + 1;
    }
    return 0;
}

int64_t ic_cost_share_bp(ic_money part, ic_money revenue)
{
    if (revenue <= 0)
        return INT64_MIN;
    ic_money q = part * 10000;
    bool neg = q < 0;
    ic_u128 x = (ic_u128)(neg ? -q : q), rv = (ic_u128)revenue;
    ic_u128 d = x / rv, r = x % rv;
    if (2 * r > rv || (2 * r == rv && (d & 1)))
        d++;
    if (d > (ic_u128)INT64_MAX)
        d = INT64_MAX;
    return neg ? -(int64_t)d : (int64_t)d;
}

/* ---- revenue import ---- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static bool period_ok(const char *p)
{
    return strlen(p) == 7 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
           isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3]) && p[4] == '-' &&
           ((p[5] == '0' && p[6] >= '1' && p[6] <= '9') || (p[5] == '1' && p[6] >= '0' && p[6] <= '2'));
}

ic_status ic_revenue_import_csv(ic_ledger *l, FILE *in, const char *source, size_t *nrows,
                                ic_error *err)
{
    *nrows = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t lineno = 0;
    int ci = -1, pi = -1, ri = -1, nh = 0;
    char **cust = NULL, **per = NULL;
    ic_money *amt = NULL;
    size_t n = 0, ncap = 0;
    ic_smap seen = {0};
    ic_status st = IC_OK;
    while ((got = getline(&line, &cap, in)) >= 0) {
        lineno++;
        char *s = line;
        if (lineno == 1 && got >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
            s += 3; /* a UTF-8 byte-order mark, as spreadsheets write one */
        s = trim(s);
        if (!*s)
            continue;
        char *f[64];
        int nf = ic__csv_split(s, strlen(s), f, 64);
        if (nf < 0) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%llu: malformed CSV (unbalanced quote or "
                              "more than 64 columns)", source, (unsigned long long)lineno);
            goto out;
        }
        if (ci < 0) { /* the header */
            nh = nf;
            for (int i = 0; i < nf; i++) {
                char *h = trim(f[i]);
                for (char *q = h; *q; q++)
                    *q = (char)tolower((unsigned char)*q);
                if (!strcmp(h, "customer"))
                    ci = i;
                else if (!strcmp(h, "period") || !strcmp(h, "month"))
                    pi = i;
                else if (!strcmp(h, "revenue") || !strcmp(h, "revenue_usd"))
                    ri = i;
            }
            if (ci < 0 || pi < 0 || ri < 0) {
                st = ic_error_set(err, IC_ERR_PARSE, "%s:%llu: the header must name the columns "
                                  "customer, period and revenue", source,
                                  (unsigned long long)lineno);
                ci = -1;
                goto out;
            }
            continue;
        }
        if (nf != nh) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%llu: %d fields, the header has %d", source,
                              (unsigned long long)lineno, nf, nh);
            goto out;
        }
        char *c = trim(f[ci]), *p = trim(f[pi]), *r = trim(f[ri]);
        if (!*c) {
            st = ic_error_set(err, IC_ERR_INVALID, "%s:%llu: customer is empty", source,
                              (unsigned long long)lineno);
            goto out;
        }
        if (!ic_utf8_valid(c, strlen(c))) {
            st = ic_error_set(err, IC_ERR_INVALID, "%s:%llu: customer is not valid UTF-8", source,
                              (unsigned long long)lineno);
            goto out;
        }
        if (!period_ok(p)) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%llu: period '%.40s' is not YYYY-MM", source,
                              (unsigned long long)lineno, p);
            goto out;
        }
        char neg[128]; /* "-$5" as "-5" (and "$-5" as "-5"): a refund or credit */
        if (r[0] == '-' && r[1] == '$' && strlen(r) < sizeof neg) {
            snprintf(neg, sizeof neg, "-%s", r + 2);
            r = neg;
        } else if (*r == '$') {
            r++;
        }
        ic_money m;
        if (!*r || ic_money_parse(r, strlen(r), &m) != IC_OK) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%llu: revenue '%.40s' is not a decimal amount "
                              "(like 1234.56, at most 12 decimals)", source,
                              (unsigned long long)lineno, f[ri]);
            goto out;
        }
        if (m / 1000000 > INT64_MAX || m / 1000000 < INT64_MIN) { /* the ledger's range */
            st = ic_error_set(err, IC_ERR_RANGE, "%s:%llu: revenue '%.40s' is more than the "
                              "ledger holds (9223372036854.775807)", source,
                              (unsigned long long)lineno, f[ri]);
            goto out;
        }
        char key[600];
        snprintf(key, sizeof key, "%.500s\x1f%s", c, p);
        bool fresh;
        if (ic__smap_get(&seen, key, 0, &fresh) == SIZE_MAX) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (!fresh) {
            st = ic_error_set(err, IC_ERR_INVALID, "%s:%llu: %s %s appears twice", source,
                              (unsigned long long)lineno, c, p);
            goto out;
        }
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            char **a = realloc(cust, ncap * sizeof *a);
            if (a)
                cust = a;
            char **b = realloc(per, ncap * sizeof *b);
            if (b)
                per = b;
            ic_money *d = realloc(amt, ncap * sizeof *d);
            if (d)
                amt = d;
            if (!a || !b || !d) {
                st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
        cust[n] = strdup(c);
        per[n] = strdup(p);
        amt[n] = m;
        n++;
        if (!cust[n - 1] || !per[n - 1]) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (ferror(in)) {
        st = ic_error_set(err, IC_ERR_IO, "%s: read error", source);
        goto out;
    }
    if (ci < 0) {
        st = ic_error_set(err, IC_ERR_PARSE, "%s: empty file (a header customer,period,revenue "
                          "and rows are expected)", source);
        goto out;
    }
    st = ic_ledger_revenue_put_many(l, (const char *const *)cust, (const char *const *)per, amt, n,
                                    err);
    if (st == IC_OK)
        *nrows = n;
out:
    for (size_t i = 0; i < n; i++) {
        free(cust[i]);
        free(per[i]);
    }
    free(cust);
    free(per);
    free(amt);
    free(line);
    ic__smap_free(&seen);
    return st;
}

/* ---- margin ---- */

typedef struct mb {
    ic_margin *m;
    ic_smap cust, tasks, months;
    size_t rows_cap, months_cap;
    ic_money *task_cost;
    size_t *task_cust;
    size_t ntask, task_cap;
    bool oom;
    char from_month[8], to_month[8]; /* inclusive month range of the period ("" = open) */
} mb;

static size_t cust_index(mb *b, const char *c)
{
    bool fresh;
    ic_margin *m = b->m;
    size_t i = ic__smap_get(&b->cust, c, m->nrows, &fresh);
    if (i == SIZE_MAX)
        return SIZE_MAX;
    if (fresh) {
        if (m->nrows == b->rows_cap) {
            size_t nc = b->rows_cap ? b->rows_cap * 2 : 32;
            ic_margin_row *nr = realloc(m->rows, nc * sizeof *nr);
            if (!nr)
                return SIZE_MAX;
            m->rows = nr;
            b->rows_cap = nc;
        }
        memset(&m->rows[m->nrows], 0, sizeof m->rows[0]);
        m->rows[m->nrows].customer = strdup(c);
        if (!m->rows[m->nrows].customer)
            return SIZE_MAX;
        m->nrows++;
    }
    return i;
}

static size_t month_index(mb *b, const char *mon)
{
    bool fresh;
    ic_margin *m = b->m;
    size_t i = ic__smap_get(&b->months, mon, m->nmonths, &fresh);
    if (i == SIZE_MAX)
        return SIZE_MAX;
    if (fresh) {
        if (m->nmonths == b->months_cap) {
            size_t nc = b->months_cap ? b->months_cap * 2 : 16;
            ic_margin_month *nm = realloc(m->months, nc * sizeof *nm);
            if (!nm)
                return SIZE_MAX;
            m->months = nm;
            b->months_cap = nc;
        }
        memset(&m->months[m->nmonths], 0, sizeof m->months[0]);
        snprintf(m->months[m->nmonths].month, 8, "%.7s", mon);
        m->nmonths++;
    }
    return i;
}

static int on_event(const ic_event *e, void *arg)
{
    mb *b = arg;
    size_t ci = cust_index(b, e->customer);
    int64_t day = ic_time_day(e->t_ms);
    int64_t y;
    unsigned mo, d;
    ic_civil_from_days(day, &y, &mo, &d);
    char mon[16];
    snprintf(mon, sizeof mon, "%04d-%02u", (int)y, mo);
    size_t mi = month_index(b, mon);
    if (ci == SIZE_MAX || mi == SIZE_MAX) {
        b->oom = true;
        return 1;
    }
    ic_margin_row *r = &b->m->rows[ci];
    r->cost += e->cost;
    r->requests++;
    b->m->months[mi].cost += e->cost;
    if (e->task && e->task[0]) {
        char key[1200];
        snprintf(key, sizeof key, "%zu\x1f%.1000s", ci, e->task);
        bool fresh;
        size_t ti = ic__smap_get(&b->tasks, key, b->ntask, &fresh);
        if (ti == SIZE_MAX) {
            b->oom = true;
            return 1;
        }
        if (fresh) {
            if (b->ntask == b->task_cap) {
                size_t nc = b->task_cap ? b->task_cap * 2 : 256;
                ic_money *a = realloc(b->task_cost, nc * sizeof *a);
                if (a)
                    b->task_cost = a;
                size_t *c = realloc(b->task_cust, nc * sizeof *c);
                if (c)
                    b->task_cust = c;
                if (!a || !c) {
                    b->oom = true;
                    return 1;
                }
                b->task_cap = nc;
            }
            b->task_cost[b->ntask] = 0;
            b->task_cust[b->ntask] = ci;
            b->ntask++;
        }
        b->task_cost[ti] += e->cost;
    }
    return 0;
}

static int on_revenue(const char *customer, const char *period, ic_money amount, void *arg)
{
    mb *b = arg;
    if ((b->from_month[0] && strcmp(period, b->from_month) < 0) ||
        (b->to_month[0] && strcmp(period, b->to_month) > 0))
        return 0;
    size_t ci = cust_index(b, customer);
    size_t mi = month_index(b, period);
    if (ci == SIZE_MAX || mi == SIZE_MAX) {
        b->oom = true;
        return 1;
    }
    b->m->rows[ci].revenue += amount;
    b->m->rows[ci].has_revenue = true;
    b->m->months[mi].revenue += amount;
    return 0;
}

static int cmp_money(const void *a, const void *b)
{
    ic_money x = *(const ic_money *)a, y = *(const ic_money *)b;
    return x < y ? -1 : x > y;
}

static ic_money pct(const ic_money *v, size_t n, int p)
{
    if (!n)
        return 0;
    size_t rank = (size_t)(((uint64_t)p * n + 99) / 100);
    return v[(rank ? rank : 1) - 1];
}

/* price per task: the mean cost (sum / n) over the target share, rounded once, half-even (not
 * the rounded mean divided again) */
static ic_money task_price(ic_money sum, size_t n, uint32_t target_bp)
{
    return ic_money_div_round(sum * 10000, (ic_money)n * target_bp);
}

static void tasks_stats(ic_margin_row *r, ic_money *v, size_t n, uint32_t target_bp)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_money);
    ic_money sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    r->tasks = n;
    r->task_mean = ic_money_div_round(sum, n);
    r->task_p50 = pct(v, n, 50);
    r->task_p95 = pct(v, n, 95);
    r->task_p99 = pct(v, n, 99);
    r->task_price = n ? task_price(sum, n, target_bp) : 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] > r->task_price)
            r->tasks_over_price++;
        /* cost share above target at that price: cost * 10000 > price * target_bp */
        if (v[i] * 10000 > r->task_price * target_bp)
            r->tasks_over_target++;
    }
}

static int cmp_rows(const void *a, const void *b)
{
    const ic_margin_row *x = a, *y = b;
    int64_t sx = ic_cost_share_bp(x->cost, x->revenue), sy = ic_cost_share_bp(y->cost, y->revenue);
    if (sx == INT64_MIN)
        sx = INT64_MAX; /* no revenue: first */
    if (sy == INT64_MIN)
        sy = INT64_MAX;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(x->customer, y->customer);
}

static int cmp_months(const void *a, const void *b)
{
    return strcmp(((const ic_margin_month *)a)->month, ((const ic_margin_month *)b)->month);
}

static void month_of(int64_t ms, char *buf)
{
    int64_t day = ic_time_day(ms);
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(day, &y, &m, &d);
    snprintf(buf, 8, "%04d-%02u", (int)y, m);
}

static ic_status build(ic_ledger *l, const ic_margin_opts *o, bool revenue_only, ic_margin **out,
                       ic_error *err);

ic_status ic_margin_build(ic_ledger *l, const ic_margin_opts *o, ic_margin **out, ic_error *err)
{
    return build(l, o, false, out, err);
}

ic_status ic__margin_revenue(ic_ledger *l, const ic_ledger_filter *period, ic_margin **out,
                             ic_error *err)
{
    ic_margin_opts o = {.filter = *period, .target_bp = 2500};
    return build(l, &o, true, out, err);
}

static ic_status build(ic_ledger *l, const ic_margin_opts *o, bool revenue_only, ic_margin **out,
                       ic_error *err)
{
    *out = NULL;
    if (o->target_bp == 0 || o->target_bp > 10000)
        return ic_error_set(err, IC_ERR_INVALID, "the target cost share must be above 0%% and at "
                            "most 100%%");
    ic_margin *m = calloc(1, sizeof *m);
    if (!m)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    m->opts = *o;
    mb b = {.m = m};
    if (o->filter.from_ms)
        month_of(o->filter.from_ms, b.from_month);
    if (o->filter.to_ms)
        month_of(o->filter.to_ms - 1, b.to_month);
    ic_status st = revenue_only ? IC_OK : ic_ledger_scan_events(l, &o->filter, on_event, &b, err);
    if (st == IC_OK)
        st = ic_ledger_scan_revenue(l, on_revenue, &b, err);
    if (st == IC_OK && b.oom)
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    if (st == IC_OK) {
        /* tasks per customer, then all tasks for the total */
        ic_money *v = malloc((b.ntask ? b.ntask : 1) * sizeof *v);
        if (!v) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        } else {
            for (size_t c = 0; c < m->nrows; c++) {
                size_t n = 0;
                for (size_t t = 0; t < b.ntask; t++)
                    if (b.task_cust[t] == c)
                        v[n++] = b.task_cost[t];
                tasks_stats(&m->rows[c], v, n, o->target_bp);
            }
            if (b.ntask) /* none: task_cost is NULL, and memcpy from NULL is undefined */
                memcpy(v, b.task_cost, b.ntask * sizeof *v);
            tasks_stats(&m->total, v, b.ntask, o->target_bp);
            free(v);
        }
        for (size_t c = 0; c < m->nrows; c++) {
            ic_margin_row *r = &m->rows[c];
            r->margin = r->revenue - r->cost;
            m->total.revenue += r->revenue;
            m->total.cost += r->cost;
            m->total.requests += r->requests;
            m->total.has_revenue |= r->has_revenue;
        }
        m->total.margin = m->total.revenue - m->total.cost;
        if (m->nrows > 1)
            qsort(m->rows, m->nrows, sizeof *m->rows, cmp_rows);
        if (m->nmonths > 1)
            qsort(m->months, m->nmonths, sizeof *m->months, cmp_months);
    }
    ic__smap_free(&b.cust);
    ic__smap_free(&b.tasks);
    ic__smap_free(&b.months);
    free(b.task_cost);
    free(b.task_cust);
    if (st != IC_OK) {
        ic_margin_free(m);
        return st;
    }
    *out = m;
    return IC_OK;
}

void ic_margin_free(ic_margin *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nrows; i++)
        free(m->rows[i].customer);
    free(m->rows);
    free(m->months);
    free(m);
}

/* ---- writing ---- */

static const char *status_of(const ic_margin_row *r, uint32_t target)
{
    if (!r->has_revenue)
        return r->cost > 0 ? "NO REVENUE" : "";
    if (r->cost > r->revenue)
        return "UNDER WATER";
    if (ic_cost_share_bp(r->cost, r->revenue) > (int64_t)target)
        return "above target";
    return "ok";
}

ic_status ic_margin_write(const ic_margin *m, ic_report_format fmt, FILE *f, ic_error *err)
{
    char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN], c[IC_MONEY_STRLEN], d[IC_MONEY_STRLEN], e[IC_MONEY_STRLEN], s[32];
    uint32_t tg = m->opts.target_bp;
    if (fmt == IC_FMT_JSON) {
        fprintf(f, "{\"target_cost_share_pct\":\"%u.%02u\",\"customers\":[", tg / 100, tg % 100);
        for (size_t i = 0; i <= m->nrows; i++) {
            const ic_margin_row *r = i < m->nrows ? &m->rows[i] : &m->total;
            if (i == m->nrows)
                fputs("],\"total\":", f);
            else if (i)
                fputc(',', f);
            fputc('{', f);
            if (r->customer) {
                fputs("\"customer\":", f);
                (void)ic_json_fputs(r->customer, f);
                fputc(',', f);
            }
            ic__share_text(s, sizeof s, r->cost, r->revenue);
            fprintf(f, "\"revenue_usd\":\"%s\",\"cost_usd\":\"%s\",\"margin_usd\":\"%s\","
                       "\"cost_share_pct\":%s%s%s,\"status\":\"%s\",\"requests\":%llu,\"tasks\":%llu",
                    ic_money_format(r->revenue, a, sizeof a), ic_money_format(r->cost, b, sizeof b),
                    ic_money_format(r->margin, c, sizeof c),
                    isdigit((unsigned char)s[strlen(s) - 1]) ? "\"" : "",
                    isdigit((unsigned char)s[strlen(s) - 1]) ? s : "null",
                    isdigit((unsigned char)s[strlen(s) - 1]) ? "\"" : "", status_of(r, tg),
                    (unsigned long long)r->requests, (unsigned long long)r->tasks);
            if (r->tasks)
                fprintf(f, ",\"task_cost_mean_usd\":\"%s\",\"task_cost_p50_usd\":\"%s\","
                           "\"task_cost_p95_usd\":\"%s\",\"task_cost_p99_usd\":\"%s\","
                           "\"task_price_for_target_usd\":\"%s\",\"tasks_over_price\":%llu,"
                           "\"tasks_over_target\":%llu",
                        ic_money_format(r->task_mean, a, sizeof a),
                        ic_money_format(r->task_p50, b, sizeof b),
                        ic_money_format(r->task_p95, c, sizeof c),
                        ic_money_format(r->task_p99, d, sizeof d),
                        ic_money_format(r->task_price, e, sizeof e),
                        (unsigned long long)r->tasks_over_price,
                        (unsigned long long)r->tasks_over_target);
            fputc('}', f);
        }
        fputs(",\"months\":[", f);
        for (size_t i = 0; i < m->nmonths; i++) {
            ic__share_text(s, sizeof s, m->months[i].cost, m->months[i].revenue);
            fprintf(f, "%s{\"month\":\"%s\",\"revenue_usd\":\"%s\",\"cost_usd\":\"%s\","
                       "\"cost_share_pct\":%s%s%s}",
                    i ? "," : "", m->months[i].month,
                    ic_money_format(m->months[i].revenue, a, sizeof a),
                    ic_money_format(m->months[i].cost, b, sizeof b),
                    isdigit((unsigned char)s[0]) ? "\"" : "", isdigit((unsigned char)s[0]) ? s : "null",
                    isdigit((unsigned char)s[0]) ? "\"" : "");
        }
        fputs("]}\n", f);
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    ic__trow *rows = calloc(m->nrows + m->nmonths + 2, sizeof *rows);
    if (!rows)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    const char *head[] = {"customer", "revenue_usd", "cost_usd", "cost_%", "margin_usd", "margin_%",
                          "status"};
    bool num[] = {false, true, true, true, true, true, false};
    size_t n = 0;
    for (size_t i = 0; i <= m->nrows; i++) {
        const ic_margin_row *r = i < m->nrows ? &m->rows[i] : &m->total;
        if (i == m->nrows && fmt == IC_FMT_CSV)
            break;
        ic__trow *t = &rows[n++];
        snprintf(t->c[0], IC__CELL, "%s", r->customer ? (r->customer[0] ? r->customer : "(none)") : "TOTAL");
        snprintf(t->c[1], IC__CELL, "%s", ic_money_format(r->revenue, a, sizeof a));
        snprintf(t->c[2], IC__CELL, "%s", ic_money_format(r->cost, a, sizeof a));
        ic__share_text(t->c[3], IC__CELL, r->cost, r->revenue);
        snprintf(t->c[4], IC__CELL, "%s", ic_money_format(r->margin, a, sizeof a));
        ic__share_text(t->c[5], IC__CELL, r->margin, r->revenue);
        snprintf(t->c[6], IC__CELL, "%s", status_of(r, tg));
    }
    if (fmt == IC_FMT_MD)
        fprintf(f, "### Margin (target: inference cost <= %u.%02u%% of revenue)\n\n", tg / 100, tg % 100);
    else if (fmt == IC_FMT_TABLE)
        fprintf(f, "margin, target: inference cost <= %u.%02u%% of revenue\n", tg / 100, tg % 100);
    ic__table_emit(f, fmt, head, 7, rows, n, num);
    if (fmt == IC_FMT_CSV) {
        free(rows);
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    /* months */
    n = 0;
    for (size_t i = 0; i < m->nmonths; i++) {
        ic__trow *t = &rows[n++];
        snprintf(t->c[0], IC__CELL, "%s", m->months[i].month);
        snprintf(t->c[1], IC__CELL, "%s", ic_money_format(m->months[i].revenue, a, sizeof a));
        snprintf(t->c[2], IC__CELL, "%s", ic_money_format(m->months[i].cost, a, sizeof a));
        ic__share_text(t->c[3], IC__CELL, m->months[i].cost, m->months[i].revenue);
    }
    if (n) {
        const char *mh[] = {"month", "revenue_usd", "cost_usd", "cost_%"};
        bool mn[] = {false, true, true, true};
        fputs(fmt == IC_FMT_MD ? "\n### By month\n\n" : "\nby month\n", f);
        ic__table_emit(f, fmt, mh, 4, rows, n, mn);
    }
    /* tasks */
    n = 0;
    for (size_t i = 0; i <= m->nrows; i++) {
        const ic_margin_row *r = i < m->nrows ? &m->rows[i] : &m->total;
        if (!r->tasks)
            continue;
        ic__trow *t = &rows[n++];
        snprintf(t->c[0], IC__CELL, "%s", r->customer ? (r->customer[0] ? r->customer : "(none)") : "TOTAL");
        snprintf(t->c[1], IC__CELL, "%llu", (unsigned long long)r->tasks);
        snprintf(t->c[2], IC__CELL, "%s", ic_money_format(r->task_mean, a, sizeof a));
        snprintf(t->c[3], IC__CELL, "%s", ic_money_format(r->task_p50, a, sizeof a));
        snprintf(t->c[4], IC__CELL, "%s", ic_money_format(r->task_p95, a, sizeof a));
        snprintf(t->c[5], IC__CELL, "%s", ic_money_format(r->task_p99, a, sizeof a));
        if (r->task_p50 > 0)
            snprintf(t->c[6], IC__CELL, "%.1fx", ic_money_to_double(r->task_p99) / ic_money_to_double(r->task_p50));
        else
            snprintf(t->c[6], IC__CELL, "-");
        snprintf(t->c[7], IC__CELL, "%s", ic_money_format(r->task_price, a, sizeof a));
        snprintf(t->c[8], IC__CELL, "%.1f", 100.0 * (double)r->tasks_over_price / (double)r->tasks);
        snprintf(t->c[9], IC__CELL, "%.1f", 100.0 * (double)r->tasks_over_target / (double)r->tasks);
    }
    if (n) {
        const char *th[] = {"tasks of", "tasks", "cost_mean", "p50", "p95", "p99", "p99/p50",
                            "price_for_target", "sold_at_loss_%", "over_target_%"};
        bool tn[] = {false, true, true, true, true, true, true, true, true, true};
        fprintf(f, fmt == IC_FMT_MD ? "\n### Per task (price that puts the mean task at %u.%02u%%)\n\n"
                                    : "\nper task: the price that puts the mean task at %u.%02u%% of "
                                      "it, and how many tasks would still cost more\n",
                tg / 100, tg % 100);
        ic__table_emit(f, fmt, th, 10, rows, n, tn);
    }
    free(rows);
    return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
}
