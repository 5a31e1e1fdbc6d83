/* cmd_models.c: `infercost models [PATTERN]`: search the catalog by id or name (substring, any
 * case), optionally within one provider; shows context window and current input/output prices. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/catalog.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/units.h"

static const char usage_text[] =
    "usage: infercost models [PATTERN] [--provider P] [--json] [--catalog F] [--overlay F]\n"
    "Lists catalog models whose id or name contains PATTERN (any case), with the context window\n"
    "and today's input and output price per million tokens.\n";

static bool icontains(const char *hay, const char *needle)
{
    if (!hay)
        return false;
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static const char *price_of(const ic_price_set *ps, const char *key, char *buf, size_t cap)
{
    const ic_unit_price *up = ic_price_set_find(ps, ic_unit_find_price_key(key));
    if (!up)
        return "-";
    ic_decimal_format(up->base, buf, cap);
    if (up->ntiers)
        strncat(buf, "+", cap - strlen(buf) - 1);
    return buf;
}

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *pattern = "", *provider = NULL;
    bool json = false, bad = false;
    for (int i = 1; i < argc;) {
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        const char *v;
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--provider", argc, argv, &i, &bad)))
            provider = v;
        else if (bad)
            return 2;
        else if (!strcmp(argv[i], "--json"))
            json = true, i++;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            ic_cli_error("models: unknown option %s", argv[i]);
            return 2;
        } else
            pattern = argv[i++];
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    const ic_provider *only = NULL;
    if (provider && !(only = ic_catalog_find_provider(cat, provider))) {
        ic_cli_error("models: unknown provider \"%s\"", provider);
        ic_catalog_free(cat);
        return 2;
    }
    int64_t now = ic_time_now_ms();
    size_t shown = 0;
    char in[48], out[48];
    if (!json)
        printf("%-22s %-48s %10s %12s %12s\n", "PROVIDER", "MODEL", "CONTEXT", "IN $/MTOK", "OUT $/MTOK");
    for (size_t k = 0; k < ic_catalog_provider_count(cat); k++) {
        const ic_provider *p = ic_catalog_provider(cat, k);
        if (only && p != only)
            continue;
        for (size_t j = 0; j < ic_provider_model_count(p); j++) {
            const ic_model *m = ic_provider_model(p, j);
            if (!icontains(ic_model_id(m), pattern) && !icontains(ic_model_name(m), pattern))
                continue;
            const ic_price_set *ps = ic_model_prices_at(m, now);
            /* "-" (a literal) where the model has no such price: use what price_of returns */
            const char *pin = price_of(ps, "input_mtok", in, sizeof in),
                       *pout = price_of(ps, "output_mtok", out, sizeof out);
            if (json) {
                char qp[256], qm[600];
                ic_json_quote(ic_provider_id(p), strlen(ic_provider_id(p)), qp, sizeof qp);
                ic_json_quote(ic_model_id(m), strlen(ic_model_id(m)), qm, sizeof qm);
                char cw[24] = "null"; /* the feed gives no window */
                if (ic_model_context_window(m))
                    snprintf(cw, sizeof cw, "%llu", (unsigned long long)ic_model_context_window(m));
                printf("{\"provider\":%s,\"model\":%s,\"context_window\":%s,"
                       "\"input_mtok\":\"%s\",\"output_mtok\":\"%s\",\"deprecated\":%s}\n",
                       qp, qm, cw,
                       pin, pout,
                       ic_model_deprecated(m) ? "true" : "false");
            } else {
                char ctx[24] = "-";
                if (ic_model_context_window(m))
                    snprintf(ctx, sizeof ctx, "%llu", (unsigned long long)ic_model_context_window(m));
                printf("%-22s %-48s %10s %12s %12s%s\n", ic_provider_id(p), ic_model_id(m), ctx,
                       pin, pout, ic_model_deprecated(m) ? "  (deprecated)" : "");
            }
            shown++;
        }
    }
    if (!json)
        printf("%zu model%s (\"+\": tiered above a prompt size; `infercost price MODEL` for details)\n",
               shown, shown == 1 ? "" : "s");
    ic_catalog_free(cat);
    return shown ? 0 : 1;
}

IC_COMMAND(models, "models", "search the catalog: providers, models, context windows, prices", run);
