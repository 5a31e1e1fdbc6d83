/* cmd_export.c: `infercost export --format focus`: the ledger as a FinOps FOCUS 1.2 CSV
 * (focus.h). Options and output file only; the columns are the library's. */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/focus.h"

static const char usage_text[] =
    "usage: infercost export --format focus [--ledger PATH] [--from DATE] [--to DATE]\n"
    "                        [--month YYYY-MM] [--billing-account ID] [--billing-account-name N]\n"
    "                        [--out FILE]\n"
    "Writes a FinOps FOCUS 1.2 CSV (docs/ledger.md): one row per day, provider, model, customer,\n"
    "feature and direction (input/output tokens), exact costs at list price.\n";

static int run(int argc, char **argv)
{
    ic_cli_ledger_opts lo = {0};
    const char *format = NULL, *outp = NULL;
    ic_focus_opts o = {0};
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
        if ((v = ic_cli_opt("--format", argc, argv, &i, &bad)))
            format = v;
        else if ((v = ic_cli_opt("--billing-account", argc, argv, &i, &bad)))
            o.billing_account_id = v;
        else if ((v = ic_cli_opt("--billing-account-name", argc, argv, &i, &bad)))
            o.billing_account_name = v;
        else if ((v = ic_cli_opt("--out", argc, argv, &i, &bad)))
            outp = v;
        else {
            if (!bad)
                ic_cli_error("export: unknown argument '%s' (see infercost export --help)", argv[i]);
            return 2;
        }
    }
    if (!format || strcmp(format, "focus")) {
        ic_cli_error("export: --format focus is required (the one export format so far)");
        return 2;
    }
    if (ic_cli_period(lo.from, lo.to, lo.month, &o.filter))
        return 2;
    const char *lp = ic_cli_ledger_path(lo.ledger);
    if (outp && ic_cli_is_ledger_file(outp, lp)) {
        ic_cli_error("export: --out %s is the ledger or one of its files", outp);
        return 2;
    }
    ic_ledger *l = ic_cli_open_ledger(lp, true);
    if (!l)
        return 2;
    FILE *f = ic_cli_open_output(outp);
    if (!f) {
        ic_ledger_close(l);
        return 2;
    }
    ic_error err = {0};
    uint64_t rows = 0;
    int rc = 0;
    if (ic_focus_export(l, &o, f, &rows, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    }
    rc = ic_cli_close_output(f, outp, rc);
    if (rc == 0 && outp)
        fprintf(stderr, "infercost: wrote %llu FOCUS rows to %s\n", (unsigned long long)rows, outp);
    ic_ledger_close(l);
    return rc;
}

IC_COMMAND(export, "export", "write the ledger as a FinOps FOCUS 1.2 CSV", run);
