/* cmd_whatif.c: `infercost whatif`: what the ledger's calls would have cost under a scenario
 * (another model for some of them, the batch API, the response cache, another date's prices,
 * shorter prompts, the router's moves undone), per group and against revenue. The numbers come
 * from whatif.h; this file parses options and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/timeutil.h"
#include "infercost/whatif.h"

static const char usage_text[] =
    "usage: infercost whatif [--ledger PATH] [--from DATE] [--to DATE] [--month YYYY-MM]\n"
    "                        [--swap FROM=TO]... [--share PCT] [--share-by id|input-tokens]\n"
    "                        [--batch] [--batch-discount PCT] [--cache-read PCT]\n"
    "                        [--trim-input PCT]\n"
    "                        [--response-cache TTL] [--unroute]\n"
    "                        [--at DATE|now] [--provider P] [--model M] [--customer C]\n"
    "                        [--feature F] [--by model|provider|customer|feature|month]\n"
    "                        [--catalog FILE] [--overlay FILE]... [--format table|csv|json|md]\n"
    "What the period's calls would have cost under a scenario, priced again from their recorded\n"
    "usage (docs/ledger.md, \"infercost whatif\"):\n"
    "  --swap FROM=TO      calls served by model FROM (as `report --by model` names it; * for\n"
    "                      all) priced on TO ([PROVIDER:]MODEL, a catalog model) instead\n"
    "  --share PCT         move only this share of FROM's calls (default 100): chosen by\n"
    "                      event id (--share-by id, the default: a random router), or those\n"
    "                      with the fewest input tokens (--share-by input-tokens: a prompt-size\n"
    "                      rule, the longest stay; see infercost route-eval)\n"
    "  --batch             the batch API's discount on the tokens of calls not already batched\n"
    "                      (OpenAI, Anthropic, Google: 50%); --batch-discount PCT: this one, any\n"
    "                      provider\n"
    "  --cache-read PCT    at least PCT% of each call's input read from the prompt cache, at\n"
    "                      the model's cache-read price (cache writes stay as recorded)\n"
    "  --trim-input PCT    prompts PCT% shorter, as prompt compression would make them: each\n"
    "                      call's input that is neither a cache read nor a write cut by PCT%\n"
    "  --response-cache TTL  the gateway's exact response cache on, entries kept TTL (30s, 5m,\n"
    "                      1h, 7d): a call that repeats the request of a successful one answered\n"
    "                      less than TTL before is answered from the cache, at $0 (calls the\n"
    "                      gateway recorded with a request hash: deterministic, not streamed)\n"
    "  --at DATE|now       every call at the prices in force on that date (today's, a\n"
    "                      scheduled change), at its own time of day\n"
    "  --unroute           each call the gateway's router moved to another model priced on the\n"
    "                      model the client asked for (routed_from): what routing saved comes\n"
    "                      out as a negative saving (a scenario of its own; failed calls and\n"
    "                      those a fallback target served are left as they are)\n"
    "  --provider, --model, --customer, --feature: the calls the scenario applies to (default\n"
    "                      all); the period's total and cost share count the rest as they are\n"
    "  --by DIM            rows by model (default), provider, customer (with revenue and cost\n"
    "                      share before and after), feature or month\n"
    "The calls keep their token counts: another model's tokenizer may count differently.\n";

static int parse_swap(const ic_catalog *cat, const char *v, ic_whatif_swap *s)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1] || eq - v > 256) {
        ic_cli_error("--swap wants FROM=TO (a model of the ledger, or *, and a catalog model), "
                     "not '%.300s'", v);
        return -1;
    }
    char *from = strndup(v, (size_t)(eq - v)), *to = strdup(eq + 1);
    if (!from || !to) {
        free(from);
        free(to);
        ic_cli_error("out of memory");
        return -1;
    }
    /* the whole of TO as a model first (some ids hold a colon: amazon.nova-lite-v1:0), then
     * PROVIDER:MODEL */
    const ic_provider *p;
    ic_error err = {0}, err2 = {0};
    char *colon = strchr(to, ':');
    bool ok = ic_catalog_resolve(cat, NULL, to, &p, &s->to, &err) == IC_OK;
    if (!ok && colon) {
        *colon = 0;
        ok = ic_catalog_resolve(cat, to, colon + 1, &p, &s->to, &err2) == IC_OK;
    }
    if (!ok) {
        if (colon)
            ic_cli_error("--swap %s: as a model: %s; as PROVIDER:MODEL: %s", v, err.msg, err2.msg);
        else
            ic_cli_error("--swap %s: %s", v, err.msg);
        free(from);
        free(to);
        return -1;
    }
    free(to);
    s->from = from;
    return 0;
}

/* "300", "30s", "5m", "1h", "7d": a lifetime from 1 second to 365 days (the gateway's cache
 * allows as much), in ms; -1 if not one */
static int64_t parse_ttl(const char *v)
{
    char *end;
    if (*v < '0' || *v > '9')
        return -1;
    unsigned long long n = strtoull(v, &end, 10);
    int64_t unit = !*end || !strcmp(end, "s") ? 1000
                   : !strcmp(end, "m")        ? 60000
                   : !strcmp(end, "h")        ? 3600000
                   : !strcmp(end, "d")        ? 86400000
                                              : 0;
    if (!unit || n == 0 || n > 365ULL * 86400000 / (uint64_t)unit)
        return -1;
    return (int64_t)n * unit;
}

static int run(int argc, char **argv)
{
    ic_cli_ledger_opts lo = {0};
    ic_cli_catalog_opts co = {0};
    ic_whatif_opts o = {.share_bp = 10000, .by = IC_DIM_MODEL};
    ic_report_format fmt = IC_FMT_TABLE;
    const char *swaps[IC_WHATIF_MAX_SWAPS], *at = NULL, *by = "model", *share = NULL,
               *share_by = NULL;
    int nswaps = 0;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        int r = ic_cli_ledger_arg(&lo, argc, argv, &i);
        if (r == 0)
            r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--batch")) {
            o.batch = true;
            i++;
        } else if (!strcmp(argv[i], "--unroute")) {
            o.unroute = true;
            i++;
        } else if ((v = ic_cli_opt("--swap", argc, argv, &i, &bad))) {
            if (nswaps == IC_WHATIF_MAX_SWAPS) {
                ic_cli_error("at most %d --swap options", IC_WHATIF_MAX_SWAPS);
                return 2;
            }
            swaps[nswaps++] = v;
        } else if ((v = ic_cli_opt("--share", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--share", v, &o.share_bp))
                return 2;
            share = v;
        } else if ((v = ic_cli_opt("--share-by", argc, argv, &i, &bad))) {
            share_by = v;
            if (strcmp(v, "id") && strcmp(v, "input-tokens")) {
                ic_cli_error("--share-by wants id or input-tokens, not '%s'", v);
                return 2;
            }
            o.share_smallest = !strcmp(v, "input-tokens");
        } else if ((v = ic_cli_opt("--batch-discount", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--batch-discount", v, &o.batch_bp))
                return 2;
            if (o.batch_bp >= 10000) {
                ic_cli_error("--batch-discount must be below 100");
                return 2;
            }
            o.batch = true;
        } else if ((v = ic_cli_opt("--cache-read", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--cache-read", v, &o.cache_read_bp))
                return 2;
        } else if ((v = ic_cli_opt("--trim-input", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--trim-input", v, &o.trim_input_bp))
                return 2;
        } else if ((v = ic_cli_opt("--response-cache", argc, argv, &i, &bad))) {
            if ((o.response_cache_ms = parse_ttl(v)) < 0) {
                ic_cli_error("--response-cache wants a lifetime from 1s to 365d (30s, 5m, 1h, "
                             "7d), not '%s'", v);
                return 2;
            }
        } else if ((v = ic_cli_opt("--at", argc, argv, &i, &bad))) {
            at = v;
        } else if ((v = ic_cli_opt("--by", argc, argv, &i, &bad))) {
            by = v;
        } else if ((v = ic_cli_opt("--provider", argc, argv, &i, &bad))) {
            o.filter.provider = v;
        } else if ((v = ic_cli_opt("--model", argc, argv, &i, &bad))) {
            o.filter.model = v;
        } else if ((v = ic_cli_opt("--customer", argc, argv, &i, &bad))) {
            o.filter.customer = v;
        } else if ((v = ic_cli_opt("--feature", argc, argv, &i, &bad))) {
            o.filter.feature = v;
        } else if ((v = ic_cli_opt("--format", argc, argv, &i, &bad))) {
            if (ic_cli_format(v, &fmt))
                return 2;
        } else {
            if (!bad)
                ic_cli_error("whatif: unknown argument '%s' (see infercost whatif --help)", argv[i]);
            return 2;
        }
    }
    int d = ic_dim_parse(by);
    if (d != IC_DIM_MODEL && d != IC_DIM_PROVIDER && d != IC_DIM_CUSTOMER && d != IC_DIM_FEATURE &&
        d != IC_DIM_MONTH) {
        ic_cli_error("--by wants model, provider, customer, feature or month, not '%s'", by);
        return 2;
    }
    o.by = (ic_dim)d;
    if (at) {
        o.at = true;
        if (!strcmp(at, "now")) {
            o.at_ms = ic_time_now_ms();
        } else if (ic_time_parse(at, strlen(at), &o.at_ms) != IC_OK) {
            ic_cli_error("--at: '%s' is not a date (YYYY-MM-DD, RFC 3339 or now)", at);
            return 2;
        }
    }
    if (!nswaps && (share || share_by)) {
        ic_cli_error("--share and --share-by choose which calls a --swap moves: give a --swap");
        return 2;
    }
    if (o.unroute &&
        (nswaps || o.batch || at || o.cache_read_bp || o.trim_input_bp || o.response_cache_ms)) {
        ic_cli_error("--unroute is a scenario of its own (what routing saved, at the calls' own "
                     "prices): not with --swap, --batch, --at, --cache-read, --trim-input or "
                     "--response-cache");
        return 2;
    }
    if (!nswaps && !o.batch && !o.at && !o.cache_read_bp && !o.trim_input_bp &&
        !o.response_cache_ms && !o.unroute) {
        ic_cli_error("whatif: give a scenario: --swap FROM=TO, --batch, --cache-read PCT, "
                     "--trim-input PCT, --response-cache TTL, --at DATE or --unroute (see "
                     "infercost whatif --help)");
        return 2;
    }
    if (ic_cli_period(lo.from, lo.to, lo.month, &o.filter))
        return 2;
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    o.catalog = cat;
    int rc = 0;
    for (; o.nswaps < nswaps; o.nswaps++)
        if (parse_swap(cat, swaps[o.nswaps], &o.swaps[o.nswaps])) {
            rc = 2;
            break;
        }
    ic_ledger *l = rc ? NULL : ic_cli_open_ledger(ic_cli_ledger_path(lo.ledger), true);
    if (!l)
        rc = 2;
    ic_whatif *w = NULL;
    ic_error err = {0};
    if (!rc && (ic_whatif_build(l, &o, &w, &err) != IC_OK ||
                ic_whatif_write(w, fmt, stdout, &err) != IC_OK)) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    }
    if (!rc && w)
        ic_cli_warn_no_match(&o.filter, w->total.requests);
    for (int i = 0; w && i < o.nswaps; i++) {
        if (w->swap_matched[i])
            continue;
        /* earlier swaps that take calls this one would match (the first that matches applies) */
        int shadow = -1;
        for (int j = 0; j < i && shadow < 0; j++)
            if (w->swap_matched[j] && (!strcmp(o.swaps[j].from, "*") ||
                                       !strcmp(o.swaps[i].from, "*") ||
                                       !strcmp(o.swaps[j].from, o.swaps[i].from)))
                shadow = j;
        if (!w->swap_seen[i])
            ic_cli_error("--swap %s: no call in the period is served by %s (see infercost report "
                         "--by model)", swaps[i], o.swaps[i].from);
        else if (shadow >= 0)
            ic_cli_error("--swap %s: moved nothing: the first --swap that matches a call applies, "
                         "and --swap %s comes before it", swaps[i], swaps[shadow]);
        else
            ic_cli_error("--swap %s: moved nothing: the period's %llu calls served by %s are "
                         "outside the filters or gateway cache hits", swaps[i],
                         (unsigned long long)w->swap_seen[i], o.swaps[i].from);
    }
    ic_whatif_free(w);
    ic_ledger_close(l);
    for (int i = 0; i < o.nswaps; i++)
        free((char *)o.swaps[i].from);
    ic_catalog_free(cat);
    return rc;
}

IC_COMMAND(whatif, "whatif", "what-if savings: the ledger's calls on another model, batched, more "
           "cached or at other prices", run);
