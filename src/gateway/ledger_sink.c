/* ledger_sink.c: the spool -> ledger thread (ledger_sink.h).
 *
 * Every PASS_MS (or at once when closing) the thread looks at the spool file's size through its
 * own descriptor (so a renamed spool is still followed), reads the complete lines past its
 * position in chunks of up to CHUNK bytes and hands each chunk to ic_ingest_stream() through a
 * memory stream: the ingest prices each event with the gateway's catalog and appends the chunk
 * in one transaction. Only after that commit does the position move (and get written to
 * FILE.ledger-pos by write-then-rename). A line the spool writer has only half written (no
 * newline yet) waits for the next pass. A failing ledger (disk full, locked) keeps the position
 * and is retried; a restart goes on from the saved position, and whatever was committed but not
 * yet recorded there is met again and skipped by the ledger (same time and id).
 *
 * Rotation: when the spool's writer has opened a new file (gw_spool_generation moved on), the
 * old one is complete; the thread loads it to its end through the descriptor it holds, then
 * takes the next generation's file from the spool (gw_spool_take_file) and starts there at 0,
 * one generation at a time however far behind it is. At start, a position that names a file
 * other than FILE's is looked for beside FILE (a rotated FILE.1, by its inode): its rest is
 * loaded first. */
#include "ledger_sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "infercost/ingest.h"
#include "infercost/ledger.h"
#include "infercost/timeutil.h"
#include "spool.h"

#define PASS_MS 100
#define CHUNK (1u << 20)
#define MAX_LINE (64u << 20) /* larger than any line the spool accepts (its journal's half) */

struct gw_ledger_sink {
    ic_ledger *l;
    const ic_catalog *cat;
    gw_spool *sp;       /* its generation says when the spool was rotated (NULL: never) */
    uint64_t gen;       /* the generation of the file fd reads */
    bool then_path;     /* fd reads a rotated file found at start: then the files rotated after
                         * it (pre[], oldest first), then FILE's own (path_fd) */
    int pre[16];
    size_t npre;
    int path_fd;
    char *spool, *posfile, *target;
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t pos;
    char *buf;
    size_t bufcap;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, final_ok;
    gw_ledger_stats st; /* written by the thread, read with atomic loads */
    char lasterr[512];
    char final_err[1200];
};

static void sk_add(uint64_t *p, uint64_t v) { __atomic_add_fetch(p, v, __ATOMIC_RELAXED); }
static void sk_store(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static uint64_t sk_get(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

/* one line on stderr per distinct message, so a ledger that stays locked does not flood it */
static void sk_report(gw_ledger_sink *k, const char *msg)
{
    if (!strcmp(k->lasterr, msg))
        return;
    snprintf(k->lasterr, sizeof k->lasterr, "%s", msg);
    fprintf(stderr, "infercost serve: ledger: %s\n", msg);
}

static void sk_on_reject(void *arg, const char *source, uint64_t line, const char *reason,
                      const char *text, size_t len)
{
    (void)text;
    (void)len; /* the line is in the spool; do not echo it */
    gw_ledger_sink *k = arg;
    sk_add(&k->st.rejected, 1);
    char m[512];
    snprintf(m, sizeof m, "%s line %" PRIu64 " of that chunk: refused: %s", source, line, reason);
    sk_report(k, m);
}

static void sk_save_pos(gw_ledger_sink *k)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->posfile);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return; /* the position is an optimisation: without it the next start reloads (dups) */
    fprintf(f, "ICLEDGERPOS 1\n%llu %llu %" PRIu64 "\n%s\n", (unsigned long long)k->dev,
            (unsigned long long)k->ino, k->pos, k->target);
    if (fclose(f) == 0)
        rename(tmp, k->posfile);
    else
        unlink(tmp);
}

/* The saved position, if it is for this ledger: the file it was in (device, inode) and the
 * offset. false when there is none (load the spool from its start). */
static bool sk_load_pos(gw_ledger_sink *k, unsigned long long *dev, unsigned long long *ino,
                        uint64_t *pos)
{
    FILE *f = fopen(k->posfile, "r");
    if (!f)
        return false;
    char magic[32] = "", target[4200] = "";
    bool ok = fscanf(f, "%31s 1\n%llu %llu %" SCNu64 "\n", magic, dev, ino, pos) == 4 &&
              fgets(target, sizeof target, f) != NULL;
    fclose(f);
    target[strcspn(target, "\n")] = 0;
    return ok && !strcmp(magic, "ICLEDGERPOS") && !strcmp(target, k->target);
}

/* The files beside the spool named FILE.something (logrotate's FILE.1, FILE.2026-11-01; not
 * its .wal, .ledger-pos or compressed ones) from the one that is (dev, ino) on, by modification
 * time: read descriptors into fds (at most cap), the (dev, ino) one first. 0 when it is not
 * there. */
static size_t sk_find_rotated(const char *spool, unsigned long long dev, unsigned long long ino,
                              int *fds, size_t cap)
{
    char dir[4096], base[1024];
    const char *slash = strrchr(spool, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - spool) : 1, slash ? spool : ".");
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    snprintf(base, sizeof base, "%s.", slash ? slash + 1 : spool);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct cand {
        char name[256];
        struct timespec mt;
        bool first;
    } c[64];
    size_t nc = 0;
    struct timespec first_mt = {0, 0};
    bool found = false;
    for (struct dirent *e; (e = readdir(d)) && nc < 64;) {
        const char *rest = e->d_name + strlen(base);
        if (strncmp(e->d_name, base, strlen(base)) || !strcmp(rest, "wal") ||
            !strncmp(rest, "ledger-pos", 10) || strstr(rest, ".gz") || strstr(rest, ".xz") ||
            strstr(rest, ".zst") || strstr(rest, ".bz2"))
            continue;
        char p[8192];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        snprintf(c[nc].name, sizeof c[nc].name, "%s", e->d_name);
        c[nc].mt = sb.st_mtim;
        c[nc].first = (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
        if (c[nc].first)
            first_mt = sb.st_mtim, found = true;
        nc++;
    }
    closedir(d);
    if (!found)
        return 0;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) { /* the positioned file, then the later ones in order */
        for (;;) {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < nc; i++) {
                if (!c[i].name[0] || c[i].first != !pass)
                    continue;
                bool later = c[i].mt.tv_sec > first_mt.tv_sec ||
                             (c[i].mt.tv_sec == first_mt.tv_sec && c[i].mt.tv_nsec >= first_mt.tv_nsec);
                if (pass && !later) {
                    c[i].name[0] = 0;
                    continue;
                }
                if (best == SIZE_MAX || c[i].mt.tv_sec < c[best].mt.tv_sec ||
                    (c[i].mt.tv_sec == c[best].mt.tv_sec && c[i].mt.tv_nsec < c[best].mt.tv_nsec))
                    best = i;
            }
            if (best == SIZE_MAX)
                break;
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", dir, c[best].name);
            c[best].name[0] = 0;
            int fd = open(p, O_RDONLY | O_CLOEXEC);
            if (fd >= 0 && n < cap)
                fds[n++] = fd;
            else if (fd >= 0)
                close(fd);
        }
    }
    return n;
}

/* Load the spool file's complete lines past pos. false on a failure (position kept). */
static bool sk_pass_file(gw_ledger_sink *k)
{
    struct stat sb;
    if (fstat(k->fd, &sb) != 0) {
        char m[512];
        snprintf(m, sizeof m, "%s: %s", k->spool, strerror(errno));
        sk_report(k, m);
        sk_add(&k->st.errors, 1);
        return false;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size < k->pos) { /* the spool was truncated by hand: load what it holds now */
        k->pos = 0;
        sk_save_pos(k);
    }
    /* the lag before the pass, so that /metrics shows it while a pass waits on a locked or
     * slow ledger (it was set only when a pass ended) */
    sk_store(&k->st.lag_bytes, size - k->pos);
    size_t want = CHUNK;
    while (k->pos < size) {
        uint64_t avail = size - k->pos;
        size_t n = avail < want ? (size_t)avail : want;
        if (n > k->bufcap) {
            char *nb = realloc(k->buf, n);
            if (!nb) {
                sk_report(k, "out of memory");
                sk_add(&k->st.errors, 1);
                return false;
            }
            k->buf = nb;
            k->bufcap = n;
        }
        ssize_t r = pread(k->fd, k->buf, n, (off_t)k->pos);
        if (r != (ssize_t)n) {
            char m[512];
            snprintf(m, sizeof m, "%s: read error: %s", k->spool, r < 0 ? strerror(errno) : "short read");
            sk_report(k, m);
            sk_add(&k->st.errors, 1);
            return false;
        }
        size_t m = n;
        while (m && k->buf[m - 1] != '\n')
            m--;
        if (!m) {
            if (n == avail || want >= MAX_LINE)
                break; /* a line still being written (or absurdly long): next pass */
            want *= 4;  /* a line longer than the chunk: read more */
            continue;
        }
        FILE *f = fmemopen(k->buf, m, "r");
        if (!f) {
            sk_report(k, "cannot open a memory stream");
            sk_add(&k->st.errors, 1);
            return false;
        }
        char src[4200];
        snprintf(src, sizeof src, "%s from byte %" PRIu64, k->spool, k->pos);
        ic_ingest_opts o = {.catalog = k->cat, .now_ms = ic_time_now_ms(), .batch = 0,
                            .threads = 0, .reject = sk_on_reject, .arg = k};
        ic_ingest_stats st = {0};
        ic_error err = {0};
        ic_status rc = ic_ingest_stream(k->l, &o, f, src, &st, &err);
        fclose(f);
        if (rc != IC_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%.400s (kept in the spool; retried)", err.msg);
            sk_report(k, msg);
            sk_add(&k->st.errors, 1);
            sk_store(&k->st.lag_bytes, size - k->pos);
            return false;
        }
        sk_add(&k->st.inserted, st.inserted);
        sk_add(&k->st.duplicates, st.duplicates);
        k->pos += m;
        sk_save_pos(k);
        k->lasterr[0] = 0;
        want = CHUNK;
    }
    sk_store(&k->st.lag_bytes, size - k->pos);
    return true;
}

/* The pass, following rotations: each file to its end, then the next generation's file from 0
 * (its descriptor from the spool, however many rotations behind the sink is), or after a rotated
 * file found at start, FILE's path. */
static bool sk_pass(gw_ledger_sink *k)
{
    uint64_t gen = k->sp ? gw_spool_generation(k->sp) : 0; /* before the old file's size */
    bool ok = sk_pass_file(k);
    while (ok && (k->then_path || gen != k->gen)) {
        struct stat sb;
        if (fstat(k->fd, &sb) != 0)
            break;
        if (k->pos != (uint64_t)sb.st_size) {
            /* a finished file whose last line has no newline (torn by a crash before it was
             * rotated): it never will have one */
            char m[512];
            snprintf(m, sizeof m, "%.300s: a torn last line of a rotated spool file (%llu "
                     "bytes) skipped", k->spool, (unsigned long long)((uint64_t)sb.st_size - k->pos));
            sk_report(k, m);
            sk_add(&k->st.rejected, 1);
            k->pos = (uint64_t)sb.st_size;
        }
        uint64_t next = k->then_path ? k->gen : k->gen + 1;
        int nfd;
        if (k->then_path && k->npre) { /* the files rotated after the positioned one */
            nfd = k->pre[0];
            memmove(k->pre, k->pre + 1, --k->npre * sizeof k->pre[0]);
        } else if (k->then_path) { /* FILE itself, as it was at the start */
            nfd = k->path_fd;
            k->path_fd = -1;
            k->then_path = false;
        } else {
            nfd = gw_spool_take_file(k->sp, next);
        }
        if (nfd < 0 && !k->then_path) { /* over 64 rotations behind: the path at least */
            char m[480];
            snprintf(m, sizeof m, "%.300s: the spool was rotated more often than the ledger "
                     "could follow: load the rotated files with infercost ingest", k->spool);
            sk_report(k, m);
            sk_add(&k->st.errors, 1);
            next = gen;
            nfd = open(k->spool, O_RDONLY | O_CLOEXEC);
        }
        if (nfd < 0 || fstat(nfd, &sb) != 0) {
            char m[512];
            snprintf(m, sizeof m, "%s: cannot open the new spool: %s", k->spool, strerror(errno));
            sk_report(k, m);
            sk_add(&k->st.errors, 1);
            if (nfd >= 0)
                close(nfd);
            return false;
        }
        close(k->fd);
        k->fd = nfd;
        k->gen = next;
        if (sb.st_dev != k->dev || sb.st_ino != k->ino) /* another file: from its start */
            k->pos = 0;
        k->dev = sb.st_dev;
        k->ino = sb.st_ino;
        sk_save_pos(k);
        ok = sk_pass_file(k);
        if (k->sp)
            gen = gw_spool_generation(k->sp);
    }
    return ok;
}

static void *sk_run(void *arg)
{
    gw_ledger_sink *k = arg;
    gw_background_priority();
    for (;;) {
        pthread_mutex_lock(&k->mu);
        if (!k->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += PASS_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&k->cv, &k->mu, &ts);
        }
        bool stop = k->stop;
        pthread_mutex_unlock(&k->mu);
        bool ok = sk_pass(k);
        if (stop) {
            k->final_ok = ok && sk_get(&k->st.lag_bytes) == 0;
            char *kept = strstr(k->lasterr, " (kept in the spool; retried)");
            if (kept) /* the message below says what happens to them */
                *kept = 0;
            if (!k->final_ok)
                snprintf(k->final_err, sizeof k->final_err,
                         "%llu byte(s) of %.300s (or of the file it was rotated to) are not in the "
                         "ledger yet%s%.512s; they are loaded at the next start (a rotated file is "
                         "found beside it by its inode) or by infercost ingest",
                         (unsigned long long)sk_get(&k->st.lag_bytes), k->spool,
                         k->lasterr[0] ? ": " : "", k->lasterr);
            break;
        }
        if (!ok) { /* back off a little on a failing ledger */
            struct timespec d = {0, 400 * 1000000L};
            nanosleep(&d, NULL);
        }
    }
    return NULL;
}

static void sk_destroy(gw_ledger_sink *k)
{
    if (k->l)
        ic_ledger_close(k->l);
    if (k->fd >= 0)
        close(k->fd);
    if (k->path_fd >= 0)
        close(k->path_fd);
    for (size_t i = 0; i < k->npre; i++)
        close(k->pre[i]);
    free(k->spool);
    free(k->posfile);
    free(k->target);
    free(k->buf);
    free(k);
}

gw_ledger_sink *gw_ledger_sink_open(const char *target, const char *spool_path,
                                    gw_spool *sp, const ic_catalog *cat, char *err,
                                    size_t errcap)
{
    gw_ledger_sink *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    k->fd = k->path_fd = -1;
    k->cat = cat;
    k->sp = sp;
    if (sp)
        gw_spool_keep_files(sp);
    k->gen = sp ? gw_spool_generation(sp) : 0;
    k->spool = strdup(spool_path);
    char shown[512]; /* the position file names the ledger, never with a password */
    ic_ledger_target_display(target, shown, sizeof shown);
    k->target = strdup(shown);
    size_t pl = strlen(spool_path) + sizeof ".ledger-pos";
    k->posfile = malloc(pl);
    if (!k->spool || !k->target || !k->posfile) {
        snprintf(err, errcap, "out of memory");
        sk_destroy(k);
        return NULL;
    }
    snprintf(k->posfile, pl, "%s.ledger-pos", spool_path);
    k->fd = open(spool_path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (k->fd < 0 || fstat(k->fd, &sb) != 0) {
        snprintf(err, errcap, "ledger: cannot read the spool %s: %s", spool_path, strerror(errno));
        sk_destroy(k);
        return NULL;
    }
    k->dev = sb.st_dev;
    k->ino = sb.st_ino;
    ic_error e = {0};
    if (ic_ledger_open(&k->l, target, false, &e) != IC_OK) {
        k->l = NULL;
        snprintf(err, errcap, "ledger: %s", e.msg);
        sk_destroy(k);
        return NULL;
    }
    unsigned long long pdev, pino;
    uint64_t ppos;
    if (sk_load_pos(k, &pdev, &pino, &ppos)) {
        int fds[17];
        size_t nf;
        if (pdev == (unsigned long long)k->dev && pino == (unsigned long long)k->ino) {
            k->pos = ppos <= (uint64_t)sb.st_size ? ppos : 0;
        } else if ((nf = sk_find_rotated(spool_path, pdev, pino, fds, 17)) > 0) {
            /* the spool was rotated before the last stop or crash: the rest of the positioned
             * file first, then the files rotated after it, then FILE's own */
            struct stat rb;
            if (fstat(fds[0], &rb) == 0 && ppos <= (uint64_t)rb.st_size) {
                k->path_fd = k->fd;
                k->fd = fds[0];
                k->dev = rb.st_dev;
                k->ino = rb.st_ino;
                k->pos = ppos;
                k->then_path = true;
                k->npre = nf - 1;
                memcpy(k->pre, fds + 1, k->npre * sizeof fds[0]);
                sb = rb;
            } else {
                for (size_t i = 0; i < nf; i++)
                    close(fds[i]);
            }
        }
    }
    sk_store(&k->st.lag_bytes, (uint64_t)sb.st_size - k->pos);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->th, NULL, sk_run, k) != 0) {
        snprintf(err, errcap, "ledger: cannot start its thread");
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        sk_destroy(k);
        return NULL;
    }
    return k;
}

bool gw_ledger_sink_close(gw_ledger_sink *k, gw_ledger_stats *final, char *err, size_t errcap)
{
    if (!k)
        return true;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->th, NULL);
    bool ok = k->final_ok;
    if (final)
        gw_ledger_sink_stats(k, final);
    if (!ok)
        snprintf(err, errcap, "%s", k->final_err);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    sk_destroy(k);
    return ok;
}

void gw_ledger_sink_stats(gw_ledger_sink *k, gw_ledger_stats *out)
{
    out->inserted = sk_get(&k->st.inserted);
    out->duplicates = sk_get(&k->st.duplicates);
    out->rejected = sk_get(&k->st.rejected);
    out->errors = sk_get(&k->st.errors);
    out->lag_bytes = sk_get(&k->st.lag_bytes);
}
