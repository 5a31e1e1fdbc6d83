/* cli_ledger.h: what the ledger subcommands (report, margin, forecast, export) share: the ledger
 * path (--ledger, else $INFERCOST_LEDGER, else ./infercost.db), the period options and the output
 * format option. Implemented in cmd_report.c. */
#ifndef IC_CLI_LEDGER_H
#define IC_CLI_LEDGER_H

#include <stdbool.h>

#include "infercost/ledger.h"
#include "infercost/report.h"

/* --ledger, --from, --to and --month, as every ledger command reads them */
typedef struct ic_cli_ledger_opts {
    const char *ledger, *from, *to, *month;
} ic_cli_ledger_opts;

/* If argv[*i] is one of those options, take it, advance *i and return 1; 0 if it is another
 * argument; -1 (after printing) if its value is missing. */
int ic_cli_ledger_arg(ic_cli_ledger_opts *o, int argc, char **argv, int *i);

const char *ic_cli_ledger_path(const char *opt);
/* prints the error; NULL on failure */
ic_ledger *ic_cli_open_ledger(const char *path, bool readonly);
/* --from/--to/--month into f; -1 (after printing) on a bad value */
int ic_cli_period(const char *from, const char *to, const char *month, ic_ledger_filter *f);
int ic_cli_format(const char *v, ic_report_format *out);
/* when a command's filters (--provider, --model, --customer, --feature) selected no call
 * (matched == 0), say so on stderr, with the filters: names match exactly */
void ic_cli_warn_no_match(const ic_ledger_filter *f, uint64_t matched);

/* when a period starts or ends within a month, say on stderr that revenue counts whole months
 * (margin, dashboard) */
void ic_cli_note_cut_month(const ic_ledger_filter *f);

#endif
