/* cmd_count.c: `infercost count`: tokens in a text, exactly as OpenAI's tiktoken counts them
 * (o200k_base, cl100k_base), or, for a model without a public tokenizer, an estimate that says
 * so. Whole input, or one JSON line per input line (--lines); ids on request (--ids). It holds
 * no tokenizer logic (src/lib/tokenizer.c, estimate.c). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/estimate.h"
#include "infercost/tokenizer.h"

static const char usage_text[] =
    "usage: infercost count [--encoding E | --model M] [--ids] [--lines] [--special]\n"
    "                       [--threads N] [FILE|-]\n"
    "Counts the tokens of FILE (default: stdin) and prints one JSON object:\n"
    "  {\"encoding\":\"o200k_base\",\"tokens\":K}\n"
    "  --encoding E  o200k_base (default) or cl100k_base\n"
    "  --model M     the model's encoding (gpt-4o, gpt-4.1, gpt-5, o1/o3/o4 -> o200k_base;\n"
    "                gpt-4, gpt-3.5-turbo, text-embedding-3 -> cl100k_base); other models\n"
    "                (Claude, Gemini, ...) get a characters-per-token estimate, marked\n"
    "                \"estimate\":true\n"
    "  --lines       one line of output per input line: {\"line\":N,\"tokens\":K}; a line is its\n"
    "                text without the newline (\\n, or \\r\\n)\n"
    "  --ids         add the token ids: \"ids\":[...] (exact encodings only)\n"
    "  --special     recognise special tokens (<|endoftext|>, ...) instead of counting their\n"
    "                text as ordinary text\n"
    "  --threads N   count a file of 4 MB or more in N parts at once, and with --lines\n"
    "                N groups of lines at once (default: the CPUs, up to 8; 1: one at a\n"
    "                time); the counts are the same\n";

/* the decimal digits of v at d (room for 20): their number. printf's work without parsing a
 * format, for the millions of numbers of --lines and --ids */
static size_t fmt_u64(char *d, uint64_t v)
{
    char tmp[20];
    size_t k = 0, w = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        d[w++] = tmp[--k];
    return w;
}

/* pre, the decimal v, post (pre and post short) */
static void put_u64(const char *pre, uint64_t v, const char *post)
{
    char buf[64];
    size_t pl = strlen(pre), ql = strlen(post);
    memcpy(buf, pre, pl);
    size_t w = pl + fmt_u64(buf + pl, v);
    memcpy(buf + w, post, ql);
    fwrite(buf, 1, w + ql, stdout);
}

static void print_ids(const uint32_t *ids, size_t n)
{
    char buf[1 << 16];
    size_t w = 0;
    fputs(",\"ids\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        if (w > sizeof buf - 16) {
            fwrite(buf, 1, w, stdout);
            w = 0;
        }
        if (i)
            buf[w++] = ',';
        w += fmt_u64(buf + w, ids[i]);
    }
    fwrite(buf, 1, w, stdout);
    fputc(']', stdout);
}

typedef struct job {
    const ic_tokenizer *tok; /* NULL: estimate */
    const char *model;
    bool ids, special;
    int threads; /* the whole input of a large regular file: counted in this many spans at once;
                  * --lines: in this many groups of lines */
} job;

/* count one text and print its JSON object: head (the '{' and the opening fields), then the
 * count; nothing on stdout when it cannot be counted (the error names where: "line N: ", or "") */
static int one(const job *j, const char *head, const char *where, const char *text, size_t len)
{
    ic_error err = {0};
    if (!j->tok) {
        ic_text_count tc;
        if (ic_count_text_for_model(j->model, text, len, &tc, &err) != IC_OK) {
            ic_cli_error("count: %s%s", where, err.msg);
            return 1;
        }
        printf("%s\"tokens\":%llu,\"estimate\":true,\"family\":\"%s\",\"chars_per_token\":%.1f}\n",
               head, (unsigned long long)tc.tokens, tc.family, tc.chars_per_token);
        return 0;
    }
    unsigned fl = j->special ? IC_TOK_ALLOW_SPECIAL : 0;
    if (j->ids) {
        uint32_t *ids;
        size_t n;
        if (ic_tokenizer_encode(j->tok, text, len, fl, &ids, &n, &err) != IC_OK) {
            ic_cli_error("count: %s%s", where, err.msg);
            return 1;
        }
        fputs(head, stdout);
        put_u64("\"tokens\":", n, "");
        print_ids(ids, n);
        fputs("}\n", stdout);
        free(ids);
        return 0;
    }
    uint64_t n;
    if (ic_tokenizer_count(j->tok, text, len, fl, &n, &err) != IC_OK) {
        ic_cli_error("count: %s%s", where, err.msg);
        return 1;
    }
    fputs(head, stdout);
    put_u64("\"tokens\":", n, "}\n");
    return 0;
}

/* read(2) into p[0..n), again when a signal interrupts it: bytes read, 0 at the end, or -1 with
 * errno set */
static ssize_t read_some(int fd, char *p, size_t n)
{
    ssize_t r;
    do
        r = read(fd, p, n);
    while (r < 0 && errno == EINTR);
    return r;
}

/* *buf doubled (*cap with it); 0 when it cannot be (then *buf is as it was) */
static int grow(char **buf, size_t *cap)
{
    char *nb = *cap <= SIZE_MAX / 2 ? realloc(*buf, *cap * 2) : NULL;
    if (!nb)
        return 0;
    *buf = nb;
    *cap *= 2;
    return 1;
}

/* --lines. The input is read with read(2) into one buffer (1 MB per thread, or more for a longer
 * line); the complete lines in it are counted without a copy: without --ids, many at a time
 * (ic_tokenizer_counter_count_many, in blocks of up to 1,024 lines: one cache of merged pieces
 * for all the lines, and the lookups of many short lines overlapping), else one at a time. What
 * a read brings is counted and printed before the next read waits, so lines piped in slowly
 * (tail -f) come out as they arrive. With --threads N (N > 1) and PAR_LINES_MIN bytes of lines
 * waiting, the waiting lines are cut into N groups of about the same bytes, counted side by side,
 * each through a counter of its own (kept from group to group), then printed in order. */
#define BLOCK_LINES 1024
#define GROUP_LINES 16384 /* lines waiting per thread, at most */
#define BUF_MIN (1u << 20)
#define PAR_LINES_MIN (256u << 10)
#define OUT_LINE_MAX 64
#define MODEL_MAX 256 /* bytes of a --model name (catalog ids have under 100) */ /* {"line":N,"tokens":K}\n with N and K of up to 20 digits */
#define MAX_THREADS 64

/* a line of a group that could not be counted (its count is FAILED) */
#define FAILED UINT64_MAX
typedef struct line_fail {
    size_t q; /* its index among the waiting lines */
    char msg[sizeof(((ic_error *)0)->msg)];
} line_fail;

typedef struct group {
    ic_tokenizer_counter *counter;
    unsigned fl;
    const char *const *texts;
    const size_t *lens;
    uint64_t *counts;
    size_t from, n; /* the waiting lines from .. from + n - 1 */
    line_fail *fails; /* in order of q; NULL (and "out of memory" said) when none could be kept */
    size_t nfail, capfail;
    size_t first;   /* the line number of the waiting line 0 */
    char *out;      /* the group's output lines, made by its thread when all its lines counted */
    size_t outlen, outcap; /* outlen 0: none made (then the lines are printed one by one) */
} group;

typedef struct line_reader {
    job *j;
    int rc;
    size_t lineno; /* lines seen */
    size_t n, cap; /* waiting: lines lineno - n + 1 .. lineno, pointing into the buffer */
    size_t bytes;  /* of the waiting lines */
    const char **texts;
    size_t *lens;
    uint64_t *counts;
    int ngroups; /* threads: a group and a counter each */
    group groups[MAX_THREADS];
} line_reader;

static void fail_line(group *g, size_t q, const char *msg)
{
    g->counts[q] = FAILED;
    if (g->nfail == g->capfail) {
        size_t nc = g->capfail ? g->capfail * 2 : 4;
        line_fail *nf = realloc(g->fails, nc * sizeof *nf);
        if (!nf)
            return; /* printed as "out of memory" */
        g->fails = nf;
        g->capfail = nc;
    }
    g->fails[g->nfail].q = q;
    snprintf(g->fails[g->nfail++].msg, sizeof g->fails->msg, "%s", msg);
}

/* count the group's lines; a line that cannot be counted is marked FAILED, the others are still
 * counted */
static void *count_group(void *arg)
{
    group *g = arg;
    g->nfail = 0;
    for (size_t q = g->from, end = g->from + g->n; q < end;) {
        size_t k = end - q < BLOCK_LINES ? end - q : BLOCK_LINES, done;
        ic_error err = {0};
        ic_status st = ic_tokenizer_counter_count_many(g->counter, g->texts + q, g->lens + q, k,
                                                       g->fl, g->counts + q, &done, &err);
        q += done;
        if (st != IC_OK)
            fail_line(g, q++, err.msg);
    }
    /* the output lines, made here so that the threads share the work of formatting too */
    g->outlen = 0;
    size_t need = g->n * OUT_LINE_MAX;
    if (g->nfail || !g->n)
        return NULL;
    if (need > g->outcap) {
        char *nb = realloc(g->out, need);
        if (!nb)
            return NULL;
        g->out = nb;
        g->outcap = need;
    }
    char *w = g->out;
    for (size_t u = g->from; u < g->from + g->n; u++) {
        memcpy(w, "{\"line\":", 8);
        w += 8 + fmt_u64(w + 8, g->first + u);
        memcpy(w, ",\"tokens\":", 10);
        w += 10 + fmt_u64(w + 10, g->counts[u]);
        memcpy(w, "}\n", 2);
        w += 2;
    }
    g->outlen = (size_t)(w - g->out);
    return NULL;
}

/* count and print the waiting lines */
static void flush_block(line_reader *L)
{
    if (!L->n)
        return;
    int ng = L->bytes >= PAR_LINES_MIN ? L->ngroups : 1;
    size_t first = L->lineno - L->n + 1, q = 0, b = 0;
    for (int k = 0; k < ng; k++) { /* the lines cut into ng runs of about the same bytes */
        group *g = &L->groups[k];
        size_t goal = L->bytes / (size_t)ng * (size_t)(k + 1);
        g->from = q;
        g->first = first;
        while (q < L->n && (b < goal || k == ng - 1))
            b += L->lens[q++];
        g->n = q - g->from;
    }
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int k = 1; k < ng; k++)
        started[k] = pthread_create(&th[k], NULL, count_group, &L->groups[k]) == 0;
    count_group(&L->groups[0]);
    for (int k = 1; k < ng; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            count_group(&L->groups[k]); /* no thread to be had: counted here */
    }
    for (int k = 0; k < ng; k++) {
        group *g = &L->groups[k];
        size_t f = 0;
        if (g->outlen) {
            fwrite(g->out, 1, g->outlen, stdout);
            continue;
        }
        for (size_t u = g->from; u < g->from + g->n; u++) {
            if (L->counts[u] != FAILED) {
                put_u64("{\"line\":", first + u, ",");
                put_u64("\"tokens\":", L->counts[u], "}\n");
                continue;
            }
            const char *msg = "out of memory";
            if (f < g->nfail && g->fails[f].q == u)
                msg = g->fails[f++].msg;
            ic_cli_error("count: line %zu: %s", first + u, msg);
            L->rc = 1;
        }
    }
    L->n = 0;
    L->bytes = 0;
}

/* one complete line (without its newline) */
static void emit(line_reader *L, const char *p, size_t len)
{
    L->lineno++;
    if (!L->cap) { /* ids, or an estimate: line by line */
        char head[48], where[48];
        snprintf(head, sizeof head, "{\"line\":%zu,", L->lineno);
        snprintf(where, sizeof where, "line %zu: ", L->lineno);
        if (one(L->j, head, where, p, len))
            L->rc = 1;
        return;
    }
    L->texts[L->n] = p;
    L->lens[L->n++] = len;
    L->bytes += len;
    if (L->n == L->cap)
        flush_block(L);
}

static void reader_free(line_reader *L)
{
    if (!L)
        return;
    for (int k = 0; k < MAX_THREADS; k++) {
        ic_tokenizer_counter_free(L->groups[k].counter);
        free(L->groups[k].fails);
        free(L->groups[k].out);
    }
    free(L->texts);
    free(L->lens);
    free(L->counts);
    free(L);
}

/* the reader of --lines: with an exact encoding and without --ids, a counter for each of
 * threads groups and room for their waiting lines; NULL when out of memory (said) */
static line_reader *reader_new(job *j, int threads)
{
    line_reader *L = calloc(1, sizeof *L);
    if (!L) {
        ic_cli_error("count: out of memory");
        return NULL;
    }
    L->j = j;
    if (!j->tok || j->ids)
        return L;
    L->ngroups = threads;
    L->cap = (size_t)threads * GROUP_LINES;
    L->texts = malloc(L->cap * sizeof *L->texts);
    L->lens = malloc(L->cap * sizeof *L->lens);
    L->counts = malloc(L->cap * sizeof *L->counts);
    ic_error err = {0};
    bool ok = L->texts && L->lens && L->counts;
    for (int k = 0; ok && k < threads; k++) {
        group *g = &L->groups[k];
        g->fl = j->special ? IC_TOK_ALLOW_SPECIAL : 0;
        g->texts = L->texts;
        g->lens = L->lens;
        g->counts = L->counts;
        ok = ic_tokenizer_counter_new(&g->counter, j->tok, 0, &err) == IC_OK;
    }
    if (!ok) {
        ic_cli_error("count: %s", err.msg[0] ? err.msg : "out of memory");
        reader_free(L);
        return NULL;
    }
    return L;
}

/* more input to be read at once (a pipe delivers at most its 64 KB a read) */
static int waiting(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int count_lines(job *j, FILE *f, const char *name)
{
    line_reader *L = reader_new(j, j->threads);
    size_t cap = BUF_MIN * (size_t)(L && L->ngroups ? L->ngroups : 1), start = 0, end = 0;
    char *buf = L ? malloc(cap) : NULL; /* buf[start..end): the lines not yet counted */
    if (!buf) {
        if (L)
            ic_cli_error("count: out of memory");
        reader_free(L);
        return 1;
    }
    int fd = fileno(f), skipping = 0, failed = 0; /* skipping: a line too long for memory;
                                                    * failed: the read's errno */
    for (;;) {
        if (end == cap) { /* room: the block's lines point into buf, so count them first */
            flush_block(L);
            fflush(stdout);
            if (start > 0) {
                memmove(buf, buf + start, end - start);
                end -= start;
                start = 0;
            } else if (!grow(&buf, &cap)) {
                if (!skipping)
                    ic_cli_error("count: line %zu: out of memory (the line is longer than %zu "
                                 "bytes); skipped", L->lineno + 1, cap);
                L->rc = 1;
                skipping = 1;
                start = end = 0;
            }
        }
        size_t want = cap - end;
        ssize_t r = read_some(fd, buf + end, want);
        if (r <= 0) {
            failed = r < 0 ? errno : 0; /* kept: the counting below may change errno */
            break;
        }
        size_t from = end;
        end += (size_t)r;
        const char *nl;
        while ((nl = memchr(buf + from, '\n', end - from))) {
            size_t e = (size_t)(nl - buf), len = e - start;
            if (skipping) {
                skipping = 0;
                L->lineno++;
            } else {
                emit(L, buf + start, len && buf[e - 1] == '\r' ? len - 1 : len);
            }
            start = from = e + 1;
        }
        if (skipping) {
            start = end = 0;
        } else if ((size_t)r < want && !waiting(fd)) { /* the next read would wait: show what
                                                       * there is */
            flush_block(L);
            fflush(stdout);
        }
    }
    if (!failed && start < end && !skipping)
        emit(L, buf + start, end - start); /* the last line, without a newline */
    else if (!failed && skipping)
        L->lineno++;
    flush_block(L);
    if (failed) {
        ic_cli_error("%s: cannot read after line %zu: %s", name, L->lineno, strerror(failed));
        L->rc = 2;
    }
    int rc = L->rc;
    free(buf);
    reader_free(L);
    return rc;
}

/* The whole input with an exact encoding, counting only: read 1 MB at a time and counted a part
 * at a time through one counter, each part ending where ic_tokenizer_cut allows (the start of a
 * line that begins with a letter or a digit), so that the parts add up to the whole text's count.
 * A regular file of PAR_MIN bytes or more is first cut the same way into one span per thread,
 * counted side by side, each through a counter of its own: the sum is the same count. Memory per
 * span: 1 MB (more where the text has no such line for longer) and its counter's 2.5 MB. */
#define PAR_MIN (4u << 20)

typedef struct span {
    const ic_tokenizer *tok;
    unsigned fl;
    int fd;
    int64_t off, end; /* bytes [off, end) by pread(2) (end INT64_MAX: to the end of the file);
                       * end < 0: read(2) to the end of the input */
    uint64_t tokens;
    int rc;           /* 0, 1 (count failed: msg), 2 (read failed: read_errno) */
    int read_errno;
    char msg[sizeof(((ic_error *)0)->msg) + 64];
} span;

/* pread(2), again when a signal interrupts it */
static ssize_t pread_some(int fd, char *p, size_t n, int64_t off)
{
    ssize_t r;
    do
        r = pread(fd, p, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r;
}

/* up to n bytes of the span into p: bytes read, 0 at its end, or -1 with errno set */
static ssize_t span_read(span *s, char *p, size_t n)
{
    if (s->end < 0)
        return read_some(s->fd, p, n);
    if ((uint64_t)n > (uint64_t)(s->end - s->off))
        n = (size_t)(s->end - s->off);
    ssize_t r = n ? pread_some(s->fd, p, n, s->off) : 0;
    if (r > 0)
        s->off += r;
    return r;
}

static void *count_span(void *arg)
{
    span *s = arg;
    ic_error err = {0};
    ic_tokenizer_counter *counter = NULL;
    size_t cap = BUF_MIN, end = 0;
    char *buf = malloc(cap);
    uint64_t n;
    if (!buf || ic_tokenizer_counter_new(&counter, s->tok, 0, &err) != IC_OK) {
        snprintf(s->msg, sizeof s->msg, "out of memory");
        s->rc = 1;
        free(buf);
        return NULL;
    }
    for (;;) {
        if (end == cap) { /* full: count up to the last cut, or make room */
            size_t cut = ic_tokenizer_cut(s->tok, buf, end);
            if (cut) {
                if (ic_tokenizer_counter_count(counter, buf, cut, s->fl, &n, &err) != IC_OK) {
                    snprintf(s->msg, sizeof s->msg, "%s", err.msg);
                    s->rc = 1;
                    break;
                }
                s->tokens += n;
                memmove(buf, buf + cut, end - cut);
                end -= cut;
            } else if (!grow(&buf, &cap)) {
                snprintf(s->msg, sizeof s->msg,
                         "out of memory: no place to cut the text in %zu bytes", cap);
                s->rc = 1;
                break;
            }
        }
        ssize_t r = span_read(s, buf + end, cap - end);
        if (r < 0) {
            s->read_errno = errno;
            s->rc = 2;
            break;
        }
        if (r == 0) { /* the end: the rest */
            if (ic_tokenizer_counter_count(counter, buf, end, s->fl, &n, &err) != IC_OK) {
                snprintf(s->msg, sizeof s->msg, "%s", err.msg);
                s->rc = 1;
            } else {
                s->tokens += n;
            }
            break;
        }
        end += (size_t)r;
    }
    free(buf);
    ic_tokenizer_counter_free(counter);
    return NULL;
}

/* Cut the regular file fd, bytes [base, size), into at most t spans, each starting where
 * ic_tokenizer_cut allows in the 1 MB before its even share; fewer where no such place is found.
 * Returns the number of spans (1 when the file cannot be read ahead). */
static size_t split_file(const span *proto, int64_t base, int64_t size, size_t t, span *spans)
{
    char *win = malloc(BUF_MIN);
    size_t ns = 1;
    spans[0] = *proto;
    spans[0].off = base;
    for (size_t k = 1; win && k < t; k++) {
        int64_t nominal = base + (int64_t)((uint64_t)(size - base) * k / t);
        int64_t from = nominal - (int64_t)BUF_MIN > spans[ns - 1].off ? nominal - (int64_t)BUF_MIN
                                                                       : spans[ns - 1].off + 1;
        if (from >= nominal)
            continue;
        ssize_t r = pread_some(proto->fd, win, (size_t)(nominal - from), from);
        size_t cut = r > 0 ? ic_tokenizer_cut(proto->tok, win, (size_t)r) : 0;
        if (!cut)
            continue;
        spans[ns] = *proto;
        spans[ns].off = from + (int64_t)cut;
        spans[ns - 1].end = spans[ns].off;
        ns++;
    }
    spans[ns - 1].end = INT64_MAX; /* the last span reads to the end, as a stream would */
    free(win);
    return ns;
}

static int count_stream(const job *j, FILE *f, const char *name, const char *head)
{
    span proto = {.tok = j->tok, .fl = j->special ? IC_TOK_ALLOW_SPECIAL : 0, .fd = fileno(f),
                  .end = -1};
    static span spans[MAX_THREADS];
    size_t ns = 1;
    spans[0] = proto;
    struct stat st;
    off_t base = j->threads > 1 ? lseek(proto.fd, 0, SEEK_CUR) : -1;
    if (base >= 0 && fstat(proto.fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size - base >= (off_t)PAR_MIN)
        ns = split_file(&proto, base, st.st_size, (size_t)j->threads, spans);
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (size_t k = 1; k < ns; k++)
        started[k] = pthread_create(&th[k], NULL, count_span, &spans[k]) == 0;
    count_span(&spans[0]);
    for (size_t k = 1; k < ns; k++) {
        if (started[k])
            pthread_join(th[k], NULL);
        else
            count_span(&spans[k]); /* no thread to be had: counted here */
    }
    uint64_t total = 0;
    for (size_t k = 0; k < ns; k++) {
        if (spans[k].rc == 2) {
            ic_cli_error("%s: cannot read: %s", name, strerror(spans[k].read_errno));
            return 2;
        }
        if (spans[k].rc) {
            ic_cli_error("count: %s: %s", name, spans[k].msg);
            return 1;
        }
        total += spans[k].tokens;
    }
    fputs(head, stdout);
    put_u64("\"tokens\":", total, "}\n");
    return 0;
}

/* The whole input, estimated for a model without a public tokenizer: its characters counted 1 MB
 * at a time (ic_char_tally_add), so any size of input takes the same memory. */
static int estimate_stream(const char *model, FILE *f, const char *name, const char *head)
{
    ic_text_count tc; /* the model's family and ratio, from an empty text */
    ic_error err = {0};
    if (ic_count_text_for_model(model, "", 0, &tc, &err) != IC_OK) {
        ic_cli_error("count: %s", err.msg);
        return 1;
    }
    char *buf = malloc(BUF_MIN);
    if (!buf) {
        ic_cli_error("count: out of memory");
        return 1;
    }
    ic_char_tally t = {0, 0};
    size_t have = 0; /* bytes of a cut character kept from the last read */
    ssize_t r;
    while ((r = read_some(fileno(f), buf + have, BUF_MIN - have)) > 0) {
        size_t n = have + (size_t)r, took = ic_char_tally_add(&t, buf, n, false);
        memmove(buf, buf + took, n - took);
        have = n - took;
    }
    int e = errno;
    (void)ic_char_tally_add(&t, buf, have, true); /* a character cut by the end of the text */
    free(buf);
    if (r < 0) {
        ic_cli_error("%s: cannot read: %s", name, strerror(e));
        return 2;
    }
    fputs(head, stdout);
    put_u64("\"tokens\":", ic_char_tally_tokens(&t, tc.chars_per_token), "");
    printf(",\"estimate\":true,\"family\":\"%s\",\"chars_per_token\":%.1f}\n", tc.family,
           tc.chars_per_token);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *encoding = NULL, *model = NULL, *path = NULL;
    job j = {0};
    bool lines = false;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--encoding", argc, argv, &i, &bad))) {
            encoding = v;
            continue;
        }
        if ((v = ic_cli_opt("--model", argc, argv, &i, &bad))) {
            model = v;
            continue;
        }
        if ((v = ic_cli_opt("--threads", argc, argv, &i, &bad))) {
            uint64_t t;
            if (ic_cli_uint("--threads", v, 1, MAX_THREADS, &t))
                return 2;
            j.threads = (int)t;
            continue;
        }
        if (bad)
            return 2;
        if (!strcmp(argv[i], "--ids"))
            j.ids = true;
        else if (!strcmp(argv[i], "--lines"))
            lines = true;
        else if (!strcmp(argv[i], "--special"))
            j.special = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("count: unknown option '%s'", argv[i]);
            fputs(usage_text, stderr);
            return 2;
        } else if (path) {
            ic_cli_error("count: one input file only ('%s' and '%s')", path, argv[i]);
            return 2;
        } else
            path = argv[i];
        i++;
    }
    if (encoding && model) {
        ic_cli_error("count: give --encoding or --model, not both");
        return 2;
    }
    if (!j.threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        j.threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    if (model && (!model[0] || strlen(model) > MODEL_MAX)) {
        ic_cli_error("count: --model wants a model name of 1 to %d bytes", MODEL_MAX);
        return 2;
    }
    if (model) {
        encoding = ic_tokenizer_encoding_for_model(model);
        if (!encoding && j.ids) {
            ic_cli_error("count: --ids needs an exact tokenizer; '%s' has no public one (its count "
                         "is an estimate)", model);
            return 2;
        }
        if (!encoding && j.special) {
            ic_cli_error("count: --special needs an exact tokenizer; '%s' has no public one", model);
            return 2;
        }
    } else if (!encoding) {
        encoding = "o200k_base";
    }
    ic_error err = {0};
    ic_tokenizer *tok = NULL;
    if (encoding && ic_tokenizer_open(&tok, encoding, &err) != IC_OK) {
        ic_cli_error("count: %s", err.msg);
        return 2;
    }
    j.tok = tok;
    j.model = model;
    FILE *f = ic_cli_open_input(path);
    if (!f) {
        ic_tokenizer_free(tok);
        return 2;
    }
    int rc = 0;
    if (lines) {
        rc = count_lines(&j, f, path ? path : "stdin");
        if (f != stdin)
            fclose(f);
    } else {
        char head[MODEL_MAX * 6 + 64], mq[MODEL_MAX * 6 + 3];
        if (!tok)
            snprintf(head, sizeof head, "{\"model\":%s,", ic_cli_json_str(model, mq, sizeof mq));
        else if (model)
            snprintf(head, sizeof head, "{\"model\":%s,\"encoding\":\"%s\",",
                     ic_cli_json_str(model, mq, sizeof mq), encoding);
        else
            snprintf(head, sizeof head, "{\"encoding\":\"%s\",", encoding);
        if (tok && !j.ids) {
            rc = count_stream(&j, f, path ? path : "stdin", head);
        } else if (!tok) {
            rc = estimate_stream(model, f, path ? path : "stdin", head);
        } else { /* ids (printed after the count): the whole text at once */
            size_t len = 0;
            char *text = ic_cli_read_all(f, &len);
            if (!text) {
                int e = errno;
                ic_cli_read_error("count", path ? path : "stdin", e);
                rc = e == ENOMEM ? 1 : 2;
            } else {
                rc = one(&j, head, "", text, len);
                free(text);
            }
        }
        if (f != stdin)
            fclose(f);
    }
    ic_tokenizer_free(tok);
    return rc; /* an output that could not be written: main says so */
}

IC_COMMAND(count, "count", "tokens in a text, exactly as tiktoken counts them (or an estimate)", run);
