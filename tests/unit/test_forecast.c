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

/* The catalog fit, on a feed made for it. Frontier: p/f1 $10 -> $5 on 2025-01-01 (and the same
 * change at the reseller r/f1: counted once), p/f2 $4 -> $2 on 2025-07-01, p/f3b $6 -> $3 on
 * 2026-01-01 and $3 -> $1.5 on 2026-07-01 (the class of the price before: still frontier);
 * p/f3 repeats its price (not a change). So 4 changes, all halvings, over 546 days:
 * annual = 0.5^(365.25/546) = 0.628962. Mid: one rise (too few). Budget: none.
 * Ledger: June 8 f1 + 2 b1 calls a day, July 15 + 5, $1 a call: July's spend is 75% frontier,
 * 25% budget; usage doubles a month. August (31 days): flat 20 x 31 x 2 = $1240; catalog
 * trend: 1240 x (0.25 + 0.75 x 0.628962^(1/12)) = $1204.75; September: 2400 x (0.25 + 0.75 x
 * 0.628962^(2/12)) = $2266.13. With only rises in the frontier class there is no catalog
 * scenario, and it says why. */
static const char *fit_catalog =
    "[{\"id\":\"p\",\"models\":["
    "{\"id\":\"f1\",\"match\":{\"equals\":\"f1\"},\"prices\":[{\"prices\":{\"input_mtok\":10}},"
    "{\"constraint\":{\"start_date\":\"2025-01-01\"},\"prices\":{\"input_mtok\":5}}]},"
    "{\"id\":\"f2\",\"match\":{\"equals\":\"f2\"},\"prices\":[{\"prices\":{\"input_mtok\":4}},"
    "{\"constraint\":{\"start_date\":\"2025-07-01\"},\"prices\":{\"input_mtok\":2}}]},"
    "{\"id\":\"f3\",\"match\":{\"equals\":\"f3\"},\"prices\":[{\"prices\":{\"input_mtok\":8}},"
    "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":8}}]},"
    "{\"id\":\"f3b\",\"match\":{\"equals\":\"f3b\"},\"prices\":[{\"prices\":{\"input_mtok\":6}},"
    "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":3}},"
    "{\"constraint\":{\"start_date\":\"2026-07-01\"},\"prices\":{\"input_mtok\":1.5}}]},"
    "{\"id\":\"m1\",\"match\":{\"equals\":\"m1\"},\"prices\":[{\"prices\":{\"input_mtok\":1}},"
    "{\"constraint\":{\"start_date\":\"2025-03-01\"},\"prices\":{\"input_mtok\":2}}]},"
    "{\"id\":\"b1\",\"match\":{\"equals\":\"b1\"},\"prices\":{\"input_mtok\":0.1}}]},"
    "{\"id\":\"r\",\"models\":["
    "{\"id\":\"f1\",\"match\":{\"equals\":\"f1\"},\"prices\":[{\"prices\":{\"input_mtok\":10}},"
    "{\"constraint\":{\"start_date\":\"2025-01-01\"},\"prices\":{\"input_mtok\":5}}]}]}]";

static const char *rising_catalog =
    "[{\"id\":\"p\",\"models\":["
    "{\"id\":\"f1\",\"match\":{\"equals\":\"f1\"},\"prices\":[{\"prices\":{\"input_mtok\":5}},"
    "{\"constraint\":{\"start_date\":\"2025-01-01\"},\"prices\":{\"input_mtok\":10}}]},"
    "{\"id\":\"f2\",\"match\":{\"equals\":\"f2\"},\"prices\":[{\"prices\":{\"input_mtok\":4}},"
    "{\"constraint\":{\"start_date\":\"2025-07-01\"},\"prices\":{\"input_mtok\":8}}]},"
    "{\"id\":\"f3\",\"match\":{\"equals\":\"f3\"},\"prices\":[{\"prices\":{\"input_mtok\":6}},"
    "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":12}}]},"
    "{\"id\":\"b1\",\"match\":{\"equals\":\"b1\"},\"prices\":{\"input_mtok\":0.1}}]}]";

static void t_catalog_fit(void)
{
    ic_error err = {0};
    ic_catalog *cat = NULL;
    CHECK_INT(ic_catalog_open_text(&cat, fit_catalog, strlen(fit_catalog), "fit.json", &err),
              IC_OK);
    if (!cat)
        return;
    ic_class_trend t[IC_PRICE_CLASSES];
    ic_catalog_class_trends(cat, t);
    CHECK_INT(t[2].changes, 4);
    CHECK_INT(t[2].cuts, 4);
    CHECK_INT(t[2].rises, 0);
    CHECK_INT(t[2].models, 4); /* p/f1, p/f2, p/f3b, r/f1 */
    CHECK(fabs(t[2].years - 546 / 365.25) < 1e-12);
    CHECK(fabs(t[2].annual - pow(0.5, 365.25 / 546)) < 1e-12);
    CHECK(t[2].usable);
    CHECK_INT(t[1].changes, 1);
    CHECK_INT(t[1].rises, 1);
    CHECK(!t[1].usable);
    CHECK(strstr(t[1].why, "1 dated price change in the catalog: too few") != NULL);
    CHECK_INT(t[0].changes, 0);
    CHECK(!t[0].usable);
    CHECK_STR(t[0].why, "no dated price change in the catalog");

    char path[256];
    snprintf(path, sizeof path, "%s/fit.db", dir);
    ic_ledger *l = NULL;
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    if (!l) {
        ic_catalog_free(cat);
        return;
    }
    static char ids[1000][16];
    static ic_event ev[1000];
    size_t n = 0;
    int64_t june = ic_days_from_civil(2026, 6, 1);
    for (int d = 0; d < 61; d++) {
        int per = d < 30 ? 10 : 20, nf = d < 30 ? 8 : 15;
        for (int k = 0; k < per; k++, n++) {
            snprintf(ids[n], sizeof ids[n], "e%zu", n);
            memset(&ev[n], 0, sizeof ev[n]);
            ev[n].id = ids[n];
            ev[n].t_ms = (june + d) * 86400000 + k * 1000;
            ev[n].provider = "p";
            ev[n].model = k < nf ? "f1" : "b1";
            ev[n].cost = IC_PICO_PER_USD;
            ev[n].latency_ms = -1;
        }
    }
    CHECK_INT(ic_ledger_append(l, ev, n, NULL, NULL, &err), IC_OK);
    ic_forecast_opts o = {.months = 2, .target_bp = 2500, .catalog = cat,
                          .now_ms = ic_days_from_civil(2026, 8, 1) * 86400000};
    ic_forecast *f = NULL;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f) {
        CHECK(fabs(f->class_share[2] - 0.75) < 1e-12);
        CHECK(fabs(f->class_share[0] - 0.25) < 1e-12);
        CHECK(f->catalog_scenario);
        CHECK(fabs(f->catalog_covered - 0.75) < 1e-12);
        CHECK_INT(f->catalog_changes, 4); /* the classes in use: frontier 4, budget 0 */
        CHECK(f->points[2].cost[0] == 1240 * IC_PICO_PER_USD);
        CHECK(f->points[2].cost[3] == (ic_money)120475 * (IC_PICO_PER_USD / 100));
        CHECK(f->points[3].cost[3] == (ic_money)226613 * (IC_PICO_PER_USD / 100));
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        CHECK_INT(ic_forecast_write(f, IC_FMT_TABLE, m, &err), IC_OK);
        fclose(m);
        CHECK(strstr(buf, "fitted on 4 dated price changes (4 cuts, 0 rises) over 1.5 yr") != NULL);
        CHECK(strstr(buf, "cover 75.0% of the spend") != NULL);
        CHECK(strstr(buf, "catalog trend") != NULL);
        free(buf);
    }
    ic_forecast_free(f);
    ic_catalog_free(cat);

    /* only rises: no decline to present, and the reason instead of a scenario */
    CHECK_INT(ic_catalog_open_text(&cat, rising_catalog, strlen(rising_catalog), "rise.json",
                                   &err), IC_OK);
    f = NULL;
    o.catalog = cat;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f) {
        CHECK(!f->catalog_scenario);
        CHECK(!f->classes[2].usable);
        CHECK_INT(f->classes[2].rises, 3);
        CHECK(strstr(f->classes[2].why, "show prices rising") != NULL);
        CHECK(f->points[2].cost[3] == f->points[2].cost[0]);
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        CHECK_INT(ic_forecast_write(f, IC_FMT_TABLE, m, &err), IC_OK);
        fclose(m);
        CHECK(strstr(buf, "no catalog trend scenario") != NULL);
        CHECK(strstr(buf, "show prices rising") != NULL);
        CHECK(strstr(buf, "  catalog trend ") == NULL); /* no such column or target line */
        free(buf);
        m = open_memstream(&buf, &len);
        CHECK_INT(ic_forecast_write(f, IC_FMT_CSV, m, &err), IC_OK);
        fclose(m);
        CHECK(strstr(buf, "2026-08,projected,0,1240,-,1133.94,-,1023.5,-,,\n") != NULL);
        free(buf);
    }
    ic_forecast_free(f);
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
    RUN(t_catalog_fit);
    RUN(t_empty);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
