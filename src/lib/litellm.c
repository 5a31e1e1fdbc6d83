/* litellm.c: imports LiteLLM's model_prices_and_context_window.json (USD per token) as a catalog
 * overlay, so users bring the prices they already keep. Each entry becomes a model of the
 * genai-prices provider its litellm_provider maps to (or of a new provider of that name), matched
 * by its key and by the key without its "provider/" prefix. Per-token prices become per-million
 * (decimal shift, exact); *_above_128k/200k/272k_tokens become tiers (total input > start). Only
 * standard-tier token, request and character prices are imported: batch, priority and flex
 * variants, and per-image/pixel/second/query prices, are not (docs/catalog.md lists them). */
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

static const struct { const char *litellm, *ours; } provider_map[] = {
    {"openai", "openai"}, {"text-completion-openai", "openai"}, {"azure", "azure"},
    {"azure_ai", "azure"}, {"azure_text", "azure"}, {"anthropic", "anthropic"},
    {"bedrock", "aws"}, {"bedrock_converse", "aws"}, {"gemini", "google"},
    {"vertex_ai", "google"}, {"vertex_ai-language-models", "google"},
    {"vertex_ai-anthropic_models", "google"}, {"vertex_ai-mistral_models", "google"},
    {"mistral", "mistral"}, {"together_ai", "together"}, {"fireworks_ai", "fireworks"},
    {"openrouter", "openrouter"}, {"novita", "novita"}, {"perplexity", "perplexity"},
    {"xai", "x-ai"}, {"groq", "groq"}, {"cohere", "cohere"}, {"cohere_chat", "cohere"},
    {"deepseek", "deepseek"}, {"cerebras", "cerebras"}, {"moonshot", "moonshotai"},
    {"voyage", "voyageai"}, {"zai", "zai"}, {"ovhcloud", "ovhcloud"}, {"minimax", "minimax"},
};

typedef struct field_map {
    const char *field;   /* LiteLLM base field */
    const char *price_key;
    int shift;           /* decimal places to move: per token -> per million = 6 */
    bool tiered;         /* has _above_NNNk_tokens variants */
} field_map;

static const field_map fields[] = {
    {"input_cost_per_token", "input_mtok", 6, true},
    {"output_cost_per_token", "output_mtok", 6, true},
    {"cache_read_input_token_cost", "cache_read_mtok", 6, true},
    {"cache_creation_input_token_cost", "cache_write_mtok", 6, true},
    {"cache_creation_input_token_cost_above_1hr", "cache_write_1h_mtok", 6, false},
    {"input_cost_per_audio_token", "input_audio_mtok", 6, false},
    {"output_cost_per_audio_token", "output_audio_mtok", 6, false},
    {"cache_read_input_audio_token_cost", "cache_audio_read_mtok", 6, false},
    {"cache_creation_input_audio_token_cost", "cache_audio_write_mtok", 6, false},
    {"output_cost_per_reasoning_token", "output_reasoning_mtok", 6, false},
    {"input_cost_per_image_token", "input_image_mtok", 6, false},
    {"output_cost_per_image_token", "output_image_mtok", 6, false},
    {"input_cost_per_character", "input_mchars", 6, false},
    {"input_cost_per_request", "requests_kcount", 3, false},
};

static const uint64_t tier_starts[] = {128000, 200000, 272000};
static const char *const tier_suffix[] = {"_above_128k_tokens", "_above_200k_tokens",
                                          "_above_272k_tokens"};

/* Close the set under joins (a price for cache_audio_read when both cache_read and input_audio
 * are priced): the join takes the price of the more specific unit of the pair, so audio read from
 * cache is charged at the cache-read rate. */
static size_t close_joins(ic_unit_price *it, size_t n, size_t cap)
{
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                int x = it[i].unit, y = it[j].unit;
                if (x == y || !ic_unit_compatible(x, y) || ic_unit_is_ancestor(x, y) ||
                    ic_unit_is_ancestor(y, x))
                    continue;
                int jn = ic_unit_join(x, y);
                bool have = false;
                for (size_t k = 0; k < n; k++)
                    have = have || it[k].unit == jn;
                if (jn < 0 || have || n == cap)
                    continue;
                size_t src = ic_unit_dimension_count(x) >= ic_unit_dimension_count(y) ? i : j;
                it[n] = it[src];
                it[n].unit = jn;
                n++;
                again = true;
            }
    }
    return n;
}

ic_status ic__litellm_providers(json_object *root, ic_arena_list *al,
                                const ic_provider ***out, size_t *nout, const char *name,
                                ic_error *err)
{
    ic_arena *a = &al->arena;
    size_t cap = (size_t)json_object_object_length(root) + 1;
    ic_provider **provs = ic_arena_alloc(a, cap * sizeof *provs);
    size_t np = 0;
    if (!provs)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t imported = 0;
    json_object_object_foreach(root, key, entry)
    {
        if (!json_object_is_type(entry, json_type_object) || !strcmp(key, "sample_spec"))
            continue;
        json_object *v;
        const char *lp = json_object_object_get_ex(entry, "litellm_provider", &v)
                             ? json_object_get_string(v) : NULL;
        if (!lp || !*lp)
            continue;
        const char *pid = lp;
        for (size_t i = 0; i < sizeof provider_map / sizeof provider_map[0]; i++)
            if (!strcmp(provider_map[i].litellm, lp))
                pid = provider_map[i].ours;
        /* prices */
        ic_unit_price items[64];
        size_t n = 0;
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            if (!json_object_object_get_ex(entry, fields[f].field, &v) || json_object_is_type(v, json_type_null))
                continue;
            int u = ic_unit_find_price_key(fields[f].price_key);
            if (u < 0)
                continue;
            ic_unit_price *it = &items[n];
            memset(it, 0, sizeof *it);
            it->unit = u;
            ic_status st = ic__json_decimal(v, fields[f].shift, &it->base);
            if (st != IC_OK)
                return ic_error_set(err, st == IC_ERR_PARSE ? IC_ERR_PARSE : st,
                                    "%s: model \"%s\": field %s: %s", name, key, fields[f].field,
                                    st == IC_ERR_INVALID ? "negative price"
                                    : st == IC_ERR_RANGE ? "number too large or too precise"
                                                         : "not a number");
            if (fields[f].tiered) {
                ic_price_tier tiers[3];
                size_t nt = 0;
                for (size_t t = 0; t < 3; t++) {
                    char fname[128];
                    snprintf(fname, sizeof fname, "%s%s", fields[f].field, tier_suffix[t]);
                    json_object *tv;
                    if (!json_object_object_get_ex(entry, fname, &tv) || json_object_is_type(tv, json_type_null))
                        continue;
                    tiers[nt].start = tier_starts[t];
                    if (ic__json_decimal(tv, fields[f].shift, &tiers[nt].price) != IC_OK)
                        return ic_error_set(err, IC_ERR_PARSE, "%s: model \"%s\": field %s: not a valid price",
                                            name, key, fname);
                    nt++;
                }
                if (nt) {
                    ic_price_tier *t = ic_arena_alloc(a, nt * sizeof *t);
                    if (!t)
                        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                    memcpy(t, tiers, nt * sizeof *t);
                    it->tiers = t;
                    it->ntiers = nt;
                }
            }
            n++;
        }
        if (n == 0)
            continue; /* nothing we import (image or per-second pricing only) */
        /* a sub-unit priced without its parent (1h cache writes without cache writes) is
         * dropped rather than invented */
        for (size_t i = 0; i < n;) {
            uint64_t need = ic_unit_ancestors(items[i].unit), have = 0;
            for (size_t k = 0; k < n; k++)
                have |= 1ULL << items[k].unit;
            if (need & ~have) {
                items[i] = items[--n];
                i = 0;
                continue;
            }
            i++;
        }
        if (n == 0)
            continue;
        n = close_joins(items, n, sizeof items / sizeof items[0]);
        ic_unit_price *stored = ic_arena_alloc(a, n * sizeof *stored);
        if (!stored)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        memcpy(stored, items, n * sizeof *stored);
        char where[300];
        snprintf(where, sizeof where, "%s: model \"%s\"", name, key);
        ic_model *m = ic_arena_alloc(a, sizeof *m);
        ic_price_entry *pe = ic_arena_alloc(a, sizeof *pe);
        if (!m || !pe)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        pe->kind = IC_PRICE_ALWAYS;
        if (!(pe->prices = ic__price_set_build(a, stored, n, where)))
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        m->entries = pe;
        m->nentries = 1;
        m->id = ic_arena_strdup(a, key);
        if ((json_object_object_get_ex(entry, "max_input_tokens", &v) ||
             json_object_object_get_ex(entry, "max_tokens", &v)) &&
            json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
            m->context_window = (uint64_t)json_object_get_int64(v);
        ic_match *alts[2];
        size_t na = 0;
        alts[na++] = ic_match_equals(a, key);
        const char *slash = strchr(key, '/');
        if (slash && slash[1])
            alts[na++] = ic_match_equals(a, slash + 1);
        m->match = ic_match_or(a, alts, na);
        if (!m->id || !m->match || !alts[0] || (na == 2 && !alts[1]))
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        /* find or add the provider */
        ic_provider *p = NULL;
        for (size_t i = 0; i < np; i++)
            if (!strcmp(provs[i]->id, pid))
                p = provs[i];
        if (!p) {
            p = ic_arena_alloc(a, sizeof *p);
            if (!p)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            p->id = ic_arena_strdup(a, pid);
            p->name = p->id;
            p->models = ic_arena_alloc(a, cap * sizeof *p->models);
            if (!p->id || !p->models)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            provs[np++] = p;
        }
        m->provider = p;
        p->models[p->nmodels++] = m;
        imported++;
    }
    if (imported == 0)
        return ic_error_set(err, IC_ERR_INVALID,
                            "%s: no prices found: neither a genai-prices provider list nor a "
                            "LiteLLM price map with input_cost_per_token fields", name);
    *out = (const ic_provider **)provs;
    *nout = np;
    return IC_OK;
}
