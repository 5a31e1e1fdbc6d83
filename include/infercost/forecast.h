/* forecast.h: monthly inference cost and its share of revenue, projected from the ledger.
 *
 * Usage growth is fitted (least squares on the log of requests per day, per calendar month of
 * history); revenue growth likewise from the revenue table. The run-rate of the last month of
 * history is the base. Prices follow four scenarios: flat; the field's range, 5x cheaper per 18
 * months and 10x cheaper per 12 months for the same capability tier; and a decline fitted from the
 * catalog's own price history (ic_model_price_entry) for the price classes of the models in use,
 * weighted by their spend. It says in which month the cost share crosses the target.
 *
 * Projections are estimates: they are computed in floating point and rounded to the cent, unlike
 * the ledger's exact sums. Nothing here prints on its own. */
#ifndef INFERCOST_FORECAST_H
#define INFERCOST_FORECAST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"
#include "infercost/ledger.h"
#include "infercost/report.h"

#define IC_FORECAST_SCENARIOS 4 /* flat, 5x/18 months, 10x/12 months, catalog fit */

typedef struct ic_forecast_opts {
    int months;             /* months to project (1..120) */
    uint32_t target_bp;     /* target cost share of revenue, basis points */
    const ic_catalog *catalog;
    int64_t now_ms;         /* "today" for the catalog's current prices */
} ic_forecast_opts;

typedef struct ic_forecast_point {
    char month[8];
    bool history;           /* a month of the ledger (actual) rather than a projection */
    ic_money revenue;       /* projected or actual; 0 when unknown */
    ic_money cost[IC_FORECAST_SCENARIOS];
} ic_forecast_point;

typedef struct ic_forecast {
    ic_forecast_opts opts;
    const char *scenario[IC_FORECAST_SCENARIOS];
    double monthly_factor[IC_FORECAST_SCENARIOS]; /* price multiplier per month */
    double usage_growth;     /* fitted, per month (0.25 = +25%) */
    double revenue_growth;   /* fitted, per month */
    int history_months;      /* months used for the usage fit */
    bool have_revenue;
    /* the catalog fit */
    int catalog_changes;     /* dated price changes used */
    int catalog_models;      /* models with a price history */
    double catalog_annual;   /* price multiplier per year fitted from the catalog */
    ic_forecast_point *points; /* history months, then projections */
    size_t npoints;
    int cross[IC_FORECAST_SCENARIOS]; /* index into points where the share first passes the
                                         target in a projected month; -1 never */
    bool above_now;          /* the last actual month is already above the target */
} ic_forecast;

ic_status ic_forecast_build(ic_ledger *l, const ic_forecast_opts *o, ic_forecast **out,
                            ic_error *err);
void ic_forecast_free(ic_forecast *f);
/* table, csv (json and md are accepted: md as a table, json as an object) */
ic_status ic_forecast_write(const ic_forecast *f, ic_report_format fmt, FILE *out, ic_error *err);

/* The catalog's fitted price multiplier per year for models priced like `input_price_mtok`
 * (a class: under $0.50, $0.50 to $3, $3 and above per million input tokens). */
double ic_catalog_price_trend(const ic_catalog *c, double input_price_mtok, int *changes,
                              int *models);

#endif
