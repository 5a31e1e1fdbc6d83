/* pricing.c: usage + model + time -> itemized exact cost (pricing.h). It follows the reference
 * calculator's semantics step for step (leaf values by nesting, tier cliffs on total input, one
 * request per call, the Groq Whisper 10-second minimum) but in integers, and it refuses what the
 * reference would only warn about. It must not resolve models or parse anything: callers hand it
 * a resolved model and a normalized usage record. */
#include "infercost/pricing.h"

#include <string.h>

#include "catalog_internal.h"
#include "units_internal.h"
#include "usage_internal.h"

/* The reference's B(): the usage value of unit t, or 0 when absent, refusing absences that would
 * under-charge (a positive descendant or a positive overlap whose join is t). */
static ic_status absent_value(uint64_t pos, int t, uint64_t *out, ic_error *err)
{
    /* t is absent; pos: the units reported with a positive value */
    uint64_t desc = pos & ic__unit_desc[t];
    if (desc)
        return ic_error_set(err, IC_ERR_INVALID,
                            "missing usage value for %s with positive reported descendant %s",
                            ic_unit_name(t), ic_unit_name(__builtin_ctzll(desc)));
    /* two positive units whose join is t are both ancestors of t */
    uint64_t cand = pos & ic__unit_anc[t];
    for (uint64_t a = cand; a && (a & (a - 1)); a &= a - 1) {
        int r = __builtin_ctzll(a);
        for (uint64_t b = a & (a - 1); b; b &= b - 1) {
            int c = __builtin_ctzll(b);
            if ((ic__unit_compat[r] >> c & 1) && !(ic__unit_desc[r] >> c & 1) &&
                !(ic__unit_desc[c] >> r & 1) && ic__unit_join_tab[r][c] == t)
                return ic_error_set(err, IC_ERR_INVALID,
                                    "missing usage value for %s with positive reported overlap "
                                    "%s and %s", ic_unit_name(t), ic_unit_name(r), ic_unit_name(c));
        }
    }
    *out = 0;
    return IC_OK;
}

/* val: the values by unit id of the present units */
static inline ic_status usage_value(uint64_t present, const uint64_t *val, uint64_t pos, int t,
                                    uint64_t *out, ic_error *err)
{
    if (present >> t & 1) {
        *out = val[t];
        return IC_OK;
    }
    return absent_value(pos, t, out, err);
}

static ic_decimal rate(const ic_unit_price *up, uint64_t total_input)
{
    ic_decimal p = up->base;
    for (size_t i = 0; i < up->ntiers; i++)
        if (total_input > up->tiers[i].start)
            p = up->tiers[i].price;
    return p;
}

static bool is_groq_whisper(const ic_model *m)
{
    return m->id[0] == 'w' && m->provider && !strcmp(m->provider->id, "groq") &&
           (!strcmp(m->id, "whisper-large-v3") || !strcmp(m->id, "whisper-large-v3-turbo"));
}

ic_status ic_price_usage(const ic_model *m, const ic_usage *usage, int64_t t_ms, ic_cost *out,
                         ic_error *err)
{
    const ic_price_set *ps = ic_model_prices_at(m, t_ms);
    out->provider = m->provider;
    out->model = m;
    out->total = out->input = out->output = 0;
    out->nitems = 0;
    if (ps->invalid)
        return ic_error_set(err, IC_ERR_NO_PRICE, "%s", ps->invalid);
    uint64_t present = usage->present, val[IC_UNITS_MAX];
    ic__usage_expand(usage, val);
    ic_status st = ic__usage_validate_dense(present, val, err);
    if (st != IC_OK)
        return st;
    if (is_groq_whisper(m)) {
        /* Groq bills transcription with a 10-second minimum per request */
        int as = ic_unit_find("audio_seconds"), ias = ic_unit_find("input_audio_seconds");
        if (as >= 0 && ias >= 0 && ((present >> as & 1) || (present >> ias & 1))) {
            uint64_t d = (present >> as & 1) && val[as] != 0 ? val[as]
                         : (present >> ias & 1)          ? val[ias]
                                                         : 0;
            if (d > 0 && d < 10)
                d = 10;
            val[as] = val[ias] = d;
            present |= 1ULL << as | 1ULL << ias;
        }
    }
    /* usage the model prices nowhere (itself or through an ancestor): reported in out->unpriced;
     * a call whose positive usage is all unpriced is refused below, never a silent $0 */
    uint64_t positive = 0;
    out->unpriced = 0;
    for (uint64_t bits = present; bits; bits &= bits - 1) {
        int k = __builtin_ctzll(bits);
        if (val[k] > 0 && ic__unit_reported[k]) {
            positive |= 1ULL << k;
            if (!(ps->priced >> k & 1) && !(ic__unit_anc[k] & ps->priced))
                out->unpriced |= 1ULL << k;
        }
    }
    if (ps->n == 0) {
        out->unpriced = 0; /* a model the feed lists with no prices at all is free (":free" tiers) */
        return IC_OK;
    }
    if (positive && positive == out->unpriced && ps->requests_unit < 0) {
        int k = __builtin_ctzll(positive);
        return ic_error_set(err, IC_ERR_NO_PRICE, "%s has no price for %s (%llu reported)%s", m->id,
                            ic_unit_name(k), (unsigned long long)val[k],
                            positive & (positive - 1) ? " nor for the other units reported" : "");
    }
    uint64_t total_input = 0;
    if (ps->any_tiered) {
        if ((st = usage_value(present, val, positive, ps->input_unit, &total_input, err)) != IC_OK)
            return st;
    }
    uint64_t leaf[IC_UNITS_MAX];
    for (int i = 0; i < ps->norder; i++) {
        int n = ps->order[i];
        uint64_t s;
        if ((st = usage_value(present, val, positive, n, &s, err)) != IC_OK)
            return st;
        uint64_t sub = 0;
        for (uint64_t d = ic__unit_desc[n] & ps->priced; d; d &= d - 1) {
            int k = __builtin_ctzll(d);
            if (ic__unit_reported[k])
                sub += leaf[k]; /* computed already: descendants have more dimensions */
        }
        if (sub > s)
            return ic_error_set(err, IC_ERR_INVALID,
                                "invalid usage: more-specific usage under %s totals %llu, which "
                                "exceeds %s (%llu)", ic_unit_name(n), (unsigned long long)sub,
                                ic_unit_name(n), (unsigned long long)s);
        leaf[n] = s - sub;
    }
    if (ps->requests_unit >= 0)
        leaf[ps->requests_unit] = 1;
    for (size_t i = 0; i < ps->n; i++) {
        const ic_unit_price *up = &ps->items[i];
        uint64_t q = leaf[up->unit];
        if (q == 0)
            continue;
        ic_cost_item *it = &out->items[out->nitems++];
        it->unit = up->unit;
        it->charged = q;
        it->price = rate(up, total_input);
        it->per = ps->per[i];
        uint64_t exact;
        if (ps->pico[i] && !__builtin_mul_overflow(q, ps->pico[i], &exact))
            it->usd = (ic_money)exact;
        else if ((st = ic_money_of(q, it->price, it->per, &it->usd)) != IC_OK)
            return ic_error_set(err, IC_ERR_RANGE, "%s: %llu is too large to price",
                                ic_unit_name(up->unit), (unsigned long long)q);
        /* a call of more than IC_CALL_COST_MAX is refused: then sums of calls (a --summary, a
         * report) cannot overflow 128 bits before some 10^14 of them */
        if (it->usd > IC_CALL_COST_MAX || out->total + it->usd > IC_CALL_COST_MAX)
            return ic_error_set(err, IC_ERR_RANGE, "%s: this call would cost more than "
                                "$1,000,000,000,000 (%llu at the model's price): too large to price",
                                ic_unit_name(up->unit), (unsigned long long)q);
        out->total += it->usd;
        if (ic__unit_in[up->unit])
            out->input += it->usd;
        else if (ic__unit_out[up->unit])
            out->output += it->usd;
    }
    return IC_OK;
}

ic_status ic_price_call(const ic_catalog *c, const char *provider, const char *model,
                        const ic_usage *u, int64_t t_ms, ic_cost *out, ic_error *err)
{
    const ic_provider *p;
    const ic_model *m;
    ic_status st = ic_catalog_resolve(c, provider, model, &p, &m, err);
    if (st != IC_OK)
        return st;
    st = ic_price_usage(m, u, t_ms, out, err);
    out->provider = p;
    return st;
}

ic_status ic_price_cache_saving(const ic_model *m, const ic_usage *u, int64_t t_ms,
                                ic_money *saved, ic_error *err)
{
    *saved = 0;
    int in = ic_unit_find("input_tokens"), cr = ic_unit_find("cache_read_tokens");
    uint64_t q = ic_usage_get(u, cr);
    const ic_price_set *ps = ic_model_prices_at(m, t_ms);
    const ic_unit_price *pin = ic_price_set_find(ps, in), *pcr = ic_price_set_find(ps, cr);
    if (q == 0 || !pin || !pcr)
        return IC_OK; /* nothing read from cache, or cache reads are charged as plain input */
    uint64_t total_input = ic_usage_get(u, in);
    ic_money full, paid;
    if (ic_money_of(q, rate(pin, total_input), ic_unit_per(in), &full) != IC_OK ||
        ic_money_of(q, rate(pcr, total_input), ic_unit_per(cr), &paid) != IC_OK)
        return ic_error_set(err, IC_ERR_RANGE, "cache_read_tokens too large to price");
    *saved = full - paid;
    return IC_OK;
}
