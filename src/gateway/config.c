/* config.c: reads and validates the gateway's JSON configuration (config.h, docs/gateway.md).
 * Every field is checked (type, range, references between sections) and unknown fields are
 * refused, so a typo fails at start instead of silently changing behaviour. It never reads or
 * prints a secret beyond looking the provider keys up in the environment. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "infercost/ledger.h"
#include "infercost/record.h"
#include "infercost/route_eval.h"
#include "gw_util.h"

typedef struct ctx {
    const char *name;
    char *err;
    size_t cap;
    bool failed;
} ctx;

static bool fail(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(ctx *x, const char *fmt, ...)
{
    if (x->failed)
        return false;
    x->failed = true;
    int n = snprintf(x->err, x->cap, "%s: ", x->name);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < x->cap)
        vsnprintf(x->err + n, x->cap - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

bool gw_glob(const char *p, const char *s)
{
    if (!*p)
        return !*s;
    if (*p == '*')
        return gw_glob(p + 1, s) || (*s && gw_glob(p, s + 1));
    return *s == *p && gw_glob(p + 1, s + 1);
}

static bool check_keys(ctx *x, json_object *o, const char *where, const char *const *allowed)
{
    json_object_object_foreach(o, k, v) {
        (void)v;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(*a, k))
                ok = true;
        if (!ok) {
            char list[512] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 3);
                if (a[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fail(x, "%s%s%s: unknown field (expected one of: %s)", where, *where ? "." : "",
                        k, list);
        }
    }
    return true;
}

static bool get_str(ctx *x, json_object *o, const char *where, const char *key, bool req, char **out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
        if (req)
            return fail(x, "%s%s%s: required field missing", where, *where ? "." : "", key);
        return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return fail(x, "%s%s%s: expected a string", where, *where ? "." : "", key);
    if (!*json_object_get_string(v))
        return fail(x, "%s%s%s: must not be empty", where, *where ? "." : "", key);
    *out = strdup(json_object_get_string(v));
    return true;
}

static bool get_int(ctx *x, json_object *o, const char *where, const char *key, int64_t lo,
                    int64_t hi, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return true;
    if (!json_object_is_type(v, json_type_int))
        return fail(x, "%s%s%s: expected an integer", where, *where ? "." : "", key);
    errno = 0;
    int64_t n = json_object_get_int64(v);
    if (errno || n < lo || n > hi)
        return fail(x, "%s%s%s: %lld is out of range (%lld to %lld)", where, *where ? "." : "",
                    key, (long long)n, (long long)lo, (long long)hi);
    *out = n;
    return true;
}

static bool get_bool(ctx *x, json_object *o, const char *where, const char *key, bool *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return true;
    if (!json_object_is_type(v, json_type_boolean))
        return fail(x, "%s%s%s: expected true or false", where, *where ? "." : "", key);
    *out = json_object_get_boolean(v);
    return true;
}

static bool get_money(ctx *x, json_object *o, const char *where, const char *key, bool *has,
                      ic_money *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return true;
    /* a string keeps the decimal exact; a JSON number is accepted via its source text */
    const char *s = json_object_get_string(v);
    if (!(json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
          json_object_is_type(v, json_type_double)))
        return fail(x, "%s%s%s: expected a dollar amount such as \"25.00\"", where, *where ? "." : "", key);
    if (ic_money_parse(s, strlen(s), out) != IC_OK || *out < 0)
        return fail(x, "%s%s%s: '%s' is not a non-negative dollar amount (at most 12 decimals)",
                    where, *where ? "." : "", key, s);
    *has = true;
    return true;
}

static bool parse_targets(ctx *x, gw_config *c, json_object *o, const char *where,
                          const char *key, gw_target **out, size_t *n)
{
    json_object *arr;
    if (!json_object_object_get_ex(o, key, &arr))
        return true;
    if (!json_object_is_type(arr, json_type_array))
        return fail(x, "%s.%s: expected an array of {\"upstream\":..,\"model\":..}", where, key);
    size_t len = json_object_array_length(arr);
    *out = calloc(len ? len : 1, sizeof **out);
    *n = len;
    for (size_t i = 0; i < len; i++) {
        json_object *t = json_object_array_get_idx(arr, i);
        char w[160];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        if (!json_object_is_type(t, json_type_object))
            return fail(x, "%s: expected an object", w);
        static const char *const ok[] = {"upstream", "model", "weight", NULL};
        if (!check_keys(x, t, w, ok))
            return false;
        char *up = NULL;
        if (!get_str(x, t, w, "upstream", true, &up))
            return false;
        int ui = gw_config_find_upstream(c, up);
        if (ui < 0) {
            fail(x, "%s.upstream: no upstream named '%s'", w, up);
            free(up);
            return false;
        }
        free(up);
        (*out)[i].upstream = ui;
        (*out)[i].weight = 1;
        if (!get_str(x, t, w, "model", false, &(*out)[i].model))
            return false;
        int64_t wt = 1;
        if (!get_int(x, t, w, "weight", 0, 1000000, &wt))
            return false;
        (*out)[i].weight = (int)wt;
    }
    return true;
}

int gw_config_find_upstream(const gw_config *c, const char *name)
{
    for (size_t i = 0; i < c->nupstreams; i++)
        if (!strcmp(c->upstreams[i].name, name))
            return (int)i;
    return -1;
}

static bool parse_upstreams(ctx *x, gw_config *c, json_object *root)
{
    json_object *arr;
    if (!json_object_object_get_ex(root, "upstreams", &arr) ||
        !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
        return fail(x, "upstreams: required: a non-empty array of upstream providers");
    size_t n = json_object_array_length(arr);
    c->upstreams = calloc(n, sizeof *c->upstreams);
    for (size_t i = 0; i < n; i++) {
        json_object *u = json_object_array_get_idx(arr, i);
        gw_upstream_cfg *up = &c->upstreams[i];
        c->nupstreams = i + 1;
        char w[64];
        snprintf(w, sizeof w, "upstreams[%zu]", i);
        if (!json_object_is_type(u, json_type_object))
            return fail(x, "%s: expected an object", w);
        static const char *const ok[] = {"name", "provider", "base_url", "api_key_env", "format",
                                         "timeout_ms", "api_key", NULL};
        json_object *bad;
        if (json_object_object_get_ex(u, "api_key", &bad))
            return fail(x, "%s.api_key: provider keys are not accepted in the config file; name "
                           "an environment variable with api_key_env", w);
        if (!check_keys(x, u, w, ok))
            return false;
        char *fmt = NULL;
        if (!get_str(x, u, w, "name", true, &up->name) ||
            !get_str(x, u, w, "provider", true, &up->provider) ||
            !get_str(x, u, w, "base_url", true, &up->base_url) ||
            !get_str(x, u, w, "api_key_env", false, &up->api_key_env) ||
            !get_str(x, u, w, "format", false, &fmt))
            return false;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(c->upstreams[k].name, up->name))
                return fail(x, "%s.name: '%s' is used twice", w, up->name);
        if (strncmp(up->base_url, "http://", 7) && strncmp(up->base_url, "https://", 8))
            return fail(x, "%s.base_url: '%s' must start with http:// or https://", w, up->base_url);
        size_t bl = strlen(up->base_url);
        while (bl && up->base_url[bl - 1] == '/')
            up->base_url[--bl] = 0;
        if (!strchr(up->base_url + (up->base_url[4] == 's' ? 8 : 7), '/'))
            return fail(x, "%s.base_url: '%s' has no API path: the base URL includes the version, "
                           "as in https://api.openai.com/v1 (endpoints append /chat/completions, "
                           "/messages, ...)", w, up->base_url);
        if (!fmt)
            up->format = !strcmp(up->provider, "anthropic") ? GW_FMT_ANTHROPIC : GW_FMT_OPENAI;
        else if (!strcmp(fmt, "openai"))
            up->format = GW_FMT_OPENAI;
        else if (!strcmp(fmt, "anthropic"))
            up->format = GW_FMT_ANTHROPIC;
        else {
            fail(x, "%s.format: '%s' is not one of: openai, anthropic", w, fmt);
            free(fmt);
            return false;
        }
        free(fmt);
        int64_t t = c->timeout_ms;
        if (!get_int(x, u, w, "timeout_ms", 1, 3600000, &t))
            return false;
        up->timeout_ms = (long)t;
        if (!up->api_key_env)
            up->api_key_env = strdup(up->format == GW_FMT_ANTHROPIC ? "ANTHROPIC_API_KEY"
                                                                    : "OPENAI_API_KEY");
        up->api_key = getenv(up->api_key_env);
        if (!up->api_key || !*up->api_key)
            return fail(x, "%s.api_key_env: environment variable %s is not set (the provider key "
                           "for upstream '%s')", w, up->api_key_env, up->name);
    }
    return true;
}

static bool parse_routes(ctx *x, gw_config *c, json_object *root)
{
    json_object *arr;
    if (!json_object_object_get_ex(root, "routes", &arr))
        return true;
    if (!json_object_is_type(arr, json_type_array))
        return fail(x, "routes: expected an array");
    size_t n = json_object_array_length(arr);
    c->routes = calloc(n ? n : 1, sizeof *c->routes);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(arr, i), *m = NULL, *v;
        gw_route *rt = &c->routes[i];
        c->nroutes = i + 1;
        rt->min_prompt_bytes = rt->max_prompt_bytes = -1;
        rt->min_prompt_tokens = rt->max_prompt_tokens = -1;
        char w[64];
        snprintf(w, sizeof w, "routes[%zu]", i);
        if (!json_object_is_type(r, json_type_object))
            return fail(x, "%s: expected an object", w);
        static const char *const ok[] = {"name", "match", "targets", "fallbacks", "tier", NULL};
        if (!check_keys(x, r, w, ok) || !get_str(x, r, w, "name", false, &rt->name))
            return false;
        if (json_object_object_get_ex(r, "match", &m)) {
            char mw[80];
            snprintf(mw, sizeof mw, "%s.match", w);
            if (!json_object_is_type(m, json_type_object))
                return fail(x, "%s: expected an object", mw);
            static const char *const okm[] = {"model", "customer", "feature", "task",
                                              "min_prompt_bytes", "max_prompt_bytes",
                                              "min_prompt_tokens", "max_prompt_tokens", "keywords",
                                              "regex", NULL};
            if (!check_keys(x, m, mw, okm) || !get_str(x, m, mw, "model", false, &rt->model) ||
                !get_str(x, m, mw, "customer", false, &rt->customer) ||
                !get_str(x, m, mw, "feature", false, &rt->feature) ||
                !get_str(x, m, mw, "task", false, &rt->task) ||
                !get_int(x, m, mw, "min_prompt_bytes", 0, INT64_MAX, &rt->min_prompt_bytes) ||
                !get_int(x, m, mw, "max_prompt_bytes", 0, INT64_MAX, &rt->max_prompt_bytes) ||
                !get_int(x, m, mw, "min_prompt_tokens", 0, INT64_MAX, &rt->min_prompt_tokens) ||
                !get_int(x, m, mw, "max_prompt_tokens", 0, INT64_MAX, &rt->max_prompt_tokens))
                return false;
            if (json_object_object_get_ex(m, "keywords", &v)) {
                if (!json_object_is_type(v, json_type_array))
                    return fail(x, "%s.keywords: expected an array of strings", mw);
                rt->nkeywords = json_object_array_length(v);
                rt->keywords = calloc(rt->nkeywords ? rt->nkeywords : 1, sizeof *rt->keywords);
                for (size_t k = 0; k < rt->nkeywords; k++) {
                    json_object *s = json_object_array_get_idx(v, k);
                    if (!json_object_is_type(s, json_type_string) || !*json_object_get_string(s))
                        return fail(x, "%s.keywords[%zu]: expected a non-empty string", mw, k);
                    rt->keywords[k] = strdup(json_object_get_string(s));
                }
            }
            char *re = NULL;
            if (!get_str(x, m, mw, "regex", false, &re))
                return false;
            if (re) {
                int ec;
                PCRE2_SIZE eo;
                rt->regex = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
                if (!rt->regex) {
                    PCRE2_UCHAR msg[256];
                    pcre2_get_error_message(ec, msg, sizeof msg);
                    fail(x, "%s.regex: '%s' at offset %zu: %s", mw, re, (size_t)eo, (char *)msg);
                    free(re);
                    return false;
                }
                /* JIT-compiled code is opaque to valgrind (false "uninitialised" reports):
                 * INFERCOST_NO_JIT=1 keeps the interpreter for memcheck runs */
                if (!getenv("INFERCOST_NO_JIT"))
                    pcre2_jit_compile(rt->regex, PCRE2_JIT_COMPLETE);
                free(re);
                /* a pattern that backtracks catastrophically on some prompt gives up after the
                 * limit (milliseconds) instead of holding the event loop */
                if (!(rt->regex_mc = pcre2_match_context_create(NULL)))
                    return fail(x, "%s.regex: out of memory", mw);
                pcre2_set_match_limit(rt->regex_mc, IC_ROUTE_REGEX_MATCH_LIMIT);
            }
        }
        if (!parse_targets(x, c, r, w, "targets", &rt->targets, &rt->ntargets) ||
            !parse_targets(x, c, r, w, "fallbacks", &rt->fallbacks, &rt->nfallbacks) ||
            !parse_targets(x, c, r, w, "tier", &rt->tier, &rt->ntier))
            return false;
        if (!rt->ntargets && !rt->ntier)
            return fail(x, "%s: needs \"targets\" (weighted) or \"tier\" (model auto: cheapest)", w);
        int wsum = 0;
        for (size_t k = 0; k < rt->ntargets; k++)
            wsum += rt->targets[k].weight;
        if (rt->ntargets && wsum == 0)
            return fail(x, "%s.targets: the weights add up to 0", w);
        for (size_t k = 0; k < rt->ntier; k++)
            if (!rt->tier[k].model)
                return fail(x, "%s.tier[%zu].model: required (auto picks among named models)", w, k);
    }
    return true;
}

static bool parse_keys(ctx *x, gw_config *c, json_object *root)
{
    json_object *arr;
    if (!json_object_object_get_ex(root, "keys", &arr))
        return true;
    if (!json_object_is_type(arr, json_type_array))
        return fail(x, "keys: expected an array");
    size_t n = json_object_array_length(arr);
    c->keys = calloc(n ? n : 1, sizeof *c->keys);
    for (size_t i = 0; i < n; i++) {
        json_object *k = json_object_array_get_idx(arr, i);
        gw_key_cfg *kc = &c->keys[i];
        c->nkeys = i + 1;
        char w[64];
        snprintf(w, sizeof w, "keys[%zu]", i);
        if (!json_object_is_type(k, json_type_object))
            return fail(x, "%s: expected an object", w);
        json_object *bad;
        if (json_object_object_get_ex(k, "key", &bad))
            return fail(x, "%s.key: virtual keys are stored hashed: put \"sha256\" (from "
                           "`infercost serve --hash-key`), never the key itself", w);
        static const char *const ok[] = {"id", "sha256", "customer", "feature", "budget_usd_day",
                                         "budget_usd_month", "rpm", "tpm", "key", NULL};
        char *h = NULL;
        if (!check_keys(x, k, w, ok) || !get_str(x, k, w, "id", true, &kc->id) ||
            !get_str(x, k, w, "sha256", true, &h))
            return false;
        size_t hl = strlen(h);
        bool hex = hl == 64;
        for (size_t j = 0; hex && j < hl; j++)
            hex = (h[j] >= '0' && h[j] <= '9') || (h[j] >= 'a' && h[j] <= 'f');
        if (!hex) {
            free(h);
            return fail(x, "%s.sha256: expected 64 lower-case hex digits", w);
        }
        memcpy(kc->hash, h, 65);
        free(h);
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(c->keys[j].id, kc->id))
                return fail(x, "%s.id: '%s' is used twice", w, kc->id);
            if (!strcmp(c->keys[j].hash, kc->hash))
                return fail(x, "%s.sha256: the same key as keys[%zu]", w, j);
        }
        int64_t rpm = 0, tpm = 0;
        if (!get_str(x, k, w, "customer", false, &kc->customer) ||
            !get_str(x, k, w, "feature", false, &kc->feature))
            return false;
        /* what the ledger takes (record.h): else every call of the key would be refused there */
        const struct { const char *name, *v; size_t max; } tag[3] = {
            {"id", kc->id, sizeof(((ic_record *)0)->key_id) - 1},
            {"customer", kc->customer, sizeof(((ic_record *)0)->customer) - 1},
            {"feature", kc->feature, sizeof(((ic_record *)0)->feature) - 1}};
        for (int t = 0; t < 3; t++)
            if (tag[t].v && (strlen(tag[t].v) > tag[t].max ||
                             !ic_utf8_valid(tag[t].v, strlen(tag[t].v))))
                return fail(x, "%s.%s: expected at most %zu bytes of UTF-8 (what the ledger "
                               "takes)", w, tag[t].name, tag[t].max);
        if (!get_money(x, k, w, "budget_usd_day", &kc->has_day, &kc->day_usd) ||
            !get_money(x, k, w, "budget_usd_month", &kc->has_month, &kc->month_usd) ||
            !get_int(x, k, w, "rpm", 0, 100000000, &rpm) ||
            !get_int(x, k, w, "tpm", 0, INT64_MAX, &tpm))
            return false;
        kc->rpm = (uint32_t)rpm;
        kc->tpm = (uint64_t)tpm;
    }
    return true;
}

gw_config *gw_config_parse(const char *text, size_t len, const char *name, char *err, size_t errcap)
{
    ctx x = {name, err, errcap, false};
    json_tokener *tok = json_tokener_new();
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (!root || je != json_tokener_success) {
        size_t off = json_tokener_get_parse_end(tok), line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else
                col++;
        }
        fail(&x, "line %zu, column %zu: invalid JSON: %s", line, col,
             je == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(je));
        json_tokener_free(tok);
        json_object_put(root);
        return NULL;
    }
    json_tokener_free(tok);
    gw_config *c = calloc(1, sizeof *c);
    c->path = strdup(name);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8080;
    c->spool_fsync = true;
    c->default_max_tokens = 4096;
    c->connect_timeout_ms = 5000;
    c->timeout_ms = 600000;
    c->drain_timeout_ms = 10000;
    c->budget_sync_ms = 200;
    c->client_timeout_ms = 60000;
    c->max_retries = 2;
    c->backoff_ms = 100;
    c->max_body_bytes = 32u << 20;
    c->cache_ttl_s = 300;
    c->cache_max_bytes = 64u << 20;
    c->cache_max_entry_bytes = 1u << 20;
    json_object *v, *cache;
    static const char *const ok[] = {"listen", "spool", "journal", "spool_fsync", "ledger", "access_log", "catalog",
                                     "overlays", "default_max_tokens", "connect_timeout_ms",
                                     "timeout_ms", "drain_timeout_ms", "client_timeout_ms", "max_retries",
                                     "backoff_ms", "require_key", "max_body_bytes", "cache",
                                     "upstreams", "routes", "keys", "budget_store",
                                     "budget_sync_ms", "gateway_id", "key_metrics", NULL};
    int64_t t;
    char *listen = NULL;
    if (!json_object_is_type(root, json_type_object)) {
        fail(&x, "expected a JSON object at the top level");
        goto bad;
    }
    if (!check_keys(&x, root, "", ok) || !get_str(&x, root, "", "listen", false, &listen))
        goto bad;
    if (listen && !gw_parse_listen(listen, c->host, sizeof c->host, &c->port)) {
        fail(&x, "listen: '%s' is not HOST:PORT with an IPv4 address", listen);
        goto bad;
    }
    if (!get_str(&x, root, "", "spool", true, &c->spool) ||
        !get_bool(&x, root, "", "spool_fsync", &c->spool_fsync) ||
        !get_str(&x, root, "", "ledger", false, &c->ledger) ||
        !get_str(&x, root, "", "journal", false, &c->journal) ||
        !get_str(&x, root, "", "access_log", false, &c->access_log) ||
        !get_str(&x, root, "", "catalog", false, &c->catalog) ||
        !get_bool(&x, root, "", "require_key", &c->require_key) ||
        !get_bool(&x, root, "", "key_metrics", &c->key_metrics) ||
        !get_str(&x, root, "", "budget_store", false, &c->budget_store) ||
        !get_str(&x, root, "", "gateway_id", false, &c->gateway_id))
        goto bad;
    if (c->budget_store && !ic_ledger_is_url(c->budget_store)) { /* not quoted: a password? */
        fail(&x, "budget_store: expected a postgresql:// URI");
        goto bad;
    }
    if (!c->budget_store && (c->gateway_id || json_object_object_get_ex(root, "budget_sync_ms", &v))) {
        fail(&x, "%s: only with budget_store (it is this gateway's name there, or how often it "
                 "is exchanged)", c->gateway_id ? "gateway_id" : "budget_sync_ms");
        goto bad;
    }
    if (c->gateway_id) {
        size_t gl = strlen(c->gateway_id);
        bool printable = gl <= 200 && ic_utf8_valid(c->gateway_id, gl);
        for (size_t i = 0; printable && i < gl; i++)
            printable = (unsigned char)c->gateway_id[i] >= 0x20 && c->gateway_id[i] != 0x7f;
        if (!printable) {
            fail(&x, "gateway_id: expected up to 200 bytes of printable UTF-8");
            goto bad;
        }
    }
    if (json_object_object_get_ex(root, "overlays", &v)) {
        if (!json_object_is_type(v, json_type_array)) {
            fail(&x, "overlays: expected an array of file names");
            goto bad;
        }
        c->noverlays = json_object_array_length(v);
        c->overlays = calloc(c->noverlays ? c->noverlays : 1, sizeof *c->overlays);
        for (size_t i = 0; i < c->noverlays; i++) {
            json_object *s = json_object_array_get_idx(v, i);
            if (!json_object_is_type(s, json_type_string)) {
                fail(&x, "overlays[%zu]: expected a file name", i);
                goto bad;
            }
            c->overlays[i] = strdup(json_object_get_string(s));
        }
    }
#define INT_FIELD(key, lo, hi, dst)                                                              \
    t = (int64_t)(dst);                                                                          \
    if (!get_int(&x, root, "", key, lo, hi, &t))                                                 \
        goto bad;                                                                                \
    dst = t;
    INT_FIELD("default_max_tokens", 1, 100000000, c->default_max_tokens)
    INT_FIELD("connect_timeout_ms", 1, 600000, c->connect_timeout_ms)
    INT_FIELD("timeout_ms", 1, 3600000, c->timeout_ms)
    INT_FIELD("drain_timeout_ms", 0, 3600000, c->drain_timeout_ms)
    INT_FIELD("client_timeout_ms", 100, 3600000, c->client_timeout_ms)
    INT_FIELD("max_retries", 0, 10, c->max_retries)
    INT_FIELD("backoff_ms", 0, 60000, c->backoff_ms)
    INT_FIELD("max_body_bytes", 1024, 1 << 30, c->max_body_bytes)
    INT_FIELD("budget_sync_ms", 50, 60000, c->budget_sync_ms)
    if (json_object_object_get_ex(root, "cache", &cache)) {
        static const char *const okc[] = {"enabled", "ttl_s", "max_bytes", "max_entry_bytes",
                                          "hash_key_env", NULL};
        if (!json_object_is_type(cache, json_type_object)) {
            fail(&x, "cache: expected an object");
            goto bad;
        }
        c->cache_enabled = true;
        int64_t a = c->cache_ttl_s, b = (int64_t)c->cache_max_bytes, e = (int64_t)c->cache_max_entry_bytes;
        if (!check_keys(&x, cache, "cache", okc) ||
            !get_bool(&x, cache, "cache", "enabled", &c->cache_enabled) ||
            !get_int(&x, cache, "cache", "ttl_s", 1, 86400 * 365, &a) ||
            !get_int(&x, cache, "cache", "max_bytes", 4096, (int64_t)1 << 40, &b) ||
            !get_int(&x, cache, "cache", "max_entry_bytes", 256, (int64_t)1 << 30, &e) ||
            !get_str(&x, cache, "cache", "hash_key_env", false, &c->cache_hash_key_env))
            goto bad;
        if (c->cache_hash_key_env) {
            c->cache_hash_key = getenv(c->cache_hash_key_env);
            if (!c->cache_hash_key || strlen(c->cache_hash_key) < 16) {
                fail(&x, "cache.hash_key_env: environment variable %s is not set or shorter than "
                         "16 characters (the secret that keys the recorded request hashes)",
                     c->cache_hash_key_env);
                goto bad;
            }
        }
        c->cache_ttl_s = (int)a;
        c->cache_max_bytes = (size_t)b;
        c->cache_max_entry_bytes = (size_t)e;
    }
    if (!parse_upstreams(&x, c, root) || !parse_routes(&x, c, root) || !parse_keys(&x, c, root))
        goto bad;
    if (c->require_key && !c->nkeys) {
        fail(&x, "require_key: true but no keys are configured");
        goto bad;
    }
    free(listen);
    json_object_put(root);
    return c;
bad:
    free(listen);
    json_object_put(root);
    gw_config_free(c);
    return NULL;
}

gw_config *gw_config_load(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char tmp[65536];
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errcap, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        memcpy(buf + len, tmp, n);
        len += n;
    }
    bool rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        snprintf(err, errcap, "%s: read error", path);
        return NULL;
    }
    gw_config *c = gw_config_parse(buf ? buf : "", len, path, err, errcap);
    free(buf);
    return c;
}

static void free_targets(gw_target *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].model);
    free(t);
}

void gw_config_free(gw_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nupstreams; i++) {
        gw_upstream_cfg *u = &c->upstreams[i];
        free(u->name);
        free(u->provider);
        free(u->base_url);
        free(u->api_key_env);
    }
    free(c->upstreams);
    free(c->cache_hash_key_env);
    for (size_t i = 0; i < c->nroutes; i++) {
        gw_route *r = &c->routes[i];
        free(r->name);
        free(r->model);
        free(r->customer);
        free(r->feature);
        free(r->task);
        for (size_t k = 0; k < r->nkeywords; k++)
            free(r->keywords[k]);
        free(r->keywords);
        if (r->regex)
            pcre2_code_free(r->regex);
        pcre2_match_context_free(r->regex_mc);
        free_targets(r->targets, r->ntargets);
        free_targets(r->fallbacks, r->nfallbacks);
        free_targets(r->tier, r->ntier);
    }
    free(c->routes);
    for (size_t i = 0; i < c->nkeys; i++) {
        free(c->keys[i].id);
        free(c->keys[i].customer);
        free(c->keys[i].feature);
    }
    free(c->keys);
    for (size_t i = 0; i < c->noverlays; i++)
        free(c->overlays[i]);
    free(c->overlays);
    free(c->path);
    free(c->spool);
    free(c->access_log);
    free(c->ledger);
    free(c->budget_store);
    free(c->gateway_id);
    free(c->journal);
    free(c->catalog);
    free(c);
}
