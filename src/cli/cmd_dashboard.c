/* cmd_dashboard.c: `infercost dashboard`: the ledger as one self-contained HTML page (spend per
 * day, customers' margins, features, models, month over month, the forecast). The page is made
 * by the library (dashboard.h); this file parses options and opens the output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/dashboard.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost dashboard [--ledger PATH] [--from DATE] [--to DATE] [--month YYYY-MM]\n"
    "                           [--target PCT] [--months N] [--catalog FILE] [--overlay FILE]...\n"
    "                           [--out FILE.html]\n"
    "The ledger as one HTML page with no script and no external file (docs/ledger.md): spend,\n"
    "calls, cost per call and the cache's share; spend per day; each customer's cost against\n"
    "revenue (gross margin, cost share against --target); spend by feature and by model; month\n"
    "over month and the top movers; the forecast's price scenarios. The same figures as report,\n"
    "margin and forecast; amounts rounded by size (to the cent from $1 up, $0.0001 below,\n"
    "$0.000001 below that), the exact value as each one's tooltip.\n"
    "  --target PCT  cost share of revenue to stay under (default 25)\n"
    "  --months N    months the forecast projects (default 12; 0 leaves the forecast out)\n"
    "  --out FILE    write the page there (default: standard output)\n";

static int run(int argc, char **argv)
{
    ic_cli_ledger_opts lo = {0};
    ic_cli_catalog_opts co = {0};
    ic_dashboard_opts o = {.target_bp = 2500, .forecast_months = 12};
    const char *outp = NULL;
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
        if ((v = ic_cli_opt("--target", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--target", v, &o.target_bp))
                return 2;
        } else if ((v = ic_cli_opt("--months", argc, argv, &i, &bad))) {
            uint64_t n;
            if (ic_cli_uint("--months", v, 0, 120, &n))
                return 2;
            o.forecast_months = (int)n;
        } else if ((v = ic_cli_opt("--out", argc, argv, &i, &bad))) {
            outp = v;
        } else {
            if (!bad)
                ic_cli_error("dashboard: unknown argument '%s' (see infercost dashboard --help)",
                             argv[i]);
            return 2;
        }
    }
    if (ic_cli_period(lo.from, lo.to, lo.month, &o.filter))
        return 2;
    const char *lp = ic_cli_ledger_path(lo.ledger);
    if (outp && ic_cli_is_ledger_file(outp, lp)) {
        ic_cli_error("dashboard: --out %s is the ledger or one of its files", outp);
        return 2;
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    ic_ledger *l = ic_cli_open_ledger(lp, true);
    if (!l) {
        ic_catalog_free(cat);
        return 2;
    }
    FILE *f = ic_cli_open_output(outp);
    if (!f) {
        ic_ledger_close(l);
        ic_catalog_free(cat);
        return 2;
    }
    char shown[512];
    ic_ledger_target_display(lp, shown, sizeof shown);
    o.source = shown;
    o.catalog = cat;
    o.now_ms = ic_time_now_ms();
    ic_error err = {0};
    uint64_t calls = 0;
    int rc = 0;
    if (ic_dashboard_write(l, &o, f, &calls, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    }
    rc = ic_cli_close_output(f, outp, rc);
    if (rc == 0 && calls == 0)
        ic_cli_error("note: no calls in this period; the page says so");
    else if (rc == 0 && outp)
        fprintf(stderr, "infercost: wrote the dashboard of %llu call%s to %s\n",
                (unsigned long long)calls, calls == 1 ? "" : "s", outp);
    ic_ledger_close(l);
    ic_catalog_free(cat);
    return rc;
}

IC_COMMAND(dashboard, "dashboard", "the ledger as one self-contained HTML page: spend, margins, "
                                   "models, forecast", run);
