/* cmd_generate.c: `infercost generate-workload`: a synthetic but realistic usage log of a small
 * AI product, for the demo, the end-to-end tests and the benchmarks. Deterministic: the same
 * options and seed give the same bytes. It writes `infercost cost` JSONL lines (with id, customer,
 * feature, task, latency, status; search calls also a request hash) and, with --revenue, a
 * revenue CSV (customer,period,revenue).
 * It knows nothing of prices: costs come from ingesting its output. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost generate-workload [--days N] [--start DATE] [--seed S] [--events N]\n"
    "                                   [--growth PCT] [--out FILE] [--revenue FILE]\n"
    "Writes a synthetic usage log of a small AI product (8 customers, 4 features, 5 models,\n"
    "multi-call agent tasks, prompt caching, search queries that repeat, a few errors) as\n"
    "JSONL for `infercost ingest`.\n"
    "  --days N        days covered (default 90)\n"
    "  --start DATE    first day (default 2026-06-01)\n"
    "  --seed S        random seed (default 42); same options + seed = same output\n"
    "  --events N      exactly N events (default: about 1,500 a day, growing)\n"
    "  --growth PCT    monthly growth of usage in percent (default 25)\n"
    "  --out FILE      the JSONL (default stdout)\n"
    "  --revenue FILE  also write monthly revenue per customer as CSV\n";

static uint64_t rng_s;
static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
/* a stateless mix (splitmix64's finalizer), for what must not move the main sequence */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* roughly log-normal around m, spread s (via the sum of uniforms) */
static uint64_t around(double m, double s)
{
    double g = unif() + unif() + unif() - 1.5;
    double v = m * exp(g * s);
    return v < 1 ? 1 : (uint64_t)v;
}

typedef struct customer {
    const char *name;
    double weight;         /* share of traffic */
    double mix[4];         /* feature mix: chat, summarize, agent, search */
    double revenue;        /* USD per month */
} customer;

static const customer customers[] = {
    {"acme-corp", 0.26, {0.5, 0.2, 0.2, 0.1}, 900},
    {"globex", 0.18, {0.3, 0.4, 0.1, 0.2}, 700},
    {"initech", 0.14, {0.2, 0.1, 0.6, 0.1}, 250}, /* agent-heavy on a small plan */
    {"umbrella", 0.12, {0.6, 0.2, 0.0, 0.2}, 150},
    {"hooli", 0.11, {0.4, 0.3, 0.2, 0.1}, 450},
    {"stark-ind", 0.09, {0.3, 0.2, 0.3, 0.2}, 500},
    {"wayne-ent", 0.06, {0.7, 0.1, 0.1, 0.1}, 300},
    {"tyrell", 0.04, {0.2, 0.5, 0.2, 0.1}, 260},
};
#define NCUST (sizeof customers / sizeof customers[0])
static const char *features[4] = {"chat", "summarize", "agent", "search"};

static int pick(const double *w, int n)
{
    double x = unif(), acc = 0;
    for (int i = 0; i < n; i++) {
        acc += w[i];
        if (x < acc)
            return i;
    }
    return n - 1;
}

static int run(int argc, char **argv)
{
    int days = 90;
    const char *start = "2026-06-01", *out = NULL, *revenue = NULL;
    uint64_t seed = 42, events = 0;
    double growth = 25;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        uint64_t n;
        if ((v = ic_cli_opt("--days", argc, argv, &i, &bad))) {
            if (ic_cli_uint("--days", v, 1, 3660, &n))
                return 2;
            days = (int)n;
        } else if ((v = ic_cli_opt("--start", argc, argv, &i, &bad))) {
            start = v;
        } else if ((v = ic_cli_opt("--seed", argc, argv, &i, &bad))) {
            if (ic_cli_uint("--seed", v, 0, UINT64_MAX, &seed))
                return 2;
        } else if ((v = ic_cli_opt("--events", argc, argv, &i, &bad))) {
            if (ic_cli_uint("--events", v, 1, 1000000000, &events))
                return 2;
        } else if ((v = ic_cli_opt("--growth", argc, argv, &i, &bad))) {
            if (ic_cli_real("--growth", v, -90, 1000, &growth))
                return 2;
        } else if ((v = ic_cli_opt("--out", argc, argv, &i, &bad))) {
            out = v;
        } else if ((v = ic_cli_opt("--revenue", argc, argv, &i, &bad))) {
            revenue = v;
        } else {
            if (!bad)
                ic_cli_error("generate-workload: unknown argument '%s'", argv[i]);
            return 2;
        }
    }
    int64_t t0;
    if (ic_time_parse(start, strlen(start), &t0) != IC_OK) {
        ic_cli_error("generate-workload: --start wants a date like 2026-06-01, not '%s'", start);
        return 2;
    }
    t0 -= t0 % 86400000;
    int64_t max_day; /* 9999-12-31: timestamps past it are not RFC 3339 (four-digit years) */
    ic_time_parse("9999-12-31", 10, &max_day);
    if (t0 + (int64_t)(days - 1) * 86400000 > max_day) {
        ic_cli_error("generate-workload: --start %s with --days %d goes past 9999-12-31", start,
                     days);
        return 2;
    }
    if (out && revenue && (!strcmp(out, revenue) || ic_cli_same_file(out, revenue))) {
        ic_cli_error("generate-workload: --out and --revenue are one file (%s)", out);
        return 2;
    }
    FILE *f = ic_cli_open_output(out);
    if (!f)
        return 2;
    rng_s = seed;
    double daily = pow(1 + growth / 100, 1.0 / 30.0);
    /* day weights: growth and a weekday dip */
    double *w = malloc(sizeof(double) * (size_t)days), tw = 0;
    if (!w)
        return 2;
    for (int d = 0; d < days; d++) {
        int64_t dn = t0 / 86400000 + d;
        int wd = (int)((dn + 4) % 7); /* 0 = Sunday */
        w[d] = pow(daily, d) * (wd == 0 || wd == 6 ? 0.55 : 1.0);
        tw += w[d];
    }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    uint64_t n = 0, task_no = 0;
    double carry = 0;
    for (int d = 0; d < days; d++) {
        double want = events ? (double)events * w[d] / tw + carry : 1500.0 * w[d];
        uint64_t today = (uint64_t)want;
        if (events) {
            carry = want - (double)today;
            if (d == days - 1)
                today = events - n;
        }
        int64_t day_ms = t0 + (int64_t)d * 86400000;
        int64_t dnum = day_ms / 86400000;
        for (uint64_t k = 0; k < today;) {
            double cw[NCUST];
            for (size_t c = 0; c < NCUST; c++)
                cw[c] = customers[c].weight;
            int ci = pick(cw, (int)NCUST);
            const customer *cu = &customers[ci];
            int fi = pick(cu->mix, 4);
            /* an agent task is several calls in a row; others are one call */
            uint64_t calls = fi == 2 ? 3 + rnd() % 10 : 1;
            if (calls > today - k)
                calls = today - k;
            task_no++;
            int64_t t = day_ms + (int64_t)(rnd() % 86000000ULL);
            for (uint64_t j = 0; j < calls; j++, k++, n++) {
                const char *prov, *model;
                uint64_t in, outt, cr = 0, cwt = 0, rs = 0, query = 0;
                switch (fi) {
                case 0: /* chat: mostly a cheap model, a share on the new mid-tier one */
                    if (unif() < 0.7) {
                        prov = "openai", model = "gpt-4o-mini";
                    } else {
                        prov = "openai", model = "gpt-5.6-luna";
                        rs = around(300, 0.8);
                    }
                    in = around(1200, 0.7);
                    outt = around(350, 0.6) + rs;
                    cr = unif() < 0.4 ? in / 2 : 0;
                    break;
                case 1:
                    prov = "google", model = "gemini-2.5-flash";
                    in = around(9000, 0.8);
                    outt = around(600, 0.5);
                    break;
                case 2: /* agent: a long cached prefix that grows along the task */
                    prov = "anthropic", model = "claude-sonnet-4-5";
                    in = around(6000, 0.5) + 1500 * j;
                    if (j == 0)
                        cwt = in * 8 / 10;
                    else
                        cr = in * 8 / 10;
                    outt = around(400, 0.7);
                    break;
                default: /* search: deterministic answers over a customer's documents; a few
                          * popular questions make most of the traffic, and a question asked
                          * again is the same request (the same hash and usage) */
                    prov = "openai", model = "gpt-4.1-mini";
                    in = around(3000, 0.6);
                    outt = around(200, 0.5);
                    {
                        double u = (double)(mix(seed * 0x100000001b3ULL ^ n) >> 11) /
                                   9007199254740992.0;
                        uint64_t q = (uint64_t)(400 * u * u * u), qk = (uint64_t)ci << 32 | q;
                        query = mix(qk ^ seed << 48);
                        in = 1500 + query % 3000;
                        outt = 100 + (query >> 32) % 200;
                    }
                    break;
                }
                const char *status = unif() < 0.01 ? "500" : "ok";
                bool hit = fi != 2 && unif() < 0.03;
                char ts[40];
                ic_time_format(t + (int64_t)j * 7000 + (int64_t)(rnd() % 1000), ts, sizeof ts);
                fprintf(f,
                        "{\"id\":\"wl%" PRIu64 "-%" PRIu64 "\",\"provider\":\"%s\",\"model\":\"%s\","
                        "\"timestamp\":\"%s\",\"usage\":{\"input_tokens\":%" PRIu64,
                        seed, n, prov, model, ts, in);
                if (cr)
                    fprintf(f, ",\"cache_read_tokens\":%" PRIu64, cr);
                if (cwt)
                    fprintf(f, ",\"cache_write_tokens\":%" PRIu64, cwt);
                fprintf(f, ",\"output_tokens\":%" PRIu64, outt);
                if (rs)
                    fprintf(f, ",\"output_reasoning_tokens\":%" PRIu64, rs);
                fprintf(f, "},\"customer\":\"%s\",\"feature\":\"%s\",", cu->name, features[fi]);
                if (fi == 2)
                    fprintf(f, "\"task\":\"t%" PRIu64 "-%" PRIu64 "\",", seed, task_no);
                if (query) /* 64 hex digits, as the gateway writes its cache key */
                    fprintf(f, "\"request_hash\":\"%016" PRIx64 "%016" PRIx64 "%016" PRIx64
                               "%016" PRIx64 "\",",
                            query, mix(query), mix(query + 1), mix(query + 2));
                fprintf(f, "\"latency_ms\":%" PRIu64 ",\"status\":\"%s\"%s}\n",
                        around(900 + (double)outt * 8, 0.4), status,
                        hit ? ",\"cache_hit\":true" : "");
            }
        }
        (void)dnum;
    }
    free(w);
    int rc = ic_cli_close_output(f, out, 0);
    if (revenue && rc == 0) {
        FILE *r = fopen(revenue, "w");
        if (!r) {
            ic_cli_error("%s: cannot write", revenue);
            return 2;
        }
        fprintf(r, "customer,period,revenue\n");
        int64_t y;
        unsigned m, dd;
        ic_civil_from_days(t0 / 86400000, &y, &m, &dd);
        int64_t last_day = t0 / 86400000 + days - 1;
        int64_t ly;
        unsigned lm, ld;
        ic_civil_from_days(last_day, &ly, &lm, &ld);
        for (int mi = 0; y * 12 + m <= ly * 12 + lm; mi++) {
            for (size_t c = 0; c < NCUST; c++) {
                /* seats grow a little each month; cents exact */
                double v = customers[c].revenue * (1 + 0.04 * mi);
                fprintf(r, "%s,%04d-%02u,%.2f\n", customers[c].name, (int)y, m, v);
            }
            if (++m == 13) {
                m = 1;
                y++;
            }
        }
        if (fclose(r) != 0) {
            ic_cli_error("%s: write error", revenue);
            return 2;
        }
    }
    return rc;
}

IC_COMMAND(generate_workload, "generate-workload",
           "write a deterministic synthetic usage log (and revenue CSV) for demos and benchmarks",
           run);
