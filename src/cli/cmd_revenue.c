/* cmd_revenue.c: `infercost revenue import FILE.csv`: revenue per customer and month into the
 * ledger, for `infercost margin` and `infercost forecast`. All rows or none (economics.h);
 * `infercost revenue list` shows what is stored. */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/economics.h"

static const char usage_text[] =
    "usage: infercost revenue import [--ledger PATH] FILE.csv|-\n"
    "       infercost revenue list [--ledger PATH]\n"
    "import: a CSV with a header naming customer, period (YYYY-MM) and revenue (USD, plain\n"
    "decimal); other columns are ignored. A (customer, period) already stored is replaced.\n"
    "All rows or none: a bad row fails the import naming FILE:LINE and the field.\n";

/* a CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break */
static void csv_field(const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static int print_rev(const char *c, const char *p, ic_money m, void *arg)
{
    char b[IC_MONEY_STRLEN];
    (void)arg;
    csv_field(c);
    printf(",%s,%s\n", p, ic_money_format(m, b, sizeof b));
    return 0;
}

static int run(int argc, char **argv)
{
    const char *ledger = NULL, *file = NULL, *sub = NULL;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--ledger", argc, argv, &i, &bad))) {
            ledger = v;
        } else if (bad) {
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("revenue: unknown option '%s'", argv[i]);
            return 2;
        } else if (!sub) {
            sub = argv[i++];
        } else if (!file) {
            file = argv[i++];
        } else {
            ic_cli_error("revenue: one file at a time");
            return 2;
        }
    }
    if (!sub || (strcmp(sub, "import") && strcmp(sub, "list")) ||
        (!strcmp(sub, "import") && !file)) {
        fputs(usage_text, stderr);
        return 2;
    }
    bool import = !strcmp(sub, "import");
    ic_ledger *l = ic_cli_open_ledger(ic_cli_ledger_path(ledger), !import);
    if (!l)
        return 2;
    ic_error err = {0};
    int rc = 0;
    if (import) {
        FILE *in = ic_cli_open_input(file);
        if (!in) {
            ic_ledger_close(l);
            return 2;
        }
        size_t n = 0;
        if (ic_revenue_import_csv(l, in, strcmp(file, "-") ? file : "<stdin>", &n, &err) != IC_OK) {
            ic_cli_error("%s", err.msg);
            ic_cli_error("nothing imported");
            rc = 1;
        } else {
            printf("imported %zu revenue rows\n", n);
        }
        if (in != stdin)
            fclose(in);
    } else {
        printf("customer,period,revenue\n");
        if (ic_ledger_scan_revenue(l, print_rev, NULL, &err) != IC_OK) {
            ic_cli_error("%s", err.msg);
            rc = 2;
        }
    }
    ic_ledger_close(l);
    return rc;
}

IC_COMMAND(revenue, "revenue", "import revenue per customer and month (CSV) for margin/forecast",
           run);
