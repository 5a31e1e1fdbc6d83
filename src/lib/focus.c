/* focus.c: FOCUS 1.2 CSV export (focus.h). Reads the daily rollups, writes one CSV row per
 * rollup and direction, in the order of (day, provider, model, customer, feature), whatever order
 * the ledger's backend returns them in. Amounts are the ledger's exact decimals; quantities are token counts.
 * Columns follow the FOCUS 1.2 column names; values that FOCUS allows to be null are left empty
 * when the ledger has nothing true to say (no region, no commitment discounts). */
#include "infercost/focus.h"

#include <stdlib.h>
#include <string.h>

#include "csvout.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"

static const char *cols[] = {
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "EffectiveCost", "InvoiceIssuerName",
    "ListCost", "PricingCategory", "PricingCurrency", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName",
    "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter",
    "SubAccountId", "SubAccountName", "Tags",
    /* the ledger's own */
    "x_Model", "x_Customer", "x_Feature", "x_Requests", "x_CacheReadTokens", "x_CacheWriteTokens",
};
#define NCOLS (sizeof cols / sizeof cols[0])

typedef struct ctx {
    const ic_focus_opts *o;
    FILE *f;
    uint64_t rows;
} ctx;

static void field(FILE *f, const char *s, bool last)
{
    ic__csv_field(f, s);
    fputc(last ? '\n' : ',', f);
}

static void iso(int64_t day, char *buf, size_t cap)
{
    ic_time_format(day * 86400000, buf, cap);
}

static int on_rollup(const ic_rollup *r, void *arg)
{
    ctx *c = arg;
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(r->day, &y, &m, &d);
    int64_t bp0 = ic_days_from_civil(y, m, 1);
    int64_t bp1 = ic_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1);
    char cs[40], ce[40], bs[40], be[40];
    iso(r->day, cs, sizeof cs);
    iso(r->day + 1, ce, sizeof ce);
    iso(bp0, bs, sizeof bs);
    iso(bp1, be, sizeof be);
    for (int dir = 0; dir < 2; dir++) {
        ic_money cost = dir == 0 ? r->cost_input : r->cost_output;
        uint64_t qty = dir == 0 ? r->input_tokens : r->output_tokens;
        /* a cost of neither direction (a per-request price) rides on the input row */
        if (dir == 0)
            cost += r->cost - r->cost_input - r->cost_output;
        if (cost == 0 && qty == 0)
            continue;
        char money[IC_MONEY_STRLEN], q[32], desc[1400], tags[1700], t1[800], t2[800], rid[600],
            svc[200], sku[700], reqs[32], crt[32], cwt[32];
        ic_money_format(cost, money, sizeof money);
        snprintf(q, sizeof q, "%llu", (unsigned long long)qty);
        snprintf(desc, sizeof desc, "%.300s %s tokens for %.200s/%.200s", r->model,
                 dir == 0 ? "input" : "output", r->customer[0] ? r->customer : "(no customer)",
                 r->feature[0] ? r->feature : "(no feature)");
        /* the ledger's names are at most 127 bytes: quoted, at most 6 bytes a byte (ic_json_quote) */
        if (!ic_json_quote(r->customer, strnlen(r->customer, 127), t1, sizeof t1) ||
            !ic_json_quote(r->feature, strnlen(r->feature, 127), t2, sizeof t2))
            return 1;
        snprintf(tags, sizeof tags, "{\"customer\":%s,\"feature\":%s}", t1, t2);
        snprintf(rid, sizeof rid, "%.250s/%.250s", r->provider, r->model);
        snprintf(svc, sizeof svc, "%.150s inference", r->provider);
        snprintf(sku, sizeof sku, "%.250s/%.250s/%s", r->provider, r->model,
                 dir == 0 ? "input" : "output");
        snprintf(reqs, sizeof reqs, "%llu", (unsigned long long)(dir == 0 ? r->requests : 0));
        snprintf(crt, sizeof crt, "%llu", (unsigned long long)(dir == 0 ? r->cache_read_tokens : 0));
        snprintf(cwt, sizeof cwt, "%llu", (unsigned long long)(dir == 0 ? r->cache_write_tokens : 0));
        const char *v[NCOLS] = {
            money, c->o->billing_account_id, c->o->billing_account_name, "Organization", "USD",
            be, bs, "Usage", "", desc, "Usage-Based", ce, cs, q, "Tokens", money, money,
            r->provider, money, "Standard", "USD", q, "Tokens", r->provider, r->provider, "", "",
            rid, r->model, "AI Model", "AI and Machine Learning", svc, "Generative AI", sku,
            dir == 0 ? "Input Tokens" : "Output Tokens", "", "", tags,
            r->model, r->customer, r->feature, reqs, crt, cwt,
        };
        for (size_t i = 0; i < NCOLS; i++)
            field(c->f, v[i], i + 1 == NCOLS);
        c->rows++;
    }
    return ferror(c->f) ? 1 : 0;
}

/* the rollups, kept to be sorted: their names copied */
typedef struct kept {
    ic_rollup *r;
    size_t n, cap;
    bool oom;
} kept;

static int keep(const ic_rollup *r, void *arg)
{
    kept *k = arg;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        ic_rollup *p = realloc(k->r, cap * sizeof *p);
        if (!p)
            return k->oom = true;
        k->r = p;
        k->cap = cap;
    }
    ic_rollup *x = &k->r[k->n];
    *x = *r;
    size_t lp = strlen(r->provider) + 1, lm = strlen(r->model) + 1, lc = strlen(r->customer) + 1,
           lf = strlen(r->feature) + 1;
    char *s = malloc(lp + lm + lc + lf);
    if (!s)
        return k->oom = true;
    x->provider = memcpy(s, r->provider, lp);
    x->model = memcpy(s + lp, r->model, lm);
    x->customer = memcpy(s + lp + lm, r->customer, lc);
    x->feature = memcpy(s + lp + lm + lc, r->feature, lf);
    k->n++;
    return 0;
}

static int cmp_rollup(const void *a, const void *b)
{
    const ic_rollup *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    int c = strcmp(x->provider, y->provider);
    if (!c)
        c = strcmp(x->model, y->model);
    if (!c)
        c = strcmp(x->customer, y->customer);
    return c ? c : strcmp(x->feature, y->feature);
}

ic_status ic_focus_export(ic_ledger *l, const ic_focus_opts *o, FILE *out, uint64_t *rows,
                          ic_error *err)
{
    ic_focus_opts oo = *o;
    if (!oo.billing_account_id || !oo.billing_account_id[0])
        oo.billing_account_id = "infercost";
    if (!oo.billing_account_name || !oo.billing_account_name[0])
        oo.billing_account_name = "infercost ledger";
    for (size_t i = 0; i < NCOLS; i++)
        field(out, cols[i], i + 1 == NCOLS);
    ctx c = {&oo, out, 0};
    kept k = {0};
    ic_status st = ic_ledger_scan_rollups(l, &oo.filter, keep, &k, err);
    if (st == IC_OK && k.oom)
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    if (st == IC_OK) {
        qsort(k.r, k.n, sizeof *k.r, cmp_rollup);
        for (size_t i = 0; i < k.n && !on_rollup(&k.r[i], &c); i++)
            ;
    }
    for (size_t i = 0; i < k.n; i++)
        free((char *)k.r[i].provider); /* the one block of its names */
    free(k.r);
    if (st == IC_OK && ferror(out))
        st = ic_error_set(err, IC_ERR_IO, "write error");
    if (rows)
        *rows = c.rows;
    return st;
}
