/* ledger_sqlite.c: the SQLite backend of the ledger (ic_ledger_sqlite_ops, ledger.h).
 *
 * Layout (schema version 3; docs/ledger.md):
 *   meta(key, value)             schema_version
 *   names(id, s)                 a dictionary of the repeated strings (provider, model, customer,
 *                                feature, key id, status, source file...); 0 means "absent". Kept
 *                                in memory both ways so rows carry small integers.
 *   events(t, id, d)             WITHOUT ROWID, PRIMARY KEY (t, id): an event is identified by
 *                                the time of the call and its id. As logs arrive roughly in time
 *                                order (and ingest sorts each batch), inserts land at the right
 *                                edge of the B-tree: no random-order unique index to maintain
 *                                (such an index on a hash of the id halved the insert rate).
 *                                The id itself is the key, so two ids can never be confused.
 *                                d packs everything else (varints): name ids,
 *                                token counts, exact costs (128-bit zig-zag), latency, flags, task,
 *                                tags, source line and the packed usage/cost detail (ledger.c).
 *                                One blob instead of thirty columns: SQLite's per-column cost was
 *                                the other half of the insert time.
 *   rollup(day, provider, model, customer, feature, sums...)  WITHOUT ROWID, updated by upsert in
 *                                the same transaction as the events it sums.
 *   revenue(customer, period, amount)
 * Money columns of rollup/revenue are split in two integers: micro-dollars (floor(pico / 1e6))
 * and the pico remainder (0..999999), so SUM() of either stays far inside int64; readers
 * recombine in 128 bits.
 *
 * Schema v1 had meta, names and events only; opening a v1 file adds the rollup and revenue tables
 * and backfills the rollups from the events, in one transaction. v3 added the rollups' cache
 * saving in a table beside them, rollup_saved(day, provider, model, customer, feature, saved_u,
 * saved_p), a row only where a saving was recorded (none for the rows before it, as the events
 * before it did not keep one): a table of its own, not columns of rollup, so that an older
 * infercost still running on the file when a newer one upgrades it goes on inserting its
 * 19-column rollup rows. A v2 file opened read-only is read as it is, with no saving.
 *
 * Pragmas: WAL, synchronous=NORMAL (a kill -9 loses nothing committed; a power cut may lose the
 * last transactions but never leaves a torn one), a 256 MiB page cache, 16 KiB pages for a new
 * file.
 *
 * Batches (insert_batch, the fast path): the batch's names mapped to ids, one range read merged
 * with the sorted batch to find what is stored already, the rest inserted 32 rows per statement;
 * WAL checkpoints on a thread of their own (see "background checkpoints" below).
 * This file must not print and must not know about pricing. */
#include "infercost/ledger.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ledger_internal.h"

typedef struct nslot {
    uint64_t h;
    int64_t id; /* 0 = empty slot */
} nslot;

typedef struct sq {
    sqlite3 *db;
    char *path;
    bool readonly;
    int schema; /* the file's schema version once open (2 when read-only and not upgraded) */
    /* name dictionary */
    char **names;      /* by id; names[0] = "" */
    size_t nnames, capnames;
    nslot *slots;
    size_t capslots;
    /* prepared statements */
    sqlite3_stmt *ins_event, *ins_name, *up_rollup, *up_saved, *up_revenue;
    /* the batch path: MULTI rows per INSERT and the stored keys of a time range */
    sqlite3_stmt *ins_multi, *sel_range;
    /* background checkpoints, started by the first batch append (ckpt_start) */
    bool ck_started, ck_request, ck_stop;
    pthread_t ck_thread;
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;
    sqlite3 *ck_db;
} sq;

static ic_status dberr(sq *s, ic_error *err, const char *what)
{
    return ic_error_set(err, IC_ERR_DB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static ic_status exec(sq *s, const char *sql, ic_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ic_status st = ic_error_set(err, IC_ERR_DB, "%s: %s", s->path, msg ? msg : "error");
        sqlite3_free(msg);
        return st;
    }
    return IC_OK;
}

/* ---- name dictionary ---- */

static uint64_t hstr(const char *x) { return XXH3_64bits(x, strlen(x)); }

static void names_reset(sq *s)
{
    for (size_t i = 1; i < s->nnames; i++) {
        free(s->names[i]);
        s->names[i] = NULL;
    }
    s->nnames = 0;
    if (s->slots)
        memset(s->slots, 0, s->capslots * sizeof *s->slots);
}

static ic_status names_put(sq *s, int64_t id, const char *text, ic_error *err)
{
    if ((size_t)id >= s->capnames) {
        size_t nc = s->capnames ? s->capnames : 256;
        while (nc <= (size_t)id)
            nc *= 2;
        char **nn = realloc(s->names, nc * sizeof *nn);
        if (!nn)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        memset(nn + s->capnames, 0, (nc - s->capnames) * sizeof *nn);
        s->names = nn;
        s->capnames = nc;
    }
    if ((size_t)id + 1 > s->nnames)
        s->nnames = (size_t)id + 1;
    free(s->names[id]);
    s->names[id] = strdup(text);
    if (!s->names[id])
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    if ((s->nnames + 1) * 2 > s->capslots) {
        size_t nc = s->capslots ? s->capslots * 2 : 1024;
        while ((s->nnames + 1) * 2 > nc)
            nc *= 2;
        nslot *ns = calloc(nc, sizeof *ns);
        if (!ns)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < s->capslots; i++)
            if (s->slots[i].id) {
                size_t j = s->slots[i].h & (nc - 1);
                while (ns[j].id)
                    j = (j + 1) & (nc - 1);
                ns[j] = s->slots[i];
            }
        free(s->slots);
        s->slots = ns;
        s->capslots = nc;
    }
    uint64_t h = hstr(text);
    size_t j = h & (s->capslots - 1);
    while (s->slots[j].id)
        j = (j + 1) & (s->capslots - 1);
    s->slots[j].h = h;
    s->slots[j].id = id;
    return IC_OK;
}

static ic_status names_load(sq *s, ic_error *err)
{
    names_reset(s);
    if (!s->names) {
        s->capnames = 256;
        s->names = calloc(s->capnames, sizeof *s->names);
        if (!s->names)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    s->names[0] = (char *)"";
    s->nnames = 1;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT id, s FROM names", -1, &q, NULL) != SQLITE_OK)
        return dberr(s, err, "reading names");
    int rc;
    ic_status st = IC_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && st == IC_OK)
        st = names_put(s, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1), err);
    sqlite3_finalize(q);
    if (st == IC_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        return dberr(s, err, "reading names");
    return st;
}

/* id of a name, 0 for ""; *found false when it is not in the dictionary */
static int64_t names_find(sq *s, const char *text)
{
    if (!text || !text[0])
        return 0;
    if (!s->capslots)
        return -1;
    uint64_t h = hstr(text);
    size_t j = h & (s->capslots - 1);
    while (s->slots[j].id) {
        if (s->slots[j].h == h && !strcmp(s->names[s->slots[j].id], text))
            return s->slots[j].id;
        j = (j + 1) & (s->capslots - 1);
    }
    return -1;
}

static ic_status names_intern(sq *s, const char *text, int64_t *id, ic_error *err)
{
    int64_t v = names_find(s, text);
    if (v >= 0) {
        *id = v;
        return IC_OK;
    }
    sqlite3_stmt *q = s->ins_name;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW)
        return dberr(s, err, "adding a name");
    v = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    *id = v;
    return names_put(s, v, text, err);
}

static const char *name_of(sq *s, int64_t id)
{
    if (id <= 0)
        return "";
    if ((size_t)id >= s->nnames || !s->names[id]) {
        ic_error e;
        names_load(s, &e); /* another writer added names since we loaded */
        if ((size_t)id >= s->nnames || !s->names[id])
            return "?";
    }
    return s->names[id];
}

/* ---- money split ---- */

static ic_status money_split(ic_money m, int64_t *u, int64_t *p, ic_error *err)
{
    ic_money q = m / 1000000, r = m % 1000000;
    if (r < 0) {
        q -= 1;
        r += 1000000;
    }
    if (q > INT64_MAX || q < INT64_MIN)
        return ic_error_set(err, IC_ERR_RANGE, "amount too large for the ledger");
    *u = (int64_t)q;
    *p = (int64_t)r;
    return IC_OK;
}

static ic_money money_join(int64_t u, int64_t p) { return (ic_money)u * 1000000 + p; }

#define TX(i) ((const char *)sqlite3_column_text(q, i))
#define I6(i) sqlite3_column_int64(q, i)

/* ---- schema ---- */

static const char *schema_v1 =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS names(id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS events(t INTEGER NOT NULL, id TEXT NOT NULL, d BLOB NOT NULL,"
    " PRIMARY KEY(t, id)) WITHOUT ROWID;";

/* v1 -> v2: the rollups and the revenue table; rollups are then backfilled (backfill()). */
static const char *migrate_v2 =
    "CREATE TABLE rollup(day INTEGER NOT NULL, provider INTEGER NOT NULL,"
    " model INTEGER NOT NULL, customer INTEGER NOT NULL, feature INTEGER NOT NULL,"
    " requests INTEGER NOT NULL, cache_hits INTEGER NOT NULL, errors INTEGER NOT NULL,"
    " in_tok INTEGER NOT NULL, cache_read INTEGER NOT NULL, cache_write INTEGER NOT NULL,"
    " out_tok INTEGER NOT NULL, reasoning INTEGER NOT NULL,"
    " cost_u INTEGER NOT NULL, cost_p INTEGER NOT NULL, cin_u INTEGER NOT NULL,"
    " cin_p INTEGER NOT NULL, cout_u INTEGER NOT NULL, cout_p INTEGER NOT NULL,"
    " PRIMARY KEY(day, provider, model, customer, feature)) WITHOUT ROWID;"
    "CREATE TABLE revenue(customer TEXT NOT NULL, period TEXT NOT NULL,"
    " amount_u INTEGER NOT NULL, amount_p INTEGER NOT NULL, PRIMARY KEY(customer, period));";

/* v2 -> v3: the cache saving of each rollup (ic_rollup.cache_saved), beside it */
static const char *migrate_v3 =
    "CREATE TABLE rollup_saved(day INTEGER NOT NULL, provider INTEGER NOT NULL,"
    " model INTEGER NOT NULL, customer INTEGER NOT NULL, feature INTEGER NOT NULL,"
    " saved_u INTEGER NOT NULL, saved_p INTEGER NOT NULL,"
    " PRIMARY KEY(day, provider, model, customer, feature)) WITHOUT ROWID;";

static ic_status prepare_writes(sq *s, ic_error *err);
static ic_status backfill(sq *s, ic_error *err);

static ic_status schema_version(sq *s, int *v, ic_error *err)
{
    *v = 0;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT value FROM meta WHERE key='schema_version'", -1, &q,
                           NULL) != SQLITE_OK) {
        /* no meta table: a fresh file, or not a ledger at all */
        sqlite3_stmt *t;
        if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &t, NULL) !=
            SQLITE_OK)
            return dberr(s, err, "not a SQLite database");
        int n = sqlite3_step(t) == SQLITE_ROW ? sqlite3_column_int(t, 0) : -1;
        sqlite3_finalize(t);
        if (n != 0)
            return ic_error_set(err, IC_ERR_DB, "%s: not an infercost ledger (no meta table)",
                                s->path);
        return IC_OK;
    }
    if (sqlite3_step(q) == SQLITE_ROW)
        *v = atoi((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return IC_OK;
}

static ic_status migrate(sq *s, ic_error *err)
{
    int v;
    ic_status st = exec(s, "BEGIN IMMEDIATE", err);
    if (st != IC_OK)
        return st;
    if ((st = schema_version(s, &v, err)) != IC_OK)
        goto fail;
    if (v > IC_LEDGER_SCHEMA_VERSION) {
        st = ic_error_set(err, IC_ERR_DB,
                          "%s: ledger schema version %d is newer than this infercost (%d)",
                          s->path, v, IC_LEDGER_SCHEMA_VERSION);
        goto fail;
    }
    s->schema = v;
    /* read-only, a v2 file is read as it is (its rollups without the cache saving) */
    if (v == IC_LEDGER_SCHEMA_VERSION || (s->readonly && v >= 2))
        return exec(s, "COMMIT", err);
    if (s->readonly) {
        st = ic_error_set(err, IC_ERR_DB, "%s: ledger needs a schema upgrade (v%d -> v%d); "
                          "open it once for writing (e.g. infercost ingest)", s->path, v,
                          IC_LEDGER_SCHEMA_VERSION);
        goto fail;
    }
    if (v < 1 && (st = exec(s, schema_v1, err)) != IC_OK)
        goto fail;
    if (v < 2 && (st = exec(s, migrate_v2, err)) != IC_OK)
        goto fail;
    if (v < 3 && (st = exec(s, migrate_v3, err)) != IC_OK)
        goto fail;
    s->schema = IC_LEDGER_SCHEMA_VERSION;
    if (v == 1 && (st = backfill(s, err)) != IC_OK)
        goto fail;
    if ((st = exec(s, "INSERT OR REPLACE INTO meta VALUES('schema_version','3')", err)) != IC_OK)
        goto fail;
    return exec(s, "COMMIT", err);
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* ---- ops ---- */

/* ---- background checkpoints ----
 * In WAL mode SQLite copies the log back into the database file every 1000 frames, on the
 * writer's thread, with two fdatasyncs each time: a third of a bulk ingest's wall time
 * (bench/ledger.sh: 32 syncs, ~1 s of 2.8 s for 1M events). A batch-appending connection hands
 * that to a thread with its own connection: a wal hook asks for a PASSIVE checkpoint every
 * CK_FRAMES frames, which runs beside the writer (WAL allows it) and leaves every guarantee as it
 * was: commits are still ordered and atomic, a kill -9 at any point leaves the last committed
 * batch. The price: the log restarts from its beginning only when a checkpoint has caught up with
 * the writer, so during a bulk ingest it grows past 16 MiB (60-80 MiB seen for 1M events); past
 * CK_HARD frames (256 MiB with 16 KiB pages) the writer checkpoints itself, as SQLite would. */
#define CK_FRAMES 1000
#define CK_HARD 16384

static void *ck_main(void *arg)
{
    sq *s = arg;
    pthread_mutex_lock(&s->ck_mu);
    for (;;) {
        while (!s->ck_request && !s->ck_stop)
            pthread_cond_wait(&s->ck_cv, &s->ck_mu);
        if (s->ck_stop)
            break;
        s->ck_request = false;
        pthread_mutex_unlock(&s->ck_mu);
        /* a failure (busy, I/O) leaves the log to the next one or to the writer */
        sqlite3_wal_checkpoint_v2(s->ck_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&s->ck_mu);
    }
    pthread_mutex_unlock(&s->ck_mu);
    return NULL;
}

static int ck_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    sq *s = arg;
    if (frames >= CK_HARD) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (frames >= CK_FRAMES) {
        pthread_mutex_lock(&s->ck_mu);
        s->ck_request = true;
        pthread_cond_signal(&s->ck_cv);
        pthread_mutex_unlock(&s->ck_mu);
    }
    return SQLITE_OK;
}

/* start the checkpointer once; without it SQLite's own checkpoints go on as before */
static void ckpt_start(sq *s)
{
    if (s->ck_started || s->readonly)
        return;
    s->ck_started = true; /* tried once */
    /* one read first: until it has read the header, a connection does not know the file is in
     * WAL mode, and a checkpoint on it does nothing */
    if (sqlite3_open_v2(s->path, &s->ck_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(s->ck_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
            SQLITE_OK) {
        sqlite3_close(s->ck_db);
        s->ck_db = NULL;
        return;
    }
    pthread_mutex_init(&s->ck_mu, NULL);
    pthread_cond_init(&s->ck_cv, NULL);
    if (pthread_create(&s->ck_thread, NULL, ck_main, s) != 0) {
        pthread_mutex_destroy(&s->ck_mu);
        pthread_cond_destroy(&s->ck_cv);
        sqlite3_close(s->ck_db);
        s->ck_db = NULL;
        return;
    }
    sqlite3_wal_hook(s->db, ck_hook, s); /* replaces the automatic checkpoint */
}

static void ckpt_stop(sq *s)
{
    if (!s->ck_db)
        return;
    sqlite3_wal_autocheckpoint(s->db, 1000); /* SQLite's own again, for what follows */
    pthread_mutex_lock(&s->ck_mu);
    s->ck_stop = true;
    pthread_cond_signal(&s->ck_cv);
    pthread_mutex_unlock(&s->ck_mu);
    pthread_join(s->ck_thread, NULL);
    pthread_mutex_destroy(&s->ck_mu);
    pthread_cond_destroy(&s->ck_cv);
    sqlite3_close(s->ck_db);
    s->ck_db = NULL;
}

static void sq_close(void *state)
{
    sq *s = state;
    if (!s)
        return;
    ckpt_stop(s);
    sqlite3_finalize(s->ins_event);
    sqlite3_finalize(s->ins_name);
    sqlite3_finalize(s->up_rollup);
    sqlite3_finalize(s->up_saved);
    sqlite3_finalize(s->up_revenue);
    sqlite3_finalize(s->ins_multi);
    sqlite3_finalize(s->sel_range);
    sqlite3_close(s->db);
    names_reset(s);
    free(s->names);
    free(s->slots);
    free(s->path);
    free(s);
}

static ic_status prep(sq *s, const char *sql, sqlite3_stmt **q, ic_error *err)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, q, NULL) != SQLITE_OK)
        return dberr(s, err, "preparing a statement");
    return IC_OK;
}

/* Rows per multi-row INSERT: one statement step and reset for 32 rows instead of one each
 * halved SQLite's CPU per row in a standalone experiment (1M rows: 1.1 s against 2.2 s with
 * 16 KiB pages); 64 gained nothing more. */
#define MULTI 32

static ic_status prepare_writes(sq *s, ic_error *err)
{
    if (s->ins_event)
        return IC_OK;
    ic_status st;
    char multi[64 + MULTI * 10];
    size_t mn = (size_t)snprintf(multi, sizeof multi,
                                 "INSERT OR IGNORE INTO events(t,id,d) VALUES(?,?,?)");
    for (int i = 1; i < MULTI; i++)
        mn += (size_t)snprintf(multi + mn, sizeof multi - mn, ",(?,?,?)");
    if ((st = prep(s, multi, &s->ins_multi, err)) != IC_OK ||
        (st = prep(s, "SELECT t, id FROM events WHERE t >= ?1 AND t <= ?2 ORDER BY t, id",
                   &s->sel_range, err)) != IC_OK)
        return st;
    if ((st = prep(s, "INSERT OR IGNORE INTO events(t,id,d) VALUES(?,?,?)", &s->ins_event,
                   err)) != IC_OK ||
        (st = prep(s, "INSERT INTO names(s) VALUES(?) ON CONFLICT(s) DO UPDATE SET s = excluded.s RETURNING id", &s->ins_name, err)) !=
            IC_OK ||
        (st = prep(s,
                   "INSERT INTO rollup VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                   "ON CONFLICT DO UPDATE SET requests=requests+excluded.requests,"
                   "cache_hits=cache_hits+excluded.cache_hits,errors=errors+excluded.errors,"
                   "in_tok=in_tok+excluded.in_tok,cache_read=cache_read+excluded.cache_read,"
                   "cache_write=cache_write+excluded.cache_write,"
                   "out_tok=out_tok+excluded.out_tok,reasoning=reasoning+excluded.reasoning,"
                   "cost_u=cost_u+excluded.cost_u,cost_p=cost_p+excluded.cost_p,"
                   "cin_u=cin_u+excluded.cin_u,cin_p=cin_p+excluded.cin_p,"
                   "cout_u=cout_u+excluded.cout_u,cout_p=cout_p+excluded.cout_p",
                   &s->up_rollup, err)) != IC_OK ||
        (st = prep(s,
                   "INSERT INTO rollup_saved VALUES(?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                   "saved_u=saved_u+excluded.saved_u,saved_p=saved_p+excluded.saved_p",
                   &s->up_saved, err)) != IC_OK ||
        (st = prep(s, "INSERT OR REPLACE INTO revenue VALUES(?,?,?,?)", &s->up_revenue, err)) !=
            IC_OK)
        return st;
    return IC_OK;
}

static pthread_once_t sq_once = PTHREAD_ONCE_INIT;
static void sq_global_init(void)
{
    /* no allocation statistics: they take a global mutex on every malloc (bench/ledger.sh) */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static ic_status sq_open(void **state, const char *target, bool readonly, ic_error *err)
{
    pthread_once(&sq_once, sq_global_init);
    *state = NULL;
    sq *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(target))) {
        free(s);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    s->readonly = readonly;
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ic_status st;
    if (sqlite3_open_v2(target, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        st = ic_error_set(err, readonly ? IC_ERR_NOT_FOUND : IC_ERR_IO,
                          "%s: cannot open ledger: %s", target,
                          s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 10000);
    /* 16 KiB pages for a new ledger (no effect on an existing one): a quarter of the page
     * splits, WAL frames and B-tree levels of 4 KiB pages on the append-only event table */
    /* Switching a new ledger to WAL needs the file to itself for an instant, and SQLite answers
     * BUSY at once for it (the busy timeout does not apply) when another process is opening the
     * same new ledger just then (two first ingests: about 1 start in 30 here). Retry, within the
     * busy timeout. */
    for (int tries = 0; !readonly; tries++) {
        if ((st = exec(s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", err)) == IC_OK)
            break;
        if (sqlite3_errcode(s->db) != SQLITE_BUSY || tries == 1000)
            goto fail;
        sqlite3_sleep(10);
    }
    if ((st = exec(s, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;"
                      "PRAGMA temp_store=MEMORY;", err)) != IC_OK)
        goto fail;
    if ((st = migrate(s, err)) != IC_OK)
        goto fail;
    if ((st = names_load(s, err)) != IC_OK)
        goto fail;
    if (!readonly && (st = prepare_writes(s, err)) != IC_OK)
        goto fail;
    *state = s;
    return IC_OK;
fail:
    sq_close(s);
    return st;
}

static ic_status sq_begin(void *state, ic_error *err)
{
    sq *s = state;
    if (s->readonly)
        return ic_error_set(err, IC_ERR_DB, "%s: ledger opened read-only", s->path);
    return exec(s, "BEGIN IMMEDIATE", err);
}

static ic_status sq_commit(void *state, ic_error *err) { return exec(state, "COMMIT", err); }

static void sq_rollback(void *state)
{
    sq *s = state;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    ic_error e;
    names_load(s, &e); /* names added in the rolled-back transaction are gone */
}

static const char *nz(const char *x) { return x ? x : ""; }

static ic_status sq_insert_batch(void *state, ic_ledger_batch *b, bool *dup, ic_error *err);

static ic_status sq_insert(void *state, const ic_event *e, bool *inserted, ic_error *err)
{
    return ic__insert_one(state, sq_insert_batch, e, inserted, err);
}

/* ---- the batch path (ledger.h: insert_batch; the batch's layout is in ledger_internal.h) ---- */

/* Write the row header (format 1 and the ten name ids) into the gap
 * before the entry's body; returns the whole row. */
static const unsigned char *batch_row(ic_ledger_batch *b, const ic__bent *x, const int64_t *gid,
                                      size_t *len)
{
    unsigned char h[IC__ROW_GAP], *p = h; /* 1 + 10 varints of at most 10 bytes: fits */
    *p++ = 1;
    for (int i = 0; i < IC__NNAMES; i++) {
        uint64_t v = (uint64_t)gid[x->name[i]];
        while (v >= 0x80) {
            *p++ = (unsigned char)(v | 0x80);
            v >>= 7;
        }
        *p++ = (unsigned char)v;
    }
    size_t n = (size_t)(p - h);
    unsigned char *start = b->arena + x->body_off - n;
    memcpy(start, h, n);
    *len = n + x->body_len;
    return start;
}

/* From sorted position k on, event by event with INSERT OR IGNORE: the answer to "was it
 * there" then comes from SQLite itself (a wide time range over a full ledger, or a conflict the
 * merge did not foresee). */
static ic_status batch_slow(sq *s, ic_ledger_batch *b, const int64_t *gid, size_t k, bool *dup,
                            ic_error *err)
{
    sqlite3_stmt *q = s->ins_event;
    for (; k < b->n; k++) {
        uint32_t i = b->order[k];
        const ic__bent *x = &b->ent[i];
        size_t len;
        const unsigned char *row = batch_row(b, x, gid, &len);
        sqlite3_bind_int64(q, 1, x->t);
        sqlite3_bind_text(q, 2, ic__bid(b, x), (int)x->id_len, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, row, (int)len, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE) {
            ic_status st = dberr(s, err, "inserting an event");
            sqlite3_reset(q);
            return st;
        }
        dup[i] = sqlite3_changes(s->db) == 0;
        sqlite3_reset(q);
    }
    return IC_OK;
}

/* compare a stored key with an entry's, in the table's order (t, then id bytes) */
static int key_cmp(int64_t t1, const void *id1, size_t l1, int64_t t2, const char *id2, size_t l2)
{
    if (t1 != t2)
        return t1 < t2 ? -1 : 1;
    int c = memcmp(id1, id2, l1 < l2 ? l1 : l2);
    if (c)
        return c;
    return l1 < l2 ? -1 : l1 > l2;
}

static ic_status sq_insert_batch(void *state, ic_ledger_batch *b, bool *dup, ic_error *err)
{
    sq *s = state;
    if (!b->n)
        return IC_OK;
    ckpt_start(s);
    ic_status st = IC_OK;
    int64_t *gid = malloc((b->nnames ? b->nnames : 1) * sizeof *gid);
    if (!gid)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    gid[0] = 0;
    for (size_t i = 1; i < b->nnames && st == IC_OK; i++)
        st = names_intern(s, ic__bname(b, (uint32_t)i), &gid[i], err);
    if (st != IC_OK)
        goto out;
    /* Which events are there already: the stored keys of the batch's time range, read in key
     * order and merged with the sorted batch. A fresh time range (the common case: logs arrive
     * in time order) costs one B-tree seek. Where stored events lie thick between two of the
     * batch's (a day's later batch over its earlier ones, a batch spanning months of a full
     * ledger), the cursor is not stepped through them: after SEEK_AFTER rows it seeks again, to
     * the batch event's time. So the read costs at most a few steps and a seek per event. */
    enum { SEEK_AFTER = 16 };
    sqlite3_stmt *q = s->sel_range;
    sqlite3_bind_int64(q, 1, b->ent[b->order[0]].t);
    sqlite3_bind_int64(q, 2, b->ent[b->order[b->n - 1]].t);
    int rc = sqlite3_step(q);
    int64_t pt = 0;
    const char *pid = NULL;
    for (size_t k = 0; k < b->n && (rc == SQLITE_ROW || rc == SQLITE_DONE); k++) {
        uint32_t i = b->order[k];
        const ic__bent *x = &b->ent[i];
        const char *id = ic__bid(b, x);
        if (pid && x->t == pt && !strcmp(id, pid)) { /* the same event twice in the batch */
            dup[i] = true;
            continue;
        }
        pt = x->t;
        pid = id;
        int steps = 0;
        while (rc == SQLITE_ROW) {
            int64_t rt = sqlite3_column_int64(q, 0);
            int c = key_cmp(rt, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
                            x->t, id, x->id_len);
            if (c > 0)
                break;
            if (c == 0) {
                dup[i] = true;
                break;
            }
            if (++steps > SEEK_AFTER && rt < x->t) { /* forward only: never loops */
                sqlite3_reset(q);
                sqlite3_bind_int64(q, 1, x->t);
                steps = 0;
            }
            rc = sqlite3_step(q);
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = dberr(s, err, "reading stored events");
        sqlite3_reset(q);
        goto out;
    }
    sqlite3_reset(q);
    /* The new ones, MULTI rows per INSERT OR IGNORE, then the rest one by one. OR IGNORE: a
     * plain INSERT of several rows keeps a statement journal to undo itself on a conflict (a
     * tenth of the writer's time); here a conflict cannot happen inside our write transaction,
     * and if the row counts ever said otherwise, the savepoint undoes the batch's inserts and
     * SQLite itself answers event by event. */
    if ((st = exec(s, "SAVEPOINT ic_batch", err)) != IC_OK)
        goto out;
    size_t pend[MULTI], np = 0; /* sorted positions */
    bool redo = false;
    for (size_t k = 0; k <= b->n && !redo; k++) {
        if (k < b->n) {
            if (k + 16 < b->n) { /* the entries were written on another core, out of order */
                const ic__bent *f = &b->ent[b->order[k + 16]];
                __builtin_prefetch(f);
                __builtin_prefetch((const char *)f + 64);
                __builtin_prefetch((const char *)f + 128);
                __builtin_prefetch(b->arena + f->body_off - 16);
            }
            if (dup[b->order[k]])
                continue;
            pend[np++] = k;
            if (np < MULTI)
                continue;
        }
        sqlite3_stmt *w = np == MULTI ? s->ins_multi : s->ins_event;
        size_t per = np == MULTI ? MULTI : 1;
        for (size_t j0 = 0; j0 < np && !redo; j0 += per) {
            for (size_t j = 0; j < per; j++) {
                const ic__bent *x = &b->ent[b->order[pend[j0 + j]]];
                size_t len;
                const unsigned char *row = batch_row(b, x, gid, &len);
                sqlite3_bind_int64(w, (int)(3 * j + 1), x->t);
                sqlite3_bind_text(w, (int)(3 * j + 2), ic__bid(b, x), (int)x->id_len,
                                  SQLITE_STATIC);
                sqlite3_bind_blob(w, (int)(3 * j + 3), row, (int)len, SQLITE_STATIC);
            }
            rc = sqlite3_step(w);
            int changed = sqlite3_changes(s->db);
            sqlite3_reset(w);
            if (rc != SQLITE_DONE) {
                st = dberr(s, err, "inserting events");
                goto out;
            }
            redo = (size_t)changed != per;
        }
        np = 0;
    }
    if (redo) {
        if ((st = exec(s, "ROLLBACK TO ic_batch", err)) != IC_OK)
            goto out;
        memset(dup, 0, b->n * sizeof *dup);
        if ((st = batch_slow(s, b, gid, 0, dup, err)) != IC_OK)
            goto out;
    }
    st = exec(s, "RELEASE ic_batch", err);
out:
    free(gid);
    return st;
}

static ic_status sq_rollup_add(void *state, const ic_rollup *r, ic_error *err)
{
    sq *s = state;
    int64_t nm[4];
    const char *nt[4] = {r->provider, r->model, r->customer, r->feature};
    ic_status st;
    for (int i = 0; i < 4; i++)
        if ((st = names_intern(s, nz(nt[i]), &nm[i], err)) != IC_OK)
            return st;
    int64_t cu = 0, cp = 0, iu = 0, ip = 0, ou = 0, op = 0, su = 0, sp = 0;
    if ((st = money_split(r->cost, &cu, &cp, err)) != IC_OK ||
        (st = money_split(r->cost_input, &iu, &ip, err)) != IC_OK ||
        (st = money_split(r->cost_output, &ou, &op, err)) != IC_OK ||
        (st = money_split(r->cache_saved, &su, &sp, err)) != IC_OK)
        return st;
    sqlite3_stmt *q = s->up_rollup;
    sqlite3_reset(q);
    int64_t v[19] = {r->day, nm[0], nm[1], nm[2], nm[3], (int64_t)r->requests,
                     (int64_t)r->cache_hits, (int64_t)r->errors, (int64_t)r->input_tokens,
                     (int64_t)r->cache_read_tokens, (int64_t)r->cache_write_tokens,
                     (int64_t)r->output_tokens, (int64_t)r->reasoning_tokens, cu, cp, iu, ip, ou,
                     op};
    for (int i = 0; i < 19; i++)
        sqlite3_bind_int64(q, i + 1, v[i]);
    int64_t w[7] = {r->day, nm[0], nm[1], nm[2], nm[3], su, sp};
    for (int pass = 0; pass < 2; pass++) { /* the sums, then the saving where there is one */
        if (pass) {
            if (!r->cache_saved)
                break;
            q = s->up_saved;
            for (int i = 0; i < 7; i++)
                sqlite3_bind_int64(q, i + 1, w[i]);
        }
        if (sqlite3_step(q) != SQLITE_DONE) {
            st = dberr(s, err, "updating a rollup");
            sqlite3_reset(q);
            return st;
        }
        sqlite3_reset(q);
    }
    return IC_OK;
}

static ic_status backfill_one(sq *s, const ic_event *e, ic_error *err)
{
    ic_rollup r;
    ic__rollup_from_event(e, &r);
    return sq_rollup_add(s, &r, err);
}

/* WHERE clause for a filter; returns false if a named value is unknown (nothing can match). */
static bool where(sq *s, const ic_ledger_filter *f, bool rollup, char *buf, size_t cap,
                  int64_t *binds, int *nb)
{
    size_t n = 0;
    *nb = 0;
    buf[0] = 0;
    const char *tcol = rollup ? "day" : "t";
    int64_t lo = f->from_ms, hi = f->to_ms;
    if (rollup) { /* whole days only: a rollup is a day */
        lo = lo ? (lo + 86399999) / 86400000 : 0;
        hi = hi ? hi / 86400000 : 0;
    }
    if (f->from_ms) {
        n += (size_t)snprintf(buf + n, cap - n, "%s %s >= ?", n ? " AND" : " WHERE", tcol);
        binds[(*nb)++] = lo;
    }
    if (f->to_ms) {
        n += (size_t)snprintf(buf + n, cap - n, "%s %s < ?", n ? " AND" : " WHERE", tcol);
        binds[(*nb)++] = hi;
    }
    const char *vals[4] = {f->provider, f->model, f->customer, f->feature};
    const char *cols[4] = {"provider", rollup ? "model" : "(CASE WHEN model_served != 0 THEN "
                                                          "model_served ELSE model END)",
                           "customer", "feature"};
    for (int i = 0; i < 4; i++) {
        if (!vals[i])
            continue;
        int64_t id = names_find(s, vals[i]);
        if (id < 0)
            return false;
        n += (size_t)snprintf(buf + n, cap - n, "%s %s = ?", n ? " AND" : " WHERE", cols[i]);
        binds[(*nb)++] = id;
    }
    return true;
}

/* decode a row: its header (format, name ids), then the body (ledger.c); strings point into the
 * scan's scratch buffers or the name dictionary */
static bool decode_row(sq *s, const unsigned char *d, size_t len, ic_event *e, ic__rowtext *rb,
                       bool detail)
{
    ic__rbuf r = {d, len, 0, false};
    if (ic__get_u64(&r) != 1)
        return false;
    int64_t nm[10];
    for (int i = 0; i < 10; i++)
        nm[i] = (int64_t)ic__get_u64(&r);
    if (r.bad)
        return false;
    e->provider = name_of(s, nm[0]);
    e->model = name_of(s, nm[1]);
    e->model_served = name_of(s, nm[2]);
    e->api_flavor = name_of(s, nm[3]);
    e->customer = name_of(s, nm[4]);
    e->feature = name_of(s, nm[5]);
    e->key_id = name_of(s, nm[6]);
    e->status = name_of(s, nm[7]);
    e->routed_from = name_of(s, nm[8]);
    return ic__body_decode(d + r.at, len - r.at, name_of(s, nm[9]), e, rb, detail);
}

static ic_status sq_scan_events(void *state, const ic_ledger_filter *f, ic_event_cb cb, void *arg,
                                ic_error *err)
{
    sq *s = state;
    char sql[256];
    names_load(s, err);
    const char *vals[4] = {f->provider, f->model, f->customer, f->feature};
    int64_t want[4];
    for (int i = 0; i < 4; i++) {
        want[i] = vals[i] ? names_find(s, vals[i]) : -2;
        if (vals[i] && want[i] < 0)
            return IC_OK; /* a name never seen: nothing matches */
    }
    snprintf(sql, sizeof sql, "SELECT id, t, d FROM events%s%s ORDER BY t, id",
             f->from_ms ? " WHERE t >= ?1" : " WHERE ?1 IS NULL",
             f->to_ms ? " AND t < ?2" : " AND ?2 IS NULL");
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(s, err, "scanning events");
    if (f->from_ms)
        sqlite3_bind_int64(q, 1, f->from_ms);
    if (f->to_ms)
        sqlite3_bind_int64(q, 2, f->to_ms);
    ic__rowtext *rb = malloc(sizeof *rb);
    if (!rb) {
        sqlite3_finalize(q);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    int rc;
    ic_status st = IC_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ic_event e;
        const unsigned char *d = sqlite3_column_blob(q, 2);
        size_t dl = (size_t)sqlite3_column_bytes(q, 2);
        e.id = (const char *)sqlite3_column_text(q, 0);
        e.t_ms = sqlite3_column_int64(q, 1);
        if (!decode_row(s, d, dl, &e, rb, f->detail)) {
            st = ic_error_set(err, IC_ERR_DB, "%s: event %.100s: malformed row", s->path, e.id);
            break;
        }
        if (want[0] >= 0 && names_find(s, e.provider) != want[0])
            continue;
        if (want[1] >= 0 && names_find(s, ic_event_rollup_model(&e)) != want[1])
            continue;
        if (want[2] >= 0 && names_find(s, e.customer) != want[2])
            continue;
        if (want[3] >= 0 && names_find(s, e.feature) != want[3])
            continue;
        if (cb(&e, arg))
            break;
    }
    if (st == IC_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = dberr(s, err, "scanning events");
    free(rb);
    sqlite3_finalize(q);
    return st;
}

/* v1 -> v2: rollups from the stored events, with the rules of ic_ledger_append */
static ic_status backfill_one(sq *s, const ic_event *e, ic_error *err);
typedef struct bf {
    sq *s;
    ic_status st;
    ic_error *err;
} bf;
static int backfill_cb(const ic_event *e, void *arg)
{
    bf *b = arg;
    b->st = backfill_one(b->s, e, b->err);
    return b->st != IC_OK;
}

static ic_status backfill(sq *s, ic_error *err)
{
    ic_status st;
    if ((st = names_load(s, err)) != IC_OK || (st = prepare_writes(s, err)) != IC_OK)
        return st;
    bf b = {s, IC_OK, err};
    ic_ledger_filter none = {0};
    if ((st = sq_scan_events(s, &none, backfill_cb, &b, err)) != IC_OK)
        return st;
    return b.st;
}

static ic_status sq_scan_rollups(void *state, const ic_ledger_filter *f, ic_rollup_cb cb,
                                 void *arg, ic_error *err)
{
    sq *s = state;
    char w[512], sql[1024];
    int64_t b[8];
    int nb;
    names_load(s, err);
    if (!where(s, f, true, w, sizeof w, b, &nb))
        return IC_OK;
    snprintf(sql, sizeof sql,
             "SELECT day,provider,model,customer,feature,requests,cache_hits,errors,in_tok,"
             "cache_read,cache_write,out_tok,reasoning,cost_u,cost_p,cin_u,cin_p,cout_u,cout_p,%s "
             "FROM rollup%s%s",
             s->schema >= 3 ? "coalesce(saved_u,0),coalesce(saved_p,0)" : "0,0",
             s->schema >= 3 ? " LEFT JOIN rollup_saved USING(day,provider,model,customer,feature)"
                            : "",
             w);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return dberr(s, err, "scanning rollups");
    for (int i = 0; i < nb; i++)
        sqlite3_bind_int64(q, i + 1, b[i]);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ic_rollup r;
        r.day = I6(0);
        r.provider = name_of(s, I6(1));
        r.model = name_of(s, I6(2));
        r.customer = name_of(s, I6(3));
        r.feature = name_of(s, I6(4));
        r.requests = (uint64_t)I6(5);
        r.cache_hits = (uint64_t)I6(6);
        r.errors = (uint64_t)I6(7);
        r.input_tokens = (uint64_t)I6(8);
        r.cache_read_tokens = (uint64_t)I6(9);
        r.cache_write_tokens = (uint64_t)I6(10);
        r.output_tokens = (uint64_t)I6(11);
        r.reasoning_tokens = (uint64_t)I6(12);
        r.cost = money_join(I6(13), I6(14));
        r.cost_input = money_join(I6(15), I6(16));
        r.cost_output = money_join(I6(17), I6(18));
        r.cache_saved = money_join(I6(19), I6(20));
        if (cb(&r, arg))
            break;
    }
    ic_status st = IC_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = dberr(s, err, "scanning rollups");
    sqlite3_finalize(q);
    return st;
}

static ic_status sq_revenue_put(void *state, const char *customer, const char *period,
                                ic_money amount, ic_error *err)
{
    sq *s = state;
    int64_t u = 0, p = 0;
    ic_status st = money_split(amount, &u, &p, err);
    if (st != IC_OK)
        return st;
    sqlite3_stmt *q = s->up_revenue;
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, u);
    sqlite3_bind_int64(q, 4, p);
    st = sqlite3_step(q) == SQLITE_DONE ? IC_OK : dberr(s, err, "storing revenue");
    sqlite3_reset(q);
    return st;
}

static ic_status sq_scan_revenue(void *state, ic_revenue_cb cb, void *arg, ic_error *err)
{
    sq *s = state;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT customer, period, amount_u, amount_p FROM revenue "
                           "ORDER BY period, customer", -1, &q, NULL) != SQLITE_OK)
        return dberr(s, err, "reading revenue");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (cb(TX(0), TX(1), money_join(I6(2), I6(3)), arg))
            break;
    ic_status st = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? IC_OK : dberr(s, err, "reading revenue");
    sqlite3_finalize(q);
    return st;
}

static ic_status sq_stats(void *state, ic_ledger_stats *out, ic_error *err)
{
    sq *s = state;
    sqlite3_stmt *q;
    out->schema_version = IC_LEDGER_SCHEMA_VERSION;
    /* the rollups hold the counts and sums; min/max(t) come from the time index */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT coalesce(sum(requests),0) FROM rollup),"
                           "(SELECT coalesce(sum(cost_u),0) FROM rollup),"
                           "(SELECT coalesce(sum(cost_p),0) FROM rollup),"
                           "(SELECT coalesce(min(t),0) FROM events),"
                           "(SELECT coalesce(max(t),0) FROM events)", -1, &q, NULL) != SQLITE_OK)
        return dberr(s, err, "reading ledger stats");
    ic_status st = IC_OK;
    if (sqlite3_step(q) == SQLITE_ROW) {
        out->events = (uint64_t)I6(0);
        out->cost = money_join(I6(1), I6(2));
        out->first_ms = I6(3);
        out->last_ms = I6(4);
    } else {
        st = dberr(s, err, "reading ledger stats");
    }
    sqlite3_finalize(q);
    return st;
}

const ic_ledger_ops ic_ledger_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .insert = sq_insert,
    .rollup_add = sq_rollup_add,
    .scan_events = sq_scan_events,
    .scan_rollups = sq_scan_rollups,
    .revenue_put = sq_revenue_put,
    .scan_revenue = sq_scan_revenue,
    .stats = sq_stats,
    .insert_batch = sq_insert_batch,
};
