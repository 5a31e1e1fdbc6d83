/* router.c: rule matching and candidate ordering (router.h). Weighted choice uses the gateway's
 * xorshift generator; "auto" prices each tier model with the pricing core on the call's own
 * worst case (prompt bound + output bound), so "cheapest" follows the catalog, not a table. */
#include "router.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "infercost/pricing.h"
#include "infercost/units.h"
#include "gw_util.h"
#include "server.h"

static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n))
            return true;
    return false;
}

static bool matches(const gw_route *rt, const gw_route_req *r)
{
    if (rt->model && !gw_glob(rt->model, r->model))
        return false;
    if (rt->customer && strcmp(rt->customer, r->customer))
        return false;
    if (rt->feature && strcmp(rt->feature, r->feature))
        return false;
    if (rt->task && strcmp(rt->task, r->task))
        return false;
    if (rt->min_prompt_bytes >= 0 && (int64_t)r->prompt_bytes < rt->min_prompt_bytes)
        return false;
    if (rt->max_prompt_bytes >= 0 && (int64_t)r->prompt_bytes > rt->max_prompt_bytes)
        return false;
    if ((rt->min_prompt_tokens >= 0 || rt->max_prompt_tokens >= 0) && r->prompt_tokens < 0)
        return false; /* no count (a body the counter refused): a token rule cannot hold */
    if (rt->min_prompt_tokens >= 0 && r->prompt_tokens < rt->min_prompt_tokens)
        return false;
    if (rt->max_prompt_tokens >= 0 && r->prompt_tokens > rt->max_prompt_tokens)
        return false;
    if (rt->nkeywords) {
        bool any = false;
        for (size_t i = 0; i < rt->nkeywords && !any; i++)
            any = r->prompt_text && ci_contains(r->prompt_text, rt->keywords[i]);
        if (!any)
            return false;
    }
    if (rt->regex) {
        if (!r->prompt_text)
            return false;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(rt->regex, NULL);
        int rc = pcre2_match(rt->regex, (PCRE2_SPTR)r->prompt_text, strlen(r->prompt_text), 0, 0,
                             md, rt->regex_mc); /* the match limit's error: no match */
        pcre2_match_data_free(md);
        if (rc < 0)
            return false;
    }
    return true;
}

static int add(gw_server *s, const gw_route_req *r, gw_cand *out, int n, int max,
               const gw_target *t)
{
    if (n >= max || s->cfg->upstreams[t->upstream].format != r->format)
        return n;
    const char *m = t->model ? t->model : r->model;
    for (int i = 0; i < n; i++)
        if (out[i].upstream == t->upstream && !strcmp(out[i].model, m))
            return n;
    out[n].upstream = t->upstream;
    out[n].model = m;
    return n + 1;
}

static bool price_of(gw_server *s, const gw_route_req *r, const gw_target *t, ic_money *out)
{
    ic_usage u;
    ic_cost cost;
    ic_error err = {0};
    ic_usage_clear(&u);
    ic_usage_set(&u, ic_unit_find("input_tokens"), r->prompt_bound, &err);
    if (r->max_out)
        ic_usage_set(&u, ic_unit_find("output_tokens"), r->max_out, &err);
    if (ic_price_call(s->cat, s->cfg->upstreams[t->upstream].provider, t->model, &u, gw_now_ms(),
                      &cost, &err) != IC_OK)
        return false;
    *out = cost.total;
    return true;
}

int gw_route_pick(gw_server *s, const gw_route_req *r, gw_cand *out, int max, char *why, size_t whycap)
{
    const gw_config *cfg = s->cfg;
    bool is_auto = !strcmp(r->model, "auto");
    int n = 0;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const gw_route *rt = &cfg->routes[i];
        if (!matches(rt, r))
            continue;
        if (is_auto && !rt->ntier)
            continue; /* "auto" needs a route with a tier */
        if (is_auto) {
            /* tier sorted by this call's worst-case price; unpriced models go last */
            int idx[64];
            ic_money price[64];
            bool priced[64];
            size_t nt = rt->ntier < 64 ? rt->ntier : 64;
            for (size_t k = 0; k < nt; k++) {
                idx[k] = (int)k;
                priced[k] = price_of(s, r, &rt->tier[k], &price[k]);
            }
            for (size_t a = 1; a < nt; a++)
                for (size_t b = a; b > 0; b--) {
                    int x = idx[b - 1], y = idx[b];
                    bool swap = (!priced[x] && priced[y]) ||
                                (priced[x] && priced[y] && price[y] < price[x]);
                    if (!swap)
                        break;
                    idx[b - 1] = y;
                    idx[b] = x;
                }
            for (size_t k = 0; k < nt; k++)
                n = add(s, r, out, n, max, &rt->tier[idx[k]]);
        } else if (rt->ntargets) {
            long total = 0;
            for (size_t k = 0; k < rt->ntargets; k++)
                if (cfg->upstreams[rt->targets[k].upstream].format == r->format)
                    total += rt->targets[k].weight;
            if (total > 0) {
                long pick = (long)(gw_rand64() % (uint64_t)total);
                for (size_t k = 0; k < rt->ntargets; k++) {
                    const gw_target *t = &rt->targets[k];
                    if (cfg->upstreams[t->upstream].format != r->format || !t->weight)
                        continue;
                    if (pick < t->weight) {
                        n = add(s, r, out, n, max, t);
                        break;
                    }
                    pick -= t->weight;
                }
            }
        } else
            continue; /* a tier-only route serves "auto" alone */
        for (size_t k = 0; k < rt->nfallbacks; k++)
            n = add(s, r, out, n, max, &rt->fallbacks[k]);
        if (n == 0) {
            snprintf(why, whycap, "route '%s' matched but none of its upstreams speaks the %s API",
                     rt->name ? rt->name : "(unnamed)",
                     r->format == GW_FMT_ANTHROPIC ? "Anthropic" : "OpenAI");
            return 0;
        }
        return n;
    }
    if (is_auto) {
        snprintf(why, whycap, "model \"auto\" needs a route with a \"tier\" that matches this request");
        return 0;
    }
    for (size_t i = 0; i < cfg->nupstreams && n < max; i++) {
        gw_target t = {(int)i, NULL, 1};
        n = add(s, r, out, n, max, &t);
    }
    if (!n)
        snprintf(why, whycap, "no upstream speaks the %s API",
                 r->format == GW_FMT_ANTHROPIC ? "Anthropic" : "OpenAI");
    return n;
}
