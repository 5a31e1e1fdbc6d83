/* ledger_pg.c: the PostgreSQL backend of the ledger (ic_ledger_pg_ops, ledger.h), through libpq.
 * One database serves several gateways and ingests at once: each appends its batches in its own
 * transactions, and the store's keys keep every event once.
 *
 * Layout (schema version 3, as the SQLite backend's; docs/ledger.md):
 *   infercost_meta(key, value)          schema_version
 *   infercost_events(t, id, names..., counts, cost_pico, body)
 *                                       PRIMARY KEY (t, id), id compared byte by byte (COLLATE
 *                                       "C", as SQLite does). The names, the token counts and the
 *                                       cost are columns, so the ledger can be queried with SQL;
 *                                       body packs the rest as ledger.c does for every backend
 *                                       (source line, exact costs, latency, flags, task, tags,
 *                                       usage and cost detail, request hash).
 *   infercost_rollup(day, provider, model, customer, feature, sums...)
 *                                       the daily sums; money as numeric pico-dollars (exact,
 *                                       no overflow). v3 added cache_saved_pico (a v2 ledger
 *                                       gets it, 0, when a writer opens it; read-only, a v2
 *                                       ledger is read without it).
 *   infercost_revenue(customer, period, amount_pico)
 *
 * Appends: a batch goes in by binary COPY into a temporary table, then one INSERT ... ON CONFLICT
 * DO NOTHING, in (t, id) order, returns which events were new. The rollup deltas are kept until
 * commit and upserted then in key order, in one statement. Every writer takes row locks in the
 * same order (events by key, then rollups by key), so concurrent writers wait on each other but
 * cannot deadlock. Scans stream rows by binary COPY out.
 *
 * The connection string is libpq's (postgres://user@host:port/db?...; a password is better kept
 * in ~/.pgpass or $PGPASSWORD); messages show it with any password removed.
 * This file must not print and must not know about pricing. */
#include "infercost/ledger.h"
#include "infercost/record.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"
#include "pg_conn.h"
#include "unicode_tables.h"

/* a rollup delta held until commit */
typedef struct pend {
    int64_t day;
    char *name[4]; /* provider model customer feature */
    uint64_t n[8]; /* requests cache_hits errors in cache_read cache_write out reasoning */
    ic_money cost[4]; /* cost, input, output, cache saving */
} pend;

typedef struct pg {
    ic__pg p; /* the connection (pg_conn.h) */
    bool readonly;
    int schema; /* the ledger's schema version once open */
    pend *pend;
    size_t npend, cappend;
} pg;

static const char *nz(const char *x) { return x ? x : ""; }

static ic_status dberr(pg *s, ic_error *err, const char *what) { return ic__pg_error(&s->p, err, what); }

static ic_status exec(pg *s, const char *sql, ic_error *err, const char *what)
{
    return ic__pg_exec(&s->p, sql, err, what);
}

static const char *schema =
    "CREATE TABLE IF NOT EXISTS infercost_meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS infercost_events(t bigint NOT NULL, id text COLLATE \"C\" NOT NULL,"
    " provider text NOT NULL, model text NOT NULL, model_served text NOT NULL,"
    " api_flavor text NOT NULL, customer text NOT NULL, feature text NOT NULL,"
    " key_id text NOT NULL, status text NOT NULL, routed_from text NOT NULL,"
    " source_file text NOT NULL, input_tokens bigint NOT NULL, cache_read_tokens bigint NOT NULL,"
    " cache_write_tokens bigint NOT NULL, output_tokens bigint NOT NULL,"
    " reasoning_tokens bigint NOT NULL, cost_pico bigint NOT NULL, body bytea NOT NULL,"
    " PRIMARY KEY(t, id));"
    "CREATE TABLE IF NOT EXISTS infercost_rollup(day bigint NOT NULL,"
    " provider text COLLATE \"C\" NOT NULL, model text COLLATE \"C\" NOT NULL,"
    " customer text COLLATE \"C\" NOT NULL, feature text COLLATE \"C\" NOT NULL,"
    " requests bigint NOT NULL, cache_hits bigint NOT NULL, errors bigint NOT NULL,"
    " input_tokens bigint NOT NULL, cache_read_tokens bigint NOT NULL,"
    " cache_write_tokens bigint NOT NULL, output_tokens bigint NOT NULL,"
    " reasoning_tokens bigint NOT NULL, cost_pico numeric NOT NULL,"
    " cost_input_pico numeric NOT NULL, cost_output_pico numeric NOT NULL,"
    " cache_saved_pico numeric NOT NULL DEFAULT 0,"
    " PRIMARY KEY(day, provider, model, customer, feature));"
    "CREATE TABLE IF NOT EXISTS infercost_revenue(customer text COLLATE \"C\" NOT NULL,"
    " period text COLLATE \"C\" NOT NULL, amount_pico numeric NOT NULL,"
    " PRIMARY KEY(customer, period));"
    "INSERT INTO infercost_meta VALUES('schema_version','3') ON CONFLICT DO NOTHING;";

/* v2 -> v3: the rollups' cache saving */
static const char *migrate_v3 =
    "ALTER TABLE infercost_rollup ADD COLUMN IF NOT EXISTS"
    " cache_saved_pico numeric NOT NULL DEFAULT 0;"
    "UPDATE infercost_meta SET value = '3' WHERE key = 'schema_version';";

/* the schema version stored, 0 when there is no ledger in this database */
static ic_status schema_version(pg *s, int *v, ic_error *err)
{
    *v = 0;
    PGresult *r = PQexec(s->p.c, "SELECT to_regclass('infercost_meta') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return dberr(s, err, "reading the schema");
    }
    bool have = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!have)
        return IC_OK;
    r = PQexec(s->p.c, "SELECT value FROM infercost_meta WHERE key='schema_version'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return dberr(s, err, "reading the schema version");
    }
    const char *val = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "";
    char *end;
    long n = strtol(val, &end, 10);
    bool ok = val[0] && !*end && n >= 2 && n < 1000000;
    if (ok)
        *v = (int)n;
    ic_status st = ok ? IC_OK
                      : ic_error_set(err, IC_ERR_DB, "%s: the ledger's schema version is \"%.20s\", "
                                     "which no infercost wrote; it is left alone", s->p.where, val);
    PQclear(r);
    return st;
}

static void pend_clear(pg *s)
{
    for (size_t i = 0; i < s->npend; i++)
        for (int k = 0; k < 4; k++)
            free(s->pend[i].name[k]);
    s->npend = 0;
}

static void pg_close(void *state)
{
    pg *s = state;
    if (!s)
        return;
    pend_clear(s);
    free(s->pend);
    ic__pg_close(&s->p);
    free(s);
}

/* What a connection needs before use, at open and after a reconnect: the encoding, read-only
 * when asked, and a writer's staging tables (temporary: private to the connection, made outside
 * any transaction so that a rolled-back append cannot take them away). */
static ic_status session(pg *s, ic_error *err)
{
    ic_status st = exec(s, "SET client_encoding = 'UTF8'", err, "setting the encoding");
    if (st != IC_OK || s->readonly)
        return st != IC_OK ? st : exec(s, "SET default_transaction_read_only = on", err,
                                       "opening read-only");
    return exec(s, "CREATE TEMP TABLE IF NOT EXISTS infercost_stage(i int NOT NULL,"
                   " t bigint NOT NULL, id text COLLATE \"C\" NOT NULL, provider text NOT NULL,"
                   " model text NOT NULL, model_served text NOT NULL, api_flavor text NOT NULL,"
                   " customer text NOT NULL, feature text NOT NULL, key_id text NOT NULL,"
                   " status text NOT NULL, routed_from text NOT NULL, source_file text NOT NULL,"
                   " input_tokens bigint NOT NULL, cache_read_tokens bigint NOT NULL,"
                   " cache_write_tokens bigint NOT NULL, output_tokens bigint NOT NULL,"
                   " reasoning_tokens bigint NOT NULL, cost_pico bigint NOT NULL,"
                   " body bytea NOT NULL) ON COMMIT DELETE ROWS;"
                   "CREATE TEMP TABLE IF NOT EXISTS infercost_rstage(day bigint, provider text,"
                   " model text, customer text, feature text, n0 bigint, n1 bigint, n2 bigint,"
                   " n3 bigint, n4 bigint, n5 bigint, n6 bigint, n7 bigint, c0u bigint,"
                   " c0p bigint, c1u bigint, c1p bigint, c2u bigint, c2p bigint, c3u bigint,"
                   " c3p bigint)"
                   " ON COMMIT DELETE ROWS",
                err, "opening");
}

/* A connection lost (the server restarted, the network dropped) is made again before the next
 * transaction or scan: a gateway's ledger sink retries its pass and carries on. */
static ic_status live(pg *s, ic_error *err)
{
    if (PQstatus(s->p.c) == CONNECTION_OK)
        return IC_OK;
    PQreset(s->p.c);
    if (PQstatus(s->p.c) != CONNECTION_OK)
        return dberr(s, err, "cannot reconnect");
    return session(s, err);
}

static ic_status pg_open(void **state, const char *target, bool readonly, ic_error *err)
{
    *state = NULL;
    pg *s = calloc(1, sizeof *s);
    if (!s)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    s->readonly = readonly;
    ic_status st = ic__pg_connect(&s->p, target, err);
    if (st != IC_OK) {
        free(s);
        return st;
    }
    if ((st = session(s, err)) != IC_OK) {
        pg_close(s);
        return st;
    }
    /* create or check the schema; the advisory lock keeps two writers starting at once from
     * racing to create it */
    int v = 0;
    if ((st = exec(s, "BEGIN", err, "opening")) != IC_OK)
        goto fail;
    if (!readonly && (st = exec(s, "SELECT pg_advisory_xact_lock(7245291)", err, "opening")) != IC_OK)
        goto fail;
    if ((st = schema_version(s, &v, err)) != IC_OK)
        goto fail;
    if (v > IC_LEDGER_SCHEMA_VERSION) {
        st = ic_error_set(err, IC_ERR_DB,
                          "%s: ledger schema version %d is newer than this infercost (%d)",
                          s->p.where, v, IC_LEDGER_SCHEMA_VERSION);
        goto fail;
    }
    if (v == 0 && readonly) {
        st = ic_error_set(err, IC_ERR_DB, "%s: no infercost ledger in this database (create it "
                          "by writing to it, e.g. infercost ingest)", s->p.where);
        goto fail;
    }
    if (v == 0 && (st = exec(s, schema, err, "creating the ledger")) != IC_OK)
        goto fail;
    if (v == 2 && !readonly) {
        PGresult *r = PQexec(s->p.c, migrate_v3);
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool done = PQresultStatus(r) == PGRES_COMMAND_OK;
        bool denied = !done && code && !strcmp(code, "42501"); /* insufficient_privilege */
        PQclear(r);
        if (denied) {
            st = ic_error_set(err, IC_ERR_DB, "%s: the ledger is at schema version 2 and this role "
                              "may not upgrade it to 3 (a column added to infercost_rollup, which "
                              "takes the table's owner): write to it once as the owner (e.g. "
                              "infercost ingest --ledger OWNER-URL with an empty file); reading "
                              "commands work meanwhile", s->p.where);
            goto fail;
        }
        if (!done) {
            st = dberr(s, err, "upgrading the ledger");
            goto fail;
        }
    }
    s->schema = v == 2 && readonly ? 2 : IC_LEDGER_SCHEMA_VERSION;
    if ((st = exec(s, "COMMIT", err, "opening")) != IC_OK)
        goto fail;
    *state = s;
    return IC_OK;
fail:
    PQclear(PQexec(s->p.c, "ROLLBACK"));
    pg_close(s);
    return st;
}

static ic_status pg_begin(void *state, ic_error *err)
{
    pg *s = state;
    pend_clear(s);
    ic_status st = live(s, err);
    if (st == IC_OK && (st = exec(s, "BEGIN", err, "starting a transaction")) != IC_OK &&
        PQstatus(s->p.c) != CONNECTION_OK && live(s, err) == IC_OK) /* it had just gone: again */
        st = exec(s, "BEGIN", err, "starting a transaction");
    return st;
}

static void pg_rollback(void *state)
{
    pg *s = state;
    pend_clear(s);
    PQclear(PQexec(s->p.c, "ROLLBACK"));
}

/* ---- binary COPY (PostgreSQL's documented format: a header, then per row a 16-bit field
 * count and per field a 32-bit length and its bytes, all big-endian; -1 ends) ---- */

typedef struct cbuf {
    unsigned char *p;
    size_t n, cap;
    bool oom;
} cbuf;

static void cb_put(cbuf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void cb_be(cbuf *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    for (int i = 0; i < bytes; i++)
        x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    cb_put(b, x, (size_t)bytes);
}

static void cb_int8(cbuf *b, int64_t v)
{
    cb_be(b, 8, 4);
    cb_be(b, (uint64_t)v, 8);
}

static void cb_bytes(cbuf *b, const void *d, size_t n)
{
    cb_be(b, n, 4);
    cb_put(b, d, n);
}

/* a text field: PostgreSQL's text holds UTF-8 only, so a name that is not (a file name in
 * another encoding, passed to the library as it is) goes in with its bad bytes as "\xNN" */
static void cb_text(cbuf *b, const char *s)
{
    if (ic_utf8_valid(s, strlen(s))) {
        cb_bytes(b, s, strlen(s));
        return;
    }
    size_t n = strlen(s), len, k = 0;
    char *o = malloc(4 * n + 1);
    if (!o) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i += len) {
        if (ic__utf8_decode_strict((const unsigned char *)s + i, n - i, &len) == UINT32_MAX) {
            len = 1;
            k += (size_t)sprintf(o + k, "\\x%02X", (unsigned char)s[i]);
        } else {
            memcpy(o + k, s + i, len);
            k += len;
        }
    }
    cb_bytes(b, o, k);
    free(o);
}

static void cb_header(cbuf *b)
{
    cb_put(b, "PGCOPY\n\377\r\n\0", 11);
    cb_be(b, 0, 4); /* flags */
    cb_be(b, 0, 4); /* header extension */
}

/* send b as the data of a COPY ... FROM STDIN started by sql */
static ic_status copy_in(pg *s, const char *sql, cbuf *b, ic_error *err, const char *what)
{
    if (b->oom)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    cb_be(b, 0xFFFF, 2); /* trailer: -1 */
    PGresult *r = PQexec(s->p.c, sql);
    ExecStatusType t = PQresultStatus(r);
    PQclear(r);
    if (t != PGRES_COPY_IN)
        return dberr(s, err, what);
    int ok = 1;
    for (size_t at = 0; at < b->n && ok == 1;) {
        size_t k = b->n - at < (1u << 20) ? b->n - at : (1u << 20);
        ok = PQputCopyData(s->p.c, (const char *)b->p + at, (int)k);
        at += k;
    }
    if (PQputCopyEnd(s->p.c, ok == 1 ? NULL : "send failed") != 1)
        return dberr(s, err, what);
    ic_status st = IC_OK;
    while ((r = PQgetResult(s->p.c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && st == IC_OK)
            st = dberr(s, err, what);
        PQclear(r);
    }
    return st;
}

/* A COPY ... TO STDOUT (FORMAT binary) read row by row: next() gives each row's fields as
 * (pointer, length; -1 for NULL), valid until the next call. */
typedef struct cout {
    pg *s;
    char *row;
    bool header_seen, done;
} cout;

static ic_status cout_start(cout *o, pg *s, const char *sql, ic_error *err, const char *what)
{
    memset(o, 0, sizeof *o);
    o->s = s;
    o->done = true; /* until the COPY has started */
    ic_status st = live(s, err);
    if (st != IC_OK)
        return st;
    PGresult *r = PQexec(s->p.c, sql);
    ExecStatusType t = PQresultStatus(r);
    PQclear(r);
    if (t != PGRES_COPY_OUT)
        return dberr(s, err, what);
    o->done = false;
    return IC_OK;
}

static int64_t be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    if (bytes == 4)
        return (int32_t)(uint32_t)v;
    if (bytes == 2)
        return (int16_t)(uint16_t)v;
    return (int64_t)v;
}

/* 1: a row (nf fields in f/fl), 0: the end, -1: an error (message in err) */
static int cout_next(cout *o, const unsigned char **f, int64_t *fl, int nf, ic_error *err,
                     const char *what)
{
    if (o->row) {
        PQfreemem(o->row);
        o->row = NULL;
    }
    if (o->done)
        return 0;
    int n = PQgetCopyData(o->s->p.c, &o->row, 0);
    if (n == -1) { /* finished: the command's result */
        o->done = true;
        PGresult *r;
        int rc = 0;
        while ((r = PQgetResult(o->s->p.c))) {
            if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
                dberr(o->s, err, what);
                rc = -1;
            }
            PQclear(r);
        }
        return rc;
    }
    if (n < 0) {
        dberr(o->s, err, what);
        o->done = true;
        return -1;
    }
    const unsigned char *p = (const unsigned char *)o->row, *end = p + n;
    if (!o->header_seen) { /* the first row carries the 19-byte header */
        if (n < 19 || memcmp(p, "PGCOPY\n\377\r\n\0", 11))
            goto bad;
        int64_t ext = be(p + 15, 4);
        if (ext < 0 || 19 + ext > n)
            goto bad;
        p += 19 + ext;
        o->header_seen = true;
        if (p == end) /* the header alone */
            return cout_next(o, f, fl, nf, err, what);
    }
    if (end - p < 2)
        goto bad;
    int64_t cnt = be(p, 2);
    p += 2;
    if (cnt == -1) /* the trailer; the next call reports the end */
        return cout_next(o, f, fl, nf, err, what);
    if (cnt != nf)
        goto bad;
    for (int i = 0; i < nf; i++) {
        if (end - p < 4)
            goto bad;
        fl[i] = be(p, 4);
        p += 4;
        if (fl[i] < -1 || fl[i] > end - p)
            goto bad;
        f[i] = p;
        if (fl[i] > 0)
            p += fl[i];
    }
    return 1;
bad:
    ic_error_set(err, IC_ERR_DB, "%s: %s: malformed COPY data", o->s->p.where, what);
    return -1;
}

/* end a COPY OUT, reading what is left when it stopped early (a cancel could arrive after the
 * COPY and hit the next statement; the rest of a scan is cheaper than that risk) */
static void cout_stop(cout *o)
{
    if (o->row) {
        PQfreemem(o->row);
        o->row = NULL;
    }
    if (o->done)
        return;
    char *row;
    int n;
    while ((n = PQgetCopyData(o->s->p.c, &row, 0)) >= 0)
        PQfreemem(row);
    PGresult *r;
    while ((r = PQgetResult(o->s->p.c)))
        PQclear(r);
    o->done = true;
}

/* ---- writes ---- */

#define STAGE_COLS "t, id, provider, model, model_served, api_flavor, customer, feature, key_id, " \
                   "status, routed_from, source_file, input_tokens, cache_read_tokens, "          \
                   "cache_write_tokens, output_tokens, reasoning_tokens, cost_pico, body"

static ic_status pg_insert_batch(void *state, ic_ledger_batch *b, bool *dup, ic_error *err)
{
    pg *s = state;
    if (!b->n)
        return IC_OK;
    ic_status st;
    cbuf c = {0};
    cb_header(&c);
    int64_t pt = 0;
    const char *pid = NULL;
    for (size_t k = 0; k < b->n; k++) {
        uint32_t i = b->order[k];
        const ic__bent *x = &b->ent[i];
        const char *id = ic__bid(b, x);
        dup[i] = true; /* until the insert says it was new */
        if (pid && x->t == pt && !strcmp(id, pid))
            continue; /* the same event twice in the batch */
        pt = x->t;
        pid = id;
        cb_be(&c, 20, 2);
        cb_be(&c, 4, 4);
        cb_be(&c, i, 4);
        cb_int8(&c, x->t);
        cb_bytes(&c, id, x->id_len);
        for (int n = 0; n < IC__NNAMES; n++)
            cb_text(&c, ic__bname(b, x->name[n]));
        for (int n = 0; n < 5; n++)
            cb_int8(&c, (int64_t)x->tok[n]);
        cb_int8(&c, (int64_t)x->cost); /* within +-IC_EVENT_COST_MAX: fits */
        cb_bytes(&c, b->arena + x->body_off, x->body_len);
    }
    st = copy_in(s, "COPY infercost_stage(i, " STAGE_COLS ") FROM STDIN (FORMAT binary)", &c, err,
                 "appending events");
    free(c.p);
    if (st != IC_OK)
        return st;
    /* the new ones, in key order: every writer locks keys in the same order */
    PGresult *r = PQexec(s->p.c, "WITH ins AS (INSERT INTO infercost_events SELECT " STAGE_COLS
                               " FROM infercost_stage ORDER BY t, id ON CONFLICT DO NOTHING"
                               " RETURNING t, id) SELECT s.i FROM infercost_stage s JOIN ins"
                               " ON s.t = ins.t AND s.id = ins.id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return dberr(s, err, "appending events");
    }
    for (int k = 0, n = PQntuples(r); k < n; k++) {
        long i = atol(PQgetvalue(r, k, 0));
        if (i >= 0 && (size_t)i < b->n)
            dup[i] = false;
    }
    PQclear(r);
    return exec(s, "TRUNCATE infercost_stage", err, "appending events");
}

static ic_status pg_insert(void *state, const ic_event *e, bool *inserted, ic_error *err)
{
    return ic__insert_one(state, pg_insert_batch, e, inserted, err);
}

static ic_status pg_rollup_add(void *state, const ic_rollup *r, ic_error *err)
{
    pg *s = state;
    if (s->npend == s->cappend) {
        size_t cap = s->cappend ? s->cappend * 2 : 64;
        pend *p = realloc(s->pend, cap * sizeof *p);
        if (!p)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        s->pend = p;
        s->cappend = cap;
    }
    pend *p = &s->pend[s->npend];
    const char *nm[4] = {r->provider, r->model, r->customer, r->feature};
    for (int k = 0; k < 4; k++) {
        if (!(p->name[k] = strdup(nz(nm[k])))) {
            while (k--)
                free(p->name[k]);
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        }
    }
    p->day = r->day;
    uint64_t n[8] = {r->requests,          r->cache_hits,         r->errors,
                     r->input_tokens,      r->cache_read_tokens, r->cache_write_tokens,
                     r->output_tokens,     r->reasoning_tokens};
    memcpy(p->n, n, sizeof n);
    p->cost[0] = r->cost;
    p->cost[1] = r->cost_input;
    p->cost[2] = r->cost_output;
    p->cost[3] = r->cache_saved;
    s->npend++;
    return IC_OK;
}

/* money as the (micro, pico remainder) pair the stage carries: each fits in 64 bits */
static void cb_money(cbuf *c, ic_money m)
{
    ic_money u = m / 1000000, p = m % 1000000;
    cb_int8(c, (int64_t)u);
    cb_int8(c, (int64_t)p);
}

static ic_status pg_commit(void *state, ic_error *err)
{
    pg *s = state;
    ic_status st;
    if (s->npend) {
        cbuf c = {0};
        cb_header(&c);
        for (size_t i = 0; i < s->npend; i++) {
            const pend *p = &s->pend[i];
            cb_be(&c, 21, 2);
            cb_int8(&c, p->day);
            for (int k = 0; k < 4; k++)
                cb_text(&c, p->name[k]);
            for (int k = 0; k < 8; k++)
                cb_int8(&c, (int64_t)p->n[k]);
            for (int k = 0; k < 4; k++)
                cb_money(&c, p->cost[k]);
        }
        st = copy_in(s, "COPY infercost_rstage FROM STDIN (FORMAT binary)", &c, err,
                     "updating rollups");
        free(c.p);
        if (st != IC_OK)
            return st;
        /* summed per key (a key may come twice), upserted in key order */
        if ((st = exec(s,
                       "INSERT INTO infercost_rollup SELECT day, provider, model, customer,"
                       " feature, sum(n0), sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n6),"
                       " sum(n7), sum(c0u::numeric * 1000000 + c0p),"
                       " sum(c1u::numeric * 1000000 + c1p), sum(c2u::numeric * 1000000 + c2p),"
                       " sum(c3u::numeric * 1000000 + c3p)"
                       " FROM infercost_rstage GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
                       " ON CONFLICT (day, provider, model, customer, feature) DO UPDATE SET"
                       " requests = infercost_rollup.requests + EXCLUDED.requests,"
                       " cache_hits = infercost_rollup.cache_hits + EXCLUDED.cache_hits,"
                       " errors = infercost_rollup.errors + EXCLUDED.errors,"
                       " input_tokens = infercost_rollup.input_tokens + EXCLUDED.input_tokens,"
                       " cache_read_tokens = infercost_rollup.cache_read_tokens"
                       " + EXCLUDED.cache_read_tokens,"
                       " cache_write_tokens = infercost_rollup.cache_write_tokens"
                       " + EXCLUDED.cache_write_tokens,"
                       " output_tokens = infercost_rollup.output_tokens + EXCLUDED.output_tokens,"
                       " reasoning_tokens = infercost_rollup.reasoning_tokens"
                       " + EXCLUDED.reasoning_tokens,"
                       " cost_pico = infercost_rollup.cost_pico + EXCLUDED.cost_pico,"
                       " cost_input_pico = infercost_rollup.cost_input_pico"
                       " + EXCLUDED.cost_input_pico,"
                       " cost_output_pico = infercost_rollup.cost_output_pico"
                       " + EXCLUDED.cost_output_pico,"
                       " cache_saved_pico = infercost_rollup.cache_saved_pico"
                       " + EXCLUDED.cache_saved_pico",
                       err, "updating rollups")) != IC_OK)
            return st;
        pend_clear(s);
    }
    return exec(s, "COMMIT", err, "committing");
}

/* ---- reads ---- */

#define MONEY_MAX ((ic_money)(((ic_u128)1 << 127) - 1))

/* a decimal integer (numeric as text) to money; false if it is not one or does not fit */
static bool parse_money(const unsigned char *p, int64_t n, ic_money *out)
{
    bool neg = n > 0 && p[0] == '-';
    int64_t i = neg;
    if (i >= n)
        return false;
    ic_money v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (MONEY_MAX - 9) / 10)
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* " AND col = 'literal'" for a filter's value; false when out of memory */
static bool and_eq(pg *s, char **sql, size_t *len, const char *col, const char *val)
{
    if (!val)
        return true;
    char *lit = PQescapeLiteral(s->p.c, val, strlen(val));
    if (!lit)
        return false;
    size_t add = strlen(col) + strlen(lit) + 16;
    char *n = realloc(*sql, *len + add);
    if (!n) {
        PQfreemem(lit);
        return false;
    }
    *len += (size_t)snprintf(n + *len, add, " AND %s = %s", col, lit);
    *sql = n;
    PQfreemem(lit);
    return true;
}

/* whether a filter can match at all: the stored names are UTF-8, a value that is not matches
 * nothing (PQescapeLiteral would refuse it) */
static bool matchable(const ic_ledger_filter *f)
{
    const char *v[4] = {f->provider, f->model, f->customer, f->feature};
    for (int i = 0; i < 4; i++)
        if (v[i] && !ic_utf8_valid(v[i], strlen(v[i])))
            return false;
    return true;
}

/* SELECT ... FROM table WHERE <time range><filters> ORDER BY order, as a COPY to binary */
static char *scan_sql(pg *s, const char *cols, const char *table, const char *tcol,
                      int64_t lo, int64_t hi, const ic_ledger_filter *f, const char *model_col,
                      const char *order)
{
    size_t cap = strlen(cols) + strlen(table) + 256;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t len = (size_t)snprintf(sql, cap, "COPY (SELECT %s FROM %s WHERE true", cols, table);
    if (f->from_ms)
        len += (size_t)snprintf(sql + len, cap - len, " AND %s >= %lld", tcol, (long long)lo);
    if (f->to_ms)
        len += (size_t)snprintf(sql + len, cap - len, " AND %s < %lld", tcol, (long long)hi);
    if (!and_eq(s, &sql, &len, "provider", f->provider) ||
        !and_eq(s, &sql, &len, model_col, f->model) ||
        !and_eq(s, &sql, &len, "customer", f->customer) ||
        !and_eq(s, &sql, &len, "feature", f->feature)) {
        free(sql);
        return NULL;
    }
    size_t add = strlen(order) + 64;
    char *n = realloc(sql, len + add);
    if (!n) {
        free(sql);
        return NULL;
    }
    snprintf(n + len, add, "%s%s) TO STDOUT (FORMAT binary)", order[0] ? " ORDER BY " : "", order);
    return n;
}

/* Text fields of a row as NUL-terminated strings, in one buffer that grows to the longest row */
typedef struct txt {
    char *p;
    size_t n, cap;
} txt;

/* make room for a row whose nf fields total len bytes; false when out of memory */
static bool txt_room(txt *t, const int64_t *fl, int nf)
{
    size_t need = 0;
    for (int i = 0; i < nf; i++)
        need += (fl[i] > 0 ? (size_t)fl[i] : 0) + 1;
    t->n = 0;
    if (need <= t->cap)
        return true;
    char *p = realloc(t->p, need);
    if (!p)
        return false;
    t->p = p;
    t->cap = need;
    return true;
}

static const char *txt_add(txt *t, const unsigned char *f, int64_t n)
{
    char *out = t->p + t->n;
    size_t k = n > 0 ? (size_t)n : 0;
    memcpy(out, f, k);
    out[k] = 0;
    t->n += k + 1;
    return out;
}

enum { EV_FIELDS = 13 };

static ic_status pg_scan_events(void *state, const ic_ledger_filter *f, ic_event_cb cb, void *arg,
                                ic_error *err)
{
    pg *s = state;
    if (!matchable(f))
        return IC_OK;
    char *sql = scan_sql(s,
                         "id, t, provider, model, model_served, api_flavor, customer, feature,"
                         " key_id, status, routed_from, source_file, body",
                         "infercost_events", "t", f->from_ms, f->to_ms, f,
                         "(CASE WHEN model_served <> '' THEN model_served ELSE model END)",
                         "t, id");
    ic__rowtext *rt = malloc(sizeof *rt);
    txt tx = {0};
    if (!sql || !rt) {
        free(sql);
        free(rt);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    cout o;
    ic_status st = cout_start(&o, s, sql, err, "scanning events");
    free(sql);
    if (st != IC_OK) {
        free(rt);
        return st;
    }
    const unsigned char *fv[EV_FIELDS];
    int64_t fl[EV_FIELDS];
    int rc;
    while ((rc = cout_next(&o, fv, fl, EV_FIELDS, err, "scanning events")) == 1) {
        ic_event e;
        memset(&e, 0, sizeof e);
        if (!txt_room(&tx, fl, EV_FIELDS)) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            break;
        }
        e.id = txt_add(&tx, fv[0], fl[0]);
        if (fl[1] != 8 || fl[12] < 0) {
            st = ic_error_set(err, IC_ERR_DB, "%s: event %.100s: malformed row", s->p.where, e.id);
            break;
        }
        e.t_ms = be(fv[1], 8);
        const char **nm[10] = {&e.provider, &e.model,   &e.model_served, &e.api_flavor,
                               &e.customer, &e.feature, &e.key_id,       &e.status,
                               &e.routed_from, NULL};
        for (int k = 0; k < 9; k++)
            *nm[k] = txt_add(&tx, fv[2 + k], fl[2 + k]);
        const char *file = txt_add(&tx, fv[11], fl[11]);
        if (!ic__body_decode(fv[12], (size_t)fl[12], file, &e, rt, f->detail)) {
            st = ic_error_set(err, IC_ERR_DB, "%s: event %.100s: malformed row", s->p.where, e.id);
            break;
        }
        if (cb(&e, arg))
            break;
    }
    if (rc == -1 && st == IC_OK)
        st = IC_ERR_DB; /* err is set */
    cout_stop(&o);
    free(rt);
    free(tx.p);
    return st;
}

static ic_status pg_scan_rollups(void *state, const ic_ledger_filter *f, ic_rollup_cb cb,
                                 void *arg, ic_error *err)
{
    pg *s = state;
    if (!matchable(f))
        return IC_OK;
    /* whole days only: a rollup is a day */
    int64_t lo = f->from_ms ? (f->from_ms + 86399999) / 86400000 : 0;
    int64_t hi = f->to_ms ? f->to_ms / 86400000 : 0;
#define ROLLUP_COLS                                                                              \
    "day, provider, model, customer, feature, requests, cache_hits, errors, input_tokens,"     \
    " cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_pico::text," \
    " cost_input_pico::text, cost_output_pico::text, "
    /* a v2 ledger read-only: no cache saving */
    char *sql = scan_sql(s,
                         s->schema >= 3 ? ROLLUP_COLS "cache_saved_pico::text" : ROLLUP_COLS "'0'",
                         "infercost_rollup", "day", lo, hi, f, "model",
                         "day, provider, model, customer, feature");
#undef ROLLUP_COLS
    if (!sql)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    txt tx = {0};
    cout o;
    ic_status st = cout_start(&o, s, sql, err, "scanning rollups");
    free(sql);
    if (st != IC_OK)
        return st;
    const unsigned char *fv[17];
    int64_t fl[17];
    int rc;
    while ((rc = cout_next(&o, fv, fl, 17, err, "scanning rollups")) == 1) {
        ic_rollup r;
        bool ok = fl[0] == 8;
        for (int k = 5; k < 13; k++)
            ok = ok && fl[k] == 8;
        if (!txt_room(&tx, fl, 5)) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            break;
        }
        if (!ok || !parse_money(fv[13], fl[13], &r.cost) ||
            !parse_money(fv[14], fl[14], &r.cost_input) ||
            !parse_money(fv[15], fl[15], &r.cost_output) ||
            !parse_money(fv[16], fl[16], &r.cache_saved)) {
            st = ic_error_set(err, IC_ERR_DB, "%s: malformed rollup row", s->p.where);
            break;
        }
        r.day = be(fv[0], 8);
        const char **nm[4] = {&r.provider, &r.model, &r.customer, &r.feature};
        for (int k = 0; k < 4; k++)
            *nm[k] = txt_add(&tx, fv[1 + k], fl[1 + k]);
        uint64_t *n[8] = {&r.requests,          &r.cache_hits,         &r.errors,
                          &r.input_tokens,      &r.cache_read_tokens, &r.cache_write_tokens,
                          &r.output_tokens,     &r.reasoning_tokens};
        for (int k = 0; k < 8; k++)
            *n[k] = (uint64_t)be(fv[5 + k], 8);
        if (cb(&r, arg))
            break;
    }
    if (rc == -1 && st == IC_OK)
        st = IC_ERR_DB;
    cout_stop(&o);
    free(tx.p);
    return st;
}

static ic_status pg_revenue_put(void *state, const char *customer, const char *period,
                                ic_money amount, ic_error *err)
{
    pg *s = state;
    char amt[64];
    ic_u128 m = amount < 0 ? (ic_u128)0 - (ic_u128)amount : (ic_u128)amount;
    char digits[48];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m);
    int k = 0;
    if (amount < 0)
        amt[k++] = '-';
    while (nd)
        amt[k++] = digits[--nd];
    amt[k] = 0;
    const char *v[3] = {customer, period, amt};
    PGresult *r = PQexecParams(s->p.c,
                               "INSERT INTO infercost_revenue VALUES($1, $2, $3::numeric)"
                               " ON CONFLICT (customer, period) DO UPDATE"
                               " SET amount_pico = EXCLUDED.amount_pico",
                               3, NULL, v, NULL, NULL, 0);
    ExecStatusType t = PQresultStatus(r);
    PQclear(r);
    return t == PGRES_COMMAND_OK ? IC_OK : dberr(s, err, "storing revenue");
}

static ic_status pg_scan_revenue(void *state, ic_revenue_cb cb, void *arg, ic_error *err)
{
    pg *s = state;
    PGresult *r = PQexec(s->p.c, "SELECT customer, period, amount_pico::text FROM infercost_revenue"
                               " ORDER BY period, customer");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return dberr(s, err, "reading revenue");
    }
    ic_status st = IC_OK;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        ic_money m;
        const char *a = PQgetvalue(r, i, 2);
        if (!parse_money((const unsigned char *)a, (int64_t)strlen(a), &m)) {
            st = ic_error_set(err, IC_ERR_DB, "%s: malformed revenue row", s->p.where);
            break;
        }
        if (cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), m, arg))
            break;
    }
    PQclear(r);
    return st;
}

static ic_status pg_stats(void *state, ic_ledger_stats *out, ic_error *err)
{
    pg *s = state;
    out->schema_version = IC_LEDGER_SCHEMA_VERSION;
    PGresult *r = PQexec(s->p.c, "SELECT (SELECT coalesce(sum(requests), 0) FROM infercost_rollup),"
                               " (SELECT coalesce(sum(cost_pico), 0) FROM infercost_rollup)::text,"
                               " (SELECT coalesce(min(t), 0) FROM infercost_events),"
                               " (SELECT coalesce(max(t), 0) FROM infercost_events)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return dberr(s, err, "reading ledger stats");
    }
    const char *c = PQgetvalue(r, 0, 1);
    ic_status st = IC_OK;
    if (!parse_money((const unsigned char *)c, (int64_t)strlen(c), &out->cost))
        st = ic_error_set(err, IC_ERR_DB, "%s: malformed ledger stats", s->p.where);
    out->events = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    out->first_ms = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    out->last_ms = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    PQclear(r);
    return st;
}

const ic_ledger_ops ic_ledger_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .insert = pg_insert,
    .rollup_add = pg_rollup_add,
    .scan_events = pg_scan_events,
    .scan_rollups = pg_scan_rollups,
    .revenue_put = pg_revenue_put,
    .scan_revenue = pg_scan_revenue,
    .stats = pg_stats,
    .insert_batch = pg_insert_batch,
};
