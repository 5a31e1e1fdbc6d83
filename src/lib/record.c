/* record.c: parsing and pricing of one input line (record.h), and the `cost` output line.
 *
 * Two parsers feed one set of field rules (apply_*), so both accept and refuse the same lines
 * with the same messages. The fast path is a focused scanner for flat lines of strings, numbers,
 * booleans and a flat "usage" object: it never allocates and is what makes `infercost cost` run
 * at millions of lines per second (BENCHMARKS.md: json-c alone caps it several times lower).
 * Anything else (escapes, a "response" body, a "stream", malformed JSON) falls back to json-c,
 * which also produces the error message for malformed lines. */
#include "infercost/record.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <ctype.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "unicode_tables.h"
#include "infercost/timeutil.h"
#include "units_internal.h"
#include "usage_internal.h"

/* -1: not decided yet (IC_RECORD_FAST_PATH is read on first use), 0: off, 1: on */
static _Atomic int fast_path_state = -1;

void ic_record_set_fast_path(bool enabled)
{
    atomic_store(&fast_path_state, enabled ? 1 : 0);
}

static bool fast_path_enabled(void)
{
    int st = atomic_load_explicit(&fast_path_state, memory_order_relaxed);
    if (st < 0) {
        const char *e = getenv("IC_RECORD_FAST_PATH");
        int want = !(e && !strcmp(e, "0")), expected = -1;
        atomic_compare_exchange_strong(&fast_path_state, &expected, want);
        st = atomic_load(&fast_path_state);
    }
    return st == 1;
}

/* --------------------------------------------------------------------- field rules ---- */

typedef enum { V_STRING, V_NUMBER, V_BOOL, V_NULL, V_OBJECT, V_OTHER } vkind;

bool ic_utf8_valid(const char *s, size_t n)
{
    size_t i = 0, l;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ULL)
            break;
    }
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        if (ic__utf8_decode_strict((const unsigned char *)s + i, n - i, &l) == UINT32_MAX)
            return false;
        i += l;
    }
    return true;
}

static ic_status copy_str(char *dst, size_t cap, const char *field, const char *s, size_t n,
                          ic_error *err)
{
    if (n >= cap)
        return ic_error_set(err, IC_ERR_INVALID, "%s: longer than %zu bytes", field, cap - 1);
    /* kept as written, so what the ledger holds any output can print (JSON, CSV) */
    if (!ic_utf8_valid(s, n))
        return ic_error_set(err, IC_ERR_INVALID, "%s: not valid UTF-8", field);
    memcpy(dst, s, n);
    dst[n] = 0;
    return IC_OK;
}

typedef struct pending {
    const char *stream;
    size_t stream_len;
    json_object *response; /* borrowed from the json-c tree */
    bool has_usage;
} pending;

/* A top-level scalar field. */
static ic_status apply_scalar(ic_record *r, const char *key, size_t kl, vkind k, const char *s,
                              size_t n, pending *pd, ic_error *err)
{
#define KEY(lit) (kl == sizeof(lit) - 1 && !memcmp(key, lit, kl))
#define STRFIELD(lit, dst)                                                                     \
    if (KEY(lit)) {                                                                            \
        if (k == V_NULL)                                                                       \
            return IC_OK;                                                                      \
        if (k != V_STRING)                                                                     \
            return ic_error_set(err, IC_ERR_INVALID, "%s: expected a string", lit);            \
        return copy_str(dst, sizeof dst, lit, s, n, err);                                      \
    }
    STRFIELD("provider", r->provider)
    STRFIELD("model", r->model)
    STRFIELD("api_flavor", r->api_flavor)
    STRFIELD("api_url", r->api_url)
    STRFIELD("id", r->id)
    STRFIELD("customer", r->customer)
    STRFIELD("feature", r->feature)
    STRFIELD("task", r->task)
    STRFIELD("key_id", r->key_id)
    STRFIELD("model_served", r->model_served)
    STRFIELD("routed_from", r->routed_from)
    STRFIELD("request_hash", r->request_hash)
    if (KEY("status")) {
        if (k == V_NULL)
            return IC_OK;
        if (k != V_STRING && k != V_NUMBER)
            return ic_error_set(err, IC_ERR_INVALID, "status: expected a string or a number");
        if (k == V_NUMBER) { /* an HTTP status: json-c would clamp a longer number, which the
                              * fast path keeps as written */
            bool http = n >= 1 && n <= 3;
            for (size_t i = 0; i < n && http; i++)
                http = s[i] >= '0' && s[i] <= '9';
            if (!http)
                return ic_error_set(err, IC_ERR_INVALID,
                                    "status: a number must be an HTTP status (0 to 999)");
        }
        return copy_str(r->status, sizeof r->status, "status", s, n, err);
    }
    if (KEY("timestamp")) {
        if (k == V_NULL)
            return IC_OK;
        /* consecutive lines often share a timestamp: remember the last one parsed */
        static _Thread_local char last[40];
        static _Thread_local size_t last_n;
        static _Thread_local int64_t last_ms;
        if (k == V_STRING && n && n == last_n && n < sizeof last && !memcmp(s, last, n)) {
            r->t_ms = last_ms;
            r->has_time = true;
            return IC_OK;
        }
        if (k != V_STRING || ic_time_parse(s, n, &r->t_ms) != IC_OK)
            return ic_error_set(err, IC_ERR_INVALID,
                                "timestamp: expected an RFC 3339 time like \"2026-03-01T10:00:00Z\", got \"%.*s\"",
                                (int)(n > 40 ? 40 : n), s);
        r->has_time = true;
        if (n < sizeof last) {
            memcpy(last, s, n);
            last_n = n;
            last_ms = r->t_ms;
        }
        return IC_OK;
    }
    if (KEY("latency_ms")) {
        ic_decimal d;
        uint64_t v;
        if (k == V_NULL)
            return IC_OK;
        if (k != V_NUMBER || ic_decimal_parse(s, n, &d) != IC_OK || !ic_decimal_to_u64(d, &v) ||
            v > (uint64_t)INT64_MAX)
            return ic_error_set(err, IC_ERR_INVALID, "latency_ms: expected a whole number of milliseconds");
        r->latency_ms = (int64_t)v;
        return IC_OK;
    }
    if (KEY("cache_hit") || KEY("batch") || KEY("fallback")) {
        if (k == V_NULL)
            return IC_OK;
        if (k != V_BOOL)
            return ic_error_set(err, IC_ERR_INVALID, "%.*s: expected true or false", (int)kl, key);
        *(KEY("batch") ? &r->batch : KEY("fallback") ? &r->fallback : &r->cache_hit) = s[0] == 't';
        return IC_OK;
    }
    if (KEY("stream")) {
        if (k == V_NULL)
            return IC_OK;
        if (k != V_STRING)
            return ic_error_set(err, IC_ERR_INVALID, "stream: expected the SSE transcript as a string");
        pd->stream = s;
        pd->stream_len = n;
        return IC_OK;
    }
    if (KEY("usage") || KEY("response") || KEY("tags"))
        return k == V_NULL ? IC_OK
                           : ic_error_set(err, IC_ERR_INVALID, "%.*s: expected an object", (int)kl, key);
    return ic_error_set(err, IC_ERR_INVALID, "unknown field \"%.*s\"", (int)(kl > 60 ? 60 : kl), key);
#undef STRFIELD
#undef KEY
}

/* Checks after all fields: what the line must contain. */
static ic_status finish(const ic_catalog *c, ic_record *r, pending *pd, ic_error *err)
{
    /* the reference looks at the API URL when no provider is named, or when the provider is
     * "litellm" and the model does not start with a known "provider/" */
    bool litellm = false;
    if (r->provider[0] && r->api_url[0] && !strcasecmp(r->provider, "litellm") &&
        !ic_catalog_find_provider(c, r->provider)) {
        const char *slash = strchr(r->model, '/');
        char prefix[64];
        litellm = true;
        if (slash && slash != r->model && slash[1] && (size_t)(slash - r->model) < sizeof prefix) {
            memcpy(prefix, r->model, (size_t)(slash - r->model));
            prefix[slash - r->model] = 0;
            litellm = ic_catalog_find_provider(c, prefix) == NULL;
        }
    }
    if ((!r->provider[0] || litellm) && r->api_url[0]) {
        const ic_provider *p = ic_catalog_find_provider_by_url(c, r->api_url);
        if (!p)
            return ic_error_set(err, IC_ERR_UNKNOWN_PROVIDER, "api_url: no provider's api_pattern matches %s",
                                r->api_url);
        snprintf(r->provider, sizeof r->provider, "%s", ic_provider_id(p));
    }
    int sources = pd->has_usage + (pd->response != NULL) + (pd->stream != NULL);
    if (sources == 0)
        return ic_error_set(err, IC_ERR_INVALID, "no usage: give \"usage\", \"response\" or \"stream\"");
    if (sources > 1)
        return ic_error_set(err, IC_ERR_INVALID, "give only one of \"usage\", \"response\" and \"stream\"");
    if (pd->has_usage) {
        if (!r->model[0])
            return ic_error_set(err, IC_ERR_INVALID, "model: missing");
        if (!r->usage.present)
            return ic_error_set(err, IC_ERR_INVALID, "usage is empty: nothing to price");
        return IC_OK;
    }
    if (!r->provider[0])
        return ic_error_set(err, IC_ERR_INVALID,
                            "provider: required with a response or stream (it chooses the extractor)");
    const ic_provider *p = ic_catalog_find_provider(c, r->provider);
    if (!p)
        return ic_error_set(err, IC_ERR_UNKNOWN_PROVIDER, "unknown provider \"%s\"", r->provider);
    char model[sizeof r->model];
    ic_status st = pd->response
                       ? ic__usage_extract_json(p, r->api_flavor, pd->response, &r->usage, model,
                                                sizeof model, err)
                       : ic__usage_extract_stream(p, r->api_flavor, pd->stream, pd->stream_len,
                                                  true, &r->usage, model, sizeof model, err);
    if (st != IC_OK) {
        ic_error_prefix(err, "%s", pd->response ? "response" : "stream");
        return st;
    }
    if (!r->model[0]) {
        if (!model[0])
            return ic_error_set(err, IC_ERR_INVALID, "model: not in the line nor in the response");
        memcpy(r->model, model, sizeof model);
    }
    r->from_response = true;
    return IC_OK;
}

static void record_init(ic_record *r)
{
    r->provider[0] = r->model[0] = r->api_flavor[0] = r->api_url[0] = 0;
    r->id[0] = r->customer[0] = r->feature[0] = r->task[0] = r->key_id[0] = 0;
    r->model_served[0] = r->routed_from[0] = r->status[0] = r->tags[0] = r->request_hash[0] = 0;
    r->t_ms = 0;
    r->has_time = r->from_response = r->cache_hit = r->batch = r->fallback = false;
    r->usage_incomplete = false;
    r->latency_ms = -1;
    ic_usage_clear(&r->usage);
}

/* ----------------------------------------------------------------------- fast path ---- */

typedef enum { FAST_DONE, FAST_BAIL } fast_result;

static const char *ws(const char *p, const char *e)
{
    /* one comparison for the usual case, a byte that is not white space at all */
    while (p < e && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* a string without escapes or control characters; *s..*n its content */
/* high bit set in each byte of w that is '"', '\\' or below 0x20 (exact, no borrows) */
static inline uint64_t special_bytes(uint64_t w)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
    uint64_t q = w ^ 0x2222222222222222ULL, bs = w ^ 0x5c5c5c5c5c5c5c5cULL;
    uint64_t is_q = ~(((q & lo7) + lo7) | q) & ~lo7;
    uint64_t is_bs = ~(((bs & lo7) + lo7) | bs) & ~lo7;
    uint64_t is_ctl = ~(((w & lo7) + 0x6060606060606060ULL) | w) & ~lo7;
    return is_q | is_bs | is_ctl;
}

/* a string without escapes or control characters; *s..*n its content. One pass, eight bytes at
 * a time: the first special byte must be the closing quote. */
static inline __attribute__((always_inline)) bool fstring(const char **pp, const char *e, const char **s, size_t *n)
{
    const char *p = *pp;
    if (p >= e || *p != '"')
        return false;
    p++;
    const char *c = p;
#if defined(__SSE2__)
    /* sixteen bytes a step (SSE2 is part of x86-64): '"', '\\' or a byte below 0x20 */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);
    for (; c + 16 <= e; c += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)c);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                   _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)); /* v <= 0x1f */
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) {
            c += __builtin_ctz(m);
            goto found;
        }
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; c + 8 <= e; c += 8) {
        uint64_t w;
        memcpy(&w, c, 8);
        uint64_t m = special_bytes(w);
        if (m) {
            c += __builtin_ctzll(m) >> 3; /* little-endian: the lowest set byte comes first */
            goto found;
        }
    }
#endif
    while (c < e && *c != '"' && *c != '\\' && (unsigned char)*c >= 0x20)
        c++;
    if (c >= e)
        return false;
found:
    if (*c != '"')
        return false; /* an escape or a control character: the general path decides */
    *s = p;
    *n = (size_t)(c - p);
    *pp = c + 1;
    return true;
}

/* isdigit() without the locale table: JSON digits are ASCII */
static inline bool is_digit(char c) { return (unsigned char)(c - '0') < 10; }

static inline __attribute__((always_inline)) bool fnumber(const char **pp, const char *e, const char **s, size_t *n)
{
    const char *p = *pp, *b = p;
    if (p < e && *p == '-')
        p++;
    if (p >= e || !is_digit(*p))
        return false;
    if (*p == '0' && p + 1 < e && is_digit(p[1]))
        return false; /* leading zero: let json-c word the error */
    while (p < e && is_digit(*p))
        p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p))
            return false;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return false;
        while (p < e && is_digit(*p))
            p++;
    }
    *s = b;
    *n = (size_t)(p - b);
    *pp = p;
    return true;
}

/* skip any JSON value (for "tags"), strings with escapes allowed; false if malformed */
static bool fskip(const char **pp, const char *e, int depth)
{
    const char *p = ws(*pp, e);
    if (p >= e || depth > 32)
        return false;
    if (*p == '"') {
        for (p++; p < e && *p != '"'; p++)
            if (*p == '\\') { /* an escape json-c takes: \uXXXX or one of "\/bfnrt */
                if (++p >= e)
                    return false;
                if (*p == 'u') {
                    for (int k = 1; k <= 4; k++)
                        if (p + k >= e || !isxdigit((unsigned char)p[k]))
                            return false;
                    p += 4;
                } else if (!strchr("\"\\/bfnrt", *p)) {
                    return false;
                }
            } else if ((unsigned char)*p < 0x20) {
                return false;
            }
        if (p >= e)
            return false;
        *pp = p + 1;
        return true;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = ws(p + 1, e);
        if (p < e && *p == close) {
            *pp = p + 1;
            return true;
        }
        for (;;) {
            if (obj) {
                p = ws(p, e);
                if (p >= e || *p != '"' || !fskip(&p, e, depth + 1))
                    return false;
                p = ws(p, e);
                if (p >= e || *p != ':')
                    return false;
                p++;
            }
            if (!fskip(&p, e, depth + 1))
                return false;
            p = ws(p, e);
            if (p < e && *p == ',') {
                p++;
                continue;
            }
            if (p < e && *p == close) {
                *pp = p + 1;
                return true;
            }
            return false;
        }
    }
    const char *s;
    size_t n;
    if (fnumber(&p, e, &s, &n)) {
        *pp = p;
        return true;
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(e - p) >= l && !memcmp(p, lits[i], l)) {
            *pp = p + l;
            return true;
        }
    }
    return false;
}

/* Canonical text of a tags object: compact JSON as json-c writes it (no "\/"), whichever path
 * read the line, so that the ledger stores one spelling. */
static ic_status tags_text(json_object *o, ic_record *r, ic_error *err)
{
    json_object *v;
    r->usage_incomplete = json_object_object_get_ex(o, "usage_incomplete", &v) &&
                          json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    return copy_str(r->tags, sizeof r->tags, "tags", t, strlen(t), err);
}

static json_object *parse_strict(const char *s, size_t n, enum json_tokener_error *je, size_t *end)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) {
        *je = json_tokener_error_depth; /* no tokener: report as unparseable */
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    *je = json_tokener_get_error(tok);
    *end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (*je != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

/* The fast path decides a line only when it is sure the general path would decide the same:
 * the whole line must be well-formed JSON of the flat shape, with no duplicate field and no
 * escapes; otherwise it bails. Fields are applied in order and the first error wins, but the
 * scan goes on to the end, so a later syntax error still bails (the general path then reports
 * the syntax error, as it must). */
static fast_result fast_parse(const ic_catalog *c, const char *line, size_t len, ic_record *r,
                              ic_status *st, ic_error *err)
{
    const char *p = line, *e = line + len;
    pending pd = {0};
    ic_status first = IC_OK;
    const char *seen_keys[24];
    size_t seen_len[24], nseen = 0;
    uint64_t seen_bloom = 0; /* a cheap filter before comparing a key with the ones seen */
#define APPLY(call)                                                                            \
    do {                                                                                       \
        if (first == IC_OK)                                                                    \
            first = (call);                                                                    \
    } while (0)
    p = ws(p, e);
    if (p >= e || *p != '{')
        return FAST_BAIL;
    p = ws(p + 1, e);
    if (p < e && *p == '}')
        p++;
    else
        for (;;) {
            const char *k, *s;
            size_t kl, n;
            p = ws(p, e);
            if (!fstring(&p, e, &k, &kl))
                return FAST_BAIL;
            uint64_t bit = 1ULL << ((kl * 7 + (unsigned char)k[0] + (kl ? (unsigned char)k[kl - 1] : 0)) & 63);
            if (seen_bloom & bit)
                for (size_t i = 0; i < nseen; i++)
                    if (seen_len[i] == kl && !memcmp(seen_keys[i], k, kl))
                        return FAST_BAIL; /* a repeated field: json-c's rule (the last wins) decides */
            seen_bloom |= bit;
            if (nseen == sizeof seen_keys / sizeof seen_keys[0])
                return FAST_BAIL;
            seen_keys[nseen] = k;
            seen_len[nseen++] = kl;
            p = ws(p, e);
            if (p >= e || *p != ':')
                return FAST_BAIL;
            p = ws(p + 1, e);
            if (p >= e)
                return FAST_BAIL;
            if (kl == 5 && !memcmp(k, "usage", 5) && *p == '{') {
                p = ws(p + 1, e);
                pd.has_usage = true;
                /* counts gathered by unit id and packed once at the end of the object */
                uint64_t usage_keys_seen = 0, staged[IC_UNITS_MAX];
                int nstaged = 0;
                if (p < e && *p == '}') {
                    p++;
                } else
                    for (;;) {
                        const char *uk;
                        size_t ukl;
                        char key[64];
                        p = ws(p, e);
                        if (!fstring(&p, e, &uk, &ukl) || ukl >= sizeof key)
                            return FAST_BAIL; /* long keys: the general path words the error */
                        p = ws(p, e);
                        if (p >= e || *p != ':')
                            return FAST_BAIL;
                        p = ws(p + 1, e);
                        if (!fnumber(&p, e, &s, &n))
                            return FAST_BAIL; /* null, strings...: the general path words it */
                        int unit = ic__unit_find_n(uk, ukl);
                        if (unit >= 0) {
                            if (usage_keys_seen >> unit & 1)
                                return FAST_BAIL; /* a repeated key: json-c's rule decides */
                            usage_keys_seen |= 1ULL << unit;
                        }
                        uint64_t count = 0;
                        if (first == IC_OK && !ic__usage_plain_count(unit, s, n, &count)) {
                            memcpy(key, uk, ukl); /* the checks and messages of the general rule */
                            key[ukl] = 0;
                            first = ic__usage_count_text(unit, key, s, n, &count, err);
                        }
                        if (first == IC_OK && nstaged == IC_USAGE_MAX_UNITS) {
                            first = ic__usage_too_many(unit, err);
                        } else if (first == IC_OK) {
                            staged[unit] = count;
                            nstaged++;
                        }
                        p = ws(p, e);
                        if (p < e && *p == ',') {
                            p++;
                            continue;
                        }
                        if (p < e && *p == '}') {
                            p++;
                            if (first == IC_OK) /* then every key seen was staged */
                                ic__usage_pack(&r->usage, usage_keys_seen, staged);
                            break;
                        }
                        return FAST_BAIL;
                    }
            } else if (kl == 4 && !memcmp(k, "tags", 4) && *p == '{') {
                const char *b = p;
                if (!fskip(&p, e, 0))
                    return FAST_BAIL;
                if (ic_json_has_nul(b, (size_t)(p - b)))
                    return FAST_BAIL; /* the general path says why */
                if (first == IC_OK) {
                    enum json_tokener_error je;
                    size_t end;
                    json_object *o = parse_strict(b, (size_t)(p - b), &je, &end);
                    if (!o)
                        return FAST_BAIL;
                    first = tags_text(o, r, err);
                    json_object_put(o);
                }
            } else if (*p == '"') {
                if (!fstring(&p, e, &s, &n))
                    return FAST_BAIL;
                APPLY(apply_scalar(r, k, kl, V_STRING, s, n, &pd, err));
            } else if (*p == '{' || *p == '[') {
                return FAST_BAIL; /* response bodies and anything nested: json-c */
            } else if (fnumber(&p, e, &s, &n)) {
                APPLY(apply_scalar(r, k, kl, V_NUMBER, s, n, &pd, err));
            } else if ((size_t)(e - p) >= 4 && !memcmp(p, "true", 4)) {
                p += 4;
                APPLY(apply_scalar(r, k, kl, V_BOOL, "t", 1, &pd, err));
            } else if ((size_t)(e - p) >= 5 && !memcmp(p, "false", 5)) {
                p += 5;
                APPLY(apply_scalar(r, k, kl, V_BOOL, "f", 1, &pd, err));
            } else if ((size_t)(e - p) >= 4 && !memcmp(p, "null", 4)) {
                p += 4;
                APPLY(apply_scalar(r, k, kl, V_NULL, "", 0, &pd, err));
            } else {
                return FAST_BAIL;
            }
            p = ws(p, e);
            if (p < e && *p == ',') {
                p++;
                continue;
            }
            if (p < e && *p == '}') {
                p++;
                break;
            }
            return FAST_BAIL;
        }
#undef APPLY
    if (ws(p, e) != e)
        return FAST_BAIL;
    *st = first != IC_OK ? first : finish(c, r, &pd, err);
    return FAST_DONE;
}

int ic_json_fputs(const char *s, FILE *f)
{
    size_t n = strlen(s);
    char small[512];
    char *buf = n * 6 + 3 <= sizeof small ? small : malloc(n * 6 + 3);
    if (!buf)
        return EOF;
    size_t w = ic_json_quote(s, n, buf, n * 6 + 3);
    int rc = fwrite(buf, 1, w, f) == w ? 0 : EOF;
    if (buf != small)
        free(buf);
    return rc;
}

bool ic_json_has_nul(const char *text, size_t len)
{
    const char *e = text + len;
    for (const char *q = text; q < e && (q = memchr(q, '\\', (size_t)(e - q))) != NULL; q += 2)
        if (e - q >= 6 && !memcmp(q + 1, "u0000", 5))
            return true;
    return false;
}

/* --------------------------------------------------------------------- general path ---- */

static ic_status general_parse(const ic_catalog *c, const char *line, size_t len, ic_record *r,
                               ic_error *err)
{
    /* json-c would cut a key or value at an escaped NUL: refuse those lines outright */
    if (ic_json_has_nul(line, len))
        return ic_error_set(err, IC_ERR_INVALID, "a string contains a NUL character (\\u0000)");
    size_t lead = 0;
    while (lead < len && isspace((unsigned char)line[lead]))
        lead++;
    if (lead < len && line[lead] != '{') /* null, 1, [..]: json-c would wait for more of 1 or null */
        return ic_error_set(err, IC_ERR_INVALID, "expected a JSON object per line");
    enum json_tokener_error je;
    size_t end;
    json_object *o = parse_strict(line, len, &je, &end);
    ic_status st = IC_OK;
    if (o)
        while (end < len && isspace((unsigned char)line[end]))
            end++;
    if (!o || end != len) {
        st = ic_error_set(err, IC_ERR_PARSE, "invalid JSON: %s",
                          je == json_tokener_continue ? "the line ends inside a value"
                          : je != json_tokener_success ? json_tokener_error_desc(je)
                                                       : "text after the object");
        json_object_put(o);
        return st;
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return ic_error_set(err, IC_ERR_INVALID, "expected a JSON object per line");
    }
    pending pd = {0};
    json_object_object_foreach(o, key, val)
    {
        size_t kl = strlen(key);
        if (!strcmp(key, "usage") && json_object_is_type(val, json_type_object)) {
            pd.has_usage = true;
            json_object_object_foreach(val, uk, uv)
            {
                if (!json_object_is_type(uv, json_type_int) && !json_object_is_type(uv, json_type_double)) {
                    st = ic_error_set(err, IC_ERR_INVALID, "usage.%s: expected a number, got %s", uk,
                                      uv ? json_object_to_json_string_ext(uv, JSON_C_TO_STRING_PLAIN) : "null");
                    goto out;
                }
                const char *txt = json_object_get_string(uv);
                if (json_object_is_type(uv, json_type_int) &&
                    (json_object_get_int64(uv) == INT64_MAX || json_object_get_uint64(uv) == UINT64_MAX))
                    txt = "1e30"; /* json-c clamps integers it cannot hold: too large either way */
                if ((st = ic_usage_set_text(&r->usage, uk, txt, strlen(txt), err)) != IC_OK)
                    goto out;
            }
        } else if (!strcmp(key, "response") && json_object_is_type(val, json_type_object)) {
            pd.response = val;
        } else if (!strcmp(key, "tags") && json_object_is_type(val, json_type_object)) {
            if ((st = tags_text(val, r, err)) != IC_OK)
                goto out;
        } else {
            vkind k = !val                                         ? V_NULL
                      : json_object_is_type(val, json_type_string) ? V_STRING
                      : json_object_is_type(val, json_type_boolean) ? V_BOOL
                      : json_object_is_type(val, json_type_int) || json_object_is_type(val, json_type_double) ? V_NUMBER
                      : json_object_is_type(val, json_type_object) ? V_OBJECT
                                                                   : V_OTHER;
            const char *s = k == V_BOOL ? (json_object_get_boolean(val) ? "t" : "f")
                            : k == V_NULL ? "" : json_object_get_string(val);
            size_t n = k == V_STRING ? (size_t)json_object_get_string_len(val) : strlen(s);
            if ((st = apply_scalar(r, key, kl, k, s, n, &pd, err)) != IC_OK)
                goto out;
        }
    }
    st = finish(c, r, &pd, err);
out:
    json_object_put(o);
    return st;
}

ic_status ic_record_parse(const ic_catalog *c, const char *line, size_t len, ic_record *out,
                          ic_error *err)
{
    record_init(out);
    if (fast_path_enabled()) {
        ic_status st = IC_OK;
        if (fast_parse(c, line, len, out, &st, err) == FAST_DONE)
            return st;
        record_init(out);
    }
    return general_parse(c, line, len, out, err);
}

ic_status ic_record_price(const ic_catalog *c, const ic_record *r, int64_t now_ms, ic_cost *out,
                          ic_error *err)
{
    ic_status st = ic_price_call(c, r->provider[0] ? r->provider : NULL, r->model, &r->usage,
                                 r->has_time ? r->t_ms : now_ms, out, err);
    out->saved = 0;
    if (st == IC_OK && r->cache_hit) {
        /* answered from a response cache: nothing was paid; what the call would have cost is
         * the saving */
        out->saved = out->total;
        out->total = out->input = out->output = 0;
        out->nitems = 0;
    }
    return st;
}

/* ---------------------------------------------------------------------------- output ---- */

size_t ic_json_quote(const char *s, size_t len, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 3)
        return 0;
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 7 >= cap)
            return 0;
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20) {
            buf[o++] = '\\';
            switch (ch) {
            case '\n': buf[o++] = 'n'; break;
            case '\t': buf[o++] = 't'; break;
            case '\r': buf[o++] = 'r'; break;
            default:
                buf[o++] = 'u';
                buf[o++] = '0';
                buf[o++] = '0';
                buf[o++] = hex[ch >> 4];
                buf[o++] = hex[ch & 15];
            }
        } else if (ch < 0x80) {
            buf[o++] = (char)ch;
        } else { /* valid UTF-8 as it is; each maximal ill-formed subpart as U+FFFD */
            size_t l;
            if (ic__utf8_decode_strict((const unsigned char *)s + i, len - i, &l) == UINT32_MAX) {
                memcpy(buf + o, "\\ufffd", 6);
                o += 6;
            } else {
                memcpy(buf + o, s + i, l);
                o += l;
            }
            i += l - 1;
        }
    }
    buf[o++] = '"';
    buf[o] = 0;
    return o;
}

/* An output line is written either "checked", every piece tested against the room left (the
 * caller's buffer may be small: the contract is the whole line or 0, never a truncated line), or
 * "unchecked" when the buffer holds the line's worst case (nearly always): pieces are then
 * written straight through, fixed-size pieces copied whole. The writers are always inlined, with
 * `checked` a constant, so each path gets its own copy. */
#define OUT_INLINE static inline __attribute__((always_inline))

typedef struct out_buf {
    char *p;
    size_t o, cap;
    bool full;
} out_buf;

/* where the next n bytes go, or NULL (and the buffer full) when they do not fit with the NUL */
OUT_INLINE char *room(out_buf *b, size_t n, bool checked)
{
    if (checked && (b->full || b->o + n + 1 > b->cap)) {
        b->full = true;
        return NULL;
    }
    return b->p + b->o;
}

OUT_INLINE void put_c(out_buf *b, const char *s, size_t n, bool checked)
{
    char *d = room(b, n, checked);
    if (d) {
        memcpy(d, s, n);
        b->o += n;
    }
}

/* n bytes of s, which has cap readable bytes: unchecked, all cap are copied (a constant size,
 * no call) and the next piece overwrites the rest */
OUT_INLINE void put_upto(out_buf *b, const char *s, size_t n, size_t cap, bool checked)
{
    if (checked) {
        put_c(b, s, n, true);
    } else {
        memcpy(b->p + b->o, s, cap);
        b->o += n;
    }
}

static void put(out_buf *b, const char *s, size_t n) { put_c(b, s, n, true); }
#define PUTS(b, lit) put(b, lit, sizeof(lit) - 1)
#define PUTS_C(b, lit, checked) put_c(b, lit, sizeof(lit) - 1, checked)

static void put_quoted(out_buf *b, const char *s)
{
    size_t n = strlen(s), i = 0;
    bool plain = true;
    for (; i + 8 <= n && plain; i += 8) { /* eight bytes a step: ids are 5 to 60 bytes */
        uint64_t w;
        memcpy(&w, s + i, 8);
        plain = !(special_bytes(w) | (w & 0x8080808080808080ULL)); /* non-ASCII: checked below */
    }
    for (; i < n && plain; i++)
        plain = s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] - 0x20u < 0x60u;
    if (plain) {
        put(b, "\"", 1);
        put(b, s, n);
        put(b, "\"", 1);
        return;
    }
    if (b->full)
        return;
    size_t w = ic_json_quote(s, n, b->p + b->o, b->cap - b->o);
    if (!w)
        b->full = true;
    b->o += w;
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* decimal digits of v, two at a time, ending at end; returns the first digit's position */
static inline char *u64_digits(uint64_t v, char *end)
{
    char *p = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

static inline size_t u64_len(uint64_t v)
{
    size_t n = 1;
    for (uint64_t t = 10; n < 20 && v >= t; t *= 10)
        n++;
    return n;
}

/* v < 10^6 as exactly six digits at p */
static inline void put6(uint32_t v, char *p)
{
    uint32_t a = v / 10000, r = v % 10000;
    memcpy(p, digit_pairs + 2 * a, 2);
    memcpy(p + 2, digit_pairs + 2 * (r / 100), 2);
    memcpy(p + 4, digit_pairs + 2 * (r % 100), 2);
}

OUT_INLINE void put_u64(out_buf *b, uint64_t v, bool checked)
{
    if (!checked) { /* the digits end at t + 20 and all 20 bytes before are copied */
        /* not zeroed: the bytes copied past the digits land beyond b->o, where the next write
         * or the end of the line leaves them unread (zeroing cost 8 instructions a line) */
        char t[40];
        char *p = u64_digits(v, t + 20);
        memcpy(b->p + b->o, p, 20);
        b->o += (size_t)(t + 20 - p);
        return;
    }
    size_t n = u64_len(v);
    char *d = room(b, n, true);
    if (d) {
        u64_digits(v, d + n);
        b->o += n;
    }
}

/* Per unit, the fixed text around an item's numbers: {"unit":"NAME","charged": and
 * ,"per":PER,"usd":" (built once; the registry never changes after loading). */
typedef struct frag {
    char head[96], tail[48];
    unsigned char head_len, tail_len;
    uint64_t per; /* the unit's own divisor: the tail holds it */
} frag;
static frag frags[IC_UNITS_MAX];
static pthread_once_t frags_once = PTHREAD_ONCE_INIT;

static void build_frags(void)
{
    for (int u = 0; u < ic_unit_count(); u++) {
        int h = snprintf(frags[u].head, sizeof frags[u].head, "{\"unit\":\"%s\",\"charged\":", ic_unit_name(u));
        int t = snprintf(frags[u].tail, sizeof frags[u].tail, ",\"per\":%llu,\"usd\":\"",
                         (unsigned long long)ic_unit_per(u));
        frags[u].per = ic_unit_per(u);
        frags[u].head_len = (unsigned char)(h > 0 && h < (int)sizeof frags[u].head ? h : 0);
        frags[u].tail_len = (unsigned char)(t > 0 && t < (int)sizeof frags[u].tail ? t : 0);
    }
}

/* The canonical text of ic_money_format, at d (IC_MONEY_STRLEN bytes of room); returns its
 * length. Amounts from 0 to 2^64-1 pico-dollars (any call) take the short way. */
static inline size_t money_text(ic_money m, char *d)
{
    if (m < 0 || m > (ic_money)UINT64_MAX) {
        ic_money_format(m, d, IC_MONEY_STRLEN);
        return strlen(d);
    }
    uint64_t v = (uint64_t)m, ip = v / 1000000000000ULL, fp = v % 1000000000000ULL;
    size_t n = 1;
    if (ip == 0) /* most amounts are under a dollar */
        d[0] = '0';
    else
        u64_digits(ip, d + (n = u64_len(ip)));
    if (fp) {
        /* the 12 fraction digits as two 6-digit halves in 32 bits; most amounts need only the
         * first half (0.153432 is 153432000000 pico) */
        uint32_t hi = (uint32_t)(fp / 1000000), lo = (uint32_t)(fp % 1000000);
        d[n] = '.';
        put6(hi, d + n + 1);
        size_t w = n + 6;
        if (lo) {
            put6(lo, d + n + 7);
            w = n + 12;
        }
        while (d[w] == '0')
            w--;
        n = w + 1;
    }
    return n;
}

OUT_INLINE void put_money(out_buf *b, ic_money m, bool checked)
{
    if (checked) {
        char t[IC_MONEY_STRLEN];
        put_c(b, t, money_text(m, t), true);
    } else {
        b->o += money_text(m, b->p + b->o);
    }
}

/* A price as decimal text. A log names few distinct prices, so each thread keeps the text of the
 * ones it formatted last (direct-mapped on the value). */
typedef struct decimal_memo {
    uint64_t mant;
    uint8_t scale, len; /* len 0: empty slot */
    char text[IC_MONEY_STRLEN];
} decimal_memo;

static const decimal_memo *decimal_text(ic_decimal d)
{
    static _Thread_local decimal_memo memo[512];
    uint64_t h = (d.mant ^ (uint64_t)d.scale << 58) * 0x9E3779B97F4A7C15ULL;
    decimal_memo *e = &memo[h >> 55];
    if (!e->len || e->mant != d.mant || e->scale != d.scale) {
        ic_decimal_format(d, e->text, sizeof e->text);
        e->mant = d.mant;
        e->scale = d.scale;
        e->len = (uint8_t)strlen(e->text);
    }
    return e;
}

/* the most one item can take: head, count, price, tail (or its long form), amount, separators */
#define ITEM_MAX (sizeof frags[0].head + 20 + 16 + IC_MONEY_STRLEN + sizeof frags[0].tail + \
                  IC_MONEY_STRLEN + 8)

OUT_INLINE void cost_json(const ic_record *r, const ic_cost *cost, out_buf *b, bool checked)
{
    if (cost->model->json_head && cost->model->provider->id == cost->provider->id) {
        put_c(b, cost->model->json_head, cost->model->json_head_len, checked);
    } else { /* priced under another provider (a fallback): the same text, built here */
        PUTS(b, "{\"provider\":");
        put_quoted(b, cost->provider->id);
        PUTS(b, ",\"model\":");
        put_quoted(b, cost->model->id);
        PUTS(b, ",\"total_usd\":\"");
    }
    put_money(b, cost->total, checked);
    PUTS_C(b, "\",\"items\":[", checked);
    for (int i = 0; i < cost->nitems; i++) {
        const ic_cost_item *it = &cost->items[i];
        const frag *f = &frags[it->unit];
        if (i)
            PUTS_C(b, ",", checked);
        put_upto(b, f->head, f->head_len, sizeof f->head, checked);
        put_u64(b, it->charged, checked);
        PUTS_C(b, ",\"price_per\":\"", checked);
        const decimal_memo *dm = decimal_text(it->price);
        put_upto(b, dm->text, dm->len, sizeof dm->text, checked);
        PUTS_C(b, "\"", checked);
        if (it->per == f->per) {
            put_upto(b, f->tail, f->tail_len, sizeof f->tail, checked);
        } else {
            PUTS_C(b, ",\"per\":", checked);
            put_u64(b, it->per, checked);
            PUTS_C(b, ",\"usd\":\"", checked);
        }
        put_money(b, it->usd, checked);
        PUTS_C(b, "\"}", checked);
    }
    PUTS_C(b, "]", checked);
    if (r && r->cache_hit) {
        PUTS_C(b, ",\"cache_hit\":true,\"saved_usd\":\"", checked);
        put_money(b, cost->saved, checked);
        PUTS_C(b, "\"", checked);
    }
    if (r && r->from_response) { /* (checked only: see ic_cost_to_json) */
        char ub[2048];
        size_t n = ic_usage_to_json(&r->usage, ub, sizeof ub);
        PUTS(b, ",\"usage\":");
        put(b, ub, n);
    }
    if (cost->unpriced) { /* (checked only) */
        PUTS(b, ",\"unpriced\":[");
        for (uint64_t bits = cost->unpriced; bits; bits &= bits - 1) {
            const char *u = ic_unit_name(__builtin_ctzll(bits));
            put_quoted(b, u);
            if (bits & (bits - 1))
                PUTS(b, ",");
        }
        PUTS(b, "]");
    }
    if (ic_model_deprecated(cost->model))
        PUTS_C(b, ",\"warning\":\"deprecated model\"", checked);
    PUTS_C(b, "}", checked);
}

size_t ic_cost_to_json(const ic_record *r, const ic_cost *cost, char *buf, size_t cap)
{
    out_buf b = {buf, 0, cap, false};
    pthread_once(&frags_once, build_frags);
    /* the unchecked path when the worst case of this line fits: the shared head, the total, the
     * items, the cache and deprecation notes (lines with usage or unpriced units are checked) */
    size_t bound = (cost->model->json_head ? cost->model->json_head_len : 0) + IC_MONEY_STRLEN + 16 +
                   (size_t)cost->nitems * ITEM_MAX + 40 + IC_MONEY_STRLEN + 32 + 8;
    if (cost->model->json_head && cost->model->provider->id == cost->provider->id &&
        !(r && r->from_response) && !cost->unpriced && bound < cap)
        cost_json(r, cost, &b, false);
    else
        cost_json(r, cost, &b, true);
    if (b.full)
        return 0;
    buf[b.o] = 0;
    return b.o;
}
