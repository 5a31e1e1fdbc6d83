/* cmd_cost.c: `infercost cost`: JSONL in, JSONL out, one output line per input line, in order.
 * A line that cannot be priced becomes {"line":N,"error":"..."} and the run goes on; the exit
 * status is 1 if any line failed. With --summary it prints spend by provider and model instead.
 *
 * All pricing rules live in the library (ic_record_parse / ic_record_price / ic_cost_to_json);
 * this file only moves bytes: threads (one per core, at most 8) take turns cutting blocks of
 * whole lines from the input, price them in parallel, and write their outputs in input order. */
#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost cost [--catalog FILE] [--overlay FILE]... [--summary] [--threads N] [FILE|-]\n"
    "Prices JSONL usage records or provider responses (docs/cost.md). Each input line gives\n"
    "one output line: the itemized exact cost, or {\"line\":N,\"error\":\"...\"}.\n"
    "  --catalog FILE   a genai-prices v2 data.json instead of the embedded snapshot\n"
    "  --overlay FILE   add or override prices (genai-prices schema or LiteLLM's JSON); repeatable\n"
    "  --summary        print spend by provider and model, and what cache reads and a response\n"
    "                   cache (calls marked cache_hit) saved\n"
    "  --threads N      worker threads (default: the number of cores, at most 8)\n"
    "Exit status: 0 all lines priced, 1 some line failed, 2 usage or catalog error.\n";

#define BLOCK (1u << 20) /* bytes of input per block, extended to the end of a line */
#define MAX_THREADS 8
#define SLOTS 16 /* priced blocks that may wait for their turn to be written */

typedef struct group { /* --summary: one provider/model */
    char provider[64], model[128];
    uint64_t calls, input, output, hits;
    ic_money cost, saved; /* saved: by prompt-cache reads */
    ic_money hit_saved;   /* by a response cache: the calls it answered (cache_hit) */
    uint64_t est_calls;   /* tags.usage_incomplete: priced on a gateway's estimate */
    ic_money est_cost;
} group;

typedef struct block {
    const ic_catalog *cat;
    int64_t now;
    bool summary;
    char *in;          /* whole lines */
    size_t in_len, in_cap; /* in is kept from block to block (fresh pages cost a fault each) */
    size_t first_line; /* number of the first line */
    char *out;
    size_t out_len, out_cap;
    size_t lines, failed, first_fail_line;
    ic_error first_fail;
    group *groups;
    size_t ngroups, groups_cap;
    bool oom;
} block;

/* newlines in p[0..n): sixteen bytes a step with SSE2 (part of x86-64), else eight at a time
 * (exact: no borrow between bytes) */
static size_t count_newlines(const char *p, size_t n)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL, nl = 0x0a0a0a0a0a0a0a0aULL;
    size_t c = 0, i = 0;
#if defined(__SSE2__)
    const __m128i nl16 = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), nl16));
        for (; m; m &= m - 1) /* newlines are sparse: one step per newline */
            c++;
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= nl; /* a newline byte becomes zero */
        uint64_t t = ~(((w & lo7) + lo7) | w) & ~lo7; /* high bit where the byte was '\\n' */
        for (; t; t &= t - 1) /* newlines are sparse: one step per newline */
            c++;
    }
    for (; i < n; i++)
        c += p[i] == '\n';
    return c;
}

static bool out_reserve(block *b, size_t n)
{
    if (b->out_len + n <= b->out_cap)
        return true;
    size_t cap = b->out_cap ? b->out_cap * 2 : BLOCK * 2;
    while (cap < b->out_len + n)
        cap *= 2;
    char *p = realloc(b->out, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->out = p;
    b->out_cap = cap;
    return true;
}

static void add_group(block *b, const ic_record *r, const ic_cost *c)
{
    const char *pid = ic_provider_id(c->provider), *mid = ic_model_id(c->model);
    group *g = NULL;
    for (size_t i = 0; i < b->ngroups && !g; i++)
        if (!strcmp(b->groups[i].provider, pid) && !strcmp(b->groups[i].model, mid))
            g = &b->groups[i];
    if (!g) {
        if (b->ngroups == b->groups_cap) {
            size_t cap = b->groups_cap ? b->groups_cap * 2 : 16;
            group *ng = realloc(b->groups, cap * sizeof *ng);
            if (!ng) {
                b->oom = true;
                return;
            }
            b->groups = ng;
            b->groups_cap = cap;
        }
        g = &b->groups[b->ngroups++];
        memset(g, 0, sizeof *g);
        snprintf(g->provider, sizeof g->provider, "%s", pid);
        snprintf(g->model, sizeof g->model, "%s", mid);
    }
    g->calls++;
    g->input += ic_usage_get(&r->usage, ic_unit_find("input_tokens"));
    g->output += ic_usage_get(&r->usage, ic_unit_find("output_tokens"));
    g->cost += c->total;
    if (r->usage_incomplete) {
        g->est_calls++;
        g->est_cost += c->total;
    }
    if (r->cache_hit) { /* nothing paid: the whole call is the response cache's saving */
        g->hits++;
        g->hit_saved += c->saved;
        return;
    }
    ic_money saved = 0;
    if (ic_price_cache_saving(c->model, &r->usage, r->has_time ? r->t_ms : b->now, &saved, NULL) == IC_OK)
        g->saved += saved;
}

static void *price_block(void *arg)
{
    block *b = arg;
    ic_record rec;
    ic_cost cost;
    ic_error err;
    size_t lineno = b->first_line;
    for (char *p = b->in, *end = b->in + b->in_len; p < end; lineno++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        char *next = nl ? nl + 1 : end;
        while (len && p[len - 1] == '\r')
            len--;
        b->lines++;
        ic_status st;
        size_t sp = 0;
        while (sp < len && (p[sp] == ' ' || p[sp] == '\t'))
            sp++;
        if (sp == len)
            st = ic_error_set(&err, IC_ERR_PARSE, len ? "empty line (only spaces)" : "empty line");
        else if ((st = ic_record_parse(b->cat, p, len, &rec, &err)) == IC_OK)
            st = ic_record_price(b->cat, &rec, b->now, &cost, &err);
        p = next;
        if (b->summary) {
            if (st == IC_OK) {
                add_group(b, &rec, &cost);
            } else if (!b->failed++) {
                b->first_fail = err;
                b->first_fail_line = lineno;
            }
            continue;
        }
        if (!out_reserve(b, 16384))
            return NULL;
        size_t w = 0;
        if (st == IC_OK && (w = ic_cost_to_json(&rec, &cost, b->out + b->out_len, 16383)) == 0)
            st = ic_error_set(&err, IC_ERR_RANGE, "output line too long");
        if (st != IC_OK) {
            if (!b->failed++) {
                b->first_fail = err;
                b->first_fail_line = lineno;
            }
            char *o = b->out + b->out_len;
            int k = snprintf(o, 64, "{\"line\":%zu,\"error\":", lineno);
            w = (size_t)k + ic_json_quote(err.msg, strlen(err.msg), o + k, 16383 - (size_t)k - 2);
            o[w++] = '}';
        }
        b->out[b->out_len + w] = '\n';
        b->out_len += w + 1;
    }
    return NULL;
}

static int cmp_group(const void *a, const void *b)
{
    const group *x = a, *y = b;
    return x->cost < y->cost ? 1 : x->cost > y->cost ? -1 : 0;
}

static void print_summary(group *g, size_t n, size_t lines, size_t failed)
{
    char cost[IC_MONEY_STRLEN], saved[IC_MONEY_STRLEN];
    qsort(g, n, sizeof *g, cmp_group);
    ic_money total = 0, total_saved = 0, hit_saved = 0, est_cost = 0;
    uint64_t calls = 0, hits = 0, est_calls = 0;
    for (size_t i = 0; i < n; i++) {
        est_calls += g[i].est_calls;
        est_cost += g[i].est_cost;
        total += g[i].cost;
        total_saved += g[i].saved;
        calls += g[i].calls;
        hits += g[i].hits;
        hit_saved += g[i].hit_saved;
    }
    printf("Spend by provider and model (%zu calls priced", (size_t)calls);
    if (failed)
        printf(", %zu of %zu lines failed", failed, lines);
    printf(")\n\n%-12s %-36s %8s %14s %12s %18s %7s %18s\n", "PROVIDER", "MODEL", "CALLS",
           "INPUT TOK", "OUTPUT TOK", "COST $", "SHARE", "CACHE SAVED $");
    for (size_t i = 0; i < n; i++) {
        double share = total ? 100.0 * ic_money_to_double(g[i].cost) / ic_money_to_double(total) : 0;
        ic_money_format(g[i].cost, cost, sizeof cost);
        ic_money_format(g[i].saved, saved, sizeof saved);
        printf("%-12s %-36s %8llu %14llu %12llu %18s %6.1f%% %18s\n", g[i].provider, g[i].model,
               (unsigned long long)g[i].calls, (unsigned long long)g[i].input,
               (unsigned long long)g[i].output, cost, share, saved);
    }
    /* per provider */
    printf("\n%-12s %18s %12s\n", "PROVIDER", "COST $", "SHARE");
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || !strcmp(g[j].provider, g[i].provider);
        if (seen)
            continue;
        ic_money pc = 0;
        for (size_t j = i; j < n; j++)
            if (!strcmp(g[j].provider, g[i].provider))
                pc += g[j].cost;
        ic_money_format(pc, cost, sizeof cost);
        printf("%-12s %18s %11.1f%%\n", g[i].provider, cost,
               total ? 100.0 * ic_money_to_double(pc) / ic_money_to_double(total) : 0);
    }
    ic_money_format(total, cost, sizeof cost);
    ic_money_format(total_saved, saved, sizeof saved);
    printf("\ntotal spend:  $%s\n", cost);
    if (est_calls) {
        char est[IC_MONEY_STRLEN];
        printf("of which estimated: $%s (%llu call%s whose provider did not report usage: streams "
               "cut before it, answers without it; tags.usage_incomplete)\n",
               ic_money_format(est_cost, est, sizeof est), (unsigned long long)est_calls,
               est_calls == 1 ? "" : "s");
    }
    printf("cache reads saved: $%s (%.1f%% of what the same calls would have cost uncached)\n", saved,
           total + total_saved ? 100.0 * ic_money_to_double(total_saved) /
                                     ic_money_to_double(total + total_saved) : 0.0);
    if (hits) {
        ic_money_format(hit_saved, saved, sizeof saved);
        printf("response cache saved: $%s (%llu call%s answered from a cache, not paid)\n", saved,
               (unsigned long long)hits, hits == 1 ? "" : "s");
    }
}

/* The pipeline: every thread loops read -> price -> hand over. Reads take turns under read_mu (so
 * blocks are cut from the input in order and numbered) and pricing runs in parallel. A priced
 * block is left in its slot of a reorder buffer and the thread goes on with the next block; the
 * thread that finds the next block in order there writes it and every one after it that is
 * ready. So a thread never waits for a slower one (a descheduled vCPU, a block of long lines)
 * unless it is SLOTS blocks ahead, output stays in input order, and memory stays bounded. */
typedef struct pipeline {
    FILE *in;
    const ic_catalog *cat;
    int64_t now;
    bool summary;
    pthread_mutex_t read_mu; /* guards in, carry, lineno, next_seq, eof */
    char *carry;             /* the tail of the last read that is not yet a whole line */
    size_t carry_len, lineno;
    uint64_t next_seq;
    bool eof;
    pthread_mutex_t write_mu; /* guards the rest */
    pthread_cond_t turn;      /* next_write moved */
    uint64_t next_write;
    block *ready[SLOTS];      /* priced blocks by seq % SLOTS, until written */
    block *spare[SLOTS + MAX_THREADS + 1]; /* blocks free for reading into */
    int nspare;
    bool writing;             /* a thread is writing ready blocks (outside the lock) */
    atomic_int rc;           /* set by any thread: stop reading */
    size_t lines, failed, first_line;
    ic_error first;
    group *all;
    size_t nall;
} pipeline;


/* Cut the next block of whole lines from the input (under read_mu). 0: a block; 1: no more
 * input; -1: out of memory. */
static int read_block(pipeline *pl, block *b, uint64_t *seq)
{
    for (;;) {
        if (pl->eof)
            return 1;
        size_t cap = pl->carry_len + BLOCK + 1;
        char *buf = b->in;
        if (b->in_cap < cap) {
            free(b->in);
            b->in = NULL;
            b->in_cap = 0;
            if (!(buf = malloc(cap)))
                return -1;
            b->in = buf;
            b->in_cap = cap;
        }
        if (pl->carry_len)
            memcpy(buf, pl->carry, pl->carry_len);
        size_t len = pl->carry_len + fread(buf + pl->carry_len, 1, BLOCK, pl->in);
        bool short_read = len < cap - 1;
        if (pl->lineno == 1 && !pl->carry_len && len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
            memmove(buf, buf + 3, len - 3); /* a UTF-8 byte-order mark before the first line */
            len -= 3;
        }
        free(pl->carry);
        pl->carry = NULL;
        pl->carry_len = 0;
        if (short_read || feof(pl->in)) {
            pl->eof = true; /* the last block: everything that is left, partial line included */
        } else {
            char *nl = memrchr(buf, '\n', len);
            size_t whole = nl ? (size_t)(nl - buf) + 1 : 0;
            pl->carry_len = len - whole;
            pl->carry = malloc(pl->carry_len ? pl->carry_len : 1);
            if (!pl->carry)
                return -1;
            memcpy(pl->carry, buf + whole, pl->carry_len);
            len = whole; /* a line longer than a block waits in carry for the next read */
        }
        if (len == 0) /* nothing left, or no whole line yet: read on */
            continue;
        size_t nlines = count_newlines(buf, len);
        if (buf[len - 1] != '\n')
            nlines++;
        *b = (block){.cat = pl->cat, .now = pl->now, .summary = pl->summary, .in = buf,
                     .in_len = len, .in_cap = b->in_cap, .first_line = pl->lineno, .out = b->out,
                     .out_cap = b->out_cap, .groups = b->groups, .groups_cap = b->groups_cap};
        pl->lineno += nlines;
        *seq = pl->next_seq++;
        return 0;
    }
}

/* Merge a priced block into the totals and write it (under write_mu, in block order). */
static void emit_block(pipeline *pl, block *b)
{
    if (b->oom) {
        ic_cli_error("cost: out of memory");
        pl->rc = 2;
    }
    if (!pl->summary && b->out_len && pl->rc == 0)
        fwrite(b->out, 1, b->out_len, stdout);
    if (b->failed && !pl->failed) {
        pl->first = b->first_fail;
        pl->first_line = b->first_fail_line;
    }
    pl->failed += b->failed;
    pl->lines += b->lines;
    for (size_t g = 0; g < b->ngroups && pl->rc == 0; g++) {
        size_t j = 0;
        while (j < pl->nall && (strcmp(pl->all[j].provider, b->groups[g].provider) ||
                                strcmp(pl->all[j].model, b->groups[g].model)))
            j++;
        if (j == pl->nall) {
            group *na = realloc(pl->all, (pl->nall + 1) * sizeof *na);
            if (!na) {
                ic_cli_error("cost: out of memory");
                pl->rc = 2;
                break;
            }
            pl->all = na;
            pl->all[pl->nall++] = b->groups[g];
        } else {
            group *a = &pl->all[j];
            a->calls += b->groups[g].calls;
            a->input += b->groups[g].input;
            a->output += b->groups[g].output;
            a->cost += b->groups[g].cost;
            a->saved += b->groups[g].saved;
            a->hits += b->groups[g].hits;
            a->hit_saved += b->groups[g].hit_saved;
            a->est_calls += b->groups[g].est_calls;
            a->est_cost += b->groups[g].est_cost;
        }
    }
    b->ngroups = 0;
}

/* Write the ready blocks from next_write on, in order (under write_mu on entry and exit; the
 * writing itself runs unlocked, one writer at a time). */
static void write_ready(pipeline *pl)
{
    if (pl->writing)
        return; /* that writer will find this block too */
    pl->writing = true;
    block *b;
    while ((b = pl->ready[pl->next_write % SLOTS]) != NULL) {
        pl->ready[pl->next_write % SLOTS] = NULL;
        pthread_mutex_unlock(&pl->write_mu);
        emit_block(pl, b); /* pl's totals are the writer's alone */
        pthread_mutex_lock(&pl->write_mu);
        pl->next_write++;
        pl->spare[pl->nspare++] = b;
        pthread_cond_broadcast(&pl->turn);
    }
    pl->writing = false;
}

static void *work(void *arg)
{
    pipeline *pl = arg;
    pthread_mutex_lock(&pl->write_mu);
    block *b = pl->spare[--pl->nspare]; /* the pool has a block for every thread and slot */
    pthread_mutex_unlock(&pl->write_mu);
    for (;;) {
        uint64_t seq = 0;
        pthread_mutex_lock(&pl->read_mu);
        int r = pl->rc ? 1 : read_block(pl, b, &seq);
        pthread_mutex_unlock(&pl->read_mu);
        if (r) {
            pthread_mutex_lock(&pl->write_mu);
            if (r < 0) {
                ic_cli_error("cost: out of memory");
                pl->rc = 2;
            }
            pl->spare[pl->nspare++] = b;
            pthread_mutex_unlock(&pl->write_mu);
            return NULL;
        }
        price_block(b);
        pthread_mutex_lock(&pl->write_mu);
        while (seq - pl->next_write >= SLOTS) /* too far ahead: its slot is still taken */
            pthread_cond_wait(&pl->turn, &pl->write_mu);
        pl->ready[seq % SLOTS] = b;
        write_ready(pl);
        b = pl->spare[--pl->nspare];
        pthread_mutex_unlock(&pl->write_mu);
    }
}

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *path = NULL;
    bool summary = false, bad = false;
    long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc;) {
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        const char *v;
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--threads", argc, argv, &i, &bad))) {
            uint64_t t;
            if (ic_cli_uint("--threads", v, 1, 1024, &t))
                return 2;
            nthreads = (long)t; /* more than MAX_THREADS: MAX_THREADS */
            continue;
        }
        if (bad)
            return 2;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--summary")) {
            summary = true;
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("cost: unknown option %s", argv[i]);
            fputs(usage_text, stderr);
            return 2;
        }
        if (path) {
            ic_cli_error("cost: one input file at a time");
            return 2;
        }
        path = argv[i++];
    }
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    FILE *in = ic_cli_open_input(path);
    if (!in) {
        ic_catalog_free(cat);
        return 2;
    }
    const char *name = path && strcmp(path, "-") ? path : "stdin";
    pipeline pl = {.in = in, .cat = cat, .now = ic_time_now_ms(), .summary = summary, .lineno = 1};
    pthread_mutex_init(&pl.read_mu, NULL);
    pthread_mutex_init(&pl.write_mu, NULL);
    pthread_cond_init(&pl.turn, NULL);
    static block pool[SLOTS + MAX_THREADS + 1];
    memset(pool, 0, sizeof pool);
    for (size_t k = 0; k < sizeof pool / sizeof pool[0]; k++)
        pl.spare[pl.nspare++] = &pool[k];
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int k = 1; k < nthreads; k++)
        started[k] = pthread_create(&th[k], NULL, work, &pl) == 0;
    work(&pl); /* a thread that could not start leaves its share to the others */
    for (int k = 1; k < nthreads; k++)
        if (started[k])
            pthread_join(th[k], NULL);
    int rc = pl.rc;
    size_t lines = pl.lines, failed = pl.failed, first_line = pl.first_line;
    ic_error first = pl.first;
    group *all = pl.all;
    size_t nall = pl.nall;
    for (size_t k = 0; k < sizeof pool / sizeof pool[0]; k++) {
        free(pool[k].out);
        free(pool[k].groups);
        free(pool[k].in);
    }
    free(pl.carry);
    pthread_mutex_destroy(&pl.read_mu);
    pthread_mutex_destroy(&pl.write_mu);
    pthread_cond_destroy(&pl.turn);
    int read_error = ferror(in);
    if (in != stdin)
        fclose(in);
    if (rc == 0 && summary)
        print_summary(all, nall, lines, failed);
    free(all);
    ic_catalog_free(cat);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ic_cli_error("cost: cannot write the output");
        return 2;
    }
    if (rc)
        return rc;
    if (read_error) {
        ic_cli_error("%s: read error after line %zu", name, lines);
        return 2;
    }
    if (failed) {
        ic_cli_error("%s: %zu of %zu lines could not be priced (first: line %zu: %s)", name,
                     failed, lines, first_line, first.msg);
        return 1;
    }
    return 0;
}

IC_COMMAND(cost, "cost", "price JSONL usage records or provider responses, line by line", run);
