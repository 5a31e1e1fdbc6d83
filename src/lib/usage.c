/* usage.c: the normalized usage record (usage.h) and its extraction from provider responses.
 * Bodies go through the feed's extractors (catalog_internal.h) exactly as the reference's
 * extractUsage() walks them: a root path that must lead to a mapping, mappings summed per
 * destination, array-match steps that pick the first array element whose field matches.
 * Streams are folded into the equivalent final body first (usage_stream.c does the folding),
 * then extracted the same way. Token counts must be non-negative integers. */
#include "infercost/usage.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"
#include "usage_internal.h"
#include "units_internal.h"

ic_status ic__usage_too_many(int unit, ic_error *err)
{
    return ic_error_set(err, IC_ERR_RANGE, "%s: too many usage units in one record (at most %d)",
                        ic_unit_name(unit), IC_USAGE_MAX_UNITS);
}

/* Store a value already checked against IC_USAGE_VALUE_MAX, keeping v packed in unit order. */
static ic_status put(ic_usage *u, int unit, uint64_t value, ic_error *err)
{
    int slot = ic_usage_slot(u, unit);
    if (!(u->present >> unit & 1)) {
        int n = ic_popcount64(u->present);
        if (n >= IC_USAGE_MAX_UNITS)
            return ic__usage_too_many(unit, err);
        memmove(&u->v[slot + 1], &u->v[slot], (size_t)(n - slot) * sizeof u->v[0]);
        u->present |= 1ULL << unit;
    }
    u->v[slot] = value;
    return IC_OK;
}

ic_status ic_usage_set(ic_usage *u, int unit, uint64_t value, ic_error *err)
{
    if (unit < 0 || unit >= ic_unit_count())
        return ic_error_set(err, IC_ERR_INVALID, "unknown unit %d", unit);
    if (value > IC_USAGE_VALUE_MAX)
        return ic_error_set(err, IC_ERR_RANGE, "%s: %llu is too large (limit %llu)",
                            ic_unit_name(unit), (unsigned long long)value,
                            (unsigned long long)IC_USAGE_VALUE_MAX);
    return put(u, unit, value, err);
}

ic_status ic_usage_add(ic_usage *u, int unit, uint64_t value, ic_error *err)
{
    uint64_t cur = ic_usage_get(u, unit);
    if (value > IC_USAGE_VALUE_MAX - cur)
        return ic_error_set(err, IC_ERR_RANGE, "%s: total too large", ic_unit_name(unit));
    return ic_usage_set(u, unit, cur + value, err);
}

ic_status ic__usage_validate_dense(uint64_t present, const uint64_t *val, ic_error *err)
{
    for (uint64_t bits = present; bits; bits &= bits - 1) {
        int k = __builtin_ctzll(bits);
        for (uint64_t anc = ic__unit_anc[k] & present; anc; anc &= anc - 1) {
            int a = __builtin_ctzll(anc);
            if (val[k] > val[a])
                return ic_error_set(err, IC_ERR_INVALID, "%s (%llu) cannot exceed %s (%llu)",
                                    ic_unit_name(k), (unsigned long long)val[k], ic_unit_name(a),
                                    (unsigned long long)val[a]);
        }
    }
    return IC_OK;
}

ic_status ic_usage_validate(const ic_usage *u, ic_error *err)
{
    uint64_t val[IC_UNITS_MAX];
    ic__usage_expand(u, val);
    return ic__usage_validate_dense(u->present, val, err);
}

ic_status ic_usage_set_text(ic_usage *u, const char *key, const char *num, size_t len, ic_error *err)
{
    return ic__usage_set_unit_text(u, ic_unit_find(key), key, num, len, err);
}

ic_status ic__usage_set_unit_text(ic_usage *u, int unit, const char *key, const char *num, size_t len,
                                  ic_error *err)
{
    uint64_t v;
    ic_status st = ic__usage_count_text(unit, key, num, len, &v, err);
    return st == IC_OK ? put(u, unit, v, err) : st;
}

ic_status ic__usage_count_text(int unit, const char *key, const char *num, size_t len, uint64_t *out,
                               ic_error *err)
{
    if (unit < 0 || !ic__unit_reported[unit])
        return ic_error_set(err, IC_ERR_INVALID,
                            unit < 0 ? "unknown usage key \"%s\" (see units.yml for the keys)"
                                     : "usage key \"%s\" is not reported: one request is charged per call",
                            key);
    uint64_t v = 0;
    if (ic__usage_plain_count(unit, num, len, out))
        return IC_OK; /* plain integers (the usual case) need no decimal machinery */
    ic_decimal d;
    ic_status st = ic_decimal_parse(num, len, &d);
    if (st == IC_ERR_INVALID)
        return ic_error_set(err, st, "usage.%s: negative count %.*s", key, (int)(len > 40 ? 40 : len), num);
    if (st == IC_ERR_RANGE)
        return ic_error_set(err, st, "usage.%s: number too large (limit %llu)", key,
                            (unsigned long long)IC_USAGE_VALUE_MAX);
    if (st != IC_OK)
        return ic_error_set(err, st, "usage.%s: not a number: %.*s", key, (int)(len > 40 ? 40 : len), num);
    if (!ic_decimal_to_u64(d, &v))
        return ic_error_set(err, IC_ERR_INVALID, "usage.%s: fractional count %.*s", key,
                            (int)(len > 40 ? 40 : len), num);
    if (v > IC_USAGE_VALUE_MAX)
        return ic_error_set(err, IC_ERR_RANGE, "usage.%s: number too large (limit %llu)", key,
                            (unsigned long long)IC_USAGE_VALUE_MAX);
    *out = v;
    return IC_OK;
}

size_t ic_usage_to_json(const ic_usage *u, char *buf, size_t cap)
{
    size_t o = 0;
    int n;
    if (cap < 3)
        return 0;
    buf[o++] = '{';
    bool first = true;
    int i = 0;
    for (uint64_t bits = u->present; bits; bits &= bits - 1, i++) {
        int k = __builtin_ctzll(bits);
        n = snprintf(buf + o, cap - o, "%s\"%s\":%llu", first ? "" : ",", ic_unit_name(k),
                     (unsigned long long)u->v[i]);
        if (n < 0 || (size_t)n >= cap - o)
            return 0;
        o += (size_t)n;
        first = false;
    }
    if (o + 2 > cap)
        return 0;
    buf[o++] = '}';
    buf[o] = 0;
    return o;
}

/* ------------------------------------------------------------------ extractor walking ---- */

static const char *type_name(json_object *v)
{
    if (!v)
        return "null";
    switch (json_object_get_type(v)) {
    case json_type_object: return "mapping";
    case json_type_array: return "array";
    case json_type_string: return "string";
    case json_type_boolean: return "boolean";
    case json_type_null: return "null";
    default: return "number";
    }
}

static void path_text(const ic_path *prefix, const ic_path *p, size_t upto, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    const ic_path *parts[2] = {prefix, p};
    for (int k = 0; k < 2; k++) {
        if (!parts[k])
            continue;
        size_t n = k == 1 ? upto : parts[k]->n;
        for (size_t i = 0; i < n && o < cap; i++) {
            const ic_path_step *s = &parts[k]->steps[i];
            int w = snprintf(buf + o, cap - o, "%s%s", o ? "." : "", s->key ? s->key : "[match]");
            if (w < 0)
                return;
            o += (size_t)w;
        }
    }
}

typedef enum { WANT_MAPPING, WANT_STRING, WANT_NUMBER } want_t;

/* The reference's P(): follow path in obj. Returns the value, or NULL when absent and not
 * required; sets *st and err when required and absent or of the wrong type. */
static json_object *walk(const ic_path *path, json_object *obj, want_t want, bool required,
                         const ic_path *prefix, ic_status *st, ic_error *err)
{
    char where[256];
    json_object *cur = obj;
    size_t last = path->n - 1;
    *st = IC_OK;
    for (size_t i = 0; i < last; i++) {
        const ic_path_step *s = &path->steps[i];
        if (!s->key) {
            if (!json_object_is_type(cur, json_type_array)) {
                if (required) {
                    path_text(prefix, path, i + 1, where, sizeof where);
                    *st = ic_error_set(err, IC_ERR_INVALID, "expected `%s` value to be a mapping, got %s",
                                       where, type_name(cur));
                }
                return NULL;
            }
            json_object *found = NULL;
            for (size_t k = 0; k < json_object_array_length(cur) && !found; k++) {
                json_object *el = json_object_array_get_idx(cur, k), *f;
                if (json_object_is_type(el, json_type_object) &&
                    json_object_object_get_ex(el, s->am_field, &f) &&
                    json_object_is_type(f, json_type_string) &&
                    ic_match_eval(s->am_match, json_object_get_string(f)))
                    found = el;
            }
            cur = found;
            if (!cur) {
                if (required) {
                    path_text(prefix, path, i + 1, where, sizeof where);
                    *st = ic_error_set(err, IC_ERR_INVALID, "unable to find item at `%s`", where);
                }
                return NULL;
            }
        } else {
            if (!json_object_is_type(cur, json_type_object)) {
                if (required) {
                    path_text(prefix, path, i + 1, where, sizeof where);
                    *st = ic_error_set(err, IC_ERR_INVALID, "expected `%s` value to be a mapping, got %s",
                                       where, type_name(cur));
                }
                return NULL;
            }
            json_object *next;
            if (!json_object_object_get_ex(cur, s->key, &next)) {
                if (required) {
                    path_text(prefix, path, i + 1, where, sizeof where);
                    *st = ic_error_set(err, IC_ERR_INVALID, "missing value at `%s`", where);
                }
                return NULL;
            }
            cur = next; /* json null stays "present" as null, like JS null */
        }
    }
    if (!json_object_is_type(cur, json_type_object)) {
        if (required) {
            path_text(prefix, path, last, where, sizeof where);
            *st = ic_error_set(err, IC_ERR_INVALID, "expected `%s` value to be a mapping, got %s",
                               where, type_name(cur));
        }
        return NULL;
    }
    json_object *v;
    if (!json_object_object_get_ex(cur, path->steps[last].key, &v)) {
        if (required) {
            path_text(prefix, path, path->n, where, sizeof where);
            *st = ic_error_set(err, IC_ERR_INVALID, "missing value at `%s`", where);
        }
        return NULL;
    }
    bool ok = want == WANT_MAPPING ? json_object_is_type(v, json_type_object)
              : want == WANT_STRING ? json_object_is_type(v, json_type_string)
                                    : (json_object_is_type(v, json_type_int) ||
                                       json_object_is_type(v, json_type_double));
    if (!ok) {
        if (required) {
            path_text(prefix, path, path->n, where, sizeof where);
            *st = ic_error_set(err, IC_ERR_INVALID, "expected `%s` value to be a %s, got %s", where,
                               want == WANT_MAPPING ? "mapping" : want == WANT_STRING ? "string" : "number",
                               type_name(v));
        }
        return NULL;
    }
    return v;
}

ic_status ic__usage_extract_json(const ic_provider *p, const char *flavor, json_object *body,
                                 ic_usage *out, char *model, size_t model_cap, ic_error *err)
{
    ic_usage_clear(out);
    if (model && model_cap)
        model[0] = 0;
    const ic_extractor *x = ic__find_extractor(p, flavor);
    if (!x) {
        char allowed[200] = "";
        for (size_t i = 0; i < p->nextractors; i++)
            snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                     i ? ", " : "", p->extractors[i].flavor);
        if (!p->nextractors)
            return ic_error_set(err, IC_ERR_INVALID, "provider %s has no usage extractors", p->id);
        return ic_error_set(err, IC_ERR_INVALID, "unknown api_flavor \"%s\" for provider %s (allowed: %s)",
                            flavor && *flavor ? flavor : "default", p->id, allowed);
    }
    if (!json_object_is_type(body, json_type_object))
        return ic_error_set(err, IC_ERR_INVALID, "expected the response to be a mapping, got %s",
                            type_name(body));
    ic_status st;
    if (x->has_model_path && model) {
        json_object *mv = walk(&x->model_path, body, WANT_STRING, false, NULL, &st, err);
        if (mv)
            snprintf(model, model_cap, "%s", json_object_get_string(mv));
    }
    json_object *root = body;
    if (x->root.n) {
        root = walk(&x->root, body, WANT_MAPPING, true, NULL, &st, err);
        if (!root)
            return st;
    }
    size_t counted = 0;
    for (size_t i = 0; i < x->nmaps; i++) {
        const ic_mapping *mp = &x->maps[i];
        if (mp->dest < 0)
            continue;
        counted++;
        json_object *v = walk(&mp->path, root, WANT_NUMBER, mp->required, &x->root, &st, err);
        if (!v) {
            if (st != IC_OK)
                return st;
            continue;
        }
        uint64_t count;
        int64_t iv;
        if (json_object_is_type(v, json_type_int) && (iv = json_object_get_int64(v)) >= 0 &&
            (uint64_t)iv <= IC_USAGE_VALUE_MAX && ic__unit_reported[mp->dest]) {
            count = (uint64_t)iv; /* the usual count, read as json-c holds it */
        } else {
            /* anything else by its text, with the record parser's checks and messages (json-c
             * writes an integer back as it read it, and keeps a double's own text) */
            const char *txt = json_object_get_string(v);
            if ((st = ic__usage_count_text(mp->dest, ic_unit_name(mp->dest), txt, strlen(txt),
                                           &count, err)) != IC_OK)
                return st;
        }
        if ((st = ic_usage_add(out, mp->dest, count, err)) != IC_OK)
            return st;
    }
    if (counted && !out->present) {
        char where[128];
        path_text(NULL, &x->root, x->root.n, where, sizeof where);
        return ic_error_set(err, IC_ERR_INVALID, "no usage information found at `%s`", where);
    }
    return IC_OK;
}

/* ------------------------------------------------------- small bodies without json-c ---- */

/* A usage object is a few hundred bytes of nested mappings and integer counts; json-c's object
 * tree for one cost about 30,000 instructions, most of the gateway's extraction. A body of up to
 * SMALL_MAX bytes is first read into a flat list of nodes, and the extractor's paths are walked
 * there when everything the walk meets is plain: mappings, integers of up to 18 digits, strings
 * without escapes, true/false/null. Anything else (arrays, escapes, negative or fractional
 * numbers, a required value that is missing or of the wrong type, a syntax the scan does not
 * take) sends the body to json-c, which decides and words the message: the fast path answers
 * only where json-c's path would give the same answer. */
#define SMALL_MAX 4096
#define SMALL_NODES 128

enum { SN_OBJ, SN_STR, SN_INT, SN_LIT };

typedef struct snode {
    const char *key; /* in the body; NULL for the root */
    uint32_t klen, slen;
    const char *s;   /* a string's bytes */
    uint64_t v;      /* an integer's value */
    int16_t first, next; /* an object's first member; the next member of the same object */
    uint8_t type;
} snode;

typedef struct sscan {
    const char *p, *e;
    snode *n;
    int nn, depth;
} sscan;

static inline const char *sws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* a string at sc->p (its opening quote) with no escape and no control byte */
static bool sstring(sscan *sc, const char **s, uint32_t *n)
{
    const char *b = sc->p + 1, *q = memchr(b, '"', (size_t)(sc->e - b));
    if (!q)
        return false;
    for (const char *c = b; c < q; c++)
        if (*c == '\\' || (unsigned char)*c < 0x20)
            return false;
    *s = b;
    *n = (uint32_t)(q - b);
    sc->p = q + 1;
    return true;
}

/* the value at sc->p as node index, or -1: not for this path */
static int svalue(sscan *sc, const char *key, uint32_t klen)
{
    if (sc->nn == SMALL_NODES || sc->p >= sc->e)
        return -1;
    int i = sc->nn++;
    snode *n = &sc->n[i];
    *n = (snode){.key = key, .klen = klen, .first = -1, .next = -1, .type = SN_LIT};
    char c = *sc->p;
    if (c == '"') {
        n->type = SN_STR;
        return sstring(sc, &n->s, &n->slen) ? i : -1;
    }
    if (c >= '0' && c <= '9') {
        const char *q = sc->p;
        if (*q == '0' && q + 1 < sc->e && q[1] >= '0' && q[1] <= '9')
            return -1;
        uint64_t v = 0;
        for (int d = 0; q < sc->e && *q >= '0' && *q <= '9'; q++) {
            if (++d > 18)
                return -1;
            v = v * 10 + (uint64_t)(*q - '0');
        }
        if (q < sc->e && (*q == '.' || *q == 'e' || *q == 'E'))
            return -1;
        n->type = SN_INT;
        n->v = v;
        sc->p = q;
        return i;
    }
    if (c == '{') {
        if (++sc->depth > 16)
            return -1;
        n->type = SN_OBJ;
        sc->p = sws(sc->p + 1, sc->e);
        if (sc->p < sc->e && *sc->p == '}') {
            sc->p++;
            sc->depth--;
            return i;
        }
        for (int last = -1;;) {
            const char *k;
            uint32_t kl;
            sc->p = sws(sc->p, sc->e);
            if (sc->p >= sc->e || *sc->p != '"' || !sstring(sc, &k, &kl))
                return -1;
            sc->p = sws(sc->p, sc->e);
            if (sc->p >= sc->e || *sc->p != ':')
                return -1;
            sc->p = sws(sc->p + 1, sc->e);
            int m = svalue(sc, k, kl);
            if (m < 0)
                return -1;
            if (last < 0)
                sc->n[i].first = (int16_t)m;
            else
                sc->n[last].next = (int16_t)m;
            last = m;
            sc->p = sws(sc->p, sc->e);
            if (sc->p < sc->e && *sc->p == ',') {
                sc->p++;
                continue;
            }
            if (sc->p < sc->e && *sc->p == '}') {
                sc->p++;
                sc->depth--;
                return i;
            }
            return -1;
        }
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if ((size_t)(sc->e - sc->p) >= l && !memcmp(sc->p, lits[k], l)) {
            sc->p += l;
            return i;
        }
    }
    return -1; /* arrays, negative numbers, anything else */
}

/* The node at path from node cur, or -1 where walk() finds nothing: a missing key, or a
 * non-mapping on the way (the scan holds no arrays, so an array-match step finds nothing). A
 * duplicated key gives its last value, as json-c keeps it. */
static int swalk(const snode *n, const ic_path *path, int cur)
{
    for (size_t i = 0; i < path->n; i++) {
        const char *key = path->steps[i].key;
        if (!key || n[cur].type != SN_OBJ)
            return -1;
        size_t kl = strlen(key);
        int found = -1;
        for (int k = n[cur].first; k >= 0; k = n[k].next)
            if (n[k].klen == kl && !memcmp(n[k].key, key, kl))
                found = k;
        if (found < 0)
            return -1;
        cur = found;
    }
    return cur;
}

bool ic__usage_extract_small(const ic_provider *p, const char *flavor, const char *body, size_t len,
                          ic_usage *out, char *model, size_t model_cap, ic_error *err)
{
    if (!body || len > SMALL_MAX)
        return false;
    snode n[SMALL_NODES];
    sscan sc = {body, body + len, n, 0, 0};
    sc.p = sws(sc.p, sc.e);
    if (sc.p >= sc.e || *sc.p != '{' || svalue(&sc, NULL, 0) != 0 || sws(sc.p, sc.e) != sc.e)
        return false;
    const ic_extractor *x = ic__find_extractor(p, flavor);
    if (!x)
        return false;
    ic_usage_clear(out);
    if (model && model_cap)
        model[0] = 0;
    if (x->has_model_path && model) {
        int m = swalk(n, &x->model_path, 0);
        if (m >= 0 && n[m].type == SN_STR)
            snprintf(model, model_cap, "%.*s", (int)n[m].slen, n[m].s);
    }
    int root = 0;
    if (x->root.n && ((root = swalk(n, &x->root, 0)) < 0 || n[root].type != SN_OBJ))
        return false;
    size_t counted = 0;
    for (size_t i = 0; i < x->nmaps; i++) {
        const ic_mapping *mp = &x->maps[i];
        if (mp->dest < 0)
            continue;
        counted++;
        int v = swalk(n, &mp->path, root);
        if (v < 0 || n[v].type != SN_INT) {
            if (mp->required)
                return false; /* json-c's path words the error */
            continue; /* absent, or not a number: walk() passes over it when not required */
        }
        if (n[v].v > IC_USAGE_VALUE_MAX || !ic__unit_reported[mp->dest] ||
            ic_usage_add(out, mp->dest, n[v].v, err) != IC_OK)
            return false;
    }
    return !(counted && !out->present);
}

/* One strict tokener per thread, reset for each body (a new one per call was 5% of the gateway's
 * work per proxied call); freed when the thread ends. */
static pthread_key_t tok_key;
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;
static void tok_free(void *t) { json_tokener_free(t); }
static void tok_key_init(void) { (void)pthread_key_create(&tok_key, tok_free); }

static json_tokener *thread_tokener(void)
{
    pthread_once(&tok_once, tok_key_init);
    json_tokener *tok = pthread_getspecific(tok_key);
    if (!tok && (tok = json_tokener_new()) != NULL) {
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* no comments, no single quotes */
        if (pthread_setspecific(tok_key, tok) != 0) {
            json_tokener_free(tok);
            return NULL;
        }
    }
    if (tok)
        json_tokener_reset(tok);
    return tok;
}

ic_status ic_usage_extract(const ic_provider *p, const char *api_flavor, const char *body,
                           size_t len, ic_usage *out, char *model, size_t model_cap, ic_error *err)
{
    if (ic__usage_extract_small(p, api_flavor, body, len, out, model, model_cap, err))
        return IC_OK;
    json_tokener *tok = thread_tokener();
    if (!tok)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (!o || je != json_tokener_success) {
        json_object_put(o);
        return ic_error_set(err, IC_ERR_PARSE, "response is not valid JSON: %s", json_tokener_error_desc(je));
    }
    ic_status st = ic__usage_extract_json(p, api_flavor, o, out, model, model_cap, err);
    json_object_put(o);
    return st;
}
