/* economics.h: unit economics from the ledger: revenue per customer and month (imported from
 * CSV), inference cost as a share of revenue against a target (default 25%), gross margin, the
 * customers under water, and for task-shaped usage the price per task that meets the target and
 * the spread of cost per task that makes per-query pricing risky.
 *
 * Revenue and cost are exact ic_money; shares and ratios are doubles for display only. Costs come
 * from report.h (the ledger), never from re-pricing. Nothing here prints on its own. */
#ifndef INFERCOST_ECONOMICS_H
#define INFERCOST_ECONOMICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/ledger.h"
#include "infercost/report.h"

/* Import "customer,period,revenue" CSV (header required, columns in any order, more columns
 * ignored; period YYYY-MM; revenue a plain decimal, at most 12 fractional digits, "$" allowed).
 * All rows or none: the first bad row fails the import with FILE:LINE and the field. A
 * (customer, period) already in the ledger is replaced; twice in one file is an error. */
ic_status ic_revenue_import_csv(ic_ledger *l, FILE *in, const char *source, size_t *nrows,
                                ic_error *err);

typedef struct ic_margin_opts {
    ic_ledger_filter filter;  /* period; revenue months overlapping it count */
    uint32_t target_bp;       /* target cost share in basis points (2500 = 25%) */
} ic_margin_opts;

typedef struct ic_margin_row {
    char *customer;           /* NULL for the total */
    ic_money revenue, cost, margin; /* margin = revenue - cost */
    uint64_t requests, tasks;
    ic_money task_mean, task_p50, task_p95, task_p99;
    ic_money task_price;      /* price per task that puts mean cost at the target share */
    uint64_t tasks_over_price;  /* tasks that cost more than that price (sold at a loss) */
    uint64_t tasks_over_target; /* tasks whose cost share at that price exceeds the target */
    bool has_revenue;
} ic_margin_row;

typedef struct ic_margin_month {
    char month[8];
    ic_money revenue, cost;
} ic_margin_month;

typedef struct ic_margin {
    ic_margin_opts opts;
    ic_margin_row *rows;      /* by cost share, worst first */
    size_t nrows;
    ic_margin_row total;
    ic_margin_month *months;
    size_t nmonths;
} ic_margin;

ic_status ic_margin_build(ic_ledger *l, const ic_margin_opts *o, ic_margin **out, ic_error *err);
void ic_margin_free(ic_margin *m);
ic_status ic_margin_write(const ic_margin *m, ic_report_format fmt, FILE *f, ic_error *err);

/* part / revenue in basis points (may be negative), rounded half-even; INT64_MIN when
 * revenue <= 0 */
int64_t ic_cost_share_bp(ic_money part, ic_money revenue);

/* Revenue is by month: a period that starts or ends within a month sets all of that month's
 * revenue against part of its cost. 0 when the period's ends are whole months (or open), 1 when
 * it starts within a month, 2 when it ends within one (the start is checked first). */
int ic_period_cuts_month(const ic_ledger_filter *f);

#endif
