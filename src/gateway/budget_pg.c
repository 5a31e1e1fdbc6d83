/* budget_pg.c: the shared budget store's thread (budget_pg.h): this gateway's counters out to
 * PostgreSQL, the other gateways' sums back into the in-memory store. Money is numeric USD with
 * up to 12 decimals (exact pico-dollars, summed exactly by the server). */
#include "budget_pg.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "gw_util.h"
#include "infercost/money.h"
#include "pg_conn.h"

struct gw_budget_sync {
    ic__pg p;
    char *gateway;
    long interval_ms;
    void *store;
    bool resend;  /* every key at the next write: the last one failed */
    bool failing; /* the last exchange failed (said once on stderr) */
    uint64_t wrote; /* rows written by the last exchange */
    char instance[33]; /* this process, in its rows: a random token */
    char since[64];    /* the server's time when this process started writing */
    unsigned nexch;    /* exchanges, for the check for a twin every TWIN_EVERY */
    bool twin;         /* another process writes as this gateway_id (said once) */
    pthread_t th;
    bool started;
    pthread_mutex_t mu; /* stop, stats */
    pthread_cond_t cv;
    bool stop;
    gw_budget_sync_stats st;
};

static const char *TABLE =
    "CREATE TABLE IF NOT EXISTS infercost_budget(key_id text COLLATE \"C\" NOT NULL,"
    " gateway text COLLATE \"C\" NOT NULL, day bigint NOT NULL, day_spent_usd numeric NOT NULL,"
    " month bigint NOT NULL, month_spent_usd numeric NOT NULL, held_usd numeric NOT NULL,"
    " minute bigint NOT NULL, requests bigint NOT NULL, tokens numeric NOT NULL,"
    " instance text NOT NULL, updated timestamptz NOT NULL, PRIMARY KEY(key_id, gateway))";

static const char *UPSERT =
    "INSERT INTO infercost_budget(key_id, gateway, day, day_spent_usd, month, month_spent_usd,"
    " held_usd, minute, requests, tokens, instance, updated)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())"
    " ON CONFLICT (key_id, gateway) DO UPDATE SET day = EXCLUDED.day,"
    " day_spent_usd = EXCLUDED.day_spent_usd, month = EXCLUDED.month,"
    " month_spent_usd = EXCLUDED.month_spent_usd, held_usd = EXCLUDED.held_usd,"
    " minute = EXCLUDED.minute, requests = EXCLUDED.requests, tokens = EXCLUDED.tokens,"
    " instance = EXCLUDED.instance, updated = now()";

/* rows of this gateway_id written since this process's start by another process ($2: this
 * one's instance, $3: the server's time at its start) */
static const char *TWIN = "SELECT count(*) FROM infercost_budget"
                          " WHERE gateway = $1 AND instance <> $2 AND updated > $3::timestamptz";

/* the other gateways' sums for the current periods ($2 day, $3 month, $4 minute); holds only
 * from rows written in the last $5 ms */
static const char *OTHERS =
    "SELECT key_id, coalesce(sum(day_spent_usd) FILTER (WHERE day = $2), 0)::text,"
    " coalesce(sum(month_spent_usd) FILTER (WHERE month = $3), 0)::text,"
    " coalesce(sum(held_usd) FILTER (WHERE updated > now() - $5::bigint * interval '1 ms'), 0)::text,"
    " coalesce(sum(requests) FILTER (WHERE minute = $4), 0)::text,"
    " coalesce(sum(tokens) FILTER (WHERE minute = $4), 0)::text"
    " FROM infercost_budget WHERE gateway <> $1 GROUP BY key_id";

static const char *OWN = "SELECT key_id, day, day_spent_usd::text, month, month_spent_usd::text"
                         " FROM infercost_budget WHERE gateway = $1";

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

static int64_t stale_ms(const gw_budget_sync *b)
{
    return b->interval_ms * 10 > 5000 ? b->interval_ms * 10 : 5000;
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
            char d[24], m[24], mi[24], req[24], tok[24];
            char ds[IC_MONEY_STRLEN], ms[IC_MONEY_STRLEN], h[IC_MONEY_STRLEN];
            snprintf(d, sizeof d, "%lld", (long long)r->day);
            snprintf(m, sizeof m, "%lld", (long long)r->month);
            snprintf(mi, sizeof mi, "%lld", (long long)r->minute);
            snprintf(req, sizeof req, "%llu", (unsigned long long)r->requests);
            snprintf(tok, sizeof tok, "%llu", (unsigned long long)r->tokens);
            const char *v[11] = {r->key_id, b->gateway, d,
                                 ic_money_format(r->day_spent, ds, sizeof ds), m,
                                 ic_money_format(r->month_spent, ms, sizeof ms),
                                 ic_money_format(r->held, h, sizeof h), mi, req, tok, b->instance};
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
    char d[24], m[24], mi[24], st[24];
    snprintf(d, sizeof d, "%lld", (long long)day);
    snprintf(m, sizeof m, "%lld", (long long)month);
    snprintf(mi, sizeof mi, "%lld", (long long)minute);
    snprintf(st, sizeof st, "%lld", (long long)stale_ms(b));
    const char *v[5] = {b->gateway, d, m, mi, st};
    PGresult *res = PQexecParams(b->p.c, OTHERS, 5, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        ic__pg_error(&b->p, e, "reading the other gateways' budgets");
        return false;
    }
    int n = PQntuples(res);
    gw_budget_row *rows = calloc(n ? (size_t)n : 1, sizeof *rows);
    bool ok = rows != NULL;
    for (int i = 0; ok && i < n; i++) {
        gw_budget_row *r = &rows[i];
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
        gw_budget_memory_set_others(b->store, rows, (size_t)n, now);
    else
        ic_error_set(e, IC_ERR_DB, "%s: reading the other gateways' budgets: %s", b->p.where,
                     rows ? "an amount that is not a USD amount with at most 12 decimals"
                          : "out of memory");
    free(rows); /* the ids were the result's */
    PQclear(res);
    return ok;
}

/* Two running gateways with one gateway_id overwrite each other's rows, and the budgets count
 * too little: said on stderr when another process has written rows under this id since this
 * one started (every TWIN_EVERY exchanges: it scans the table). */
enum { TWIN_EVERY = 25 };
static bool check_twin(gw_budget_sync *b, ic_error *e)
{
    const char *v[3] = {b->gateway, b->instance, b->since};
    PGresult *res = PQexecParams(b->p.c, TWIN, 3, NULL, v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        ic__pg_error(&b->p, e, "checking the gateway_id");
        return false;
    }
    bool twin = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    if (twin && !b->twin)
        fprintf(stderr, "infercost serve: budget store: another running gateway writes its "
                        "counters as gateway_id '%s': each overwrites the other's, and the budgets "
                        "count too little; give each gateway its own gateway_id\n", b->gateway);
    b->twin = twin;
    return true;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool exchange(gw_budget_sync *b, ic_error *e)
{
    if (PQstatus(b->p.c) != CONNECTION_OK) {
        PQreset(b->p.c);
        if (PQstatus(b->p.c) != CONNECTION_OK) {
            ic__pg_error(&b->p, e, "cannot reconnect");
            return false;
        }
        b->resend = true;
    }
    return write_rows(b, e) && read_others(b, e) &&
           (++b->nexch % TWIN_EVERY != 0 || check_twin(b, e));
}

static void record(gw_budget_sync *b, bool ok, const ic_error *e, int64_t took_us)
{
    pthread_mutex_lock(&b->mu);
    b->st.syncs++;
    b->st.last_us = took_us;
    b->st.total_us += took_us;
    b->st.rows += ok ? b->wrote : 0;
    if (ok)
        b->st.last_ok_ms = gw_now_ms();
    else
        b->st.errors++;
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
        int64_t t0 = mono_us();
        b->wrote = 0;
        bool ok = exchange(b, &e);
        record(b, ok, &e, mono_us() - t0);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void sync_free(gw_budget_sync *b)
{
    ic__pg_close(&b->p);
    free(b->gateway);
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

/* the server's clock now, into b->since */
static bool server_now(gw_budget_sync *b, ic_error *e)
{
    PGresult *res = PQexec(b->p.c, "SELECT now()::text");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (ok)
        snprintf(b->since, sizeof b->since, "%s", PQgetvalue(res, 0, 0));
    else
        ic__pg_error(&b->p, e, "opening");
    PQclear(res);
    return ok;
}

gw_budget_sync *gw_budget_sync_open(const char *target, const char *gateway_id, long interval_ms,
                                    void *store, char *err, size_t errcap)
{
    gw_budget_sync *b = calloc(1, sizeof *b);
    if (!b || !(b->gateway = strdup(gateway_id))) {
        free(b);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    b->interval_ms = interval_ms;
    b->store = store;
    b->resend = true;
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) { /* unlikely: time and pid */
        uint64_t x = (uint64_t)gw_now_ms() * 1000003u ^ (uint64_t)getpid();
        memcpy(rnd, &x, 8);
        memcpy(rnd + 8, &x, 8);
    }
    for (int i = 0; i < 16; i++)
        snprintf(b->instance + 2 * i, 3, "%02x", rnd[i]);
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    ic_error e;
    /* the table made under a lock: two gateways starting at once would race to create it */
    bool ok = ic__pg_connect(&b->p, target, &e) == IC_OK &&
              ic__pg_exec(&b->p, "BEGIN", &e, "opening") == IC_OK &&
              ic__pg_exec(&b->p, "SELECT pg_advisory_xact_lock(7245292)", &e, "opening") == IC_OK &&
              ic__pg_exec(&b->p, TABLE, &e, "creating the budget table") == IC_OK &&
              ic__pg_exec(&b->p, "COMMIT", &e, "opening") == IC_OK && restore(b, &e) &&
              server_now(b, &e) && exchange(b, &e);
    if (ok) {
        b->st.syncs = 1;
        b->st.last_ok_ms = gw_now_ms();
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

void gw_budget_sync_stats_get(gw_budget_sync *b, gw_budget_sync_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    pthread_mutex_unlock(&b->mu);
}

void gw_budget_sync_close(gw_budget_sync *b)
{
    if (!b)
        return;
    if (b->started) {
        pthread_mutex_lock(&b->mu);
        b->stop = true;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->th, NULL);
        ic_error e;
        if (!exchange(b, &e))
            fprintf(stderr, "infercost serve: budget store: the last counters were not written: "
                            "%s\n", e.msg);
    }
    sync_free(b);
}
