/* budget_pg.c: the shared budget store's thread (budget_pg.h): this gateway's counters out to
 * PostgreSQL, the other gateways' sums back into the in-memory store. Money is numeric USD with
 * up to 12 decimals (exact pico-dollars, summed exactly by the server). */
#include "budget_pg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget.h"
#include "gw_util.h"
#include "infercost/money.h"
#include "pg_conn.h"

struct gw_budget_sync {
    ic__pg p;
    char *gateway;
    long interval_ms;
    void *store;
    char **keys;  /* the configured keys with limits, sorted: other keys' rows are not read */
    size_t nkeys;
    bool resend;  /* every key at the next write: the last one failed */
    bool failing; /* the last exchange failed (said once on stderr) */
    bool locked;  /* this session holds the lock on the gateway_id */
    bool twin;    /* after a reconnect, another process held this gateway_id (said once) */
    uint64_t wrote; /* rows written by the last exchange */
    pthread_t th;
    bool started;
    pthread_mutex_t mu; /* stop, done, stats */
    pthread_cond_t cv;
    bool stop, done;
    bool stalled; /* no exchange has finished for a while (gw_budget_sync_watch said so) */
    uint64_t last_done_us; /* monotonic time the last exchange ended (the watch's clock) */
    gw_budget_sync_stats st;
};

static const char *TABLE =
    "CREATE TABLE IF NOT EXISTS infercost_budget(key_id text COLLATE \"C\" NOT NULL,"
    " gateway text COLLATE \"C\" NOT NULL, day bigint NOT NULL, day_spent_usd numeric NOT NULL,"
    " month bigint NOT NULL, month_spent_usd numeric NOT NULL, held_usd numeric NOT NULL,"
    " minute bigint NOT NULL, requests bigint NOT NULL, tokens numeric NOT NULL,"
    " sync_ms bigint NOT NULL, updated timestamptz NOT NULL, PRIMARY KEY(key_id, gateway));"
    /* a table from the first versions of this file (never released): as it is now */
    "ALTER TABLE infercost_budget ADD COLUMN IF NOT EXISTS sync_ms bigint NOT NULL DEFAULT 1000;"
    "ALTER TABLE infercost_budget DROP COLUMN IF EXISTS instance";

/* whether the table is there as this file writes it (then a role without the right to create or
 * alter it can use it) */
static const char *CURRENT =
    "SELECT to_regclass('infercost_budget') IS NOT NULL AND"
    " EXISTS(SELECT 1 FROM information_schema.columns WHERE table_name = 'infercost_budget'"
    " AND table_schema = current_schema() AND column_name = 'sync_ms') AND"
    " NOT EXISTS(SELECT 1 FROM information_schema.columns WHERE table_name = 'infercost_budget'"
    " AND table_schema = current_schema() AND column_name = 'instance')";

/* rows no gateway has written for two months count for no current period (skipped without the
 * right to delete) */
static const char *CLEANUP =
    "DELETE FROM infercost_budget WHERE updated < now() - interval '62 days'";

static const char *UPSERT =
    "INSERT INTO infercost_budget(key_id, gateway, day, day_spent_usd, month, month_spent_usd,"
    " held_usd, minute, requests, tokens, sync_ms, updated)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())"
    " ON CONFLICT (key_id, gateway) DO UPDATE SET day = EXCLUDED.day,"
    " day_spent_usd = EXCLUDED.day_spent_usd, month = EXCLUDED.month,"
    " month_spent_usd = EXCLUDED.month_spent_usd, held_usd = EXCLUDED.held_usd,"
    " minute = EXCLUDED.minute, requests = EXCLUDED.requests, tokens = EXCLUDED.tokens,"
    " sync_ms = EXCLUDED.sync_ms, updated = now()";

/* the other gateways' sums for the current periods ($2 day, $3 month, $4 minute); a row's holds
 * only while its gateway writes it (within 10 of its own intervals, at least 5 s); rows of
 * older months only while written (a hold across the month's turn) */
static const char *OTHERS =
    "SELECT key_id, coalesce(sum(day_spent_usd) FILTER (WHERE day = $2), 0)::text,"
    " coalesce(sum(month_spent_usd) FILTER (WHERE month = $3), 0)::text,"
    " coalesce(sum(held_usd) FILTER (WHERE updated > now() - greatest(5000, 10 * sync_ms)"
    " * interval '1 ms'), 0)::text,"
    " coalesce(sum(requests) FILTER (WHERE minute = $4), 0)::text,"
    " coalesce(sum(tokens) FILTER (WHERE minute = $4), 0)::text"
    " FROM infercost_budget WHERE gateway <> $1 AND (month = $3 OR updated > now() - interval"
    " '1 hour') GROUP BY key_id";

static const char *OWN = "SELECT key_id, day, day_spent_usd::text, month, month_spent_usd::text"
                         " FROM infercost_budget WHERE gateway = $1";

/* one gateway_id, one running process: a session lock on it (released with the connection) */
static const char *LOCK = "SELECT pg_try_advisory_lock(hashtextextended($1, 7245293))";

static void set_err(char *err, size_t cap, const ic_error *e) { snprintf(err, cap, "%s", e->msg); }

/* a numeric of the server's as a count: negative as 0, beyond 64 bits as the largest */
static uint64_t count_of(const char *s)
{
    uint64_t v = 0;
    if (*s == '-')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*s - '0');
    return v;
}

static bool money_of(const char *s, ic_money *out)
{
    return ic_money_parse(s, strlen(s), out) == IC_OK;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* a key this gateway has limits for */
static bool configured(const gw_budget_sync *b, const char *key)
{
    return bsearch(&key, b->keys, b->nkeys, sizeof *b->keys, by_str) != NULL;
}

/* the results of a pipeline's nq statements and its sync; false if any failed (the error of the
 * first into e) */
static bool pipeline_results(gw_budget_sync *b, long nq, ic_error *e)
{
    bool ok = true;
    for (long q = 0; q <= nq; q++) {
        PGresult *r;
        while ((r = PQgetResult(b->p.c))) {
            ExecStatusType t = PQresultStatus(r);
            if (t != PGRES_COMMAND_OK && t != PGRES_PIPELINE_SYNC && ok) {
                ok = false;
                if (t != PGRES_PIPELINE_ABORTED)
                    ic__pg_error(&b->p, e, "writing the budgets");
            }
            PQclear(r);
            if (t == PGRES_PIPELINE_SYNC)
                return ok;
        }
        if (PQstatus(b->p.c) != CONNECTION_OK) {
            if (ok)
                ic__pg_error(&b->p, e, "writing the budgets");
            return false;
        }
    }
    return ok;
}

/* this gateway's counters out: upserts in a pipeline, PIPE rows per round trip */
static bool write_rows(gw_budget_sync *b, ic_error *e)
{
    enum { PIPE = 256 };
    gw_budget_row *rows;
    long n = gw_budget_memory_changed(b->store, b->resend, &rows);
    if (n < 0) {
        ic_error_set(e, IC_ERR_NOMEM, "out of memory");
        return false;
    }
    b->resend = true; /* until this write has gone through */
    bool ok = n == 0 || PQenterPipelineMode(b->p.c) == 1;
    if (!ok)
        ic__pg_error(&b->p, e, "writing the budgets");
    for (long at = 0; ok && at < n; at += PIPE) {
        long nq = 0;
        for (long i = at; ok && i < n && i < at + PIPE; i++, nq++) {
            const gw_budget_row *r = &rows[i];
            char d[24], m[24], mi[24], req[24], tok[24], ivl[24];
            char ds[IC_MONEY_STRLEN], ms[IC_MONEY_STRLEN], h[IC_MONEY_STRLEN];
            snprintf(d, sizeof d, "%lld", (long long)r->day);
            snprintf(m, sizeof m, "%lld", (long long)r->month);
            snprintf(mi, sizeof mi, "%lld", (long long)r->minute);
            snprintf(req, sizeof req, "%llu", (unsigned long long)r->requests);
            snprintf(tok, sizeof tok, "%llu", (unsigned long long)r->tokens);
            snprintf(ivl, sizeof ivl, "%ld", b->interval_ms);
            const char *v[11] = {r->key_id, b->gateway, d,
                                 ic_money_format(r->day_spent, ds, sizeof ds), m,
                                 ic_money_format(r->month_spent, ms, sizeof ms),
                                 ic_money_format(r->held, h, sizeof h), mi, req, tok, ivl};
            ok = PQsendQueryParams(b->p.c, UPSERT, 11, NULL, v, NULL, NULL, 0) == 1;
        }
        if (!ok)
            ic__pg_error(&b->p, e, "writing the budgets");
        /* the sync ends this round's implicit transaction; its results are read either way */
        if (PQpipelineSync(b->p.c) != 1) {
            if (ok)
                ic__pg_error(&b->p, e, "writing the budgets");
            ok = false;
            break;
        }
        if (!pipeline_results(b, nq, e))
            ok = false;
    }
    if (n > 0 && PQpipelineStatus(b->p.c) != PQ_PIPELINE_OFF && PQexitPipelineMode(b->p.c) != 1)
        PQreset(b->p.c); /* results left unread: a fresh connection rather than a stuck one */
    gw_budget_rows_free(rows, (size_t)n);
    if (ok) {
        b->resend = false;
        b->wrote = (uint64_t)n;
    }
    return ok;
}

/* the other gateways' sums in */
static bool read_others(gw_budget_sync *b, ic_error *e)
{
    int64_t now = gw_now_ms(), day, month, minute;
    gw_budget_periods(now, &day, &month, &minute);
    char d[24], m[24], mi[24];
    snprintf(d, sizeof d, "%lld", (long long)day);
    snprintf(m, sizeof m, "%lld", (long long)month);
    snprintf(mi, sizeof mi, "%lld", (long long)minute);
    const char *v[4] = {b->gateway, d, m, mi};
    PGresult *res = PQexecParams(b->p.c, OTHERS, 4, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        ic__pg_error(&b->p, e, "reading the other gateways' budgets");
        return false;
    }
    int nt = PQntuples(res), n = 0;
    gw_budget_row *rows = calloc(nt ? (size_t)nt : 1, sizeof *rows);
    bool ok = rows != NULL;
    for (int i = 0; ok && i < nt; i++) {
        if (!configured(b, PQgetvalue(res, i, 0)))
            continue; /* a key this gateway has no limits for */
        gw_budget_row *r = &rows[n++];
        r->key_id = PQgetvalue(res, i, 0);
        r->day = day;
        r->month = month;
        r->minute = minute;
        r->requests = count_of(PQgetvalue(res, i, 4));
        r->tokens = count_of(PQgetvalue(res, i, 5));
        ok = money_of(PQgetvalue(res, i, 1), &r->day_spent) &&
             money_of(PQgetvalue(res, i, 2), &r->month_spent) &&
             money_of(PQgetvalue(res, i, 3), &r->held);
    }
    if (ok)
        gw_budget_memory_set_others(b->store, rows, (size_t)n);
    else
        ic_error_set(e, IC_ERR_DB, "%s: reading the other gateways' budgets: %s", b->p.where,
                     rows ? "an amount that is not a USD amount with at most 12 decimals"
                          : "out of memory");
    free(rows); /* the ids were the result's */
    PQclear(res);
    return ok;
}

/* the lock on this gateway_id, for the session; *held: whether it was free */
static bool take_lock(gw_budget_sync *b, bool *held, ic_error *e)
{
    const char *v[1] = {b->gateway};
    PGresult *res = PQexecParams(b->p.c, LOCK, 1, NULL, v, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (ok)
        *held = PQgetvalue(res, 0, 0)[0] == 't';
    else
        ic__pg_error(&b->p, e, "locking the gateway_id");
    PQclear(res);
    return ok;
}

/* What a connection needs, at open and after a reconnect: statements that give up (a lock held
 * elsewhere, a server that stalls: the gateway's shutdown waits for the exchange in progress),
 * and the lock on this gateway_id; *held: whether it was free */
static bool session(gw_budget_sync *b, bool *held, ic_error *e)
{
    /* the server notices a gateway gone without closing (a host down, a network cut) within a
     * minute, and so ends its session and frees its gateway_id */
    if (ic__pg_exec(&b->p, "SET statement_timeout = '5s'; SET tcp_keepalives_idle = 30;"
                           " SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3",
                    e, "opening") != IC_OK)
        return false;
    return take_lock(b, held, e);
}

static const char *TWIN_MSG = "another running gateway uses gateway_id '%s' with this budget "
                              "store: each needs its own (else each overwrites the other's "
                              "counters, and the budgets count too little); if that gateway is "
                              "gone, its database session ends within a minute";

/* the connection made again if it was lost; the lock on the gateway_id taken if it is not
 * held (after a reconnect another process may have it: then this one neither writes, which
 * would overwrite that one's counters, nor stops trying) */
static bool connected(gw_budget_sync *b, ic_error *e)
{
    if (PQstatus(b->p.c) != CONNECTION_OK) {
        PQreset(b->p.c);
        if (PQstatus(b->p.c) != CONNECTION_OK) {
            ic__pg_error(&b->p, e, "cannot reconnect");
            return false;
        }
        b->locked = false;
        b->resend = true;
        bool held = false;
        if (!session(b, &held, e))
            return false;
        b->locked = held;
    } else if (!b->locked) {
        if (!take_lock(b, &b->locked, e))
            return false;
        b->resend = b->locked; /* the other process may have written this id's rows meanwhile */
    }
    if (!b->locked && !b->twin) {
        fprintf(stderr, "infercost serve: budget store: ");
        fprintf(stderr, TWIN_MSG, b->gateway);
        fprintf(stderr, " (this gateway's counters are not written until its id is free)\n");
    }
    b->twin = !b->locked;
    return true;
}

static bool exchange(gw_budget_sync *b, ic_error *e)
{
    if (!connected(b, e))
        return false;
    /* the others' sums are read even when the write failed */
    ic_error e2;
    bool w = !b->locked || write_rows(b, e), r = read_others(b, w ? e : &e2);
    return w && r;
}

static void record(gw_budget_sync *b, bool ok, const ic_error *e, int64_t took_us)
{
    pthread_mutex_lock(&b->mu);
    if (b->stalled && ok) /* a failure says so itself (below) */
        fprintf(stderr, "infercost serve: budget store: answering again after %.1f s\n",
                (double)took_us / 1e6);
    b->stalled = false;
    b->st.syncs++;
    b->st.last_us = took_us;
    b->st.total_us += took_us;
    b->st.rows += ok ? b->wrote : 0;
    if (ok)
        b->st.last_ok_ms = gw_now_ms();
    else
        b->st.errors++;
    b->last_done_us = gw_mono_us();
    pthread_mutex_unlock(&b->mu);
    if (!ok && !b->failing)
        fprintf(stderr, "infercost serve: budget store: %s (budgets go on with the other "
                        "gateways' spend as last read, and catch up when it is back)\n", e->msg);
    else if (ok && b->failing)
        fprintf(stderr, "infercost serve: budget store: back\n");
    b->failing = !ok;
}

static void *run(void *arg)
{
    gw_budget_sync *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += b->interval_ms / 1000;
        ts.tv_nsec += (b->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!b->stop && pthread_cond_timedwait(&b->cv, &b->mu, &ts) == 0) {
        }
        if (b->stop)
            break;
        pthread_mutex_unlock(&b->mu);
        ic_error e;
        uint64_t t0 = gw_mono_us();
        b->wrote = 0;
        bool ok = exchange(b, &e);
        record(b, ok, &e, (int64_t)(gw_mono_us() - t0));
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    /* the last counters out (the calls have settled): one try, with a reconnect if need be */
    ic_error e;
    if (!connected(b, &e) || (b->locked && !write_rows(b, &e)))
        fprintf(stderr, "infercost serve: budget store: the last counters were not written: "
                        "%s\n", e.msg);
    pthread_mutex_lock(&b->mu);
    b->done = true;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void sync_free(gw_budget_sync *b)
{
    ic__pg_close(&b->p);
    free(b->gateway);
    for (size_t i = 0; i < b->nkeys; i++)
        free(b->keys[i]);
    free(b->keys);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* this gateway's spend from an earlier run back into the store */
static bool restore(gw_budget_sync *b, ic_error *e)
{
    const char *v[1] = {b->gateway};
    PGresult *res = PQexecParams(b->p.c, OWN, 1, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        ic__pg_error(&b->p, e, "reading this gateway's budgets");
        return false;
    }
    int64_t now = gw_now_ms();
    bool ok = true;
    for (int i = 0; ok && i < PQntuples(res); i++) {
        if (!configured(b, PQgetvalue(res, i, 0)))
            continue;
        gw_budget_row r = {.key_id = PQgetvalue(res, i, 0)};
        r.day = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        r.month = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        ok = money_of(PQgetvalue(res, i, 2), &r.day_spent) &&
             money_of(PQgetvalue(res, i, 4), &r.month_spent);
        if (ok)
            gw_budget_memory_restore(b->store, &r, now);
        else
            ic_error_set(e, IC_ERR_DB, "%s: reading this gateway's budgets: an amount that is "
                         "not a USD amount with at most 12 decimals", b->p.where);
    }
    PQclear(res);
    return ok;
}

gw_budget_sync *gw_budget_sync_open(const char *target, const char *gateway_id, long interval_ms,
                                    const char *const *keys, size_t nkeys, void *store,
                                    char *err, size_t errcap)
{
    gw_budget_sync *b = calloc(1, sizeof *b);
    if (!b || !(b->gateway = strdup(gateway_id)) ||
        !(b->keys = calloc(nkeys ? nkeys : 1, sizeof *b->keys))) {
        if (b)
            free(b->gateway);
        free(b);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    b->interval_ms = interval_ms;
    b->store = store;
    b->resend = true;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    ic_error e;
    bool ok = true;
    for (size_t i = 0; ok && i < nkeys; i++)
        ok = (b->keys[b->nkeys++] = strdup(keys[i])) != NULL;
    if (!ok)
        ic_error_set(&e, IC_ERR_NOMEM, "out of memory");
    qsort(b->keys, b->nkeys, sizeof *b->keys, by_str);
    /* the table made under a lock: two gateways starting at once would race to create it */
    ok = ok && ic__pg_connect(&b->p, target, &e) == IC_OK && session(b, &b->locked, &e);
    if (ok && !b->locked) {
        ic_error_set(&e, IC_ERR_INVALID, TWIN_MSG, b->gateway);
        ok = false;
    }
    bool current = false;
    if (ok) {
        PGresult *res = PQexec(b->p.c, CURRENT);
        current = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
    }
    if (ok && !current)
        ok = ic__pg_exec(&b->p, "BEGIN", &e, "opening") == IC_OK &&
             ic__pg_exec(&b->p, "SELECT pg_advisory_xact_lock(7245292)", &e, "opening") == IC_OK &&
             ic__pg_exec(&b->p, TABLE, &e, "creating the budget table") == IC_OK &&
             ic__pg_exec(&b->p, "COMMIT", &e, "opening") == IC_OK;
    if (ok)
        PQclear(PQexec(b->p.c, CLEANUP));
    ok = ok && restore(b, &e) && exchange(b, &e);
    if (ok) {
        b->st.syncs = 1;
        b->st.last_ok_ms = gw_now_ms();
        b->last_done_us = gw_mono_us();
        ok = pthread_create(&b->th, NULL, run, b) == 0;
        if (!ok)
            ic_error_set(&e, IC_ERR_NOMEM, "cannot start the budget store's thread");
        b->started = ok;
    }
    if (!ok) {
        set_err(err, errcap, &e);
        sync_free(b);
        return NULL;
    }
    return b;
}

void gw_budget_sync_watch(gw_budget_sync *b)
{
    int64_t limit = b->interval_ms * 10 > 5000 ? b->interval_ms * 10 : 5000;
    pthread_mutex_lock(&b->mu);
    int64_t age = (int64_t)(gw_mono_us() - b->last_done_us) / 1000;
    if (!b->stalled && age > limit) { /* failing exchanges end, and say so themselves */
        b->stalled = true;
        fprintf(stderr, "infercost serve: budget store: no exchange has finished for %.1f s (the "
                        "database does not answer); budgets go on with the other gateways' spend "
                        "as last read\n", (double)age / 1000);
    }
    pthread_mutex_unlock(&b->mu);
}

void gw_budget_sync_stats_get(gw_budget_sync *b, gw_budget_sync_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    pthread_mutex_unlock(&b->mu);
}

bool gw_budget_sync_close(gw_budget_sync *b)
{
    if (!b)
        return true;
    if (b->started) {
        /* the thread writes the last counters and ends; a database that does not answer is not
         * waited for past the statement timeout and a margin */
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += 7;
        pthread_mutex_lock(&b->mu);
        b->stop = true;
        pthread_cond_signal(&b->cv);
        int rc = 0;
        while (!b->done && rc == 0)
            rc = pthread_cond_timedwait(&b->cv, &b->mu, &dl);
        bool done = b->done;
        pthread_mutex_unlock(&b->mu);
        if (!done) {
            fprintf(stderr, "infercost serve: budget store: not answering; stopping without "
                            "writing the last counters\n");
            return false; /* the thread may still use b and the store: left to the exit */
        }
        pthread_join(b->th, NULL);
    }
    sync_free(b);
    return true;
}
