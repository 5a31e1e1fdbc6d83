/* cmd_price.c: `infercost price MODEL`: the prices in force at a time and the model's whole
 * price history (every entry of the feed: default, dated, time-of-day), as text or JSON. */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/catalog.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/units.h"

static const char usage_text[] =
    "usage: infercost price MODEL [--provider P] [--at TIME] [--json] [--catalog F] [--overlay F]\n"
    "Shows the model's prices in force at TIME (default now; \"2026-03-01\" or RFC 3339) and its\n"
    "whole price history.\n";

static void print_set(const ic_price_set *ps, const char *indent, bool json)
{
    char num[64], tnum[64];
    for (size_t i = 0; i < ic_price_set_count(ps); i++) {
        const ic_unit_price *up = ic_price_set_item(ps, i);
        ic_decimal_format(up->base, num, sizeof num);
        if (json) {
            printf("%s{\"price_key\":\"%s\",\"unit\":\"%s\",\"per\":%llu,\"price\":\"%s\"", i ? "," : "",
                   ic_unit_price_key(up->unit), ic_unit_name(up->unit),
                   (unsigned long long)ic_unit_per(up->unit), num);
            if (up->ntiers) {
                printf(",\"tiers\":[");
                for (size_t t = 0; t < up->ntiers; t++)
                    printf("%s{\"above_input_tokens\":%llu,\"price\":\"%s\"}", t ? "," : "",
                           (unsigned long long)up->tiers[t].start,
                           ic_decimal_format(up->tiers[t].price, tnum, sizeof tnum));
                printf("]");
            }
            printf("}");
            continue;
        }
        printf("%s%-26s $%s per %llu %s", indent, ic_unit_price_key(up->unit), num,
               (unsigned long long)ic_unit_per(up->unit), ic_unit_name(up->unit));
        for (size_t t = 0; t < up->ntiers; t++)
            printf("; $%s above %llu input tokens", ic_decimal_format(up->tiers[t].price, tnum, sizeof tnum),
                   (unsigned long long)up->tiers[t].start);
        printf("\n");
    }
}

static void describe(const ic_price_entry *e, char *buf, size_t cap)
{
    char t[40];
    switch (e->kind) {
    case IC_PRICE_ALWAYS:
        snprintf(buf, cap, "default");
        break;
    case IC_PRICE_FROM_DATE:
        ic_time_format(e->start_ms, t, sizeof t);
        snprintf(buf, cap, "from %.10s", t);
        break;
    case IC_PRICE_TIME_OF_DAY:
        snprintf(buf, cap, "daily %02d:%02d-%02d:%02d UTC", e->tod_start_ms / 3600000,
                 e->tod_start_ms / 60000 % 60, e->tod_end_ms / 3600000, e->tod_end_ms / 60000 % 60);
        break;
    }
}

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *model = NULL, *provider = NULL, *at = NULL;
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
        else if ((v = ic_cli_opt("--at", argc, argv, &i, &bad)))
            at = v;
        else if (bad)
            return 2;
        else if (!strcmp(argv[i], "--json"))
            json = true, i++;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            ic_cli_error("price: unknown option %s", argv[i]);
            return 2;
        } else if (!model)
            model = argv[i++];
        else {
            ic_cli_error("price: one model at a time");
            return 2;
        }
    }
    if (!model) {
        fputs(usage_text, stderr);
        return 2;
    }
    int64_t t = ic_time_now_ms();
    if (at && ic_time_parse(at, strlen(at), &t) != IC_OK) {
        ic_cli_error("price: --at: expected a date like 2026-03-01 or an RFC 3339 time, got \"%s\"", at);
        return 2;
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    const ic_provider *p;
    const ic_model *m;
    ic_error err;
    if (ic_catalog_resolve(cat, provider, model, &p, &m, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        ic_catalog_free(cat);
        return 1;
    }
    const ic_price_set *now = ic_model_prices_at(m, t);
    char ts[40], desc[64];
    ic_time_format(t, ts, sizeof ts);
    if (json) {
        char qp[256], qm[600];
        ic_json_quote(ic_provider_id(p), strlen(ic_provider_id(p)), qp, sizeof qp);
        ic_json_quote(ic_model_id(m), strlen(ic_model_id(m)), qm, sizeof qm);
        printf("{\"provider\":%s,\"model\":%s,\"context_window\":%llu,\"deprecated\":%s,"
               "\"at\":\"%s\",\"prices\":[", qp, qm,
               (unsigned long long)ic_model_context_window(m), ic_model_deprecated(m) ? "true" : "false", ts);
        print_set(now, "", true);
        printf("],\"history\":[");
        for (size_t i = 0; i < ic_model_price_count(m); i++) {
            const ic_price_entry *e = ic_model_price_entry(m, i);
            describe(e, desc, sizeof desc);
            printf("%s{\"when\":\"%s\",\"prices\":[", i ? "," : "", desc);
            print_set(e->prices, "", true);
            printf("]}");
        }
        printf("]}\n");
    } else {
        printf("%s / %s%s%s%s\n", ic_provider_id(p), ic_model_id(m), ic_model_name(m) ? " (" : "",
               ic_model_name(m) ? ic_model_name(m) : "", ic_model_name(m) ? ")" : "");
        if (ic_model_context_window(m))
            printf("context window: %llu tokens\n", (unsigned long long)ic_model_context_window(m));
        if (ic_model_deprecated(m))
            printf("deprecated: still priced, but the provider has retired or is retiring it\n");
        printf("\nprices at %s:\n", ts);
        print_set(now, "  ", false);
        printf("\nprice history (%zu entr%s, in feed order):\n", ic_model_price_count(m),
               ic_model_price_count(m) == 1 ? "y" : "ies");
        for (size_t i = 0; i < ic_model_price_count(m); i++) {
            const ic_price_entry *e = ic_model_price_entry(m, i);
            describe(e, desc, sizeof desc);
            printf("  %s%s\n", desc, e->prices == now ? "   <- in force" : "");
            print_set(e->prices, "    ", false);
        }
    }
    ic_catalog_free(cat);
    return 0;
}

IC_COMMAND(price, "price", "a model's prices at a time, and its price history", run);
