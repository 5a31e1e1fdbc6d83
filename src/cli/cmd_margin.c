/* cmd_margin.c: `infercost margin`: per customer and in total, revenue, inference cost, cost as a
 * share of revenue against a target, gross margin, who is under water, and per-task pricing.
 * The numbers come from economics.h; this file parses options and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/economics.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost margin [--ledger PATH] [--from DATE] [--to DATE] [--month YYYY-MM]\n"
    "                        [--target PCT] [--format table|csv|json|md]\n"
    "Revenue (see infercost revenue import) against inference cost, per customer and in total\n"
    "(docs/ledger.md). --target is the cost share of revenue to stay under (default 25).\n"
    "For customers with tasks: the cost per task (mean, p50/p95/p99), the price per task that\n"
    "puts the mean task at the target share, and the share of tasks that would still cost more\n"
    "than that price (sold at a loss) or more than the target share of it.\n"
    "Exit status: 0, or 1 when a customer is under water (cost above revenue).\n";

static int run(int argc, char **argv)
{
    ic_cli_ledger_opts lo = {0};
    ic_margin_opts o = {.target_bp = 2500};
    ic_report_format fmt = IC_FMT_TABLE;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        int r = ic_cli_ledger_arg(&lo, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--target", argc, argv, &i, &bad))) {
            if (ic_cli_parse_pct_bp("--target", v, &o.target_bp))
                return 2;
        } else if ((v = ic_cli_opt("--format", argc, argv, &i, &bad))) {
            if (ic_cli_format(v, &fmt))
                return 2;
        } else {
            if (!bad)
                ic_cli_error("margin: unknown argument '%s' (see infercost margin --help)", argv[i]);
            return 2;
        }
    }
    if (ic_cli_period(lo.from, lo.to, lo.month, &o.filter))
        return 2;
    ic_ledger *l = ic_cli_open_ledger(ic_cli_ledger_path(lo.ledger), true);
    if (!l)
        return 2;
    ic_margin *m = NULL;
    ic_error err = {0};
    int rc = 0;
    if (ic_margin_build(l, &o, &m, &err) != IC_OK || ic_margin_write(m, fmt, stdout, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    } else {
        if (!m->total.has_revenue)
            ic_cli_error("no revenue in the ledger for this period: import it with "
                         "`infercost revenue import FILE.csv`");
        ic_cli_note_cut_month(&o.filter);
        for (size_t i = 0; i < m->nrows; i++)
            if (m->rows[i].has_revenue && m->rows[i].cost > m->rows[i].revenue)
                rc = 1;
    }
    ic_margin_free(m);
    ic_ledger_close(l);
    return rc;
}

IC_COMMAND(margin, "margin", "revenue vs inference cost per customer: cost share, margin, per task",
           run);
