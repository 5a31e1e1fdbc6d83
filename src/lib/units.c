/* units.c: the unit registry, loaded once from the embedded units.yml (libyaml). Precomputes, for
 * every pair of units, ancestry (dimension containment), compatibility and join, so that pricing
 * does bit operations only. The feed's v2 registry has 59 units; more than IC_UNITS_MAX is a load
 * error rather than a silent truncation. */
#include "infercost/units.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "embedded.h"
#include "units_internal.h"

#define MAX_DIMS 8

typedef struct unit {
    char name[48];
    char price_key[48];
    uint64_t per;
    int ndims;
    char dim_k[MAX_DIMS][24];
    char dim_v[MAX_DIMS][24];
} unit;

static unit units[IC_UNITS_MAX];
static int nunits;
uint64_t ic__unit_desc[IC_UNITS_MAX], ic__unit_anc[IC_UNITS_MAX];
signed char ic__unit_join_tab[IC_UNITS_MAX][IC_UNITS_MAX];
uint64_t ic__unit_compat[IC_UNITS_MAX];
static const char *direction[IC_UNITS_MAX], *family[IC_UNITS_MAX];
bool ic__unit_reported[IC_UNITS_MAX], ic__unit_in[IC_UNITS_MAX], ic__unit_out[IC_UNITS_MAX];
static signed char by_name[256], by_price_key[256]; /* hash -> unit, -1 empty (open addressing) */
static unsigned char name_len[IC_UNITS_MAX], price_key_len[IC_UNITS_MAX]; /* strlen of each */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static unsigned name_hash_n(const char *s, size_t n)
{
    /* the length and the first and last eight bytes (overlapping below 16): unit names are short,
     * differ in those, and are looked up once per usage key; equal hashes are told apart by the
     * probe's comparison */
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++)
            a |= (uint64_t)(unsigned char)s[i] << (8 * i);
    }
    uint64_t h = (a * 0x9E3779B97F4A7C15ULL) ^ (b + n);
    h *= 0xC2B2AE3D27D4EB4FULL;
    return (unsigned)(h >> 56);
}

static unsigned name_hash(const char *s) { return name_hash_n(s, strlen(s)); }

static void index_name(signed char *tab, const char *name, int u)
{
    unsigned h = name_hash(name);
    while (tab[h] >= 0)
        h = (h + 1) & 255;
    tab[h] = (signed char)u;
}
static ic_error load_err;
static ic_status load_st;

static const char *dim(const unit *u, const char *k)
{
    for (int i = 0; i < u->ndims; i++)
        if (!strcmp(u->dim_k[i], k))
            return u->dim_v[i];
    return NULL;
}

static bool contains(const unit *a, const unit *b) /* every dim of a is in b */
{
    for (int i = 0; i < a->ndims; i++) {
        const char *v = dim(b, a->dim_k[i]);
        if (!v || strcmp(v, a->dim_v[i]))
            return false;
    }
    return true;
}

static bool compatible(const unit *a, const unit *b)
{
    for (int i = 0; i < a->ndims; i++) {
        const char *v = dim(b, a->dim_k[i]);
        if (v && strcmp(v, a->dim_v[i]))
            return false;
    }
    return true;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static ic_status parse_units(void)
{
    size_t len;
    const unsigned char *text = ic__embedded("units.yml", &len);
    if (!text)
        return ic_error_set(&load_err, IC_ERR_CATALOG, "units.yml is not embedded");
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        ic_error_set(&load_err, IC_ERR_PARSE, "units.yml:%zu: %s",
                     parser.problem_mark.line + 1, parser.problem ? parser.problem : "bad YAML");
        yaml_parser_delete(&parser);
        return IC_ERR_PARSE;
    }
    ic_status st = IC_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = ic_error_set(&load_err, IC_ERR_PARSE, "units.yml: expected a mapping of units");
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        const char *name = scalar(k);
        if (!name || !v || v->type != YAML_MAPPING_NODE) {
            st = ic_error_set(&load_err, IC_ERR_PARSE, "units.yml:%zu: expected unit: {...}",
                              k ? k->start_mark.line + 1 : 0);
            goto out;
        }
        if (nunits == IC_UNITS_MAX) {
            st = ic_error_set(&load_err, IC_ERR_CATALOG, "units.yml: more than %d units",
                              IC_UNITS_MAX);
            goto out;
        }
        unit *u = &units[nunits];
        memset(u, 0, sizeof *u);
        if (strlen(name) >= sizeof u->name) {
            st = ic_error_set(&load_err, IC_ERR_CATALOG, "units.yml: unit name too long: %s", name);
            goto out;
        }
        strcpy(u->name, name);
        strcpy(u->price_key, name);
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
            const char *field = scalar(yaml_document_get_node(&doc, q->key));
            yaml_node_t *val = yaml_document_get_node(&doc, q->value);
            if (!field)
                continue;
            if (!strcmp(field, "per")) {
                const char *s = scalar(val);
                uint64_t per = 0;
                for (; s && *s; s++)
                    if (*s >= '0' && *s <= '9')
                        per = per * 10 + (uint64_t)(*s - '0');
                    else if (*s != '_')
                        per = 0, s = "";
                u->per = per;
            } else if (!strcmp(field, "price_key")) {
                const char *s = scalar(val);
                if (!s || strlen(s) >= sizeof u->price_key) {
                    st = ic_error_set(&load_err, IC_ERR_CATALOG, "units.yml: %s: bad price_key", name);
                    goto out;
                }
                strcpy(u->price_key, s);
            } else if (!strcmp(field, "dimensions") && val && val->type == YAML_MAPPING_NODE) {
                for (yaml_node_pair_t *r = val->data.mapping.pairs.start;
                     r < val->data.mapping.pairs.top; r++) {
                    const char *dk = scalar(yaml_document_get_node(&doc, r->key));
                    const char *dv = scalar(yaml_document_get_node(&doc, r->value));
                    if (!dk || !dv || u->ndims == MAX_DIMS || strlen(dk) >= 24 || strlen(dv) >= 24) {
                        st = ic_error_set(&load_err, IC_ERR_CATALOG, "units.yml: %s: bad dimensions", name);
                        goto out;
                    }
                    strcpy(u->dim_k[u->ndims], dk);
                    strcpy(u->dim_v[u->ndims], dv);
                    u->ndims++;
                }
            }
        }
        if (u->per == 0 || !dim(u, "family")) {
            st = ic_error_set(&load_err, IC_ERR_CATALOG,
                              "units.yml: unit %s needs a positive per and a family", name);
            goto out;
        }
        nunits++;
    }
    memset(by_name, -1, sizeof by_name);
    memset(by_price_key, -1, sizeof by_price_key);
    for (int a = 0; a < nunits; a++) {
        index_name(by_name, units[a].name, a);
        index_name(by_price_key, units[a].price_key, a);
        name_len[a] = (unsigned char)strlen(units[a].name); /* < 48: checked above */
        price_key_len[a] = (unsigned char)strlen(units[a].price_key);
    }
    for (int a = 0; a < nunits; a++) {
        direction[a] = dim(&units[a], "direction");
        ic__unit_reported[a] = strcmp(units[a].name, "requests") != 0;
        ic__unit_in[a] = direction[a] && !strcmp(direction[a], "input");
        ic__unit_out[a] = direction[a] && !strcmp(direction[a], "output");
        family[a] = dim(&units[a], "family");
        for (int b = 0; b < nunits; b++) {
            ic__unit_join_tab[a][b] = -1;
            if (a != b && contains(&units[a], &units[b])) {
                ic__unit_desc[a] |= 1ULL << b;
                ic__unit_anc[b] |= 1ULL << a;
            }
        }
    }
    for (int a = 0; a < nunits; a++)
        for (int b = 0; b < nunits; b++) {
            if (!compatible(&units[a], &units[b]))
                continue;
            ic__unit_compat[a] |= 1ULL << b;
            /* the join has exactly the union of the two dimension sets */
            for (int j = 0; j < nunits; j++) {
                const unit *J = &units[j];
                if (contains(&units[a], J) && contains(&units[b], J)) {
                    int want = units[a].ndims;
                    for (int i = 0; i < units[b].ndims; i++)
                        if (!dim(&units[a], units[b].dim_k[i]))
                            want++;
                    if (J->ndims == want) {
                        ic__unit_join_tab[a][b] = (signed char)j;
                        break;
                    }
                }
            }
        }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return st;
}

static void load_once(void)
{
    load_st = parse_units();
    if (load_st != IC_OK)
        nunits = 0;
}

ic_status ic_units_init(ic_error *err)
{
    pthread_once(&once, load_once);
    if (load_st != IC_OK && err)
        *err = load_err;
    return load_st;
}

#define INIT() pthread_once(&once, load_once)
#define VALID(u) ((u) >= 0 && (u) < nunits)

int ic_unit_count(void)
{
    INIT();
    return nunits;
}

/* a[0..n) == b[0..n), eight bytes a step and one overlapping word for the rest (names are 8 to
 * 47 bytes; shorter ones byte by byte) */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n < 8)
        return !memcmp(a, b, n);
    uint64_t x, y;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return false;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

/* Open-addressing probe of a name table for the n bytes of key (no INIT: callers do it, or run
 * after ic_units_init() as the record scanner does, once per usage key). */
static int probe(const signed char *tab, const char *key, size_t n, bool price_key)
{
    for (unsigned h = name_hash_n(key, n);; h = (h + 1) & 255) {
        int u = tab[h];
        if (u < 0 || u >= nunits)
            return -1;
        if ((price_key ? price_key_len[u] : name_len[u]) == n &&
            same_bytes(price_key ? units[u].price_key : units[u].name, key, n))
            return u;
    }
}

int ic_unit_find(const char *key)
{
    INIT();
    return probe(by_name, key, strlen(key), false);
}

/* probe() for unit names only, as one leaf function: the record scanner calls it per usage key */
int ic__unit_find_n(const char *key, size_t n)
{
    for (unsigned h = name_hash_n(key, n);; h = (h + 1) & 255) {
        int u = by_name[h];
        if (u < 0 || u >= nunits)
            return -1;
        if (name_len[u] == n && same_bytes(units[u].name, key, n))
            return u;
    }
}

int ic_unit_find_price_key(const char *key)
{
    INIT();
    return probe(by_price_key, key, strlen(key), true);
}

const char *ic_unit_name(int u) { INIT(); return VALID(u) ? units[u].name : "?"; }
const char *ic_unit_price_key(int u) { INIT(); return VALID(u) ? units[u].price_key : "?"; }
uint64_t ic_unit_per(int u) { INIT(); return VALID(u) ? units[u].per : 1; }
const char *ic_unit_direction(int u) { INIT(); return VALID(u) ? direction[u] : NULL; }
const char *ic_unit_family(int u) { INIT(); return VALID(u) ? family[u] : NULL; }
bool ic_unit_is_reported(int u) { INIT(); return VALID(u) && ic__unit_reported[u]; }
bool ic_unit_is_input(int u) { INIT(); return VALID(u) && ic__unit_in[u]; }
bool ic_unit_is_output(int u) { INIT(); return VALID(u) && ic__unit_out[u]; }
bool ic_unit_is_ancestor(int a, int b) { INIT(); return VALID(a) && VALID(b) && (ic__unit_desc[a] >> b & 1); }
uint64_t ic_unit_descendants(int u) { INIT(); return VALID(u) ? ic__unit_desc[u] : 0; }
uint64_t ic_unit_ancestors(int u) { INIT(); return VALID(u) ? ic__unit_anc[u] : 0; }
int ic_unit_join(int a, int b) { INIT(); return VALID(a) && VALID(b) ? ic__unit_join_tab[a][b] : -1; }
bool ic_unit_compatible(int a, int b) { INIT(); return VALID(a) && VALID(b) && (ic__unit_compat[a] >> b & 1); }
int ic_unit_dimension_count(int u) { INIT(); return VALID(u) ? units[u].ndims : 0; }
