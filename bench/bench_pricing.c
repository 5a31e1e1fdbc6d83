/* bench/bench_pricing.c: benchmark (a) of bench/pricing.sh: ic_ pricing of already-parsed usage.
 * Reads the JSONL job (the same file `infercost cost` gets in (b)), parses every line with
 * ic_record_parse and resolves each record's model with ic_catalog_resolve (untimed setup), then
 * times ic_price_usage over all records, several passes, and prints records/s of the best and the
 * median pass plus a checksum of the totals (so the work cannot be optimized away, and so two runs
 * can be compared). It is a benchmark, not a test: it checks nothing but that pricing succeeds.
 * Usage: bench_pricing FILE.jsonl [passes] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

#include "infercost/catalog.h"
#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/usage.h"

typedef struct bench_rec {
    const ic_model *model;
    int64_t t_ms;
    ic_usage usage;
} bench_rec;


int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.jsonl [passes]\n", argv[0]);
        return 2;
    }
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    if (passes < 1) passes = 1;
    ic_error err = {0};
    ic_catalog *cat = NULL;
    if (ic_catalog_open(&cat, NULL, &err) != IC_OK) {
        fprintf(stderr, "catalog: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1u << 20, n = 0;
    bench_rec *recs = malloc(cap * sizeof *recs);
    ic_record *rec = malloc(sizeof *rec);
    if (!recs || !rec) return 1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    size_t lineno = 0, bad = 0;
    double t_setup = bench_wall_s();
    while ((len = getline(&line, &lcap, f)) > 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        const ic_provider *p = NULL;
        const ic_model *m = NULL;
        if (ic_record_parse(cat, line, (size_t)len, rec, &err) != IC_OK ||
            ic_catalog_resolve(cat, rec->provider[0] ? rec->provider : NULL, rec->model, &p, &m,
                               &err) != IC_OK) {
            if (bad++ < 5) fprintf(stderr, "%s:%zu: %s\n", argv[1], lineno, err.msg);
            continue;
        }
        if (n == cap) {
            cap *= 2;
            bench_rec *nr = realloc(recs, cap * sizeof *recs);
            if (!nr) return 1;
            recs = nr;
        }
        recs[n].model = m;
        recs[n].t_ms = rec->has_time ? rec->t_ms : 0;
        recs[n].usage = rec->usage;
        n++;
    }
    free(line);
    fclose(f);
    t_setup = bench_wall_s() - t_setup;
    fprintf(stderr, "setup: %zu records parsed and resolved in %.2f s (%zu refused)\n", n, t_setup, bad);
    if (n == 0) return 1;

    double *rates = malloc((size_t)passes * sizeof *rates);
    double *cpu_rates = malloc((size_t)passes * sizeof *cpu_rates);
    ic_money checksum = 0;
    size_t failed = 0;
    ic_cost cost;
    for (int pass = 0; pass < passes; pass++) {
        ic_money sum = 0;
        double t0 = bench_wall_s(), c0 = bench_cpu_s();
        for (size_t i = 0; i < n; i++) {
            if (ic_price_usage(recs[i].model, &recs[i].usage, recs[i].t_ms, &cost, &err) != IC_OK) {
                failed++;
                continue;
            }
            sum += cost.total;
        }
        double dt = bench_wall_s() - t0, dc = bench_cpu_s() - c0;
        rates[pass] = (double)n / dt;
        cpu_rates[pass] = (double)n / dc;
        checksum = sum;
    }
    qsort(rates, (size_t)passes, sizeof *rates, bench_cmp_double);
    qsort(cpu_rates, (size_t)passes, sizeof *cpu_rates, bench_cmp_double);
    char buf[IC_MONEY_STRLEN];
    printf("ic_price_usage: %zu records x %d passes: wall best %.0f, median %.0f records/s; "
           "per CPU second best %.0f, median %.0f records/s; total of one pass %s USD; "
           "%zu pricing failures\n",
           n, passes, rates[passes - 1], rates[passes / 2], cpu_rates[passes - 1], cpu_rates[passes / 2],
           ic_money_format(checksum, buf, sizeof buf), failed / (size_t)passes);
    free(rates);
    free(cpu_rates);
    free(recs);
    free(rec);
    ic_catalog_free(cat);
    return failed ? 1 : 0;
}
