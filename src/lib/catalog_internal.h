/* catalog_internal.h: the catalog's data layout, shared by catalog.c (loading, overlays,
 * resolution), litellm.c (importer), pricing.c and usage.c (extractors). Everything lives in
 * arenas owned by the catalog and is immutable after loading. */
#ifndef IC_CATALOG_INTERNAL_H
#define IC_CATALOG_INTERNAL_H

#include <json-c/json.h>
#include <pthread.h>

#include "arena.h"
#include "infercost/catalog.h"
#include "infercost/units.h"
#include "match.h"

struct ic_price_set {
    size_t n;
    ic_unit_price *items;      /* in feed order */
    uint64_t *per;             /* ic_unit_per() of each item */
    uint64_t *pico;            /* per item: the exact pico-dollars per unit of an untiered price
                                  whose rate divides evenly (3 USD/Mtok -> 3000000), so pricing is
                                  one multiplication, no rounding; 0: use ic_money_of */
    uint64_t priced;           /* bit set of priced units */
    int order[IC_UNITS_MAX];   /* priced units but requests, most specific first */
    int norder;
    int item_of[IC_UNITS_MAX]; /* unit -> index in items, or -1 */
    bool any_tiered;
    int requests_unit;         /* -1 unless requests are priced */
    int input_unit;            /* input_tokens' id: tiers are chosen by it */
    const char *invalid;       /* why the reference would refuse this set (NULL if fine) */
};

struct ic_model {
    const char *id;
    const char *name;
    uint64_t context_window;
    bool deprecated;
    const ic_match *match;
    ic_price_entry *entries;
    size_t nentries;
    const ic_provider *provider;
    /* the opening of its `cost` output line, {"provider":"P","model":"M","total_usd":" with
     * both ids JSON-quoted, built once at load (NULL if it could not be) */
    const char *json_head;
    size_t json_head_len;
};

typedef struct ic_path_step {
    const char *key;            /* a mapping key, or NULL for an array-match step: */
    const char *am_field;
    const ic_match *am_match;
} ic_path_step;

typedef struct ic_path {
    size_t n;
    ic_path_step *steps;
} ic_path;

typedef struct ic_mapping {
    ic_path path;
    int dest;       /* unit id, -1 for destinations infercost does not price (reported: none) */
    const char *dest_name;
    bool required;
} ic_mapping;

typedef struct ic_extractor {
    const char *flavor;
    ic_path root;
    ic_path model_path;
    bool has_model_path;
    ic_mapping *maps;
    size_t nmaps;
} ic_extractor;

struct ic_provider {
    const char *id;
    const char *name;
    const char *api_pattern;
    const void *api_re;
    const ic_match *provider_match;
    const ic_match *model_match;
    const char **fallbacks;
    size_t nfallbacks;
    const ic_model **models;
    size_t nmodels;
    ic_extractor *extractors;
    size_t nextractors;
};

typedef struct ic_resolve_slot ic_resolve_slot;

typedef struct ic_arena_list {
    ic_arena arena;
    ic_regex_list regexes;
    struct ic_arena_list *next;
} ic_arena_list;

struct ic_catalog {
    const ic_provider **providers;
    size_t nproviders;
    ic_arena_list *arenas; /* the base load and every overlay */
    pthread_mutex_t lock;  /* guards the resolve cache */
    ic_resolve_slot *cache;
    size_t cache_cap, cache_n;
    uint64_t generation;   /* bumped whenever resolutions may change (overlays) */
};

/* Build a price set from (unit, base, tiers) items; validates as the reference does (ancestors
 * and joins priced) and records the problem in ps->invalid rather than failing the load. */
ic_price_set *ic__price_set_build(ic_arena *a, ic_unit_price *items, size_t n, const char *where);

/* Parse a provider list (genai-prices v2 JSON array) into a fresh arena. */
ic_status ic__parse_providers(json_object *root, ic_arena_list *al, const ic_provider ***out,
                              size_t *n, const char *name, ic_error *err);

/* LiteLLM's price map -> providers (litellm.c). */
ic_status ic__litellm_providers(json_object *root, ic_arena_list *al,
                                const ic_provider ***out, size_t *n, const char *name,
                                ic_error *err);

const ic_extractor *ic__find_extractor(const ic_provider *p, const char *flavor);

/* Convert per-token decimal text from a JSON number to a per-`scale` decimal (x 10^shift). */
ic_status ic__json_decimal(json_object *v, int shift, ic_decimal *out);

#endif
