/* catalog.c: loads the genai-prices v2 feed (json-c) into the immutable structures of
 * catalog_internal.h, applies overlays, and resolves (provider, model) exactly as the reference
 * calculator's calcPrice does (see ic_catalog_resolve in catalog.h and docs/pricing.md).
 *
 * Prices are read from the numbers' original text (json-c keeps it for reals), so
 * 0.08333333333333334 stays that decimal. A model whose prices the reference would refuse
 * (a price key outside units.yml, a sub-unit priced without its ancestor or join) still loads;
 * pricing it is an error that says why. Resolution results are memoized in a small hash table
 * behind a mutex, so the hot path of `infercost cost` does one lookup per line. */
#include "catalog_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "fileread.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"

/* unique across all catalogs ever opened, so a per-thread memo never confuses a freed catalog
 * with a new one at the same address */
static _Atomic uint64_t next_generation = 1;


/* ---------------------------------------------------------------- numbers and prices ---- */

ic_status ic__json_decimal(json_object *v, int shift, ic_decimal *out)
{
    if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return IC_ERR_PARSE;
    const char *s = json_object_get_string(v);
    ic_status st = ic_decimal_parse(s, strlen(s), out);
    if (st != IC_OK)
        return st;
    if (json_object_is_type(v, json_type_int) && json_object_get_uint64(v) == UINT64_MAX)
        return IC_ERR_RANGE; /* json-c clamps integers it cannot hold */
    while (shift > 0 && out->mant) {
        if (out->scale > 0) {
            out->scale--;
        } else {
            if (out->mant > UINT64_MAX / 10)
                return IC_ERR_RANGE;
            out->mant *= 10;
        }
        shift--;
    }
    if (out->mant == 0)
        out->scale = 0;
    return IC_OK;
}

static int cmp_dims_desc(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int dx = ic_unit_dimension_count(x), dy = ic_unit_dimension_count(y);
    if (dx != dy)
        return dy - dx;
    return strcmp(ic_unit_name(x), ic_unit_name(y));
}

ic_price_set *ic__price_set_build(ic_arena *a, ic_unit_price *items, size_t n, const char *where)
{
    ic_price_set *ps = ic_arena_alloc(a, sizeof *ps);
    if (!ps)
        return NULL;
    ps->items = items;
    ps->n = n;
    ps->per = ic_arena_alloc(a, (n ? n : 1) * sizeof *ps->per);
    ps->pico = ic_arena_alloc(a, (n ? n : 1) * sizeof *ps->pico);
    if (!ps->per || !ps->pico)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        ps->per[i] = ic_unit_per(items[i].unit);
        ps->pico[i] = items[i].ntiers ? 0 : ic_money_unit_pico(items[i].base, ps->per[i]);
    }
    ps->requests_unit = -1;
    ps->input_unit = ic_unit_find("input_tokens");
    for (int u = 0; u < IC_UNITS_MAX; u++)
        ps->item_of[u] = -1;
    char msg[256] = "";
    for (size_t i = 0; i < n; i++) {
        int u = items[i].unit;
        ps->priced |= 1ULL << u;
        ps->item_of[u] = (int)i;
        if (items[i].ntiers)
            ps->any_tiered = true;
        if (!ic_unit_is_reported(u))
            ps->requests_unit = u;
        else
            ps->order[ps->norder++] = u;
    }
    qsort(ps->order, (size_t)ps->norder, sizeof ps->order[0], cmp_dims_desc);
    /* the reference's validation: every ancestor priced; every compatible pair's join priced */
    for (size_t i = 0; i < n && !msg[0]; i++) {
        uint64_t anc = ic_unit_ancestors(items[i].unit) & ~ps->priced;
        if (anc)
            snprintf(msg, sizeof msg, "%s: missing ancestor price key %s for %s", where,
                     ic_unit_price_key(__builtin_ctzll(anc)), ic_unit_price_key(items[i].unit));
    }
    for (size_t i = 0; i < n && !msg[0]; i++)
        for (size_t j = i + 1; j < n && !msg[0]; j++) {
            int x = items[i].unit, y = items[j].unit;
            if (!ic_unit_compatible(x, y))
                continue; /* e.g. audio and image tokens: they never overlap */
            int jn = ic_unit_join(x, y);
            if (jn < 0)
                snprintf(msg, sizeof msg, "%s: missing registered join unit for %s and %s",
                         where, ic_unit_price_key(x), ic_unit_price_key(y));
            else if (!(ps->priced >> jn & 1))
                snprintf(msg, sizeof msg, "%s: missing join price key %s for %s and %s", where,
                         ic_unit_price_key(jn), ic_unit_price_key(x), ic_unit_price_key(y));
        }
    if (msg[0])
        ps->invalid = ic_arena_strdup(a, msg);
    return ps;
}

static ic_price_set *parse_price_set(json_object *o, ic_arena *a, const char *where, ic_error *err)
{
    if (!json_object_is_type(o, json_type_object)) {
        ic_error_set(err, IC_ERR_CATALOG, "%s: prices must be an object", where);
        return NULL;
    }
    size_t n = (size_t)json_object_object_length(o);
    ic_unit_price *items = ic_arena_alloc(a, (n ? n : 1) * sizeof *items);
    if (!items) {
        ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    size_t k = 0;
    char unknown[200] = "";
    json_object_object_foreach(o, key, val)
    {
        int u = ic_unit_find_price_key(key);
        if (u < 0) {
            if (!unknown[0])
                snprintf(unknown, sizeof unknown, "%s: price key %s is not in units.yml; "
                         "infercost refuses to price this model rather than under-price it",
                         where, key);
            continue;
        }
        ic_unit_price *it = &items[k];
        it->unit = u;
        if (json_object_is_type(val, json_type_object)) {
            json_object *base, *tiers;
            if (!json_object_object_get_ex(val, "base", &base) ||
                !json_object_object_get_ex(val, "tiers", &tiers) ||
                !json_object_is_type(tiers, json_type_array) ||
                ic__json_decimal(base, 0, &it->base) != IC_OK) {
                ic_error_set(err, IC_ERR_CATALOG, "%s: %s: tiered price needs base and tiers",
                             where, key);
                return NULL;
            }
            size_t nt = json_object_array_length(tiers);
            ic_price_tier *t = ic_arena_alloc(a, (nt ? nt : 1) * sizeof *t);
            if (!t) {
                ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                return NULL;
            }
            for (size_t i = 0; i < nt; i++) {
                json_object *tier = json_object_array_get_idx(tiers, i), *start, *price;
                if (!json_object_object_get_ex(tier, "start", &start) ||
                    !json_object_object_get_ex(tier, "price", &price) ||
                    !json_object_is_type(start, json_type_int) || json_object_get_int64(start) < 0 ||
                    ic__json_decimal(price, 0, &t[i].price) != IC_OK) {
                    ic_error_set(err, IC_ERR_CATALOG, "%s: %s: tier %zu needs a start and a price",
                                 where, key, i);
                    return NULL;
                }
                t[i].start = (uint64_t)json_object_get_int64(start);
            }
            /* sort by start (stable insertion: the reference sorts by start) */
            for (size_t i = 1; i < nt; i++)
                for (size_t j = i; j > 0 && t[j - 1].start > t[j].start; j--) {
                    ic_price_tier tmp = t[j];
                    t[j] = t[j - 1];
                    t[j - 1] = tmp;
                }
            it->tiers = t;
            it->ntiers = nt;
        } else {
            ic_status ds = ic__json_decimal(val, 0, &it->base);
            if (ds == IC_ERR_RANGE) {
                ic_error_set(err, IC_ERR_CATALOG, "%s: %s: price too large (or with too many "
                             "digits) to hold exactly", where, key);
                return NULL;
            }
            if (ds != IC_OK) {
                ic_error_set(err, IC_ERR_CATALOG, "%s: %s: price must be a non-negative number",
                             where, key);
                return NULL;
            }
        }
        k++;
    }
    ic_price_set *ps = ic__price_set_build(a, items, k, where);
    if (!ps) {
        ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (unknown[0])
        ps->invalid = ic_arena_strdup(a, unknown);
    return ps;
}

/* "HH:MM:SS(.fff)?(Z|+HH:MM|-HH:MM)" -> ms after UTC midnight, as the reference's parser */
static bool parse_time_of_day(const char *s, int32_t *out)
{
    int h, m, sec;
    size_t len = strlen(s), i = 8;
    if (len < 9 || sscanf(s, "%2d:%2d:%2d", &h, &m, &sec) != 3 || s[2] != ':' || s[5] != ':')
        return false;
    for (int k = 0; k < 8; k++)
        if (k != 2 && k != 5 && !isdigit((unsigned char)s[k]))
            return false;
    int ms = 0;
    if (s[i] == '.') {
        int nd = 0;
        for (i++; isdigit((unsigned char)s[i]); i++, nd++)
            if (nd < 3)
                ms = ms * 10 + (s[i] - '0');
        if (!nd)
            return false;
        for (; nd < 3; nd++)
            ms *= 10;
    }
    int off = 0;
    if (s[i] == 'Z' && s[i + 1] == 0) {
        off = 0;
    } else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 3] == ':' &&
               isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 2]) &&
               isdigit((unsigned char)s[i + 4]) && isdigit((unsigned char)s[i + 5])) {
        int oh = (s[i + 1] - '0') * 10 + s[i + 2] - '0', om = (s[i + 4] - '0') * 10 + s[i + 5] - '0';
        if (oh > 23 || om > 59)
            return false;
        off = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (h > 23 || m > 59 || sec > 59)
        return false;
    int64_t t = ((int64_t)(h * 3600 + m * 60 + sec - off) * 1000 + ms) % 86400000;
    if (t < 0)
        t += 86400000;
    *out = (int32_t)t;
    return true;
}

static ic_status parse_prices(json_object *v, ic_arena *a, ic_model *m, const char *where,
                              ic_error *err)
{
    if (json_object_is_type(v, json_type_object)) {
        m->entries = ic_arena_alloc(a, sizeof *m->entries);
        if (!m->entries)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        m->nentries = 1;
        m->entries[0].kind = IC_PRICE_ALWAYS;
        m->entries[0].prices = parse_price_set(v, a, where, err);
        return m->entries[0].prices ? IC_OK : err->status;
    }
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return ic_error_set(err, IC_ERR_CATALOG, "%s: prices must be an object or a non-empty list", where);
    size_t n = json_object_array_length(v);
    m->entries = ic_arena_alloc(a, n * sizeof *m->entries);
    if (!m->entries)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    m->nentries = n;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i), *p, *c;
        ic_price_entry *pe = &m->entries[i];
        if (!json_object_object_get_ex(e, "prices", &p))
            return ic_error_set(err, IC_ERR_CATALOG, "%s: price entry %zu has no prices", where, i);
        if (!(pe->prices = parse_price_set(p, a, where, err)))
            return err->status;
        pe->kind = IC_PRICE_ALWAYS;
        if (!json_object_object_get_ex(e, "constraint", &c) || json_object_is_type(c, json_type_null))
            continue;
        json_object *sd, *st, *et;
        if (json_object_object_get_ex(c, "start_date", &sd)) {
            const char *s = json_object_is_type(sd, json_type_string) ? json_object_get_string(sd)
                                                                       : NULL;
            int64_t ms;
            if (!s || strlen(s) != 10 || ic_time_parse(s, 10, &ms) != IC_OK)
                return ic_error_set(err, IC_ERR_CATALOG, "%s: bad start_date %s", where,
                                    json_object_to_json_string_ext(sd, JSON_C_TO_STRING_PLAIN));
            pe->kind = IC_PRICE_FROM_DATE;
            pe->start_ms = ms;
        } else if (json_object_object_get_ex(c, "start_time", &st) &&
                   json_object_object_get_ex(c, "end_time", &et)) {
            if (!json_object_is_type(st, json_type_string) || !json_object_is_type(et, json_type_string) ||
                !parse_time_of_day(json_object_get_string(st), &pe->tod_start_ms) ||
                !parse_time_of_day(json_object_get_string(et), &pe->tod_end_ms))
                return ic_error_set(err, IC_ERR_CATALOG, "%s: bad time-of-day constraint", where);
            pe->kind = IC_PRICE_TIME_OF_DAY;
        } else {
            return ic_error_set(err, IC_ERR_CATALOG, "%s: unknown price constraint %s", where,
                                json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
        }
    }
    return IC_OK;
}

/* ------------------------------------------------------------------------- extractors ---- */

static ic_status parse_path(json_object *v, ic_arena *a, ic_regex_list *rl, ic_path *out,
                            const char *where, ic_error *err)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
    out->steps = ic_arena_alloc(a, (n ? n : 1) * sizeof *out->steps);
    if (!out->steps)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
        if (json_object_is_type(s, json_type_string)) {
            out->steps[i].key = ic_arena_strdup(a, json_object_get_string(s));
        } else if (json_object_is_type(s, json_type_object) && i + 1 < n) {
            json_object *f, *m;
            if (!json_object_object_get_ex(s, "field", &f) || !json_object_object_get_ex(s, "match", &m) ||
                !json_object_is_type(f, json_type_string))
                return ic_error_set(err, IC_ERR_CATALOG, "%s: array-match step needs a field name and a match", where);
            out->steps[i].am_field = ic_arena_strdup(a, json_object_get_string(f));
            if (!(out->steps[i].am_match = ic_match_parse(m, a, rl, where, err)))
                return err->status;
        } else {
            return ic_error_set(err, IC_ERR_CATALOG, "%s: bad path step", where);
        }
    }
    if (n == 0)
        return ic_error_set(err, IC_ERR_CATALOG, "%s: empty path", where);
    return IC_OK;
}

static ic_status parse_extractor(json_object *e, ic_arena *a, ic_regex_list *rl, ic_extractor *x,
                                 const char *where, ic_error *err)
{
    json_object *v = NULL;
    char w[300];
    if (json_object_object_get_ex(e, "api_flavor", &v) && !json_object_is_type(v, json_type_string))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: extractor api_flavor must be a string", where);
    x->flavor = v ? ic_arena_strdup(a, json_object_get_string(v)) : "default";
    snprintf(w, sizeof w, "%s: extractor %s", where, x->flavor);
    if (!json_object_object_get_ex(e, "root", &v) || parse_path(v, a, rl, &x->root, w, err) != IC_OK)
        return err->status ? err->status : ic_error_set(err, IC_ERR_CATALOG, "%s: no root", w);
    if (json_object_object_get_ex(e, "model_path", &v) && !json_object_is_type(v, json_type_null)) {
        if (parse_path(v, a, rl, &x->model_path, w, err) != IC_OK)
            return err->status;
        x->has_model_path = true;
    }
    json_object *maps;
    if (!json_object_object_get_ex(e, "mappings", &maps) || !json_object_is_type(maps, json_type_array))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: no mappings", w);
    x->nmaps = json_object_array_length(maps);
    x->maps = ic_arena_alloc(a, (x->nmaps ? x->nmaps : 1) * sizeof *x->maps);
    if (!x->maps)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < x->nmaps; i++) {
        json_object *m = json_object_array_get_idx(maps, i), *p, *d, *r;
        if (!json_object_object_get_ex(m, "path", &p) || !json_object_object_get_ex(m, "dest", &d) ||
            !json_object_is_type(d, json_type_string))
            return ic_error_set(err, IC_ERR_CATALOG, "%s: mapping %zu needs a path and a dest unit name", w, i);
        if (parse_path(p, a, rl, &x->maps[i].path, w, err) != IC_OK)
            return err->status;
        const char *dest = json_object_get_string(d);
        x->maps[i].dest_name = ic_arena_strdup(a, dest);
        int u = ic_unit_find(dest);
        x->maps[i].dest = u >= 0 && ic_unit_is_reported(u) ? u : -1;
        x->maps[i].required = json_object_object_get_ex(m, "required", &r) && json_object_get_boolean(r);
    }
    return IC_OK;
}

const ic_extractor *ic__find_extractor(const ic_provider *p, const char *flavor)
{
    if (!flavor || !*flavor)
        flavor = "default";
    for (size_t i = 0; i < p->nextractors; i++)
        if (!strcmp(p->extractors[i].flavor, flavor))
            return &p->extractors[i];
    return NULL;
}

/* -------------------------------------------------------------------------- providers ---- */

static const char *get_str(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

/* m->json_head, from m->provider's id and m's: see catalog_internal.h */
static void build_json_head(ic_arena *a, ic_model *m)
{
    static const char h1[] = "{\"provider\":", h2[] = ",\"model\":", h3[] = ",\"total_usd\":\"";
    size_t pl = strlen(m->provider->id), ml = strlen(m->id);
    size_t cap = sizeof h1 + sizeof h2 + sizeof h3 + 6 * (pl + ml) + 8; /* \u00XX: 6 per byte */
    char *t = ic_arena_alloc(a, cap);
    m->json_head = NULL;
    if (!t)
        return;
    size_t o = 0, w;
    memcpy(t, h1, sizeof h1 - 1);
    o += sizeof h1 - 1;
    if (!(w = ic_json_quote(m->provider->id, pl, t + o, cap - o)))
        return;
    o += w;
    memcpy(t + o, h2, sizeof h2 - 1);
    o += sizeof h2 - 1;
    if (!(w = ic_json_quote(m->id, ml, t + o, cap - o)))
        return;
    o += w;
    memcpy(t + o, h3, sizeof h3);
    m->json_head = t;
    m->json_head_len = o + sizeof h3 - 1;
}

static ic_status parse_model(json_object *mo, ic_arena *a, ic_regex_list *rl, ic_provider *p,
                             ic_model *m, const char *name, size_t idx, ic_error *err)
{
    json_object *v = NULL;
    const char *id = get_str(mo, "id");
    char where[300];
    if (!id)
        return ic_error_set(err, IC_ERR_CATALOG, "%s: provider %s: model %zu has no id", name, p->id, idx);
    snprintf(where, sizeof where, "%s: provider %s: model %s", name, p->id, id);
    m->id = ic_arena_strdup(a, id);
    const char *nm = get_str(mo, "name");
    m->name = nm ? ic_arena_strdup(a, nm) : NULL;
    if (json_object_object_get_ex(mo, "context_window", &v) && json_object_is_type(v, json_type_int))
        m->context_window = (uint64_t)json_object_get_int64(v);
    if (json_object_object_get_ex(mo, "deprecated", &v) && v && !json_object_is_type(v, json_type_boolean))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: deprecated must be true or false", where);
    m->deprecated = v && json_object_get_boolean(v);
    if (!json_object_object_get_ex(mo, "match", &v))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: no match rule", where);
    if (!(m->match = ic_match_parse(v, a, rl, where, err)))
        return err->status;
    if (!json_object_object_get_ex(mo, "prices", &v))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: no prices", where);
    if (parse_prices(v, a, m, where, err) != IC_OK)
        return err->status;
    m->provider = p;
    build_json_head(a, m);
    return IC_OK;
}

ic_status ic__parse_providers(json_object *root, ic_arena_list *al, const ic_provider ***out,
                              size_t *nout, const char *name, ic_error *err)
{
    ic_arena *a = &al->arena;
    ic_regex_list *rl = &al->regexes;
    if (!json_object_is_type(root, json_type_array))
        return ic_error_set(err, IC_ERR_CATALOG, "%s: expected a list of providers (genai-prices v2)", name);
    size_t n = json_object_array_length(root);
    const ic_provider **list = ic_arena_alloc(a, (n ? n : 1) * sizeof *list);
    if (!list)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *po = json_object_array_get_idx(root, i), *v;
        ic_provider *p = ic_arena_alloc(a, sizeof *p);
        if (!p)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        const char *id = get_str(po, "id");
        if (!id)
            return ic_error_set(err, IC_ERR_CATALOG, "%s: provider %zu has no id", name, i);
        p->id = ic_arena_strdup(a, id);
        const char *pname = get_str(po, "name");
        p->name = ic_arena_strdup(a, pname ? pname : id);
        char where[200];
        snprintf(where, sizeof where, "%s: provider %s", name, id);
        const char *api = get_str(po, "api_pattern");
        if (api) {
            p->api_pattern = ic_arena_strdup(a, api);
            if (!(p->api_re = ic_regex_compile(api, rl, where, err)))
                return err->status;
        }
        if (json_object_object_get_ex(po, "provider_match", &v) && !json_object_is_type(v, json_type_null) &&
            !(p->provider_match = ic_match_parse(v, a, rl, where, err)))
            return err->status;
        if (json_object_object_get_ex(po, "model_match", &v) && !json_object_is_type(v, json_type_null) &&
            !(p->model_match = ic_match_parse(v, a, rl, where, err)))
            return err->status;
        if (json_object_object_get_ex(po, "fallback_model_providers", &v) &&
            json_object_is_type(v, json_type_array)) {
            p->nfallbacks = json_object_array_length(v);
            p->fallbacks = ic_arena_alloc(a, (p->nfallbacks ? p->nfallbacks : 1) * sizeof *p->fallbacks);
            if (!p->fallbacks)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < p->nfallbacks; k++) {
                json_object *fv = json_object_array_get_idx(v, k);
                if (!json_object_is_type(fv, json_type_string))
                    return ic_error_set(err, IC_ERR_CATALOG, "%s: fallback_model_providers must list provider ids", where);
                p->fallbacks[k] = ic_arena_strdup(a, json_object_get_string(fv));
            }
        }
        if (json_object_object_get_ex(po, "extractors", &v) && json_object_is_type(v, json_type_array)) {
            p->nextractors = json_object_array_length(v);
            p->extractors = ic_arena_alloc(a, (p->nextractors ? p->nextractors : 1) * sizeof *p->extractors);
            if (!p->extractors)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < p->nextractors; k++)
                if (parse_extractor(json_object_array_get_idx(v, k), a, rl, &p->extractors[k], where, err) != IC_OK)
                    return err->status;
        }
        json_object *models;
        if (!json_object_object_get_ex(po, "models", &models) || !json_object_is_type(models, json_type_array))
            return ic_error_set(err, IC_ERR_CATALOG, "%s: no models list", where);
        p->nmodels = json_object_array_length(models);
        p->models = ic_arena_alloc(a, (p->nmodels ? p->nmodels : 1) * sizeof *p->models);
        ic_model *ms = ic_arena_alloc(a, (p->nmodels ? p->nmodels : 1) * sizeof *ms);
        if (!p->models || !ms)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < p->nmodels; k++) {
            if (parse_model(json_object_array_get_idx(models, k), a, rl, p, &ms[k], name, k, err) != IC_OK)
                return err->status;
            p->models[k] = &ms[k];
        }
        list[i] = p;
    }
    *out = list;
    *nout = n;
    return IC_OK;
}

/* ------------------------------------------------------------------- open, overlay, free ---- */

static json_object *parse_json(const char *text, size_t len, const char *name, ic_error *err)
{
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok) {
        ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    while (o && je == json_tokener_success && end < len && isspace((unsigned char)text[end]))
        end++;
    if (o && je == json_tokener_success && end < len) {
        size_t line = 1;
        for (size_t i = 0; i < end; i++)
            line += text[i] == '\n';
        ic_error_set(err, IC_ERR_PARSE, "%s:%zu: invalid JSON: text after the end of the document", name, line);
        json_object_put(o);
        json_tokener_free(tok);
        return NULL;
    }
    if (!o || je != json_tokener_success) {
        /* find the line of the failure */
        size_t off = json_tokener_get_parse_end(tok), line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        ic_error_set(err, IC_ERR_PARSE, "%s:%zu: invalid JSON: %s", name, line,
                     json_tokener_error_desc(je));
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

static void arena_list_free(ic_arena_list *al)
{
    while (al) {
        ic_arena_list *n = al->next;
        ic_arena_free(&al->arena);
        ic_regex_list_free(&al->regexes);
        free(al);
        al = n;
    }
}

ic_status ic_catalog_open_text(ic_catalog **out, const char *text, size_t len, const char *name,
                               ic_error *err)
{
    *out = NULL;
    if (ic_units_init(err) != IC_OK)
        return err ? err->status : IC_ERR_CATALOG;
    ic_catalog *c = calloc(1, sizeof *c);
    ic_arena_list *al = calloc(1, sizeof *al);
    if (!c || !al) {
        free(c);
        free(al);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&c->lock, NULL);
    c->generation = atomic_fetch_add(&next_generation, 1);
    c->arenas = al;
    json_object *root = parse_json(text, len, name, err);
    ic_status st = root ? ic__parse_providers(root, al, &c->providers, &c->nproviders, name, err)
                        : IC_ERR_PARSE;
    json_object_put(root);
    if (st != IC_OK) {
        ic_catalog_free(c);
        return st;
    }
    *out = c;
    return IC_OK;
}

ic_status ic_catalog_open(ic_catalog **out, const char *path, ic_error *err)
{
    *out = NULL;
    if (!path) {
        size_t len;
        const unsigned char *d = ic__embedded("data.json", &len);
        if (!d)
            return ic_error_set(err, IC_ERR_CATALOG, "no embedded price feed");
        return ic_catalog_open_text(out, (const char *)d, len, "data.json (embedded)", err);
    }
    char *text;
    size_t len;
    ic_status st = ic__read_file(path, &text, &len, err);
    if (st != IC_OK)
        return st;
    st = ic_catalog_open_text(out, text, len, path, err);
    free(text);
    return st;
}

struct ic_resolve_slot {
    char *key;            /* NULL: empty slot */
    const ic_provider *p;
    const ic_model *m;
    ic_status st;
    char *msg;
};

static void cache_clear(ic_catalog *c)
{
    for (size_t i = 0; i < c->cache_cap; i++) {
        free(c->cache[i].key);
        free(c->cache[i].msg);
    }
    free(c->cache);
    c->cache = NULL;
    c->cache_cap = c->cache_n = 0;
    c->generation = atomic_fetch_add(&next_generation, 1);
}

void ic_catalog_free(ic_catalog *c)
{
    if (!c)
        return;
    cache_clear(c);
    arena_list_free(c->arenas);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Merge new providers into the catalog: a known id gets the overlay's models first (and its
 * extractors/match rules where it gives them); a new id goes before the feed's providers, so a
 * user's own provider wins provider inference. Everything new lives in al (already linked). */
static ic_status merge(ic_catalog *c, ic_arena_list *al, const ic_provider **add, size_t nadd,
                       ic_error *err)
{
    ic_arena *a = &al->arena;
    /* one overlay may list a provider id twice: its models are then tried in file order */
    const ic_provider **uniq = ic_arena_alloc(a, (nadd + 1) * sizeof *uniq);
    if (!uniq)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t nu = 0;
    for (size_t i = 0; i < nadd; i++) {
        size_t j = 0;
        while (j < nu && strcmp(uniq[j]->id, add[i]->id))
            j++;
        if (j == nu) {
            uniq[nu++] = add[i];
            continue;
        }
        ic_provider *m = ic_arena_alloc(a, sizeof *m);
        const ic_model **models = ic_arena_alloc(a, (uniq[j]->nmodels + add[i]->nmodels + 1) * sizeof *models);
        if (!m || !models)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        *m = *uniq[j];
        memcpy(models, uniq[j]->models, uniq[j]->nmodels * sizeof *models);
        memcpy(models + uniq[j]->nmodels, add[i]->models, add[i]->nmodels * sizeof *models);
        m->models = models;
        m->nmodels = uniq[j]->nmodels + add[i]->nmodels;
        if (!m->nextractors && add[i]->nextractors) {
            m->extractors = add[i]->extractors;
            m->nextractors = add[i]->nextractors;
        }
        uniq[j] = m;
    }
    add = uniq;
    nadd = nu;
    const ic_provider **list = ic_arena_alloc(a, (c->nproviders + nadd + 1) * sizeof *list);
    if (!list)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nadd; i++) {
        bool known = false;
        for (size_t k = 0; k < c->nproviders; k++)
            if (!strcmp(c->providers[k]->id, add[i]->id))
                known = true;
        if (!known)
            list[n++] = add[i];
    }
    for (size_t k = 0; k < c->nproviders; k++) {
        const ic_provider *old = c->providers[k], *ov = NULL;
        for (size_t i = 0; i < nadd; i++)
            if (!strcmp(old->id, add[i]->id))
                ov = add[i];
        if (!ov) {
            list[n++] = old;
            continue;
        }
        ic_provider *m = ic_arena_alloc(a, sizeof *m);
        if (!m)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        *m = *old;
        m->nmodels = old->nmodels + ov->nmodels;
        m->models = ic_arena_alloc(a, (m->nmodels + 1) * sizeof *m->models);
        if (!m->models)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < ov->nmodels; i++) {
            ic_model *copy = ic_arena_alloc(a, sizeof *copy);
            if (!copy)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            *copy = *ov->models[i];
            copy->provider = m;
            m->models[i] = copy;
        }
        memcpy(m->models + ov->nmodels, old->models, old->nmodels * sizeof *m->models);
        if (ov->nextractors) {
            m->nextractors = ov->nextractors + old->nextractors;
            m->extractors = ic_arena_alloc(a, m->nextractors * sizeof *m->extractors);
            if (!m->extractors)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            memcpy(m->extractors, ov->extractors, ov->nextractors * sizeof *m->extractors);
            memcpy(m->extractors + ov->nextractors, old->extractors,
                   old->nextractors * sizeof *m->extractors);
        }
        if (ov->model_match)
            m->model_match = ov->model_match;
        if (ov->provider_match)
            m->provider_match = ov->provider_match;
        if (ov->api_re) {
            m->api_re = ov->api_re;
            m->api_pattern = ov->api_pattern;
        }
        if (ov->nfallbacks) {
            m->fallbacks = ov->fallbacks;
            m->nfallbacks = ov->nfallbacks;
        }
        /* old models keep pointing at the old provider struct; ic_model_provider() of an old
         * model therefore still names the same id, which is all callers use it for */
        list[n++] = m;
    }
    c->providers = list;
    c->nproviders = n;
    return IC_OK;
}

ic_status ic_catalog_overlay_text(ic_catalog *c, const char *text, size_t len, const char *name,
                                  ic_error *err)
{
    json_object *root = parse_json(text, len, name, err);
    if (!root)
        return IC_ERR_PARSE;
    ic_arena_list *al = calloc(1, sizeof *al);
    if (!al) {
        json_object_put(root);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    const ic_provider **add = NULL;
    size_t nadd = 0;
    ic_status st;
    if (json_object_is_type(root, json_type_object))
        st = ic__litellm_providers(root, al, &add, &nadd, name, err);
    else
        st = ic__parse_providers(root, al, &add, &nadd, name, err);
    json_object_put(root);
    /* an overlay is the user's own: a price the reference would refuse (a key outside
     * units.yml, a sub-unit without its parent) is an error now, not at the first call */
    for (size_t i = 0; st == IC_OK && i < nadd; i++)
        for (size_t j = 0; st == IC_OK && j < add[i]->nmodels; j++) {
            const ic_model *m = add[i]->models[j];
            for (size_t k = 0; st == IC_OK && k < m->nentries; k++)
                if (m->entries[k].prices && m->entries[k].prices->invalid)
                    st = ic_error_set(err, IC_ERR_CATALOG, "%s (the overlay is not loaded)",
                                      m->entries[k].prices->invalid);
        }
    const ic_provider **saved = c->providers;
    size_t nsaved = c->nproviders;
    if (st == IC_OK)
        st = merge(c, al, add, nadd, err);
    if (st != IC_OK) {
        c->providers = saved;
        c->nproviders = nsaved;
        arena_list_free(al);
        return st;
    }
    al->next = c->arenas;
    c->arenas = al;
    pthread_mutex_lock(&c->lock);
    cache_clear(c);
    pthread_mutex_unlock(&c->lock);
    return IC_OK;
}

ic_status ic_catalog_overlay(ic_catalog *c, const char *path, ic_error *err)
{
    char *text;
    size_t len;
    ic_status st = ic__read_file(path, &text, &len, err);
    if (st != IC_OK)
        return st;
    st = ic_catalog_overlay_text(c, text, len, path, err);
    free(text);
    return st;
}

/* ------------------------------------------------------------------------- accessors ---- */

size_t ic_catalog_provider_count(const ic_catalog *c) { return c->nproviders; }
const ic_provider *ic_catalog_provider(const ic_catalog *c, size_t i)
{
    return i < c->nproviders ? c->providers[i] : NULL;
}
size_t ic_catalog_model_count(const ic_catalog *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nproviders; i++)
        n += c->providers[i]->nmodels;
    return n;
}
const char *ic_provider_id(const ic_provider *p) { return p->id; }
const char *ic_provider_name(const ic_provider *p) { return p->name; }
size_t ic_provider_model_count(const ic_provider *p) { return p->nmodels; }
const ic_model *ic_provider_model(const ic_provider *p, size_t i)
{
    return i < p->nmodels ? p->models[i] : NULL;
}
const char *ic_model_id(const ic_model *m) { return m->id; }
const char *ic_model_name(const ic_model *m) { return m->name; }
uint64_t ic_model_context_window(const ic_model *m) { return m->context_window; }
bool ic_model_deprecated(const ic_model *m) { return m->deprecated; }
const ic_provider *ic_model_provider(const ic_model *m) { return m->provider; }
size_t ic_model_price_count(const ic_model *m) { return m->nentries; }
const ic_price_entry *ic_model_price_entry(const ic_model *m, size_t i)
{
    return i < m->nentries ? &m->entries[i] : NULL;
}
size_t ic_price_set_count(const ic_price_set *ps) { return ps->n; }
const ic_unit_price *ic_price_set_item(const ic_price_set *ps, size_t i)
{
    return i < ps->n ? &ps->items[i] : NULL;
}
const ic_unit_price *ic_price_set_find(const ic_price_set *ps, int unit)
{
    return unit >= 0 && unit < IC_UNITS_MAX && ps->item_of[unit] >= 0 ? &ps->items[ps->item_of[unit]]
                                                                       : NULL;
}

const ic_price_set *ic_model_prices_at(const ic_model *m, int64_t t_ms)
{
    if (m->nentries == 1)
        return m->entries[0].prices; /* most models: one price, no history */
    int64_t day_ms = -1;
    for (size_t k = m->nentries; k-- > 0;) {
        const ic_price_entry *e = &m->entries[k];
        switch (e->kind) {
        case IC_PRICE_ALWAYS:
            return e->prices;
        case IC_PRICE_FROM_DATE:
            if (t_ms >= e->start_ms)
                return e->prices;
            break;
        case IC_PRICE_TIME_OF_DAY:
            if (day_ms < 0)
                day_ms = ((t_ms % 86400000) + 86400000) % 86400000;
            if (e->tod_end_ms < e->tod_start_ms) {
                if (day_ms >= e->tod_start_ms || day_ms < e->tod_end_ms)
                    return e->prices;
            } else if (day_ms >= e->tod_start_ms && day_ms < e->tod_end_ms) {
                return e->prices;
            }
            break;
        }
    }
    return m->entries[0].prices;
}

/* -------------------------------------------------------------------------- resolution ---- */

/* Length of the JavaScript-trim() whitespace character starting at s (0 if none): ASCII space,
 * \t \n \v \f \r, and in UTF-8 U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F,
 * U+3000, U+FEFF, as String.prototype.trim() removes them. */
static size_t js_space_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (n >= 3) {
        unsigned cp = (unsigned)(s[0] & 0x0F) << 12 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
            (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
             cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF))
            return 3;
    }
    return 0;
}

static size_t js_space_before(const unsigned char *s, size_t end)
{
    if (end >= 1 && js_space_at(s + end - 1, 1) == 1)
        return 1;
    if (end >= 2 && js_space_at(s + end - 2, 2) == 2)
        return 2;
    if (end >= 3 && js_space_at(s + end - 3, 3) == 3)
        return 3;
    return 0;
}

/* trim (as JavaScript's trim()) and lower-case ASCII letters, as the reference does */
static void lower_trim(const char *str, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), b = 0, k;
    while ((k = js_space_at(s + b, n - b)) > 0)
        b += k;
    while (n > b && (k = js_space_before(s, n)) > 0)
        n -= k;
    n -= b;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower(s[b + i]);
    out[n] = 0;
}

static const ic_provider *provider_by_id(const ic_catalog *c, const char *id)
{
    /* ids compare without case: the name asked for is lower-cased, an overlay's id may not be */
    for (size_t i = 0; i < c->nproviders; i++)
        if (!strcasecmp(c->providers[i]->id, id))
            return c->providers[i];
    return NULL;
}

const ic_provider *ic_catalog_find_provider(const ic_catalog *c, const char *provider)
{
    char key[256];
    lower_trim(provider, key, sizeof key);
    const ic_provider *p = provider_by_id(c, key);
    if (p)
        return p;
    for (size_t i = 0; i < c->nproviders; i++)
        if (c->providers[i]->provider_match && ic_match_eval(c->providers[i]->provider_match, key))
            return c->providers[i];
    return NULL;
}

const ic_provider *ic_catalog_find_provider_by_url(const ic_catalog *c, const char *url)
{
    for (size_t i = 0; i < c->nproviders; i++)
        if (c->providers[i]->api_re && ic_regex_test(c->providers[i]->api_re, url, true))
            return c->providers[i];
    return NULL;
}

static const ic_model *find_model(const ic_catalog *c, const ic_provider *p, const char *id,
                                  bool fallbacks)
{
    for (size_t i = 0; i < p->nmodels; i++)
        if (ic_match_eval(p->models[i]->match, id))
            return p->models[i];
    if (fallbacks)
        for (size_t k = 0; k < p->nfallbacks; k++) {
            const ic_provider *fp = provider_by_id(c, p->fallbacks[k]);
            const ic_model *m = fp ? find_model(c, fp, id, false) : NULL;
            if (m)
                return m;
        }
    return NULL;
}

/* -YYYYMMDD (a valid date, followed by '-', ':' or the end) -> -YYYY-MM-DD, every occurrence */
static bool normalize_dates(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;
    bool changed = false;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '-' && i + 9 <= n && in[i + 1] == '2' && in[i + 2] == '0') {
            bool dig = true;
            for (int k = 1; k <= 8; k++)
                dig = dig && isdigit((unsigned char)in[i + (size_t)k]);
            char next = in[i + 9];
            if (dig && (next == 0 || next == '-' || next == ':')) {
                const char *q = in + i + 1;
                char date[11] = {q[0], q[1], q[2], q[3], '-', q[4], q[5], '-', q[6], q[7], 0};
                int64_t ms;
                if (ic_time_parse(date, 10, &ms) == IC_OK) {
                    if (o + 12 >= cap)
                        return false;
                    out[o++] = '-';
                    memcpy(out + o, date, 10);
                    o += 10;
                    i += 8;
                    changed = true;
                    continue;
                }
            }
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = in[i];
    }
    out[o] = 0;
    return changed;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 128 || lb > 128)
        return 1000;
    size_t row[130];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

size_t ic_catalog_suggest(const ic_catalog *c, const char *model, const char **ids, size_t max)
{
    size_t dist[16], n = 0;
    if (max > 16)
        max = 16;
    char key[256];
    lower_trim(model, key, sizeof key);
    for (size_t i = 0; i < c->nproviders; i++)
        for (size_t k = 0; k < c->providers[i]->nmodels; k++) {
            const char *id = c->providers[i]->models[k]->id;
            size_t kl = strlen(key), il = strlen(id), gap = kl > il ? kl - il : il - kl;
            if (n == max && gap > dist[n - 1] * 2 + 2 && !strstr(id, key) && !strstr(key, id))
                continue; /* the edit distance is at least the length gap: cannot make the list */
            size_t d = edit_distance(key, id);
            if (strstr(id, key) || strstr(key, id))
                d = d / 2; /* a containing name is a likelier intent */
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup = dup || !strcmp(ids[j], id);
            if (dup)
                continue;
            size_t pos = n;
            while (pos > 0 && dist[pos - 1] > d)
                pos--;
            if (pos >= max)
                continue;
            size_t last = n < max ? n : max - 1;
            for (size_t j = last; j > pos; j--) {
                dist[j] = dist[j - 1];
                ids[j] = ids[j - 1];
            }
            dist[pos] = d;
            ids[pos] = id;
            if (n < max)
                n++;
        }
    return n;
}

static ic_status resolve_uncached(const ic_catalog *c, const char *provider, const char *model,
                                  const ic_provider **pout, const ic_model **mout, ic_error *err)
{
    char id[512];
    lower_trim(model, id, sizeof id);
    const ic_provider *p = NULL;
    const char *pid = provider && *provider ? provider : NULL;
    if (pid && !strcasecmp(pid, "litellm")) {
        char *slash = strchr(id, '/');
        if (slash && slash != id && slash[1]) {
            *slash = 0;
            const ic_provider *lp = ic_catalog_find_provider(c, id);
            if (lp) {
                p = lp;
                memmove(id, slash + 1, strlen(slash + 1) + 1);
            } else {
                *slash = '/';
            }
        }
    }
    if (!p && pid) {
        p = ic_catalog_find_provider(c, pid);
        if (!p && strcasecmp(pid, "litellm") != 0) {
            char known[300] = "";
            for (size_t i = 0; i < c->nproviders && strlen(known) < 240; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         i ? ", " : "", c->providers[i]->id);
            return ic_error_set(err, IC_ERR_UNKNOWN_PROVIDER, "unknown provider \"%s\" (known: %s%s)",
                                pid, known, strlen(known) >= 240 ? ", ..." : "");
        }
    }
    if (!p) {
        for (size_t i = 0; i < c->nproviders && !p; i++)
            if (c->providers[i]->model_match && ic_match_eval(c->providers[i]->model_match, id))
                p = c->providers[i];
        if (!p) {
            /* name the providers that do have such a model, to help the user choose */
            char have[300] = "";
            for (size_t i = 0; i < c->nproviders && strlen(have) < 200; i++)
                if (find_model(c, c->providers[i], id, false))
                    snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s",
                             have[0] ? ", " : "", c->providers[i]->id);
            if (have[0])
                return ic_error_set(err, IC_ERR_UNKNOWN_PROVIDER,
                                    "model \"%s\" needs a provider: no provider claims it by name; "
                                    "priced by: %s", model, have);
            const char *sug[3];
            size_t ns = ic_catalog_suggest(c, id, sug, 3);
            return ic_error_set(err, IC_ERR_UNKNOWN_MODEL,
                                "unknown model \"%s\"%s%s%s%s%s%s", model, ns ? "; nearest: " : "",
                                ns > 0 ? sug[0] : "", ns > 1 ? ", " : "", ns > 1 ? sug[1] : "",
                                ns > 2 ? ", " : "", ns > 2 ? sug[2] : "");
        }
    }
    const ic_model *m = find_model(c, p, id, true);
    if (!m) {
        char norm[512];
        if (normalize_dates(id, norm, sizeof norm))
            m = find_model(c, p, norm, true);
    }
    if (!m) {
        const char *sug[3];
        size_t ns = ic_catalog_suggest(c, id, sug, 3);
        return ic_error_set(err, IC_ERR_UNKNOWN_MODEL,
                            "unknown model \"%s\" for provider %s%s%s%s%s%s%s", model, p->id,
                            ns ? "; nearest: " : "", ns > 0 ? sug[0] : "", ns > 1 ? ", " : "",
                            ns > 1 ? sug[1] : "", ns > 2 ? ", " : "", ns > 2 ? sug[2] : "");
    }
    *pout = p;
    *mout = m;
    return IC_OK;
}

/* a fast 64-bit string hash, eight bytes at a time (multiply-xorshift mixing) */
static uint64_t hash_key(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

ic_status ic_catalog_resolve(const ic_catalog *cc, const char *provider, const char *model,
                             const ic_provider **pout, const ic_model **mout, ic_error *err)
{
    ic_catalog *c = (ic_catalog *)cc; /* the cache is the only mutable part, under the lock */
    char key[800];
    size_t pl = provider ? strlen(provider) : 0, ml = strlen(model);
    if (pl + ml + 2 > sizeof key)
        return ic_error_set(err, IC_ERR_INVALID, "model name too long");
    memcpy(key, provider ? provider : "", pl);
    key[pl] = '\x1f';
    memcpy(key + pl + 1, model, ml + 1);
    uint64_t h = hash_key(key);
    /* A per-thread memo of recent successes keeps the shared cache's lock off the hot path:
     * 2,048 sets of two, the newer first, each remembering the shared cache's copy of its key
     * (freed only when the generation changes). */
    typedef struct memo_entry {
        const ic_catalog *c;
        uint64_t gen, h;
        const ic_provider *p;
        const ic_model *m;
        const char *key;
    } memo_entry;
    static _Thread_local memo_entry memo[2048][2]; /* 192 KiB a thread */
    memo_entry *set = memo[h >> 53];
    for (int w = 0; w < 2; w++)
        if (set[w].c == c && set[w].gen == c->generation && set[w].h == h &&
            !strcmp(set[w].key, key)) {
            *pout = set[w].p;
            *mout = set[w].m;
            return IC_OK;
        }
    pthread_mutex_lock(&c->lock);
    if (c->cache_cap) {
        for (size_t i = h & (c->cache_cap - 1);; i = (i + 1) & (c->cache_cap - 1)) {
            ic_resolve_slot *s = &c->cache[i];
            if (!s->key)
                break;
            if (!strcmp(s->key, key)) {
                ic_status st = s->st;
                if (st == IC_OK) {
                    *pout = s->p;
                    *mout = s->m;
                    set[1] = set[0];
                    set[0] = (memo_entry){c, c->generation, h, s->p, s->m, s->key};
                } else {
                    ic_error_set(err, st, "%s", s->msg);
                }
                pthread_mutex_unlock(&c->lock);
                return st;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    ic_error local = {0};
    const ic_provider *p = NULL;
    const ic_model *m = NULL;
    ic_status st = resolve_uncached(c, provider, model, &p, &m, &local);
    if (st != IC_OK && err)
        *err = local;
    if (st == IC_OK) {
        *pout = p;
        *mout = m;
    }
    pthread_mutex_lock(&c->lock);
    if (c->cache_n * 2 >= c->cache_cap && c->cache_cap < (1u << 20)) {
        size_t ncap = c->cache_cap ? c->cache_cap * 2 : 256;
        ic_resolve_slot *nt = calloc(ncap, sizeof *nt);
        if (nt) {
            for (size_t i = 0; i < c->cache_cap; i++) {
                if (!c->cache[i].key)
                    continue;
                size_t j = hash_key(c->cache[i].key) & (ncap - 1);
                while (nt[j].key)
                    j = (j + 1) & (ncap - 1);
                nt[j] = c->cache[i];
            }
            free(c->cache);
            c->cache = nt;
            c->cache_cap = ncap;
        }
    }
    if (c->cache_cap && c->cache_n * 2 < c->cache_cap) {
        size_t i = h & (c->cache_cap - 1);
        while (c->cache[i].key && strcmp(c->cache[i].key, key))
            i = (i + 1) & (c->cache_cap - 1);
        if (!c->cache[i].key) {
            char *k = strdup(key), *msg = st == IC_OK ? NULL : strdup(local.msg);
            if (k && (st == IC_OK || msg)) {
                c->cache[i] = (ic_resolve_slot){k, p, m, st, msg};
                c->cache_n++;
            } else {
                free(k);
                free(msg);
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}
