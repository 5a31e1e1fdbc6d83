/* forecast.c: cost and cost-share projections (forecast.h).
 *
 * History per calendar month comes from the rollups through report.h (requests, cost, per
 * provider/model). Growth is the slope of a least-squares line through log(requests per covered
 * day); the base is the last month's cost per day. The catalog fit reads every model's price
 * entries (ic_model_price_count / ic_model_price_entry): the undated price, then the dated ones in
 * time order. Each step whose input price differs from the one before is a dated price change,
 * filed under the class of the price before it. The same change (same day, same ratio) seen at
 * several resellers of one model counts once. A class's annual multiplier is the mean
 * log(after / before) of its changes per year of the window they span (at least a year). It is
 * used only when it rests on IC_TREND_MIN_CHANGES changes or more and shows a decline; otherwise
 * the class says why and stays at today's prices in the catalog scenario (a feed whose few dated
 * entries are mostly introductory prices ending would otherwise project prices rising). Doubles
 * are used for rates and projections only; the ledger's sums are read exactly and projections
 * rounded to the cent. */
#include "infercost/forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "infercost/timeutil.h"
#include "infercost/units.h"

static double dec(ic_decimal d)
{
    double v = (double)d.mant;
    for (int i = 0; i < d.scale; i++)
        v /= 10;
    return v;
}

int ic_price_class(double p) { return p < 0.5 ? 0 : p < 3 ? 1 : 2; }

static bool input_price(const ic_price_set *ps, int unit, double *out)
{
    const ic_unit_price *up = ps ? ic_price_set_find(ps, unit) : NULL;
    if (!up)
        return false;
    *out = dec(up->base);
    return *out > 0;
}

typedef struct pchange {
    int64_t t;
    double lr; /* log(after / before) */
    int cls;
    const char *model; /* its id without a reseller's "vendor/" prefix (the catalog's string) */
} pchange;

/* a model id as resellers share it: without a "vendor/" path, an AWS region and vendor prefix
 * ("global.anthropic.", "openai.") or an AWS version suffix ("-v1:0"), in lower case */
static void model_key(const char *id, char *out, size_t cap)
{
    const char *s = strrchr(id, '/');
    s = s ? s + 1 : id;
    static const char *const pre[] = {"global.", "regional.", "us.", "eu.", "apac.",
                                      "anthropic.", "openai.", "meta.", "amazon.", "mistral.",
                                      "cohere.", "ai21.", "deepseek.", "qwen.", "google."};
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
            if (!strncasecmp(s, pre[i], strlen(pre[i]))) {
                s += strlen(pre[i]);
                again = true;
            }
    }
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++)
        out[n] = (char)((s[n] >= 'A' && s[n] <= 'Z') ? s[n] + 32 : s[n]);
    out[n] = 0;
    char *v = strstr(out, "-v"); /* "-v1:0", "-v2" at the end */
    if (v && v[2] >= '0' && v[2] <= '9' && strspn(v + 2, "0123456789:") == strlen(v + 2))
        *v = 0;
}

/* whether two catalog model ids name one model sold by several resellers */
static bool same_model(const char *a, const char *b)
{
    char ka[256], kb[256];
    model_key(a, ka, sizeof ka);
    model_key(b, kb, sizeof kb);
    return !strcmp(ka, kb);
}

void ic_catalog_class_trends(const ic_catalog *c, ic_class_trend out[IC_PRICE_CLASSES])
{
    static const char *names[IC_PRICE_CLASSES] = {"budget", "mid", "frontier"};
    static const char *ranges[IC_PRICE_CLASSES] = {"< $0.50/M input", "$0.50-3/M input",
                                                   ">= $3/M input"};
    memset(out, 0, IC_PRICE_CLASSES * sizeof *out);
    for (int k = 0; k < IC_PRICE_CLASSES; k++) {
        out[k].name = names[k];
        out[k].range = ranges[k];
        out[k].annual = 1;
    }
    int unit = ic_unit_find("input_tokens");
    pchange *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t pi = 0; c && pi < ic_catalog_provider_count(c); pi++) {
        const ic_provider *p = ic_catalog_provider(c, pi);
        for (size_t mi = 0; mi < ic_provider_model_count(p); mi++) {
            const ic_model *m = ic_provider_model(p, mi);
            size_t ne = ic_model_price_count(m);
            double prev = 0;
            bool have = false;
            int first_cls = -1;
            for (size_t e = 0; e < ne && !have; e++) { /* the undated price comes first */
                const ic_price_entry *pe = ic_model_price_entry(m, e);
                if (pe->kind == IC_PRICE_ALWAYS)
                    have = input_price(pe->prices, unit, &prev);
            }
            int64_t last_t = INT64_MIN;
            for (;;) { /* then the dated ones, in time order */
                const ic_price_entry *next = NULL;
                for (size_t e = 0; e < ne; e++) {
                    const ic_price_entry *pe = ic_model_price_entry(m, e);
                    if (pe->kind == IC_PRICE_FROM_DATE && pe->start_ms > last_t &&
                        (!next || pe->start_ms < next->start_ms))
                        next = pe;
                }
                if (!next)
                    break;
                last_t = next->start_ms;
                double cur;
                if (!input_price(next->prices, unit, &cur))
                    continue;
                if (have && cur != prev) {
                    pchange x = {next->start_ms, log(cur / prev), ic_price_class(prev),
                                 ic_model_id(m)};
                    if (first_cls < 0)
                        first_cls = x.cls;
                    bool seen = false; /* a reseller repeating the same change of the model */
                    for (size_t i = 0; i < n && !seen; i++)
                        seen = v[i].t == x.t && v[i].cls == x.cls &&
                               fabs(v[i].lr - x.lr) < 1e-9 && same_model(v[i].model, x.model);
                    if (!seen) {
                        if (n == cap) {
                            size_t nc = cap ? cap * 2 : 32;
                            pchange *nv = realloc(v, nc * sizeof *nv);
                            if (!nv) /* out of memory: fit on what was read */
                                goto fit;
                            v = nv;
                            cap = nc;
                        }
                        v[n++] = x;
                    }
                }
                prev = cur;
                have = true;
            }
            if (first_cls >= 0) /* a model counts in the class it was in before its first change */
                out[first_cls].models++;
        }
    }
fit:
    for (int k = 0; k < IC_PRICE_CLASSES; k++) {
        ic_class_trend *t = &out[k];
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].cls != k)
                continue;
            if (!t->changes || v[i].t < t->first_ms)
                t->first_ms = v[i].t;
            if (!t->changes || v[i].t > t->last_ms)
                t->last_ms = v[i].t;
            t->changes++;
            t->cuts += v[i].lr < 0;
            t->rises += v[i].lr > 0;
            sum += v[i].lr;
        }
        if (!t->changes) {
            snprintf(t->why, sizeof t->why, "no dated price change in the catalog");
            continue;
        }
        t->years = (double)(t->last_ms - t->first_ms) / (365.25 * 86400000.0);
        if (t->years < 1)
            t->years = 1;
        t->annual = exp(sum / t->changes / t->years);
        if (t->changes < IC_TREND_MIN_CHANGES)
            snprintf(t->why, sizeof t->why,
                     "%d dated price change%s in the catalog: too few to fit a trend (%d needed)",
                     t->changes, t->changes == 1 ? "" : "s", IC_TREND_MIN_CHANGES);
        else if (t->annual >= 1)
            snprintf(t->why, sizeof t->why,
                     "its %d dated price changes (%d cut%s, %d rise%s) show prices rising "
                     "(x%.2f/yr), not falling",
                     t->changes, t->cuts, t->cuts == 1 ? "" : "s", t->rises,
                     t->rises == 1 ? "" : "s", t->annual);
        else
            t->usable = true;
    }
    free(v);
}

double ic_catalog_price_trend(const ic_catalog *c, double input_price_mtok, int *changes,
                              int *models)
{
    ic_class_trend t[IC_PRICE_CLASSES];
    ic_catalog_class_trends(c, t);
    int k = ic_price_class(input_price_mtok);
    if (changes)
        *changes = t[k].changes;
    if (models)
        *models = t[k].models;
    return t[k].annual;
}

/* ---- history ---- */

static int month_index(const char *m) { return atoi(m) * 12 + atoi(m + 5) - 1; }

static void month_name(int idx, char *buf)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%04d-%02d", idx / 12, idx % 12 + 1);
    memcpy(buf, tmp, 7);
    buf[7] = 0;
}

static int days_in(int idx)
{
    int y = idx / 12, m = idx % 12 + 1;
    int64_t a = ic_days_from_civil(y, (unsigned)m, 1);
    int64_t b = ic_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : (unsigned)m + 1, 1);
    return (int)(b - a);
}

typedef struct revm {
    char month[8];
    ic_money amount;
} revm;

typedef struct revs {
    revm *v;
    size_t n, cap;
    bool oom;
} revs;

static int on_rev(const char *c, const char *p, ic_money m, void *arg)
{
    revs *r = arg;
    (void)c;
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].month, p)) {
            r->v[i].amount += m;
            return 0;
        }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 16;
        revm *nv = realloc(r->v, nc * sizeof *nv);
        if (!nv) {
            r->oom = true;
            return 1;
        }
        r->v = nv;
        r->cap = nc;
    }
    snprintf(r->v[r->n].month, 8, "%.7s", p);
    r->v[r->n].amount = m;
    r->n++;
    return 0;
}

/* least-squares slope of y over x (the months' own positions: a month left out leaves its gap) */
static double slope(const double *x, const double *y, int n)
{
    if (n < 2)
        return 0;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double d = n * sxx - sx * sx;
    return d != 0 ? (n * sxy - sx * sy) / d : 0;
}

/* the days of each month (index from m0, n months) that have a call: rollups are per day */
typedef struct active {
    int m0, n;
    uint32_t *days; /* a bit per day of the month */
} active;

static int on_rollup_day(const ic_rollup *r, void *arg)
{
    active *a = arg;
    if (!r->requests)
        return 0;
    int64_t y;
    unsigned mo, d;
    ic_civil_from_days(r->day, &y, &mo, &d);
    int k = (int)(y * 12 + mo - 1) - a->m0;
    if (k >= 0 && k < a->n)
        a->days[k] |= 1u << (d - 1);
    return 0;
}

static ic_money cents(double usd)
{
    if (!(usd >= 0) || usd > 1e15)
        usd = usd > 1e15 ? 1e15 : 0;
    return (ic_money)llround(usd * 100) * (IC_PICO_PER_USD / 100);
}

ic_status ic_forecast_build(ic_ledger *l, const ic_forecast_opts *o, ic_forecast **out,
                            ic_error *err)
{
    *out = NULL;
    if (o->months < 1 || o->months > 120)
        return ic_error_set(err, IC_ERR_INVALID, "--months must be 1..120");
    ic_ledger_stats stats;
    ic_status st = ic_ledger_stats_get(l, &stats, err);
    if (st != IC_OK)
        return st;
    if (!stats.events)
        return ic_error_set(err, IC_ERR_NOT_FOUND, "the ledger is empty: nothing to project from");
    ic_report_opts ro = {.ndims = 3, .dims = {IC_DIM_MONTH, IC_DIM_PROVIDER, IC_DIM_MODEL}};
    ic_report *rep = NULL;
    if ((st = ic_report_build(l, &ro, &rep, err)) != IC_OK)
        return st;
    ic_forecast *f = calloc(1, sizeof *f);
    if (!f) {
        ic_report_free(rep);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    f->opts = *o;
    f->scenario[0] = "flat prices";
    f->scenario[1] = "5x cheaper/18mo";
    f->scenario[2] = "10x cheaper/12mo";
    f->scenario[3] = "catalog trend";
    /* months of history */
    int m0 = month_index(rep->months[0].month);
    int m1 = month_index(rep->months[rep->nmonths - 1].month);
    int nh = m1 - m0 + 1;
    int64_t first_day = stats.first_ms / 86400000, last_day = stats.last_ms / 86400000;
    double *lrate = calloc((size_t)nh, sizeof *lrate);
    double *req = calloc((size_t)nh, sizeof *req), *cost = calloc((size_t)nh, sizeof *cost);
    int *cov = calloc((size_t)nh, sizeof *cov);
    revs rv = {0};
    if (!lrate || !req || !cost || !cov) {
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rep->nmonths; i++) {
        int k = month_index(rep->months[i].month) - m0;
        req[k] = (double)rep->months[i].requests;
        cost[k] = ic_money_to_double(rep->months[i].cost);
    }
    for (int k = 0; k < nh; k++) {
        int y = (m0 + k) / 12, mo = (m0 + k) % 12 + 1;
        int64_t a = ic_days_from_civil(y, (unsigned)mo, 1), b = a + days_in(m0 + k) - 1;
        if (a < first_day)
            a = first_day;
        if (b > last_day)
            b = last_day;
        cov[k] = b >= a ? (int)(b - a + 1) : 0;
    }
    /* fit on months with at least 7 days of calls (fewer is too noisy), each at its own place
     * in the calendar; the rate is per day the ledger covers in the month */
    active act = {m0, nh, calloc((size_t)nh, sizeof(uint32_t))};
    if (!act.days) {
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = ic_ledger_scan_rollups(l, NULL, on_rollup_day, &act, err);
    int nfit = 0;
    double xs[240], ys[240];
    for (int k = 0; st == IC_OK && k < nh && nfit < 240; k++)
        if (__builtin_popcount(act.days[k]) >= 7 && cov[k] > 0 && req[k] > 0) {
            xs[nfit] = k;
            ys[nfit++] = log(req[k] / cov[k]);
        }
    free(act.days);
    if (st != IC_OK)
        goto out;
    f->history_months = nfit;
    f->usage_growth = exp(slope(xs, ys, nfit)) - 1;
    /* the run-rate of the last month (per covered day) */
    double base_per_day = cov[nh - 1] ? cost[nh - 1] / cov[nh - 1] : 0;
    /* revenue */
    if ((st = ic_ledger_scan_revenue(l, on_rev, &rv, err)) != IC_OK)
        goto out;
    if (rv.oom) {
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        goto out;
    }
    int r0 = INT32_MAX, r1 = INT32_MIN;
    for (size_t i = 0; i < rv.n; i++) {
        int k = month_index(rv.v[i].month);
        if (k < r0)
            r0 = k;
        if (k > r1)
            r1 = k;
    }
    f->have_revenue = rv.n > 0;
    double rev_last = 0;
    if (f->have_revenue) {
        double rx[240], ry[240];
        int nr = 0;
        for (int k = r0; k <= r1 && nr < 240; k++) {
            double v = 0;
            for (size_t i = 0; i < rv.n; i++)
                if (month_index(rv.v[i].month) == k)
                    v = ic_money_to_double(rv.v[i].amount);
            if (v > 0) {
                rx[nr] = k - r0;
                ry[nr++] = log(v);
            }
            if (k == r1)
                rev_last = v;
        }
        f->revenue_growth = exp(slope(rx, ry, nr)) - 1;
    }
    /* price scenarios */
    f->monthly_factor[0] = 1;
    f->monthly_factor[1] = pow(5.0, -1.0 / 18.0);
    f->monthly_factor[2] = pow(10.0, -1.0 / 12.0);
    /* the catalog trend, per price class of the models in use, weighted by the last month's
     * cost (the base the projections grow from) */
    ic_catalog_class_trends(o->catalog, f->classes);
    double cls_cost[IC_PRICE_CLASSES] = {0}, unclassed = 0, last_total = 0;
    {
        int unit = ic_unit_find("input_tokens");
        char lastm[8];
        month_name(m1, lastm);
        for (size_t i = 0; i < rep->nrows; i++) {
            const ic_report_row *row = &rep->rows[i];
            if (strcmp(row->key[0], lastm))
                continue;
            const ic_provider *p;
            const ic_model *m;
            ic_error e2;
            double w = ic_money_to_double(row->cost), price;
            if (w <= 0)
                continue;
            last_total += w;
            if (o->catalog &&
                ic_catalog_resolve(o->catalog, row->key[1][0] ? row->key[1] : NULL, row->key[2],
                                   &p, &m, &e2) == IC_OK &&
                input_price(ic_model_prices_at(m, o->now_ms), unit, &price))
                cls_cost[ic_price_class(price)] += w;
            else
                unclassed += w;
        }
    }
    double year = 0; /* the catalog scenario's factor after a year, as its costs mix the classes */
    for (int k = 0; k < IC_PRICE_CLASSES; k++) {
        f->class_share[k] = last_total > 0 ? cls_cost[k] / last_total : 0;
        if (f->class_share[k] <= 0)
            continue;
        f->catalog_changes += f->classes[k].changes;
        f->catalog_models += f->classes[k].models;
        if (f->classes[k].usable) {
            f->catalog_scenario = true;
            f->catalog_covered += f->class_share[k];
            year += f->class_share[k] * f->classes[k].annual;
        }
    }
    f->unclassed_share = last_total > 0 ? unclassed / last_total : 0;
    f->catalog_annual = f->catalog_scenario ? year + (1 - f->catalog_covered) : 1.0;
    f->monthly_factor[3] = pow(f->catalog_annual, 1.0 / 12.0);
    /* points: history, then projections */
    f->npoints = (size_t)nh + (size_t)o->months;
    f->points = calloc(f->npoints, sizeof *f->points);
    if (!f->points) {
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < nh; k++) {
        ic_forecast_point *pt = &f->points[k];
        month_name(m0 + k, pt->month);
        pt->history = true;
        pt->days = cov[k];
        pt->month_days = days_in(m0 + k);
        for (size_t i = 0; i < rep->nmonths; i++)
            if (month_index(rep->months[i].month) == m0 + k)
                for (int s = 0; s < IC_FORECAST_SCENARIOS; s++)
                    pt->cost[s] = rep->months[i].cost;
        for (size_t i = 0; i < rv.n; i++)
            if (month_index(rv.v[i].month) == m0 + k)
                pt->revenue = rv.v[i].amount;
    }
    for (int j = 1; j <= o->months; j++) {
        ic_forecast_point *pt = &f->points[nh - 1 + j];
        int idx = m1 + j;
        month_name(idx, pt->month);
        double usage = base_per_day * days_in(idx) * pow(1 + f->usage_growth, j);
        for (int s = 0; s < 3; s++)
            pt->cost[s] = cents(usage * pow(f->monthly_factor[s], j));
        /* catalog trend: each class at its own fitted rate, the rest at today's prices */
        double mix = 1 - f->catalog_covered;
        for (int k = 0; k < IC_PRICE_CLASSES; k++)
            if (f->class_share[k] > 0 && f->classes[k].usable)
                mix += f->class_share[k] * pow(f->classes[k].annual, j / 12.0);
        pt->cost[3] = f->catalog_scenario ? cents(usage * mix) : pt->cost[0];
        if (f->have_revenue) {
            /* revenue of a month after the last revenue month grows at the fitted rate */
            bool known = false;
            for (size_t i = 0; i < rv.n; i++)
                if (month_index(rv.v[i].month) == idx) {
                    pt->revenue = rv.v[i].amount;
                    known = true;
                }
            if (!known)
                pt->revenue = cents(rev_last * pow(1 + f->revenue_growth, idx - r1));
        }
    }
    /* crossings */
    const ic_forecast_point *lastp = &f->points[nh - 1];
    /* "now" is the last month at its run-rate: a month the ledger covers in part is set against
     * its whole month's revenue at its cost per day for the whole month */
    ic_money now_cost = lastp->cost[0];
    if (lastp->days > 0 && lastp->days < lastp->month_days)
        now_cost = now_cost * lastp->month_days / lastp->days;
    f->above_now = lastp->revenue > 0 &&
                   now_cost * 10000 > lastp->revenue * (ic_money)o->target_bp;
    for (int s = 0; s < IC_FORECAST_SCENARIOS; s++) {
        f->cross[s] = -1;
        for (size_t i = (size_t)nh; i < f->npoints && f->have_revenue; i++) {
            const ic_forecast_point *pt = &f->points[i];
            bool above = pt->revenue > 0 && pt->cost[s] * 10000 > pt->revenue * (ic_money)o->target_bp;
            if (above != f->above_now) {
                f->cross[s] = (int)i;
                break;
            }
        }
    }
out:
    free(lrate);
    free(req);
    free(cost);
    free(cov);
    free(rv.v);
    ic_report_free(rep);
    if (st != IC_OK) {
        ic_forecast_free(f);
        return st;
    }
    *out = f;
    return IC_OK;
}

void ic_forecast_free(ic_forecast *f)
{
    if (!f)
        return;
    free(f->points);
    free(f);
}

static void share(char *buf, size_t cap, ic_money cost, ic_money rev)
{
    if (rev <= 0)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.1f", 100.0 * ic_money_to_double(cost) / ic_money_to_double(rev));
}

ic_status ic_forecast_write(const ic_forecast *f, ic_report_format fmt, FILE *out, ic_error *err)
{
    char a[IC_MONEY_STRLEN], s[32];
    uint32_t tg = f->opts.target_bp;
    if (fmt == IC_FMT_JSON) {
        fprintf(out, "{\"usage_growth_monthly\":%.4f,\"revenue_growth_monthly\":%.4f,"
                     "\"history_months\":%d,\"catalog_trend_annual\":%.4f,\"target_pct\":\"%u.%02u\","
                     "\"scenarios\":[",
                f->usage_growth, f->have_revenue ? f->revenue_growth : 0.0, f->history_months,
                f->catalog_annual, tg / 100, tg % 100);
        for (int i = 0; i < IC_FORECAST_SCENARIOS; i++) {
            bool on = i < 3 || f->catalog_scenario;
            fprintf(out, "%s{\"name\":\"%s\",\"available\":%s,\"monthly_price_factor\":%.6f,"
                         "\"crosses\":%s%s%s}",
                    i ? "," : "", f->scenario[i], on ? "true" : "false", f->monthly_factor[i],
                    on && f->cross[i] >= 0 ? "\"" : "",
                    on && f->cross[i] >= 0 ? f->points[f->cross[i]].month : "null",
                    on && f->cross[i] >= 0 ? "\"" : "");
        }
        fprintf(out, "],\"catalog_covered_share\":%.4f,\"price_classes\":[", f->catalog_covered);
        for (int k = 0; k < IC_PRICE_CLASSES; k++) {
            const ic_class_trend *t = &f->classes[k];
            fprintf(out, "%s{\"class\":\"%s\",\"range\":\"%s\",\"spend_share\":%.4f,"
                         "\"dated_changes\":%d,\"cuts\":%d,\"rises\":%d,\"years\":%.2f,"
                         "\"annual_factor\":%.4f,\"fitted\":%s,\"why_not\":",
                    k ? "," : "", t->name, t->range, f->class_share[k], t->changes, t->cuts,
                    t->rises, t->years, t->annual, t->usable ? "true" : "false");
            if (t->usable)
                fputs("null}", out);
            else
                fprintf(out, "\"%s\"}", t->why); /* our own text: no quotes or escapes in it */
        }
        fputs("],\"months\":[", out);
        for (size_t i = 0; i < f->npoints; i++) {
            const ic_forecast_point *p = &f->points[i];
            fprintf(out, "%s{\"month\":\"%s\",\"actual\":%s,", i ? "," : "", p->month,
                    p->history ? "true" : "false");
            if (p->history) /* the days the ledger covers: fewer in a partial month */
                fprintf(out, "\"days\":%d,\"month_days\":%d,", p->days, p->month_days);
            fprintf(out, "\"revenue_usd\":\"%s\",\"cost_usd\":[",
                    ic_money_format(p->revenue, a, sizeof a));
            for (int k = 0; k < IC_FORECAST_SCENARIOS; k++) {
                if (k == 3 && !f->catalog_scenario)
                    fputs(",null", out);
                else
                    fprintf(out, "%s\"%s\"", k ? "," : "",
                            ic_money_format(p->cost[k], a, sizeof a));
            }
            fputs("]}", out);
        }
        fputs("]}\n", out);
        return ferror(out) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    if (fmt == IC_FMT_CSV) {
        fputs("month,kind,revenue_usd", out);
        for (int k = 0; k < IC_FORECAST_SCENARIOS; k++)
            fprintf(out, ",cost_usd %s,cost_%% %s", f->scenario[k], f->scenario[k]);
        fputc('\n', out);
        for (size_t i = 0; i < f->npoints; i++) {
            const ic_forecast_point *p = &f->points[i];
            /* partial: the ledger covers part of the month (the table says how many days) */
            fprintf(out, "%s,%s,%s", p->month,
                    !p->history ? "projected" : p->days < p->month_days ? "partial" : "actual",
                    ic_money_format(p->revenue, a, sizeof a));
            for (int k = 0; k < IC_FORECAST_SCENARIOS; k++) {
                if (k == 3 && !f->catalog_scenario) { /* no fitted decline: no numbers */
                    fputs(",,", out);
                    continue;
                }
                share(s, sizeof s, p->cost[k], p->revenue);
                fprintf(out, ",%s,%s", ic_money_format(p->cost[k], a, sizeof a), s);
            }
            fputc('\n', out);
        }
        return ferror(out) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    if (f->history_months < 2) /* slope() fits nothing from fewer: usage is held flat */
        fprintf(out, "usage growth: not fitted (%d month%s with 7 days or more of data; 2 needed): "
                     "usage held flat\n", f->history_months, f->history_months == 1 ? "" : "s");
    else
        fprintf(out, "usage growth (fitted on %d months of requests/day): %+.1f%%/month\n",
                f->history_months, 100 * f->usage_growth);
    if (f->have_revenue)
        fprintf(out, "revenue growth (fitted): %+.1f%%/month\n", 100 * f->revenue_growth);
    else
        fputs("no revenue in the ledger: cost share not projected (infercost revenue import)\n", out);
    int nsc = f->catalog_scenario ? IC_FORECAST_SCENARIOS : 3;
    fputs("catalog price history, per price class in use (one change seen at several resellers "
          "counts once):\n", out);
    for (int k = IC_PRICE_CLASSES - 1; k >= 0; k--) {
        const ic_class_trend *t = &f->classes[k];
        if (f->class_share[k] <= 0)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s (%s)", t->name, t->range);
        if (t->usable)
            fprintf(out, "  %-28s %5.1f%% of spend: x%.3f/yr, fitted on %d dated price changes "
                         "(%d cuts, %d rises) over %.1f yr\n",
                    head, 100 * f->class_share[k], t->annual, t->changes, t->cuts, t->rises,
                    t->years);
        else
            fprintf(out, "  %-28s %5.1f%% of spend: no fitted decline: %s\n", head,
                    100 * f->class_share[k], t->why);
    }
    if (f->unclassed_share > 0)
        fprintf(out, "  %-28s %5.1f%% of spend: not priced by the catalog\n", "other models",
                100 * f->unclassed_share);
    if (f->catalog_scenario)
        fprintf(out, "catalog trend scenario: the fitted declines cover %.1f%% of the spend (x%.3f "
                     "in the first year overall); the rest stays at today's prices\n",
                100 * f->catalog_covered, f->catalog_annual);
    else
        fputs("no catalog trend scenario: the catalog's price history gives no fitted decline for "
              "the price classes in use\n", out);
    fprintf(out, "%-8s  %-9s  %12s", "month", "", "revenue");
    for (int k = 0; k < nsc; k++)
        fprintf(out, "  %16s  %6s", f->scenario[k], "cost%");
    fputc('\n', out);
    for (size_t i = 0; i < f->npoints; i++) {
        const ic_forecast_point *p = &f->points[i];
        char rvt[40];
        snprintf(rvt, sizeof rvt, "%.2f", ic_money_to_double(p->revenue));
        char label[24];
        if (!p->history)
            snprintf(label, sizeof label, "projected");
        else if (p->days < p->month_days) /* the ledger's first or last month, not whole */
            snprintf(label, sizeof label, "%d days", p->days);
        else
            snprintf(label, sizeof label, "actual");
        fprintf(out, "%-8s  %-9s  %12s", p->month, label,
                p->revenue ? rvt : "-");
        for (int k = 0; k < nsc; k++) {
            char cv[40];
            snprintf(cv, sizeof cv, "%.2f", ic_money_to_double(p->cost[k]));
            share(s, sizeof s, p->cost[k], p->revenue);
            fprintf(out, "  %16s  %6s", cv, s);
        }
        fputc('\n', out);
    }
    if (f->have_revenue) {
        fprintf(out, "\ntarget: cost <= %u.%02u%% of revenue (%s now)\n", tg / 100, tg % 100,
                f->above_now ? "above it" : "within it");
        for (int k = 0; k < nsc; k++) {
            if (f->cross[k] >= 0)
                fprintf(out, "  %-18s %s the target in %s\n", f->scenario[k],
                        f->above_now ? "falls back under" : "crosses", f->points[f->cross[k]].month);
            else
                fprintf(out, "  %-18s %s within %d months\n", f->scenario[k],
                        f->above_now ? "stays above the target" : "stays under the target",
                        f->opts.months);
        }
    }
    return ferror(out) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
}
