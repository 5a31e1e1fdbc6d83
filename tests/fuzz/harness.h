/* harness.h: the checks each fuzz target runs on one input, shared by the libFuzzer entry points
 * (tests/fuzz/fuzz_*.c) and the regression replay (tests/unit/test_fuzz_regress.c), so that a
 * saved reproducer goes through exactly the calls that found it. Each fz_* function returns 0
 * when the input passed every check, or 1 with a description of the first violated property in
 * why[]. Crashes and sanitizer reports are not caught here: they end the process, as they should.
 * It must not print (the callers decide) and must not depend on anything but the public API. */
#ifndef IC_FUZZ_HARNESS_H
#define IC_FUZZ_HARNESS_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/catalog.h"
#include "infercost/money.h"
#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/status.h"
#include "infercost/units.h"
#include "infercost/usage.h"

#define FZ_NOW_MS 1772359200000LL /* 2026-03-01T10:00:00Z: fixed, so runs are reproducible */

static int fz_fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fz_fail(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return 1;
}

/* A NUL-terminated private copy, so ASan sees reads past the input. */
static char *fz_dup(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, d, n);
    s[n] = 0;
    return s;
}

/* ------------------------------------------------------------ bignum (check money) ---- */

/* 384-bit unsigned integers, 32-bit limbs: enough for (2q+1) * per * 10^30 with q < 2^127. */
#define FZ_LIMBS 12
typedef struct fz_bn {
    uint32_t l[FZ_LIMBS];
} fz_bn;

static fz_bn fz_bn_u128(ic_u128 v)
{
    fz_bn r;
    for (int i = 0; i < FZ_LIMBS; i++, v >>= 32)
        r.l[i] = (uint32_t)v;
    return r;
}

static fz_bn fz_bn_mul(fz_bn a, fz_bn b)
{
    fz_bn r;
    uint64_t acc[FZ_LIMBS * 2] = {0};
    for (int i = 0; i < FZ_LIMBS; i++)
        for (int j = 0; j < FZ_LIMBS; j++) {
            uint64_t p = (uint64_t)a.l[i] * b.l[j];
            int k = i + j;
            while (p) {
                uint64_t s = acc[k] + (p & 0xffffffffu);
                acc[k] = s & 0xffffffffu;
                p = (p >> 32) + (s >> 32);
                k++;
                if (k >= FZ_LIMBS * 2)
                    break;
            }
        }
    for (int i = 0; i < FZ_LIMBS; i++)
        r.l[i] = (uint32_t)acc[i];
    return r;
}

static fz_bn fz_bn_pow10(unsigned n)
{
    fz_bn r = fz_bn_u128(1), ten = fz_bn_u128(10);
    while (n--)
        r = fz_bn_mul(r, ten);
    return r;
}

static int fz_bn_cmp(fz_bn a, fz_bn b)
{
    for (int i = FZ_LIMBS - 1; i >= 0; i--)
        if (a.l[i] != b.l[i])
            return a.l[i] < b.l[i] ? -1 : 1;
    return 0;
}

/* Is got the half-even rounding of quantity * price / per in pico-dollars? */
static int fz_check_money_of(uint64_t q, ic_decimal price, uint64_t per, ic_status st, ic_money got,
                             char *why, size_t cap)
{
    /* N = q * mant * 10^12 ; D = per * 10^scale ; want r with |N - rD| <= D/2, ties to even */
    fz_bn N = fz_bn_mul(fz_bn_mul(fz_bn_u128(q), fz_bn_u128(price.mant)), fz_bn_pow10(12));
    fz_bn D = fz_bn_mul(fz_bn_u128(per), fz_bn_pow10(price.scale));
    fz_bn N2 = fz_bn_mul(N, fz_bn_u128(2));
    char pb[64];
    ic_decimal_format(price, pb, sizeof pb);
    if (per == 0)
        return st == IC_OK ? fz_fail(why, cap, "ic_money_of(%llu, %s, 0) succeeded", (unsigned long long)q, pb) : 0;
    if (st == IC_ERR_RANGE) {
        /* acceptable only if the exact amount is beyond 2^120 pico-dollars (~1.3e24 USD) */
        fz_bn lim = fz_bn_mul(D, fz_bn_u128((ic_u128)1 << 120));
        if (fz_bn_cmp(N, lim) < 0)
            return fz_fail(why, cap,
                           "ic_money_of(%llu, %s, %llu) = IC_ERR_RANGE but the amount is below 2^120 pico-USD",
                           (unsigned long long)q, pb, (unsigned long long)per);
        return 0;
    }
    if (st != IC_OK)
        return fz_fail(why, cap, "ic_money_of(%llu, %s, %llu) failed with %s", (unsigned long long)q, pb,
                       (unsigned long long)per, ic_strerror(st));
    if (got < 0)
        return fz_fail(why, cap, "ic_money_of(%llu, %s, %llu) is negative", (unsigned long long)q, pb,
                       (unsigned long long)per);
    ic_u128 r = (ic_u128)got;
    fz_bn hi = fz_bn_mul(fz_bn_u128(2 * r + 1), D);
    int chi = fz_bn_cmp(N2, hi);
    int clo = -1;
    if (r > 0)
        clo = fz_bn_cmp(fz_bn_mul(fz_bn_u128(2 * r - 1), D), N2); /* lo <=> 2N */
    bool ok = chi <= 0 && clo <= 0;
    if (ok && (chi == 0 || clo == 0) && (r & 1))
        ok = false; /* a tie must round to even */
    if (r == 0 && chi == 0)
        ok = true;  /* exactly half a pico: 0 is even */
    if (!ok) {
        char mb[IC_MONEY_STRLEN];
        return fz_fail(why, cap, "ic_money_of(%llu, %s, %llu) = %s is not the half-even rounding",
                       (unsigned long long)q, pb, (unsigned long long)per, ic_money_format(got, mb, sizeof mb));
    }
    return 0;
}

/* The canonical form of a decimal text that ic_money_parse accepted: sign, no leading zeros,
 * no trailing fractional zeros, "0" for zero (what ic_money_format must print back). */
static void fz_canonical_amount(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, o = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    size_t ib = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t ie = i, fb = i, fe = i;
    if (i < n && s[i] == '.') {
        fb = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        fe = i;
    }
    while (ib < ie && s[ib] == '0')
        ib++;
    while (fe > fb && s[fe - 1] == '0')
        fe--;
    bool zero = ib == ie && fb == fe;
    if (neg && !zero && o + 1 < cap)
        out[o++] = '-';
    if (ib == ie && o + 1 < cap)
        out[o++] = '0';
    for (size_t k = ib; k < ie && o + 1 < cap; k++)
        out[o++] = s[k];
    if (fb < fe && o + 1 < cap)
        out[o++] = '.';
    for (size_t k = fb; k < fe && o + 1 < cap; k++)
        out[o++] = s[k];
    out[o] = 0;
}

/* --------------------------------------------------------------------- (d) money ---- */

static uint64_t fz_u64(const uint8_t *d, size_t n, size_t at)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (at + i < n ? d[at + i] : 0);
    return v;
}

static __attribute__((unused)) int fz_money(const uint8_t *data, size_t size, char *why, size_t cap)
{
    char *s = fz_dup(data, size);
    int bad = 0;
    char buf[64], buf2[64], canon[128];

    /* decimal: parse, format, parse back to the same value */
    ic_decimal d;
    ic_status st = ic_decimal_parse(s, size, &d);
    if (st == IC_OK) {
        if (d.scale > IC_DECIMAL_MAX_SCALE) {
            bad = fz_fail(why, cap, "ic_decimal_parse(\"%.60s\") scale %u > max", s, d.scale);
            goto out;
        }
        if (d.mant && d.scale && d.mant % 10 == 0) {
            bad = fz_fail(why, cap, "ic_decimal_parse(\"%.60s\") left trailing zeros", s);
            goto out;
        }
        ic_decimal_format(d, buf, sizeof buf);
        ic_decimal d2;
        st = ic_decimal_parse(buf, strlen(buf), &d2);
        if (st != IC_OK || d2.mant != d.mant || d2.scale != d.scale) {
            bad = fz_fail(why, cap, "decimal round trip: \"%.60s\" -> \"%s\" -> %s", s, buf, ic_strerror(st));
            goto out;
        }
        if (ic_decimal_cmp(d, d2) != 0) {
            bad = fz_fail(why, cap, "ic_decimal_cmp(x, x) != 0 for \"%s\"", buf);
            goto out;
        }
        uint64_t u;
        if (ic_decimal_to_u64(d, &u) != (d.scale == 0)) {
            bad = fz_fail(why, cap, "ic_decimal_to_u64 wrong for \"%s\"", buf);
            goto out;
        }
        /* the value of the text: a plain decimal literal (no exponent) must format canonically */
        if (!memchr(s, 'e', size) && !memchr(s, 'E', size) && size && s[0] != '-') {
            fz_canonical_amount(s, size, canon, sizeof canon);
            if (strcmp(canon, buf)) {
                bad = fz_fail(why, cap, "ic_decimal_parse(\"%.60s\") formats as \"%s\", expected \"%s\"", s, buf, canon);
                goto out;
            }
        }
        /* compare against a decimal built from the input bytes, with an exact bignum order */
        ic_decimal e = {fz_u64(data, size, 0), (uint8_t)(size ? data[size - 1] % (IC_DECIMAL_MAX_SCALE + 1) : 0)};
        while (e.scale && e.mant && e.mant % 10 == 0)
            e.mant /= 10, e.scale--;
        fz_bn x = fz_bn_mul(fz_bn_u128(d.mant), fz_bn_pow10(IC_DECIMAL_MAX_SCALE - d.scale));
        fz_bn y = fz_bn_mul(fz_bn_u128(e.mant), fz_bn_pow10(IC_DECIMAL_MAX_SCALE - e.scale));
        int want = fz_bn_cmp(x, y), got = ic_decimal_cmp(d, e);
        if (want != got) {
            ic_decimal_format(e, buf2, sizeof buf2);
            bad = fz_fail(why, cap, "ic_decimal_cmp(%s, %s) = %d, expected %d", buf, buf2, got, want);
            goto out;
        }
        /* amount of a quantity at this price */
        uint64_t q = size >= 8 ? fz_u64(data, size, size - 8) : 1000000;
        static const uint64_t pers[] = {1, 1000, 1000000, 3600, 1000000000000ULL};
        uint64_t per = pers[size % 5];
        ic_money m;
        st = ic_money_of(q, d, per, &m);
        if ((bad = fz_check_money_of(q, d, per, st, m, why, cap)))
            goto out;
        q %= IC_USAGE_VALUE_MAX + 1; /* the range pricing actually sees */
        st = ic_money_of(q, d, per, &m);
        if ((bad = fz_check_money_of(q, d, per, st, m, why, cap)))
            goto out;
    }

    /* money text: parse; what formats back must be the canonical form of the text */
    ic_money m;
    st = ic_money_parse(s, size, &m);
    if (st == IC_OK) {
        ic_money_format(m, buf, sizeof buf);
        fz_canonical_amount(s, size, canon, sizeof canon);
        if (strcmp(buf, canon)) {
            bad = fz_fail(why, cap, "ic_money_parse(\"%.60s\") formats back as \"%s\", expected \"%s\"", s, buf,
                          canon);
            goto out;
        }
    }

    /* any 128-bit amount: format, parse back */
    if (size >= 16) {
        ic_u128 raw = (ic_u128)fz_u64(data, size, 0) << 64 | fz_u64(data, size, 8);
        ic_money a = (ic_money)raw, b = 0;
        ic_money_format(a, buf, sizeof buf);
        if (strlen(buf) + 1 > IC_MONEY_STRLEN) {
            bad = fz_fail(why, cap, "ic_money_format wrote %zu chars, IC_MONEY_STRLEN is %d", strlen(buf),
                          IC_MONEY_STRLEN);
            goto out;
        }
        st = ic_money_parse(buf, strlen(buf), &b);
        if (st != IC_OK || a != b) {
            ic_money_format(b, buf2, sizeof buf2);
            bad = fz_fail(why, cap, "money round trip \"%s\" -> %s \"%s\"", buf, ic_strerror(st), buf2);
            goto out;
        }
    }
out:
    free(s);
    return bad;
}

/* With FZ_SKIP_KNOWN set in the environment, inputs that would only re-trigger a crash already
 * saved in tests/fuzz/regress/ are skipped, so a long run can find the next one. Never set by the
 * regression replay. Known: a "type" member that is null in a stream event (usage_stream.c). */
static bool fz_skip_known(const char *s, size_t n)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FZ_SKIP_KNOWN") != NULL;
    if (!on)
        return false;
    for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "type", 4)); p += 4) {
        const char *q = p + 4, *e = s + n;
        if (q < e && *q == '\\')
            q++;
        if (q >= e || *q != '"')
            continue;
        q++;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        if (q >= e || *q != ':')
            continue;
        q++;
        while (q < e && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        if (e - q >= 4 && !memcmp(q, "null", 4))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- (a) record lines ---- */

static const ic_catalog *fz_catalog(void)
{
    static ic_catalog *c;
    if (!c) {
        ic_error err = {0};
        if (ic_catalog_open(&c, NULL, &err) != IC_OK) {
            fprintf(stderr, "fuzz: cannot open the embedded catalog: %s\n", err.msg);
            abort();
        }
    }
    return c;
}

#define FZ_CMP_STR(f)                                                                        \
    if (strcmp(a->f, b->f))                                                                  \
        return fz_fail(why, cap, "field " #f " differs: fast \"%.80s\" general \"%.80s\"", a->f, b->f);
#define FZ_CMP_NUM(f)                                                                        \
    if (a->f != b->f)                                                                        \
        return fz_fail(why, cap, "field " #f " differs: fast %lld general %lld", (long long)a->f,   \
                       (long long)b->f);

static int fz_record_diff(const ic_record *a, const ic_record *b, char *why, size_t cap)
{
    FZ_CMP_STR(provider)
    FZ_CMP_STR(model)
    FZ_CMP_STR(api_flavor)
    FZ_CMP_NUM(has_time)
    if (a->has_time)
        FZ_CMP_NUM(t_ms)
    FZ_CMP_NUM(from_response)
    FZ_CMP_NUM(usage.present)
    for (int u = 0; u < IC_UNITS_MAX; u++)
        if (ic_usage_get(&a->usage, u) != ic_usage_get(&b->usage, u))
            return fz_fail(why, cap, "usage.%s differs: fast %llu general %llu", ic_unit_name(u),
                           (unsigned long long)ic_usage_get(&a->usage, u),
                           (unsigned long long)ic_usage_get(&b->usage, u));
    FZ_CMP_STR(id)
    FZ_CMP_STR(customer)
    FZ_CMP_STR(feature)
    FZ_CMP_STR(task)
    FZ_CMP_STR(key_id)
    FZ_CMP_STR(model_served)
    FZ_CMP_STR(routed_from)
    FZ_CMP_STR(status)
    FZ_CMP_NUM(latency_ms)
    FZ_CMP_NUM(cache_hit)
    FZ_CMP_NUM(batch)
    FZ_CMP_STR(tags)
    return 0;
}

/* Properties of a priced cost: items sum to the totals, each item is its own rounding, the
 * output line is JSON whose total_usd is the total. */
static int fz_check_cost(const ic_record *r, const ic_cost *cost, char *why, size_t cap)
{
    ic_money sum = 0, in = 0, outp = 0;
    if (cost->nitems < 0 || cost->nitems > IC_UNITS_MAX)
        return fz_fail(why, cap, "nitems %d", cost->nitems);
    for (int i = 0; i < cost->nitems; i++) {
        const ic_cost_item *it = &cost->items[i];
        ic_money m;
        if (it->unit < 0 || it->unit >= ic_unit_count())
            return fz_fail(why, cap, "item %d: unit %d", i, it->unit);
        ic_status st = ic_money_of(it->charged, it->price, it->per, &m);
        if (st != IC_OK || m != it->usd)
            return fz_fail(why, cap, "item %s: usd is not ic_money_of(charged, price, per)", ic_unit_name(it->unit));
        if (it->usd < 0)
            return fz_fail(why, cap, "item %s: negative amount", ic_unit_name(it->unit));
        sum += it->usd;
        if (ic_unit_is_input(it->unit))
            in += it->usd;
        if (ic_unit_is_output(it->unit))
            outp += it->usd;
    }
    if (sum != cost->total || in != cost->input || outp != cost->output)
        return fz_fail(why, cap, "total/input/output are not the sums of the items");
    size_t bcap = 1 << 16;
    char *buf = malloc(bcap);
    if (!buf)
        abort();
    size_t n = ic_cost_to_json(r, cost, buf, bcap);
    int bad = 0;
    if (!n) {
        bad = fz_fail(why, cap, "ic_cost_to_json returned 0 with a 64 KiB buffer");
        goto out;
    }
    if (strlen(buf) != n) {
        bad = fz_fail(why, cap, "ic_cost_to_json: length %zu but strlen %zu", n, strlen(buf));
        goto out;
    }
    json_tokener *tok = json_tokener_new();
    json_object *o = json_tokener_parse_ex(tok, buf, (int)n);
    bool okjson = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == n;
    json_tokener_free(tok);
    json_object *tv;
    char tb[IC_MONEY_STRLEN];
    if (!okjson || !o || !json_object_object_get_ex(o, "total_usd", &tv) ||
        strcmp(json_object_get_string(tv), ic_money_format(cost->total, tb, sizeof tb))) {
        bad = fz_fail(why, cap, "ic_cost_to_json output is not JSON with the total: %.200s", buf);
        json_object_put(o);
        goto out;
    }
    json_object_put(o);
    /* every smaller buffer: 0 or the same text, never a write past cap */
    for (size_t c2 = n; c2 + 4 > n && c2 > 0; c2--) {
        char *small = malloc(c2);
        if (!small)
            abort();
        size_t m = ic_cost_to_json(r, cost, small, c2);
        if (m && (m >= c2 || memcmp(small, buf, m + 1))) {
            bad = fz_fail(why, cap, "ic_cost_to_json with cap %zu wrote %zu bytes", c2, m);
            free(small);
            goto out;
        }
        free(small);
    }
out:
    free(buf);
    return bad;
}

static __attribute__((unused)) int fz_record(const uint8_t *data, size_t size, char *why, size_t cap)
{
    const ic_catalog *c = fz_catalog();
    if (fz_skip_known((const char *)data, size))
        return 0;
    char *line = fz_dup(data, size);
    ic_record *r1 = malloc(sizeof *r1), *r2 = malloc(sizeof *r2);
    ic_error e1, e2;
    int bad = 0;
    if (!r1 || !r2)
        abort();
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    ic_record_set_fast_path(true);
    ic_status s1 = ic_record_parse(c, line, size, r1, &e1);
    ic_record_set_fast_path(false);
    ic_status s2 = ic_record_parse(c, line, size, r2, &e2);
    ic_record_set_fast_path(true);
    if (s1 != s2) {
        bad = fz_fail(why, cap, "status differs: fast path %s, general path %s: fast \"%s\" general \"%s\"",
                      ic_strerror(s1), ic_strerror(s2), s1 ? e1.msg : "", s2 ? e2.msg : "");
        goto out;
    }
    if (s1 != IC_OK) {
        size_t ml = strlen(e2.msg);
        if (ml >= 9 && !strcmp(e2.msg + ml - 9, " continue")) {
            /* json-c's internal state name, not a description: say what is wrong with the line */
            bad = fz_fail(why, cap, "unhelpful error message \"%s\"", e2.msg);
            goto out;
        }
        if (strcmp(e1.msg, e2.msg))
            bad = fz_fail(why, cap, "messages differ: fast \"%s\" general \"%s\"", e1.msg, e2.msg);
        if (!e1.msg[0])
            bad = fz_fail(why, cap, "failure %s with an empty message", ic_strerror(s1));
        goto out;
    }
    if ((bad = fz_record_diff(r1, r2, why, cap)))
        goto out;
    {
        /* an accepted line must be strict JSON (no comments, single quotes, trailing commas) */
        json_tokener *tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *o = json_tokener_parse_ex(tok, line, (int)size);
        bool strict = o && json_tokener_get_error(tok) == json_tokener_success;
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        json_object_put(o);
        while (strict && end < size && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r' || line[end] == '\n'))
            end++;
        if (!strict || end != size) {
            bad = fz_fail(why, cap, "accepted a line that is not strict JSON");
            goto out;
        }
        /* a NUL in a key silently cuts the key short ("model\u0000x" is read as "model") */
        if (memmem(line, size, "\\u0000", 6) && !r1->from_response) { /* values with NUL are refused */
            bad = fz_fail(why, cap, "accepted a key containing \\u0000");
            goto out;
        }
    }
    ic_cost *cost = malloc(sizeof *cost);
    if (!cost)
        abort();
    memset(&e1, 0, sizeof e1);
    ic_status st = ic_record_price(c, r1, FZ_NOW_MS, cost, &e1);
    if (st == IC_OK) {
        bad = fz_check_cost(r1, cost, why, cap);
        ic_money saved;
        if (!bad && ic_price_cache_saving(cost->model, &r1->usage, r1->has_time ? r1->t_ms : FZ_NOW_MS, &saved,
                                          &e1) == IC_OK &&
            saved < 0 && ic_usage_get(&r1->usage, ic_unit_find("cache_read_tokens")) == 0)
            bad = fz_fail(why, cap, "cache saving %lld without cache reads", (long long)saved);
    } else if (!e1.msg[0]) {
        bad = fz_fail(why, cap, "ic_record_price failed (%s) with an empty message", ic_strerror(st));
    }
    free(cost);
out:
    free(r1);
    free(r2);
    free(line);
    return bad;
}

/* ------------------------------------------------------------- (c) SSE streams ---- */

static const char *const fz_flavours[][2] = {
    {"openai", "chat"},        {"openai", "responses"}, {"openai", "realtime"},  {"anthropic", NULL},
    {"anthropic", "chat"},     {"google", NULL},        {"google", "chat"},      {"aws", "anthropic"},
    {"azure", "responses"},    {"cohere", NULL},        {"mistral", NULL},       {"openai", "embeddings"},
    {"x-ai", "chat"},          {"deepseek", "chat"},    {"groq", NULL},          {"openai", "nosuch"},
};
#define FZ_NFLAVOURS (sizeof fz_flavours / sizeof fz_flavours[0])

static int fz_after_usage(const ic_catalog *c, const ic_provider *p, const ic_usage *u, const char *model,
                          char *why, size_t cap)
{
    char js[4096];
    ic_error err = {0};
    size_t n = ic_usage_to_json(u, js, sizeof js);
    if (!n)
        return fz_fail(why, cap, "ic_usage_to_json returned 0");
    json_object *o = json_tokener_parse(js);
    if (!o)
        return fz_fail(why, cap, "ic_usage_to_json is not JSON: %s", js);
    json_object_put(o);
    (void)ic_usage_validate(u, &err);
    if (model && model[0]) {
        ic_cost cost;
        ic_record r;
        memset(&r, 0, sizeof r);
        memset(&err, 0, sizeof err);
        ic_status st = ic_price_call(c, ic_provider_id(p), model, u, FZ_NOW_MS, &cost, &err);
        if (st == IC_OK)
            return fz_check_cost(&r, &cost, why, cap);
        if (!err.msg[0])
            return fz_fail(why, cap, "ic_price_call failed (%s) with an empty message", ic_strerror(st));
    }
    return 0;
}

static __attribute__((unused)) int fz_stream(const uint8_t *data, size_t size, char *why, size_t cap)
{
    const ic_catalog *c = fz_catalog();
    if (size < 1 || fz_skip_known((const char *)data, size))
        return 0;
    const char *pid = fz_flavours[data[0] % FZ_NFLAVOURS][0];
    const char *fl = fz_flavours[data[0] % FZ_NFLAVOURS][1];
    const ic_provider *p = ic_catalog_find_provider(c, pid);
    if (!p)
        return fz_fail(why, cap, "provider %s not in the catalog", pid);
    char *text = fz_dup(data + 1, size - 1);
    int bad = 0;
    ic_usage u;
    ic_error err;
    char model[256];
    for (int pass = 0; pass < 2 && !bad; pass++) {
        memset(&err, 0, sizeof err);
        memset(model, 'x', sizeof model);
        ic_usage_clear(&u);
        ic_status st = pass == 0 ? ic_usage_extract_stream(p, fl, text, size - 1, &u, model, sizeof model, &err)
                                 : ic_usage_extract(p, fl, text, size - 1, &u, model, sizeof model, &err);
        if (st == IC_OK) {
            if (!memchr(model, 0, sizeof model))
                bad = fz_fail(why, cap, "%s: model not NUL-terminated", pass ? "extract" : "extract_stream");
            else
                bad = fz_after_usage(c, p, &u, model, why, cap);
        } else if (!err.msg[0]) {
            bad = fz_fail(why, cap, "extract failed (%s) with an empty message", ic_strerror(st));
        }
    }
    /* a tiny model buffer must be respected */
    if (!bad) {
        char small[4] = {'x', 'x', 'x', 'x'};
        ic_usage_clear(&u);
        if (ic_usage_extract_stream(p, fl, text, size - 1, &u, small, 3, &err) == IC_OK && small[3] != 'x')
            bad = fz_fail(why, cap, "extract_stream wrote past model_cap");
    }
    free(text);
    return bad;
}

/* ------------------------------------------------------------------ (b) overlays ---- */

#ifndef FZ_BASE_CATALOG
#define FZ_BASE_CATALOG "tests/fuzz/base_catalog.json"
#endif

static char *fz_base_text(size_t *len)
{
    static char *text;
    static size_t n;
    if (!text) {
        const char *path = getenv("FZ_BASE_CATALOG");
        FILE *f = fopen(path ? path : FZ_BASE_CATALOG, "rb");
        if (!f) {
            fprintf(stderr, "fuzz: cannot read %s (run from the repository root or set FZ_BASE_CATALOG)\n",
                    path ? path : FZ_BASE_CATALOG);
            abort();
        }
        text = malloc(1 << 20);
        if (!text)
            abort();
        n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    *len = n;
    return text;
}

/* Known overlay crashes (saved in regress/): a null where the loader expects a string. */
static bool fz_overlay_known_tree(json_object *o, int depth)
{
    static const char *const keys[] = {"api_flavor", "dest", "field", "start_time", "end_time"};
    if (depth > 200)
        return true;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if (!v && !strcmp(k, keys[i]))
                    return true;
            if (!strcmp(k, "fallback_model_providers") && json_object_is_type(v, json_type_array))
                for (size_t i = 0; i < json_object_array_length(v); i++)
                    if (!json_object_array_get_idx(v, i))
                        return true;
            if (v && fz_overlay_known_tree(v, depth + 1))
                return true;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *v = json_object_array_get_idx(o, i);
            if (v && fz_overlay_known_tree(v, depth + 1))
                return true;
        }
    }
    return false;
}

static bool fz_overlay_known(const char *text, size_t n)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FZ_SKIP_KNOWN") != NULL;
    if (!on)
        return false;
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *o = json_tokener_parse_ex(tok, text, (int)n);
    json_tokener_free(tok);
    bool known = o && fz_overlay_known_tree(o, 0);
    json_object_put(o);
    return known;
}

static __attribute__((unused)) int fz_overlay(const uint8_t *data, size_t size, char *why, size_t cap)
{
    size_t blen;
    const char *base = fz_base_text(&blen);
    if (fz_overlay_known((const char *)data, size))
        return 0;
    ic_catalog *c = NULL;
    ic_error err = {0};
    if (ic_catalog_open_text(&c, base, blen, "base_catalog.json", &err) != IC_OK) {
        fprintf(stderr, "fuzz: base catalog: %s\n", err.msg);
        abort();
    }
    char *text = fz_dup(data, size);
    int bad = 0;
    size_t np = ic_catalog_provider_count(c), nm = ic_catalog_model_count(c);
    /* resolve something first, so the cache must be invalidated by the overlay */
    const ic_provider *rp;
    const ic_model *rm;
    (void)ic_catalog_resolve(c, "openai", "gpt-5.4", &rp, &rm, &err);
    memset(&err, 0, sizeof err);
    ic_status st = ic_catalog_overlay_text(c, text, size, "fuzz.json", &err);
    if (st != IC_OK) {
        if (!err.msg[0])
            bad = fz_fail(why, cap, "overlay failed (%s) with an empty message", ic_strerror(st));
        else if (ic_catalog_provider_count(c) != np || ic_catalog_model_count(c) != nm)
            bad = fz_fail(why, cap, "a failed overlay changed the catalog (%zu/%zu providers, %zu/%zu models)",
                          np, ic_catalog_provider_count(c), nm, ic_catalog_model_count(c));
        goto out;
    }
    /* a genai-prices overlay adds exactly the models it lists (merged or new providers) */
    {
        json_object *o = json_tokener_parse(text);
        if (o && json_object_is_type(o, json_type_array)) {
            size_t listed = 0;
            for (size_t i = 0; i < json_object_array_length(o); i++) {
                json_object *pv = json_object_array_get_idx(o, i), *ms;
                if (json_object_object_get_ex(pv, "models", &ms) && json_object_is_type(ms, json_type_array))
                    listed += json_object_array_length(ms);
            }
            if (ic_catalog_model_count(c) != nm + listed)
                bad = fz_fail(why, cap, "overlay listing %zu models changed the model count from %zu to %zu", listed,
                              nm, ic_catalog_model_count(c));
        }
        json_object_put(o);
        if (bad)
            goto out;
    }
    /* price every model of every provider (bounded), resolve it by its own id */
    ic_usage u;
    ic_usage_clear(&u);
    static const char *const keys[] = {"input_tokens", "cache_read_tokens", "output_tokens", "cache_write_tokens",
                                       "input_audio_tokens"};
    static const uint64_t vals[] = {200000, 1000, 777, 500, 10};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int unit = ic_unit_find(keys[k]);
        if (unit >= 0)
            ic_usage_set(&u, unit, vals[k], NULL);
    }
    int budget = 300;
    for (size_t i = 0; i < ic_catalog_provider_count(c) && budget > 0 && !bad; i++) {
        const ic_provider *p = ic_catalog_provider(c, i);
        const char *pid = ic_provider_id(p);
        bool plain = pid && strlen(pid) < 200;
        for (const char *q = pid; plain && *q; q++)
            plain = !(*q >= 'A' && *q <= 'Z') && (unsigned char)*q > ' ' && (unsigned char)*q < 0x80;
        /* an id with capitals or spaces is unreachable by id in the reference too (it lower-cases
         * and trims the query, then compares ids exactly): only plain ids must be found */
        if (!pid || (plain && ic_catalog_find_provider(c, pid) == NULL)) {
            bad = fz_fail(why, cap, "provider %zu (%s) is not found by its own id", i, pid ? pid : "(null)");
            break;
        }
        for (size_t j = 0; j < ic_provider_model_count(p) && budget > 0 && !bad; j++, budget--) {
            const ic_model *m = ic_provider_model(p, j);
            /* merged providers: old models keep the old provider struct (same id) by design */
            if (!ic_model_id(m) || !ic_model_provider(m) || strcmp(ic_provider_id(ic_model_provider(m)), pid)) {
                bad = fz_fail(why, cap, "model %zu of %s: no id or wrong provider", j, pid);
                break;
            }
            for (size_t k = 0; k < ic_model_price_count(m); k++) {
                const ic_price_entry *pe = ic_model_price_entry(m, k);
                if (!pe || !pe->prices)
                    bad = fz_fail(why, cap, "model %s: price entry %zu has no prices", ic_model_id(m), k);
            }
            static const int64_t times[] = {FZ_NOW_MS, 0, 4102444800000LL, FZ_NOW_MS + 13 * 3600000LL};
            for (size_t t = 0; t < 4 && !bad; t++) {
                ic_cost cost;
                ic_error e2 = {0};
                ic_status ps = ic_price_usage(m, &u, times[t], &cost, &e2);
                if (ps == IC_OK) {
                    bad = fz_check_cost(NULL, &cost, why, cap);
                } else if (!e2.msg[0]) {
                    bad = fz_fail(why, cap, "ic_price_usage(%s) failed (%s) with an empty message", ic_model_id(m),
                                  ic_strerror(ps));
                }
                ic_money saved;
                (void)ic_price_cache_saving(m, &u, times[t], &saved, &e2);
            }
            ic_error e3 = {0};
            (void)ic_catalog_resolve(c, pid, ic_model_id(m), &rp, &rm, &e3);
            const char *ids[3];
            (void)ic_catalog_suggest(c, ic_model_id(m), ids, 3);
        }
    }
    /* a second overlay of the same text must also work (it merges into what it added) */
    if (!bad) {
        memset(&err, 0, sizeof err);
        if (ic_catalog_overlay_text(c, text, size, "fuzz.json", &err) != IC_OK)
            bad = fz_fail(why, cap, "the same overlay applied twice failed the second time: %s", err.msg);
    }
    (void)ic_catalog_resolve(c, "openai", "gpt-5.4", &rp, &rm, &err);
    (void)ic_catalog_resolve(c, NULL, "claude-sonnet-4-5", &rp, &rm, &err);
out:
    free(text);
    ic_catalog_free(c);
    return bad;
}

#endif
