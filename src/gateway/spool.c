/* spool.c: memory-mapped journal + writer thread (spool.h).
 *
 * Journal layout (FILE.wal): a 4096-byte header {magic "ICWAL001", u64 cap, u64 head, u64 tail}
 * then a ring of cap bytes. head counts bytes ever appended, tail bytes ever copied to FILE; both
 * only grow. The producer copies a line into the ring and then publishes head (release store);
 * the writer reads head (acquire), writes [tail, head) to FILE with write(2), fdatasyncs, then
 * publishes tail. A crash between the writer's write and its tail update leaves events in both
 * places: replay skips journal lines up to the id of FILE's last complete line. A torn last line
 * in FILE (a crash inside write) is cut off before replay, and rewritten from the journal.
 *
 * Rotation (gw_spool_reopen, on SIGHUP): after a batch is written, synced and tail published,
 * the writer opens FILE's path again (logrotate has renamed the old file) and closes the old one;
 * then it counts a generation. Every byte before tail is then in the old file, every later one
 * goes to the new: a crash at any point replays only what tail has not reached, into the new
 * file. The ledger sink follows the generation (ledger_sink.c). */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR 4096
#define MAGIC "ICWAL001"

typedef struct hdr {
    char magic[8];
    uint64_t cap;
    uint64_t head;
    uint64_t tail;
} hdr;

struct gw_spool {
    int fd, wfd;
    bool fsync;
    uint8_t *map;
    size_t maplen;
    hdr *h;
    uint8_t *ring;
    uint64_t cap;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, reopen;    /* reopen: asked for by gw_spool_reopen, done by the writer */
    bool stopped;         /* gw_spool_stop has run: the writer is gone, FILE complete */
    /* the files of the generations since the start, for the ledger sink to read each one to its
     * end even when it is several rotations behind (under mu): read descriptors, oldest first */
    int rot_fd[64];
    uint64_t rot_gen[64];
    size_t nrot;
    bool keep;            /* a ledger sink takes them (gw_spool_keep_files); else none is kept */
    uint64_t gen;         /* reopens done (atomic) */
    uint64_t events, stalls;
    char path[4096];      /* the spool file, for messages */
    bool write_failing;   /* the writer's last attempt failed (writer thread only) */
    time_t warned_s;      /* when it last said so */
};

static uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* copy ring bytes [from, to) into FILE */
static bool copy_range(gw_spool *s, uint64_t from, uint64_t to)
{
    while (from < to) {
        uint64_t off = from % s->cap;
        uint64_t n = to - from;
        if (off + n > s->cap)
            n = s->cap - off;
        if (!write_all(s->fd, s->ring + off, n))
            return false;
        from += n;
    }
    return true;
}

/* The writer (and the ledger sink) are background work: at the lowest priority of the normal
 * class they do not preempt the event loop when they wake. Pinned with the loop on one core
 * (bench/gateway.sh), the writer at normal priority preempted it ~80 times a second, at every
 * wake-up of its fdatasync (perf sched_switch), each time holding a request for the writer's
 * slice. Per-thread nice values are a Linux property; elsewhere this is a no-op. */
void gw_background_priority(void)
{
#ifdef __linux__
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#endif
}

/* the writer's side of a rotation: FILE's path opened again (when it names another file than
 * the one written: logrotate renamed it), the old descriptor closed, the new file's descriptor
 * kept for the ledger sink */
static void reopen_file(gw_spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->reopen = false;
    pthread_mutex_unlock(&s->mu);
    struct stat now, cur;
    if (stat(s->path, &now) == 0 && fstat(s->fd, &cur) == 0 && now.st_dev == cur.st_dev &&
        now.st_ino == cur.st_ino)
        return; /* not renamed: nothing to do */
    int nfd = open(s->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (nfd < 0) {
        fprintf(stderr, "infercost serve: spool: cannot reopen %s: %s; events go on to the old "
                        "file\n", s->path, strerror(errno));
        return;
    }
    if (s->fsync)
        fdatasync(s->fd);
    close(s->fd);
    s->fd = nfd;
    pthread_mutex_lock(&s->mu);
    int rfd = s->keep ? fcntl(nfd, F_DUPFD_CLOEXEC, 0) : -1;
    uint64_t gen = __atomic_load_n(&s->gen, __ATOMIC_RELAXED) + 1;
    if (s->nrot == sizeof s->rot_fd / sizeof s->rot_fd[0]) { /* the sink is far behind */
        close(s->rot_fd[0]);
        memmove(s->rot_fd, s->rot_fd + 1, (s->nrot - 1) * sizeof s->rot_fd[0]);
        memmove(s->rot_gen, s->rot_gen + 1, (s->nrot - 1) * sizeof s->rot_gen[0]);
        s->nrot--;
    }
    if (rfd >= 0) {
        s->rot_fd[s->nrot] = rfd;
        s->rot_gen[s->nrot++] = gen;
    }
    __atomic_store_n(&s->gen, gen, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->mu);
    fprintf(stderr, "infercost serve: spool: reopened %s\n", s->path);
}

void gw_spool_keep_files(gw_spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->keep = true;
    pthread_mutex_unlock(&s->mu);
}

int gw_spool_take_file(gw_spool *s, uint64_t gen)
{
    int fd = -1;
    pthread_mutex_lock(&s->mu);
    size_t k = 0;
    for (size_t i = 0; i < s->nrot; i++) {
        if (s->rot_gen[i] == gen)
            fd = s->rot_fd[i];
        else if (s->rot_gen[i] > gen) { /* later ones stay */
            s->rot_fd[k] = s->rot_fd[i];
            s->rot_gen[k++] = s->rot_gen[i];
        } else {
            close(s->rot_fd[i]); /* one the sink has gone past */
        }
    }
    s->nrot = k;
    pthread_mutex_unlock(&s->mu);
    return fd;
}

static void *writer(void *arg)
{
    gw_spool *s = arg;
    gw_background_priority();
    for (;;) {
        pthread_mutex_lock(&s->mu);
        if (!s->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 20 * 1000000; /* batches of 20 ms: fdatasync is the writer's main cost */
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        bool stop = s->stop, reopen = s->reopen;
        pthread_mutex_unlock(&s->mu);
        uint64_t head = ld(&s->h->head), tail = s->h->tail;
        if (head > tail) {
            struct stat fb;
            off_t before = fstat(s->fd, &fb) == 0 ? fb.st_size : -1;
            if (copy_range(s, tail, head)) {
                if (s->fsync)
                    fdatasync(s->fd);
                st(&s->h->tail, head);
                s->write_failing = false;
            } else {
                /* disk full or I/O error: what part of the batch was written is cut off again
                 * (a retry writes the whole batch: no torn line, no line twice), the bytes stay
                 * in the journal, and stderr says so (once a minute at most) */
                int e = errno;
                if (before >= 0 && ftruncate(s->fd, before) != 0)
                    e = errno;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (!s->write_failing || now.tv_sec - s->warned_s >= 60) {
                    fprintf(stderr, "infercost serve: spool: cannot write %s: %s; %llu bytes wait "
                                    "in the journal\n",
                            s->path, strerror(e), (unsigned long long)(head - tail));
                    s->warned_s = now.tv_sec;
                }
                s->write_failing = true;
                /* the old file holds nothing of this batch now: a rotation need not wait for
                 * the disk (the renamed file may be gone, its space held by our descriptor) */
                if (reopen)
                    reopen_file(s);
                if (stop) /* the bytes stay in the journal: the next start replays them */
                    break;
                struct timespec d = {0, 50 * 1000000};
                nanosleep(&d, NULL);
                continue;
            }
        }
        if (reopen) /* everything up to tail is in the old file, synced */
            reopen_file(s);
        if (stop && ld(&s->h->head) == s->h->tail)
            break;
    }
    return NULL;
}

/* id of the last complete line of FILE, cutting a torn last line */
static void last_id(int fd, char *id, size_t cap)
{
    id[0] = 0;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size == 0)
        return;
    size_t want = sb.st_size > 1 << 20 ? 1 << 20 : (size_t)sb.st_size;
    char *b = malloc(want + 1);
    if (!b)
        return;
    off_t base = sb.st_size - (off_t)want;
    if (pread(fd, b, want, base) != (ssize_t)want) {
        free(b);
        return;
    }
    size_t end = want;
    if (b[end - 1] != '\n') { /* torn write: cut back to the last newline */
        while (end && b[end - 1] != '\n')
            end--;
        if (ftruncate(fd, base + (off_t)end) != 0) {
            free(b);
            return;
        }
    }
    if (end == 0) {
        free(b);
        return;
    }
    size_t ls = end - 1;
    while (ls && b[ls - 1] != '\n')
        ls--;
    b[end - 1] = 0;
    const char *p = strstr(b + ls, "\"id\":\"");
    if (p) {
        p += 6;
        size_t n = strcspn(p, "\"");
        if (n < cap) {
            memcpy(id, p, n);
            id[n] = 0;
        }
    }
    free(b);
}

static uint64_t count_lines(gw_spool *s, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    for (uint64_t i = from; i < to; i++)
        n += s->ring[i % s->cap] == '\n';
    return n;
}

/* Replay [tail, head) into FILE, skipping lines up to the one whose id is FILE's last. */
static bool replay(gw_spool *s, uint64_t *replayed)
{
    uint64_t tail = s->h->tail, head = s->h->head;
    *replayed = 0;
    if (head <= tail)
        return true;
    char id[160];
    last_id(s->fd, id, sizeof id);
    if (id[0]) {
        char pat[200];
        int pl = snprintf(pat, sizeof pat, "\"id\":\"%s\"", id);
        /* scan lines of the pending range */
        uint64_t ls = tail;
        for (uint64_t i = tail; i < head; i++) {
            if (s->ring[i % s->cap] != '\n')
                continue;
            uint64_t len = i + 1 - ls;
            char *line = malloc(len + 1);
            if (!line)
                return false;
            for (uint64_t k = 0; k < len; k++)
                line[k] = (char)s->ring[(ls + k) % s->cap];
            line[len] = 0;
            bool match = pl > 0 && strstr(line, pat) != NULL;
            free(line);
            ls = i + 1;
            if (match) {
                tail = ls; /* everything up to here is already in FILE */
                break;
            }
        }
    }
    /* a torn journal tail (the producer died mid-line) has no newline: drop it */
    uint64_t end = head;
    while (end > tail && s->ring[(end - 1) % s->cap] != '\n')
        end--;
    *replayed = count_lines(s, tail, end);
    if (!copy_range(s, tail, end))
        return false;
    fdatasync(s->fd);
    st(&s->h->head, end);
    st(&s->h->tail, end);
    return true;
}

gw_spool *gw_spool_open(const char *path, size_t journal_bytes, bool fsync_, uint64_t *replayed,
                        char *err, size_t errcap)
{
    return gw_spool_open_at(path, NULL, journal_bytes, fsync_, replayed, err, errcap);
}

gw_spool *gw_spool_open_at(const char *path, const char *journal, size_t journal_bytes,
                           bool fsync_, uint64_t *replayed, char *err, size_t errcap)
{
    gw_spool *s = calloc(1, sizeof *s);
    char wal[4096];
    uint64_t dummy;
    if (!replayed)
        replayed = &dummy;
    *replayed = 0;
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->fd = s->wfd = -1;
    s->fsync = fsync_;
    size_t pg = 4096;
    journal_bytes = (journal_bytes + pg - 1) / pg * pg;
    if (journal_bytes < 65536)
        journal_bytes = 65536;
    if (journal)
        snprintf(wal, sizeof wal, "%s", journal);
    else
        snprintf(wal, sizeof wal, "%s.wal", path);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (s->fd < 0) {
        snprintf(err, errcap, "%s: cannot open the spool: %s", path, strerror(errno));
        goto bad;
    }
    /* last_id needs to read FILE */
    close(s->fd);
    s->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (s->fd < 0) {
        snprintf(err, errcap, "%s: cannot open the spool: %s", path, strerror(errno));
        goto bad;
    }
    s->wfd = open(wal, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->wfd < 0) {
        snprintf(err, errcap, "%s: cannot open the journal: %s", wal, strerror(errno));
        goto bad;
    }
    struct stat sb;
    fstat(s->wfd, &sb);
    hdr old = {{0}, 0, 0, 0};
    if (sb.st_size >= (off_t)sizeof old && pread(s->wfd, &old, sizeof old, 0) == (ssize_t)sizeof old &&
        !memcmp(old.magic, MAGIC, 8)) {
        if ((off_t)(HDR + old.cap) != sb.st_size || old.tail > old.head ||
            old.head - old.tail > old.cap) {
            snprintf(err, errcap, "%s: the journal is damaged (size or offsets do not agree); move "
                                  "it away to start without it", wal);
            goto bad;
        }
        journal_bytes = old.cap; /* keep the existing ring size until it is drained */
    } else if (sb.st_size != 0) {
        snprintf(err, errcap, "%s: not an infercost journal", wal);
        goto bad;
    }
    if (sb.st_size == 0 && ftruncate(s->wfd, (off_t)(HDR + journal_bytes)) != 0) {
        snprintf(err, errcap, "%s: cannot size the journal: %s", wal, strerror(errno));
        goto bad;
    }
    /* its blocks reserved now: a sparse journal on a disk that fills would fault (SIGBUS) at the
     * first write to a page without a block, in the middle of a request */
    int fe = posix_fallocate(s->wfd, 0, (off_t)(HDR + journal_bytes));
    if (fe != 0 && fe != EOPNOTSUPP && fe != EINVAL) {
        snprintf(err, errcap, "%s: cannot reserve the journal's %zu bytes: %s", wal,
                 (size_t)(HDR + journal_bytes), strerror(fe));
        goto bad;
    }
    s->maplen = HDR + journal_bytes;
    s->map = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, s->wfd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        snprintf(err, errcap, "%s: cannot map the journal: %s", wal, strerror(errno));
        goto bad;
    }
    s->h = (hdr *)s->map;
    s->ring = s->map + HDR;
    s->cap = journal_bytes;
    if (memcmp(s->h->magic, MAGIC, 8)) {
        memcpy(s->h->magic, MAGIC, 8);
        s->h->cap = journal_bytes;
        s->h->head = s->h->tail = 0;
    }
    if (!replay(s, replayed)) {
        snprintf(err, errcap, "%s: cannot replay the journal into the spool: %s", path, strerror(errno));
        goto bad;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, writer, s) != 0) {
        snprintf(err, errcap, "cannot start the spool writer thread");
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        goto bad;
    }
    return s;
bad:
    if (s->map)
        munmap(s->map, s->maplen);
    if (s->fd >= 0)
        close(s->fd);
    if (s->wfd >= 0)
        close(s->wfd);
    free(s);
    return NULL;
}

bool gw_spool_append(gw_spool *s, const char *line, size_t len)
{
    uint64_t need = len + 1;
    if (need > s->cap / 2)
        return false;
    uint64_t head = s->h->head;
    bool stalled = false;
    while (head + need - ld(&s->h->tail) > s->cap) {
        if (!stalled) {
            s->stalls++;
            stalled = true;
        }
        pthread_cond_signal(&s->cv);
        struct timespec d = {0, 200000};
        nanosleep(&d, NULL);
    }
    uint64_t off = head % s->cap;
    uint64_t first = need - 1 <= s->cap - off ? len : s->cap - off;
    memcpy(s->ring + off, line, first);
    if (first < len)
        memcpy(s->ring, line + first, len - first);
    s->ring[(head + len) % s->cap] = '\n';
    st(&s->h->head, head + need);
    s->events++;
    return true;
}

void gw_spool_stop(gw_spool *s)
{
    if (!s || s->stopped)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    fdatasync(s->fd);
    msync(s->map, HDR, MS_SYNC);
    s->stopped = true;
}

void gw_spool_close(gw_spool *s)
{
    if (!s)
        return;
    gw_spool_stop(s);
    for (size_t i = 0; i < s->nrot; i++)
        close(s->rot_fd[i]);
    munmap(s->map, s->maplen);
    close(s->fd);
    close(s->wfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void gw_spool_reopen(gw_spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->reopen = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

uint64_t gw_spool_generation(const gw_spool *s)
{
    return __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
}

uint64_t gw_spool_events(const gw_spool *s) { return s->events; }
uint64_t gw_spool_pending_bytes(const gw_spool *s)
{
    return ld(&s->h->head) - ld(&s->h->tail);
}
uint64_t gw_spool_stalls(const gw_spool *s) { return s->stalls; }
uint64_t gw_spool_capacity(const gw_spool *s) { return s->cap; }
