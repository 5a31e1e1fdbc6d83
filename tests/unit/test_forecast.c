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
        /* the stated factor after a year is the one the costs use: 0.25 + 0.75 x 0.628962 */
        CHECK(fabs(f->catalog_annual - (0.25 + 0.75 * 0.628962)) < 1e-6);
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

/* calls at `per` a day on the days [d0, d1) (days since the epoch), $1 each, into l */
static void calls(ic_ledger *l, int64_t d0, int64_t d1, int per, const char *tag)
{
    static char ids[4000][48];
    static ic_event ev[4000];
    size_t n = 0;
    ic_error err = {0};
    for (int64_t d = d0; d < d1; d++)
        for (int k = 0; k < per && n < 4000; k++, n++) {
            snprintf(ids[n], sizeof ids[n], "%s%lld-%d", tag, (long long)d, k);
            memset(&ev[n], 0, sizeof ev[n]);
            ev[n].id = ids[n];
            ev[n].t_ms = d * 86400000 + k * 1000;
            ev[n].provider = "openai";
            ev[n].model = "gpt-4o";
            ev[n].customer = "acme";
            ev[n].cost = IC_PICO_PER_USD;
            ev[n].latency_ms = -1;
        }
    CHECK_INT(ic_ledger_append(l, ev, n, NULL, NULL, &err), IC_OK);
}

/* a new ledger NAME.db in the test directory (NULL after a failed check) */
static ic_ledger *new_ledger(const char *name)
{
    char path[256];
    ic_error err = {0};
    ic_ledger *l = NULL;
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    return l;
}

/* Months the fit leaves out keep their place: January at 1 call a day, no February, March at 4:
 * a line through (0, log 1) and (2, log 4) doubles a month (+100%; +300% if March were next to
 * January). And a month needs 7 days with calls to be fitted, not 7 days of the ledger's span:
 * with a February of one busy day between flat months, the growth is 0. */
static void t_gaps_and_sparse_months(void)
{
    ic_error err = {0};
    ic_ledger *l = new_ledger("gap");
    if (!l)
        return;
    calls(l, ic_days_from_civil(2026, 1, 1), ic_days_from_civil(2026, 2, 1), 1, "j");
    calls(l, ic_days_from_civil(2026, 3, 1), ic_days_from_civil(2026, 4, 1), 4, "m");
    ic_forecast_opts o = {.months = 1, .target_bp = 2500,
                          .now_ms = ic_days_from_civil(2026, 4, 1) * 86400000};
    ic_forecast *f = NULL;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f) {
        /* February is in the ledger's span (28 days, no call): it is not fitted */
        CHECK_INT(f->history_months, 2);
        CHECK(fabs(f->usage_growth - 1.0) < 1e-9);
    }
    ic_forecast_free(f);
    ic_ledger_close(l);
    if (!(l = new_ledger("sparse")))
        return;
    calls(l, ic_days_from_civil(2026, 1, 1), ic_days_from_civil(2026, 2, 1), 10, "j");
    calls(l, ic_days_from_civil(2026, 2, 15), ic_days_from_civil(2026, 2, 16), 10, "f");
    calls(l, ic_days_from_civil(2026, 3, 1), ic_days_from_civil(2026, 5, 1), 10, "m");
    o.now_ms = ic_days_from_civil(2026, 5, 1) * 86400000;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f) {
        CHECK_INT(f->history_months, 3);
        CHECK(fabs(f->usage_growth) < 1e-9);
    }
    ic_forecast_free(f);
    ic_ledger_close(l);
}

/* "now" against the target: 3 calls of $1 a day from January 1 to April 10, revenue $350 a month,
 * target 25% ($87.50 of a month): April so far is $30 (8.6%), but at its run-rate a whole April
 * is $90 (25.7%): above the target now, as March was ($93) */
static void t_now_at_run_rate(void)
{
    ic_error err = {0};
    ic_ledger *l = new_ledger("now");
    if (!l)
        return;
    calls(l, ic_days_from_civil(2026, 1, 1), ic_days_from_civil(2026, 4, 11), 3, "n");
    const char *months[] = {"2026-01", "2026-02", "2026-03", "2026-04"};
    for (int i = 0; i < 4; i++)
        CHECK_INT(ic_ledger_revenue_put(l, "acme", months[i], 350 * IC_PICO_PER_USD, &err), IC_OK);
    ic_forecast_opts o = {.months = 2, .target_bp = 2500,
                          .now_ms = ic_days_from_civil(2026, 4, 11) * 86400000};
    ic_forecast *f = NULL;
    CHECK_INT(ic_forecast_build(l, &o, &f, &err), IC_OK);
    if (f)
        CHECK(f->above_now);
    ic_forecast_free(f);
    ic_ledger_close(l);
}

/* the same change at one model's resellers counts once; the same change of different models
 * counts for each */
static void t_distinct_models_change(void)
{
    static const char *three =
        "[{\"id\":\"p\",\"models\":["
        "{\"id\":\"cut-a\",\"match\":{\"equals\":\"cut-a\"},\"prices\":[{\"prices\":{\"input_mtok\":2}},"
        "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":1}}]},"
        "{\"id\":\"cut-b\",\"match\":{\"equals\":\"cut-b\"},\"prices\":[{\"prices\":{\"input_mtok\":2}},"
        "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":1}}]},"
        "{\"id\":\"cut-c\",\"match\":{\"equals\":\"cut-c\"},\"prices\":[{\"prices\":{\"input_mtok\":2}},"
        "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":1}}]}]},"
        "{\"id\":\"r\",\"models\":["
        "{\"id\":\"p/cut-a\",\"match\":{\"equals\":\"p/cut-a\"},\"prices\":[{\"prices\":{\"input_mtok\":2}},"
        "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":1}}]},"
        "{\"id\":\"global.openai.CUT-B-v1:0\",\"match\":{\"equals\":\"global.openai.cut-b-v1:0\"},"
        "\"prices\":[{\"prices\":{\"input_mtok\":2}},"
        "{\"constraint\":{\"start_date\":\"2026-01-01\"},\"prices\":{\"input_mtok\":1}}]}]}]";
    ic_error err = {0};
    ic_catalog *cat = NULL;
    CHECK_INT(ic_catalog_open_text(&cat, three, strlen(three), "three.json", &err), IC_OK);
    if (!cat)
        return;
    ic_class_trend t[IC_PRICE_CLASSES];
    ic_catalog_class_trends(cat, t);
    /* mid ($2): cut-a, cut-b (and their resellers' copies, p/cut-a and AWS's
     * global.openai.CUT-B-v1:0, once each), cut-c */
    CHECK_INT(t[1].changes, 3);
    CHECK(t[1].usable);
    ic_catalog_free(cat);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(t_known_growth);
    RUN(t_catalog_fit);
    RUN(t_gaps_and_sparse_months);
    RUN(t_distinct_models_change);
    RUN(t_now_at_run_rate);
    RUN(t_empty);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
