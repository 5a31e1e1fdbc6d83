/* config.h: the gateway's configuration (docs/gateway.md): a JSON file, validated entirely at
 * start with messages naming the file and the field ("gw.json: upstreams[1].base_url: ..."). It
 * holds no secrets: provider keys come from environment variables named here, and virtual keys
 * are stored as SHA-256 hashes. Parsed once, immutable afterwards. */
#ifndef IC_GW_CONFIG_H
#define IC_GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "infercost/money.h"

enum gw_format { GW_FMT_OPENAI, GW_FMT_ANTHROPIC };

typedef struct gw_upstream_cfg {
    char *name;
    char *provider;     /* catalog provider id used for pricing ("openai", "anthropic", ...) */
    char *base_url;     /* without the trailing /v1 path part: "https://api.openai.com" */
    char *api_key_env;  /* environment variable holding the provider key */
    const char *api_key;/* from the environment at start (never printed) */
    int format;         /* gw_format */
    long timeout_ms;
} gw_upstream_cfg;

typedef struct gw_target {
    int upstream;  /* index into upstreams */
    char *model;   /* NULL: keep the requested model */
    int weight;
} gw_target;

typedef struct gw_route {
    char *name;
    char *model;          /* glob on the requested model ('*' wildcard), NULL = any */
    char *customer, *feature, *task; /* tag equality, NULL = any */
    int64_t min_prompt_bytes, max_prompt_bytes; /* -1 = no bound */
    int64_t min_prompt_tokens, max_prompt_tokens; /* -1 = no bound; counted (router.h) */
    char **keywords;      /* any of them in the prompt text (case-insensitive) */
    size_t nkeywords;
    pcre2_code *regex;    /* on the prompt text */
    pcre2_match_context *regex_mc; /* its match limit (IC_ROUTE_REGEX_MATCH_LIMIT) */
    gw_target *targets;   size_t ntargets;   /* weighted choice */
    gw_target *fallbacks; size_t nfallbacks; /* in order after the chosen target */
    gw_target *tier;      size_t ntier;      /* model "auto": cheapest of these first */
} gw_route;

typedef struct gw_key_cfg {
    char *id;           /* public id, recorded as key_id */
    char hash[65];      /* hex SHA-256 of the key */
    char *customer, *feature;
    bool has_day, has_month;
    ic_money day_usd, month_usd;
    uint32_t rpm;       /* 0 = unlimited */
    uint64_t tpm;
} gw_key_cfg;

typedef struct gw_config {
    char *path;
    char host[64];
    int port;
    char *spool;            /* JSONL spool path */
    char *journal;          /* its journal; NULL = spool + ".wal" */
    bool spool_fsync;       /* fdatasync after each batch (default true) */
    char *ledger;           /* NULL = off; else a ledger target fed from the spool (ledger_sink.h) */
    char *budget_store;     /* NULL = budgets per process; else a postgresql:// URI (budget_pg.h) */
    char *gateway_id;       /* this gateway's name there; NULL = HOSTNAME:PORT */
    long budget_sync_ms;    /* how often the counters are exchanged */
    char *access_log;       /* "-" = stderr, NULL = off */
    char *catalog;          /* NULL = embedded */
    char **overlays; size_t noverlays;
    uint64_t default_max_tokens;
    long connect_timeout_ms, timeout_ms, drain_timeout_ms;
    long client_timeout_ms; /* a client's request read, or a write to it, gives up after this */
    int max_retries, backoff_ms;
    bool require_key;
    bool key_metrics;       /* /metrics also shows each key's budget and spend (default false) */
    size_t max_body_bytes;
    bool cache_enabled;
    int cache_ttl_s;
    char *cache_hash_key_env; /* NULL = the events' request_hash is the cache key itself */
    const char *cache_hash_key; /* its value (from the environment; never logged) */
    size_t cache_max_bytes, cache_max_entry_bytes;
    gw_upstream_cfg *upstreams; size_t nupstreams;
    gw_route *routes; size_t nroutes;
    gw_key_cfg *keys; size_t nkeys;
} gw_config;

/* Load and validate; on failure returns NULL and writes one message into err. */
gw_config *gw_config_load(const char *path, char *err, size_t errcap);
gw_config *gw_config_parse(const char *text, size_t len, const char *name, char *err, size_t errcap);
void gw_config_free(gw_config *c);
int gw_config_find_upstream(const gw_config *c, const char *name);

/* glob with '*' only */
bool gw_glob(const char *pat, const char *s);

#endif
