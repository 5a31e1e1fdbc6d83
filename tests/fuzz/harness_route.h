/* harness_route.h: the check of fuzz_routecsv (a routing evaluation set as a CSV, route_eval.h),
 * shared with the regression replay (tests/unit/test_fuzz_regress.c). The input is the file; it
 * is read through a memory file descriptor, as a user's --csv FILE would be. A file is loaded or
 * refused with a message, the same with one UTF-8 byte order mark before it; a loaded set holds
 * valid UTF-8 prompts and finite outcomes within the bound. Evaluated (where the strong column
 * does better): the two qualities and the oracle's APGR equal what this file works out on its
 * own; every router's APGR is finite and at most the oracle's; 0 <= CPT(50%) <= CPT(80%) <= 1;
 * the rule for half the gap takes no fewer strong calls than CPT(50%); the curve's quality is the
 * weak model's with no strong call and the strong model's with all. fz_routecsv returns 0 when
 * the input passed, or 1 with the reason in why[]. It must not print. */
#ifndef IC_FUZZ_HARNESS_ROUTE_H
#define IC_FUZZ_HARNESS_ROUTE_H

#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "infercost/record.h"
#include "infercost/route_eval.h"

/* load data[0..size) as the CSV file of a set (NULL when refused, the status in *st) */
static ic_route_set *fz_route_load(const uint8_t *data, size_t size, ic_status *st, ic_error *err)
{
    ic_route_set *s = NULL;
    int fd = memfd_create("routecsv", 0);
    if (fd < 0) {
        *st = IC_ERR_IO;
        return NULL;
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    *st = ic_route_set_load_csv(&s, "fuzz", path, "S", "W", NULL, err);
    close(fd);
    return s;
}

static int fz_cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

/* The oracle's APGR worked out here, independently: gains (strong - weak) in falling order, equal
 * gains together, the area under PGR by trapezoids. */
static double fz_oracle_apgr(const ic_route_set *s, double qs, double qw)
{
    size_t n = s->n;
    double *g = malloc(n * sizeof *g), area = 0, sum = 0, x0 = 0, y0 = 0;
    if (!g)
        return NAN;
    for (size_t i = 0; i < n; i++)
        g[i] = s->items[i].strong - s->items[i].weak;
    qsort(g, n, sizeof *g, fz_cmp_desc);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        for (; j < n && g[j] == g[i]; j++)
            sum += g[j];
        i = j;
        double x = (double)i / (double)n, y = i == n ? 1 : (qw + sum / (double)n - qw) / (qs - qw);
        area += (x - x0) * (y + y0) / 2;
        x0 = x;
        y0 = y;
    }
    free(g);
    return area;
}

static __attribute__((unused)) int fz_routecsv(const uint8_t *data, size_t size, char *why,
                                                size_t cap)
{
    ic_error err = {0};
    ic_status st;
    ic_route_set *s = fz_route_load(data, size, &st, &err);
    if (st == IC_ERR_IO && !s)
        return 0; /* no memfd here: nothing to check */
    /* one byte order mark changes nothing (one is skipped, as other readers do: a second is text) */
    if (size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) &&
        !(size >= 6 && !memcmp(data + 3, "\xEF\xBB\xBF", 3))) {
        ic_error e2 = {0};
        ic_status st2;
        ic_route_set *s2 = fz_route_load(data + 3, size - 3, &st2, &e2);
        bool same = st2 == st && (!s || (s2 && s2->n == s->n));
        ic_route_set_free(s2);
        if (!same) {
            ic_route_set_free(s);
            return fz_fail(why, cap, "with a byte order mark: status %d, without: %d", (int)st,
                           (int)st2);
        }
    }
    if (st != IC_OK) {
        if (s)
            return fz_fail(why, cap, "a refused file left a set");
        if (!err.msg[0])
            return fz_fail(why, cap, "refused without a message (status %d)", (int)st);
        if (st != IC_ERR_PARSE && st != IC_ERR_INVALID && st != IC_ERR_NOMEM)
            return fz_fail(why, cap, "status %d for a file: %s", (int)st, err.msg);
        return 0;
    }
    int bad = 0;
    for (size_t i = 0; i < s->n && !bad; i++) {
        const ic_route_item *it = &s->items[i];
        if (!ic_utf8_valid(it->prompt, strlen(it->prompt)))
            bad = fz_fail(why, cap, "prompt %zu is not valid UTF-8", i);
        else if (!isfinite(it->strong) || !isfinite(it->weak) ||
                 fabs(it->strong) > IC_ROUTE_OUTCOME_MAX || fabs(it->weak) > IC_ROUTE_OUTCOME_MAX)
            bad = fz_fail(why, cap, "outcome of prompt %zu out of bounds", i);
    }
    const char *routers[] = {"optimal", "random", "prompt-tokens", "keywords:a,,b", "regex:[0-9]"};
    ic_route_eval *e = NULL;
    if (!bad && (st = ic_route_eval_run(s, routers, 5, &e, &err)) == IC_OK) {
        double qs = 0, qw = 0; /* the two models' qualities, summed here */
        for (size_t i = 0; i < s->n; i++) {
            qs += s->items[i].strong;
            qw += s->items[i].weak;
        }
        qs /= (double)s->n;
        qw /= (double)s->n;
        double oracle = fz_oracle_apgr(s, qs, qw), tol = 1e-6 * (1 + fabs(oracle));
        if (fabs(e->strong_quality - qs) > 1e-9 * (1 + fabs(qs)) ||
            fabs(e->weak_quality - qw) > 1e-9 * (1 + fabs(qw)))
            bad = fz_fail(why, cap, "qualities %.9g / %.9g, summed here %.9g / %.9g",
                          e->strong_quality, e->weak_quality, qs, qw);
        else if (!(fabs(e->results[0].apgr - oracle) <= tol))
            bad = fz_fail(why, cap, "the oracle's APGR %.9g, worked out here %.9g",
                          e->results[0].apgr, oracle);
        for (size_t j = 0; j < e->nresults && !bad; j++) {
            const ic_route_result *r = &e->results[j];
            if (!isfinite(r->apgr))
                bad = fz_fail(why, cap, "%s: APGR not finite", r->router);
            else if (r->apgr > e->results[0].apgr + 1e-9)
                bad = fz_fail(why, cap, "%s: APGR %.6f above the oracle's %.6f", r->router, r->apgr,
                              e->results[0].apgr);
            else if (!(r->cpt50 >= 0) || r->cpt50 > r->cpt80 + 1e-12 || r->cpt80 > 1 + 1e-12 ||
                     !(r->rule50_share >= r->cpt50 - 1e-12) || r->rule50_share > 1 + 1e-12 ||
                     !(r->rule50_pgr >= 0.5))
                bad = fz_fail(why, cap, "%s: CPT(50%%) %.6f, CPT(80%%) %.6f", r->router, r->cpt50,
                              r->cpt80);
            else if (fabs(r->quality_at[0] - qw) > 1e-6 * (1 + fabs(qw)) ||
                     fabs(r->quality_at[IC_ROUTE_CURVE_POINTS - 1] - qs) > 1e-6 * (1 + fabs(qs)))
                bad = fz_fail(why, cap, "%s: quality %.9g with no strong call, %.9g with all",
                              r->router, r->quality_at[0], r->quality_at[IC_ROUTE_CURVE_POINTS - 1]);
        }
    } else if (!bad && !err.msg[0]) {
        bad = fz_fail(why, cap, "evaluation refused without a message");
    }
    ic_route_eval_free(e);
    ic_route_set_free(s);
    return bad;
}

#endif
