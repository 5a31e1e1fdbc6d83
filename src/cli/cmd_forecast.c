/* cmd_forecast.c: `infercost forecast --months N`: monthly cost and cost share of revenue,
 * projected under price-decline scenarios (forecast.h), with the month the share crosses the
 * target. This file parses options and writes; the model lives in the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/forecast.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost forecast [--ledger PATH] [--months N] [--target PCT]\n"
    "                          [--catalog FILE] [--overlay FILE]... [--format table|csv|json]\n"
    "Projects monthly inference cost and its share of revenue from the ledger (docs/ledger.md):\n"
    "usage growth fitted on the history, revenue growth fitted on the imported revenue, and four\n"
    "price scenarios: flat, 5x cheaper per 18 months, 10x cheaper per 12 months (the field's\n"
    "range for the same capability tier), and the trend fitted from the catalog's own price\n"
    "history for the price classes of the models in use. Says when the share crosses --target.\n"
    "  --months N    months to project (default 12)\n"
    "  --target PCT  cost share of revenue to stay under (default 25)\n";

static int run(int argc, char **argv)
{
    const char *ledger = NULL;
    ic_cli_catalog_opts co = {0};
    ic_forecast_opts o = {.months = 12, .target_bp = 2500};
    ic_report_format fmt = IC_FMT_TABLE;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--ledger", argc, argv, &i, &bad)))
            ledger = v;
        else if ((v = ic_cli_opt("--months", argc, argv, &i, &bad))) {
            uint64_t n;
            if (ic_cli_uint("--months", v, 1, 120, &n))
                return 2;
            o.months = (int)n;
        } else if ((v = ic_cli_opt("--target", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--target", v, &o.target_bp))
                return 2;
        } else if ((v = ic_cli_opt("--format", argc, argv, &i, &bad))) {
            if (ic_cli_format(v, &fmt))
                return 2;
        } else {
            if (!bad)
                ic_cli_error("forecast: unknown argument '%s' (see infercost forecast --help)",
                             argv[i]);
            return 2;
        }
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    ic_ledger *l = ic_cli_open_ledger(ic_cli_ledger_path(ledger), true);
    if (!l) {
        ic_catalog_free(cat);
        return 2;
    }
    o.catalog = cat;
    o.now_ms = ic_time_now_ms();
    ic_forecast *f = NULL;
    ic_error err = {0};
    int rc = 0;
    if (ic_forecast_build(l, &o, &f, &err) != IC_OK ||
        ic_forecast_write(f, fmt, stdout, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    }
    ic_forecast_free(f);
    ic_ledger_close(l);
    ic_catalog_free(cat);
    return rc;
}

IC_COMMAND(forecast, "forecast", "project monthly cost and cost share under price-decline scenarios",
           run);
