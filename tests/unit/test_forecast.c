/* test_forecast.c: the forecast on a ledger whose growth, run-rate and revenue are known by
 * construction: June at 10 calls a day, July at 20 (usage doubles: +100%/month), $1 a call,
 * revenue $1000 both months (flat). So August, flat prices: 20/day x 31 days x 2 = $1240.00, and
 * the 10x-per-12-months scenario: 1240 x 10^(-1/12) = $1023.50. With a 99% target, July (620 of
 * 1000) is under it and all four scenarios cross it in August. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "infercost/catalog.h"
#include "infercost/forecast.h"
#include "infercost/timeutil.h"
#include "test.h"

static char dir[] = "/tmp/ic_test_forecast_XXXXXX";

static void t_known_growth(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/f.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    if (!l)
        return;
    static char ids[1000][16];
    ic_event ev[1000];
    size_t n = 0;
    int64_t june = ic_days_from_civil(2026, 6, 1);
    for (int d = 0; d < 61; d++) { /* June 1 .. July 31 */
        int per = d < 30 ? 10 : 20;
        for (int k = 0; k < per; k++, n++) {
            snprintf(ids[n], sizeof ids[n], "e%zu", n);
            memset(&ev[n], 0, sizeof ev[n]);
            ev[n].id = ids[n];
            ev[n].t_ms = (june + d) * 86400000 + k * 1000;
            ev[n].provider = "openai";
            ev[n].model = "gpt-4o";
            ev[n].customer = "acme";
            ev[n].cost = IC_PICO_PER_USD;
            ev[n].latency_ms = -1;
        }
    }
    CHECK_INT(ic_ledger_append(l, ev, n, NULL, NULL, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(l, "acme", "2026-06", 1000 * IC_PICO_PER_USD, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(l, "acme", "2026-07", 1000 * IC_PICO_PER_USD, &err), IC_OK);
    ic_catalog *cat = NULL;
    CHECK_INT(ic_catalog_open(&cat, NULL, &err), IC_OK);
    ic_forecast_opts o = {.months = 3, .target_bp = 9900, .catalog = cat,
                          .now_ms = ic_days_from_civil(2026, 8, 1) * 86400000};
    ic_forecast *f = NULL;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f) {
        CHECK(fabs(f->usage_growth - 1.0) < 1e-9);
        CHECK(fabs(f->revenue_growth) < 1e-9);
        CHECK_INT(f->history_months, 2);
        CHECK_INT(f->npoints, 5);
        CHECK_STR(f->points[2].month, "2026-08");
        CHECK(!f->points[2].history);
        CHECK(f->points[1].cost[0] == 620 * IC_PICO_PER_USD);         /* July, actual */
        CHECK(f->points[2].cost[0] == 1240 * IC_PICO_PER_USD);        /* August, flat */
        CHECK(f->points[2].cost[2] == (ic_money)102350 * (IC_PICO_PER_USD / 100)); /* 10x/12mo */
        CHECK(f->points[2].revenue == 1000 * IC_PICO_PER_USD);
        /* September: 20 x 30 days x 4 */
        CHECK(f->points[3].cost[0] == 2400 * IC_PICO_PER_USD);
        CHECK(!f->above_now);
        for (int s = 0; s < IC_FORECAST_SCENARIOS; s++)
            CHECK_INT(f->cross[s], 2);
        CHECK(f->catalog_annual > 0 && isfinite(f->catalog_annual));
    }
    ic_forecast_free(f);
    /* the frontier class ($10/M input) has a finite trend drawn from the feed's dated changes */
    int ch = 0, md = 0;
    double tr = ic_catalog_price_trend(cat, 10.0, &ch, &md);
    CHECK(tr > 0 && isfinite(tr));
    CHECK(ch > 0 && md > 0);
    ic_catalog_free(cat);
    ic_ledger_close(l);
}

static void t_empty(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_forecast_opts o = {.months = 3, .target_bp = 2500};
    ic_forecast *f = NULL;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_ERR_NOT_FOUND);
    CHECK(f == NULL);
    o.months = 0;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_ERR_INVALID);
    ic_ledger_close(l);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(t_known_growth);
    RUN(t_empty);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
