/* dashboard.h: the ledger as one self-contained HTML page: spend, calls, cost per call and the
 * cache's share; spend per day; customers' cost against their revenue (margin, cost share
 * against a target); spend by feature and by model; month over month and the top movers; and
 * the forecast's price scenarios. No script, no external asset: inline CSS and SVG, so the file
 * can be mailed or attached as it is. Every figure comes from report.h, economics.h and
 * forecast.h (the same numbers and verdicts as `report`, `margin` and `forecast`); amounts are
 * shown rounded half-even by size (to the cent from $1 up, counting what rounds to $1.0000, to
 * $0.0001 from $0.0001 up, to $0.000001 below that), each with its exact value as a tooltip. Every string from the ledger (customer, feature, model names) is HTML-escaped. */
#ifndef INFERCOST_DASHBOARD_H
#define INFERCOST_DASHBOARD_H

#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"
#include "infercost/ledger.h"

typedef struct ic_dashboard_opts {
    ic_ledger_filter filter;    /* the period (from/to); the name filters are not used */
    uint32_t target_bp;         /* target cost share of revenue, basis points */
    int forecast_months;        /* months the forecast projects (0: no forecast section) */
    const ic_catalog *catalog;  /* for the forecast's catalog scenario (may be NULL) */
    int64_t now_ms;             /* "generated at", and the forecast's "today" */
    const char *source;         /* what the page says it was made from (the ledger, shown) */
} ic_dashboard_opts;

/* Write the page to f. IC_OK with *calls set to the number of calls in the period (0: the page
 * says there are none). */
ic_status ic_dashboard_write(ic_ledger *l, const ic_dashboard_opts *o, FILE *f, uint64_t *calls,
                             ic_error *err);

#endif
