/* forecast.h: monthly inference cost and its share of revenue, projected from the ledger.
 *
 * Usage growth is fitted (least squares on the log of requests per day, per calendar month of
 * history); revenue growth likewise from the revenue table. The run-rate of the last month of
 * history is the base. Prices follow four scenarios: flat; the field's range, 5x cheaper per 18
 * months and 10x cheaper per 12 months for the same capability tier; and a decline fitted from the
 * catalog's own price history (ic_model_price_entry), per price class of the models in use
 * (ic_catalog_class_trends). A class's fit rests on the feed's real dated price changes (a price
 * that differs from the one before it; the same change on the same day at several resellers
 * counts once); with fewer than IC_TREND_MIN_CHANGES of them, or when they say prices rose, the
 * class has no fitted decline, says why, and is held at today's prices in that scenario; when no
 * class in use has one, there is no catalog scenario at all (catalog_scenario false) rather than
 * a made-up one. It says in which month the cost share crosses the target.
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

#define IC_PRICE_CLASSES 3     /* by input price per million tokens: budget, mid, frontier */
#define IC_TREND_MIN_CHANGES 3 /* dated price changes a class's fit needs */

/* What the catalog's price history says about one price class. */
typedef struct ic_class_trend {
    const char *name;        /* "budget", "mid", "frontier" */
    const char *range;       /* "< $0.50/M input", "$0.50-3/M input", ">= $3/M input" */
    int changes, cuts, rises;/* distinct dated price changes of models in the class (the class
                              * of the price before the change) */
    int models;              /* catalog models with such a change (resellers each count) */
    int64_t first_ms, last_ms;
    double years;            /* the window the rate is taken over: first to last change, >= 1 */
    double annual;           /* exp(mean log(after / before) / years); 1 with no change */
    bool usable;             /* >= IC_TREND_MIN_CHANGES changes and annual < 1 */
    char why[200];           /* when not usable, plainly why */
} ic_class_trend;

/* The class of a model priced at input_price_mtok USD per million input tokens (0..2). */
int ic_price_class(double input_price_mtok);
/* Fit every class from the catalog's dated price entries. */
void ic_catalog_class_trends(const ic_catalog *c, ic_class_trend out[IC_PRICE_CLASSES]);

typedef struct ic_forecast_opts {
    int months;             /* months to project (1..120) */
    uint32_t target_bp;     /* target cost share of revenue, basis points */
    const ic_catalog *catalog;
    int64_t now_ms;         /* "today" for the catalog's current prices */
} ic_forecast_opts;

typedef struct ic_forecast_point {
    char month[8];
    bool history;           /* a month of the ledger (actual) rather than a projection */
    int days;               /* history: the days of the month the ledger covers (fewer than the
                             * month's at the ends of the ledger: a partial month) */
    int month_days;         /* history: the days of the month */
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
    int catalog_changes;     /* dated price changes behind the fits of the classes in use */
    int catalog_models;      /* catalog models with such changes */
    double catalog_annual;   /* the catalog scenario's price multiplier over the first year
                              * (spend-weighted; 1 without a catalog scenario) */
    ic_class_trend classes[IC_PRICE_CLASSES];
    double class_share[IC_PRICE_CLASSES]; /* share of the last month's cost by class */
    double unclassed_share;  /* models the catalog does not price: held flat */
    bool catalog_scenario;   /* some class in use has a fitted decline; else cost[3] repeats
                              * the flat scenario and the writers leave it out */
    double catalog_covered;  /* share of the last month's cost whose class has a fitted decline */
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
 * (its class's ic_class_trend.annual; 1 when the class has no change), with the class's number
 * of distinct changes and of models. Kept for callers of the first version. */
double ic_catalog_price_trend(const ic_catalog *c, double input_price_mtok, int *changes,
                              int *models);

#endif
