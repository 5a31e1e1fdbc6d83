/* catalog.h: the price catalog. Reads the genai-prices v2 feed natively (providers, match rules,
 * prices with tiers, start dates and time-of-day windows, usage extractors), from the embedded
 * snapshot or a file, plus overlays in the same schema or in LiteLLM's
 * model_prices_and_context_window.json format (USD per token), which add or override providers
 * and models. Matching follows the reference calculator (@pydantic/genai-prices 0.1.8); see
 * docs/pricing.md. A loaded catalog is immutable and safe to share between threads, except that
 * overlays must be applied before it is shared. */
#ifndef INFERCOST_CATALOG_H
#define INFERCOST_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/money.h"
#include "infercost/status.h"

typedef struct ic_catalog ic_catalog;
typedef struct ic_provider ic_provider;
typedef struct ic_model ic_model;
typedef struct ic_price_set ic_price_set;

/* Open the catalog from a genai-prices v2 data.json, or the embedded snapshot if path is NULL.
 * On failure *out is NULL. */
ic_status ic_catalog_open(ic_catalog **out, const char *path, ic_error *err);
/* The same from text in memory; name is used in error messages. */
ic_status ic_catalog_open_text(ic_catalog **out, const char *text, size_t len, const char *name,
                               ic_error *err);
/* Apply an overlay file: a genai-prices provider list, or a LiteLLM price map (detected). A
 * provider with a known id merges into it (its models are tried before the existing ones); a new
 * id is added. A failed overlay leaves the catalog as it was. */
ic_status ic_catalog_overlay(ic_catalog *c, const char *path, ic_error *err);
ic_status ic_catalog_overlay_text(ic_catalog *c, const char *text, size_t len, const char *name,
                                  ic_error *err);
void ic_catalog_free(ic_catalog *c);

size_t ic_catalog_provider_count(const ic_catalog *c);
const ic_provider *ic_catalog_provider(const ic_catalog *c, size_t i);
size_t ic_catalog_model_count(const ic_catalog *c); /* over all providers */

/* Find a provider as the reference does: exact id (trimmed, lower-cased), then provider_match. */
const ic_provider *ic_catalog_find_provider(const ic_catalog *c, const char *provider);
/* Find the provider whose api_pattern matches an API URL. */
const ic_provider *ic_catalog_find_provider_by_url(const ic_catalog *c, const char *url);

/* Resolve (provider, model) as the reference's calcPrice does: the provider by id/provider_match
 * (or, with provider NULL, the first provider whose model_match matches), then the first model in
 * file order whose match rule matches, then the provider's fallback_model_providers (one level),
 * then the date-normalized id (-20250514 -> -2025-05-14); "litellm" + "provider/model" ids.
 * On failure the message names the nearest catalog ids. Results are cached per catalog
 * (thread-safe). */
ic_status ic_catalog_resolve(const ic_catalog *c, const char *provider, const char *model,
                             const ic_provider **pout, const ic_model **mout, ic_error *err);

/* Up to max catalog model ids nearest to model (edit distance), best first. */
size_t ic_catalog_suggest(const ic_catalog *c, const char *model, const char **ids, size_t max);

const char *ic_provider_id(const ic_provider *p);
const char *ic_provider_name(const ic_provider *p);
size_t ic_provider_model_count(const ic_provider *p);
const ic_model *ic_provider_model(const ic_provider *p, size_t i);

const char *ic_model_id(const ic_model *m);
const char *ic_model_name(const ic_model *m);       /* may be NULL */
uint64_t ic_model_context_window(const ic_model *m); /* 0 when the feed does not say */
bool ic_model_deprecated(const ic_model *m);
const ic_provider *ic_model_provider(const ic_model *m);

/* Price history. A model has one or more price entries in feed order: an unconstrained default,
 * entries valid from a start date (UTC midnight, inclusive), and time-of-day windows (UTC, start
 * inclusive, end exclusive, may wrap past midnight). */
typedef enum ic_price_kind { IC_PRICE_ALWAYS, IC_PRICE_FROM_DATE, IC_PRICE_TIME_OF_DAY } ic_price_kind;

typedef struct ic_price_entry {
    ic_price_kind kind;
    int64_t start_ms;       /* IC_PRICE_FROM_DATE: ms since the epoch, UTC midnight */
    int32_t tod_start_ms;   /* IC_PRICE_TIME_OF_DAY: ms after UTC midnight */
    int32_t tod_end_ms;
    const ic_price_set *prices;
} ic_price_entry;

size_t ic_model_price_count(const ic_model *m);
const ic_price_entry *ic_model_price_entry(const ic_model *m, size_t i);
/* The price set in force at t (ms since the epoch, UTC), chosen as the reference does: entries
 * tried last to first, the first that applies wins; if none does, the first entry. */
const ic_price_set *ic_model_prices_at(const ic_model *m, int64_t t_ms);

typedef struct ic_price_tier {
    uint64_t start;   /* applies when TOTAL input tokens > start */
    ic_decimal price;
} ic_price_tier;

typedef struct ic_unit_price {
    int unit;                     /* units.h id */
    ic_decimal base;              /* price per ic_unit_per(unit) units, USD */
    size_t ntiers;                /* 0: flat price */
    const ic_price_tier *tiers;   /* sorted by start */
} ic_unit_price;

size_t ic_price_set_count(const ic_price_set *ps);
const ic_unit_price *ic_price_set_item(const ic_price_set *ps, size_t i);
/* The unit's price, or NULL if the set does not price it. */
const ic_unit_price *ic_price_set_find(const ic_price_set *ps, int unit);

#endif
