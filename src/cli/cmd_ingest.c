/* cmd_ingest.c: `infercost ingest`: read usage logs (cost JSONL, OTLP/JSON GenAI spans, LiteLLM
 * spend logs) into the ledger. The work is in the library (ingest.h); this file handles options,
 * the rejects file (one JSON line per refused line: source, reason, the line itself), the first
 * few error lines on stderr, a progress bar on a terminal, and the summary. It computes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/ingest.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost ingest [--ledger PATH] [--rejects FILE] [--catalog FILE] [--overlay FILE]...\n"
    "                        [--batch N] [--threads 1|2] [--quiet] FILE...|-\n"
    "Prices every call in the files and records it in the ledger (docs/ledger.md). Reads the\n"
    "JSONL of `infercost cost`, OpenTelemetry GenAI spans (OTLP/JSON) and LiteLLM spend logs\n"
    "(JSON or CSV). Idempotent: an event already in the ledger (same time and id) is not\n"
    "added again.\n"
    "  --ledger PATH    the ledger (default $INFERCOST_LEDGER, else ./infercost.db): a SQLite\n"
    "                   file, or a PostgreSQL database as postgresql://USER@HOST/DB\n"
    "  --rejects FILE   where refused lines go, one JSON line each (default LEDGER.rejects.jsonl;\n"
    "                   ./infercost.rejects.jsonl for a PostgreSQL ledger)\n"
    "  --batch N        events per transaction (default 50000)\n"
    "  --threads N      1: parse and write in turn; 2 (default): in parallel\n"
    "  --quiet          no progress bar and no summary\n"
    "Exit status: 0 all stored, 1 some lines refused, 2 usage, file or ledger error.\n";

typedef struct state {
    const char *rejects_path;
    FILE *rejects;
    uint64_t nrejects;
    bool bar;
    uint64_t total_bytes;
    uint64_t base_bytes; /* bytes of the files before the current one */
    struct timespec t0, last;
    bool failed_open;
    bool failed_write; /* a refused line could not be written to the rejects file */
} state;

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void on_reject(void *arg, const char *source, uint64_t line, const char *reason,
                      const char *text, size_t len)
{
    state *s = arg;
    s->nrejects++;
    if (s->nrejects <= 20) {
        if (s->bar)
            fputs("\r\033[K", stderr);
        ic_cli_error("%s:%llu: %s", source, (unsigned long long)line, reason);
    }
    if (!s->rejects && !s->failed_open) {
        s->rejects = fopen(s->rejects_path, "a");
        if (!s->rejects) {
            s->failed_open = true;
            ic_cli_error("%s: cannot open the rejects file; refused lines are only reported here",
                         s->rejects_path);
        }
    }
    if (!s->rejects)
        return;
    /* {"source":"f:12","reason":"...","line":"..."}; lines are capped at 1 MiB */
    size_t cap = (len > (1u << 20) ? (1u << 20) : len) * 6 + 1024;
    char *buf = malloc(cap);
    if (!buf)
        return;
    char src[600];
    snprintf(src, sizeof src, "%.500s:%llu", source, (unsigned long long)line);
    size_t n = 0;
    n += (size_t)snprintf(buf, cap, "{\"source\":");
    n += ic_json_quote(src, strlen(src), buf + n, cap - n);
    n += (size_t)snprintf(buf + n, cap - n, ",\"reason\":");
    n += ic_json_quote(reason, strlen(reason), buf + n, cap - n);
    n += (size_t)snprintf(buf + n, cap - n, ",\"line\":");
    n += ic_json_quote(text, len > (1u << 20) ? (1u << 20) : len, buf + n, cap - n);
    if (fwrite(buf, 1, n, s->rejects) != n || fputs("}\n", s->rejects) == EOF)
        s->failed_write = true;
    free(buf);
}

static void on_progress(void *arg, const ic_ingest_stats *st)
{
    state *s = arg;
    if (!s->bar || since(&s->last) < 0.2)
        return;
    clock_gettime(CLOCK_MONOTONIC, &s->last);
    double el = since(&s->t0);
    double rate = el > 0 ? (double)st->events / el : 0;
    double frac = s->total_bytes ? (double)st->bytes / (double)s->total_bytes : 0;
    if (frac > 1)
        frac = 1;
    double eta = frac > 0.001 ? el * (1 - frac) / frac : 0;
    char bar[31];
    int k = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < k ? '#' : '.';
    bar[30] = 0;
    if (s->total_bytes)
        fprintf(stderr, "\r\033[K[%s] %3.0f%%  %llu events  %.0f/s  ETA %.0fs", bar, frac * 100,
                (unsigned long long)st->events, rate, eta);
    else
        fprintf(stderr, "\r\033[K%llu events  %.0f/s", (unsigned long long)st->events, rate);
}

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *ledger = getenv("INFERCOST_LEDGER");
    const char *rejects = NULL;
    size_t batch = 0;
    int threads = 2;
    bool quiet = false;
    const char *files[4096];
    int nfiles = 0;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--ledger", argc, argv, &i, &bad))) {
            ledger = v;
        } else if ((v = ic_cli_opt("--rejects", argc, argv, &i, &bad))) {
            rejects = v;
        } else if ((v = ic_cli_opt("--batch", argc, argv, &i, &bad))) {
            uint64_t b;
            if (ic_cli_uint("--batch", v, 1, 10000000, &b))
                return 2;
            batch = (size_t)b;
        } else if ((v = ic_cli_opt("--threads", argc, argv, &i, &bad))) {
            uint64_t t;
            if (ic_cli_uint("--threads", v, 1, 2, &t))
                return 2;
            threads = (int)t;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = true;
            i++;
        } else if (bad) {
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("ingest: unknown option '%s' (see infercost ingest --help)", argv[i]);
            return 2;
        } else {
            if (nfiles == (int)(sizeof files / sizeof files[0])) {
                ic_cli_error("too many files");
                return 2;
            }
            files[nfiles++] = argv[i++];
        }
    }
    if (!nfiles) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!ledger || !ledger[0])
        ledger = "infercost.db";
    char rpath[4096];
    if (!rejects) { /* beside the ledger's file; for a database server, here */
        snprintf(rpath, sizeof rpath, "%s.rejects.jsonl",
                 ic_ledger_is_url(ledger) ? "infercost" : ledger);
        rejects = rpath;
    }
    if (ic_cli_is_ledger_file(rejects, ledger)) { /* it would be removed, then written */
        ic_cli_error("ingest: the rejects file %s is the ledger or one of its files", rejects);
        return 2;
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    ic_ledger *l = NULL;
    ic_error err = {0};
    if (ic_ledger_open(&l, ledger, false, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        ic_catalog_free(cat);
        return 2;
    }
    state s = {.rejects_path = rejects, .bar = !quiet && isatty(2)};
    /* the rejects file must not be an input either (it is replaced below) */
    struct stat rs, fs;
    bool exists = stat(rejects, &rs) == 0;
    if (exists) {
        for (int i = 0; i < nfiles; i++) {
            const char *f = files[i];
            if (strcmp(f, "-") && stat(f, &fs) == 0 && fs.st_dev == rs.st_dev &&
                fs.st_ino == rs.st_ino) {
                ic_cli_error("ingest: the rejects file %s is also an input file", rejects);
                ic_ledger_close(l);
                ic_catalog_free(cat);
                return 2;
            }
        }
    }
    /* the rejects file holds this run's refusals only: a previous one (a regular file; never a
     * device such as /dev/stderr) is removed */
    if (exists && S_ISREG(rs.st_mode) && unlink(rejects) != 0)
        ic_cli_error("%s: cannot remove the previous rejects file", rejects);
    for (int i = 0; i < nfiles; i++) {
        struct stat sb;
        if (strcmp(files[i], "-") && stat(files[i], &sb) == 0 && S_ISREG(sb.st_mode))
            s.total_bytes += (uint64_t)sb.st_size;
    }
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    s.last = s.t0;
    s.last.tv_sec -= 1;
    ic_ingest_opts o = {.catalog = cat, .now_ms = ic_time_now_ms(), .batch = batch,
                        .threads = threads, .reject = on_reject, .progress = on_progress,
                        .arg = &s};
    ic_ingest_stats st = {0};
    int rc = 0;
    bool stopped = false; /* the ledger refused a batch: the rest was not read */
    for (int i = 0; i < nfiles; i++) {
        FILE *in = ic_cli_open_input(files[i]);
        if (!in) {
            rc = 2;
            continue;
        }
        static char inbuf[1 << 20];
        setvbuf(in, inbuf, _IOFBF, sizeof inbuf);
        ic_status r = ic_ingest_stream(l, &o, in, strcmp(files[i], "-") ? files[i] : "<stdin>",
                                       &st, &err);
        if (in != stdin)
            fclose(in);
        if (r != IC_OK) {
            if (s.bar)
                fputs("\r\033[K", stderr);
            ic_cli_error("%s", err.msg);
            rc = 2;
            stopped = true;
            break;
        }
    }
    if (s.bar)
        fputs("\r\033[K", stderr);
    double el = since(&s.t0);
    if (s.rejects && fclose(s.rejects) != 0)
        s.failed_write = true;
    if (s.nrejects > 20)
        ic_cli_error("... and %llu more refused lines", (unsigned long long)(s.nrejects - 20));
    if (s.failed_write) {
        ic_cli_error("%s: cannot write the refused lines (%llu): they are only reported here",
                     rejects, (unsigned long long)s.nrejects);
        if (rc == 0)
            rc = 2;
    } else if (s.nrejects && !s.failed_open) {
        ic_cli_error("%llu refused lines written to %s", (unsigned long long)s.nrejects, rejects);
    }
    if (!quiet) {
        char m[IC_MONEY_STRLEN];
        printf("%s %llu events from %llu lines in %.2fs (%.0f events/s): %llu new, "
               "%llu already in the ledger, %llu refused; new cost $%s\n",
               stopped ? "stopped by the error above; committed before it: read" : "ingested",
               (unsigned long long)st.events, (unsigned long long)st.lines, el,
               el > 0 ? (double)st.events / el : 0.0, (unsigned long long)st.inserted,
               (unsigned long long)st.duplicates, (unsigned long long)st.rejected,
               ic_money_format(st.cost, m, sizeof m));
    }
    ic_ledger_close(l);
    ic_catalog_free(cat);
    if (rc == 0 && st.rejected)
        rc = 1;
    return rc;
}

IC_COMMAND(ingest, "ingest", "record priced calls from logs in the ledger (idempotent)", run);
