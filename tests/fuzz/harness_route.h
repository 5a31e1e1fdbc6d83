/* harness_route.h: the check of fuzz_routecsv (a routing evaluation set as a CSV, route_eval.h),
 * shared with the regression replay (tests/unit/test_fuzz_regress.c). The input is the file; it
 * is read through a memory file descriptor, as a user's --csv FILE would be. A file is loaded or
 * refused with a message, the same with a UTF-8 byte order mark before it; a loaded set holds valid UTF-8 prompts and finite outcomes within the
 * bound; evaluated (where the strong column does better), every router's APGR is finite, the
 * oracle's at least every other's, 0 <= CPT(50%) <= CPT(80%) <= 1, the rule for half the gap
 * recovers it with no fewer strong calls than CPT(50%), PGR 0 at no strong call and 1 at all. fz_routecsv returns 0 when the input passed, or 1 with the reason in
 * why[]. It must not print. */
#ifndef IC_FUZZ_HARNESS_ROUTE_H
#define IC_FUZZ_HARNESS_ROUTE_H

#include <math.h>
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
            else if (fabs(r->pgr_at[0]) > 1e-9 || fabs(r->pgr_at[IC_ROUTE_CURVE_POINTS - 1] - 1) > 1e-9)
                bad = fz_fail(why, cap, "%s: PGR %.6f at 0%%, %.6f at 100%%", r->router,
                              r->pgr_at[0], r->pgr_at[IC_ROUTE_CURVE_POINTS - 1]);
        }
    } else if (!bad && !err.msg[0]) {
        bad = fz_fail(why, cap, "evaluation refused without a message");
    }
    ic_route_eval_free(e);
    ic_route_set_free(s);
    return bad;
}

#endif
