/* pg_conn.c: one PostgreSQL connection as infercost opens it (pg_conn.h): shared by the ledger's
 * PostgreSQL backend and the gateway's shared budget store, so that both parse, time out and keep
 * secrets out of messages the same way. */
#include "pg_conn.h"

#include <stdlib.h>
#include <string.h>

#include "infercost/ledger.h"

ic_status ic__pg_error(const ic__pg *p, ic_error *err, const char *what)
{
    char msg[512];
    size_t n = 0;
    /* libpq's message on one line: its line breaks and tabs as "; " and spaces */
    for (const char *q = p->c ? PQerrorMessage(p->c) : ""; *q && n < sizeof msg - 3; q++) {
        if (*q == '\n') {
            while (q[1] == '\n' || q[1] == '\t' || q[1] == ' ')
                q++;
            if (q[1]) {
                msg[n++] = ';';
                msg[n++] = ' ';
            }
        } else {
            msg[n++] = *q == '\t' ? ' ' : *q;
        }
    }
    msg[n] = 0;
    /* libpq quotes parts of the connection string in some messages: never a secret of it */
    for (int k = 0; k < 2; k++) {
        const char *pw = p->secret[k];
        size_t pl = pw ? strlen(pw) : 0, o = 0;
        if (!pl)
            continue;
        char out[sizeof msg];
        for (const char *q = msg; *q && o < sizeof out - 4;) {
            if (!strncmp(q, pw, pl)) {
                memcpy(out + o, "***", 3);
                o += 3;
                q += pl;
            } else {
                out[o++] = *q++;
            }
        }
        out[o] = 0;
        memcpy(msg, out, o + 1);
    }
    return ic_error_set(err, IC_ERR_DB, "%s: %s: %s", p->where, what, msg[0] ? msg : "failed");
}

ic_status ic__pg_exec(const ic__pg *p, const char *sql, ic_error *err, const char *what)
{
    PGresult *r = PQexec(p->c, sql);
    ExecStatusType t = PQresultStatus(r);
    PQclear(r);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
        return IC_OK;
    return ic__pg_error(p, err, what);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* NOTICEs ("relation already exists, skipping") are not the user's business */
}

void ic__pg_close(ic__pg *p)
{
    for (int k = 0; k < 2; k++)
        if (p->secret[k]) {
            memset(p->secret[k], 0, strlen(p->secret[k]));
            free(p->secret[k]);
            p->secret[k] = NULL;
        }
    PQfinish(p->c);
    p->c = NULL;
}

ic_status ic__pg_connect(ic__pg *p, const char *target, ic_error *err)
{
    memset(p, 0, sizeof *p);
    ic_ledger_target_display(target, p->where, sizeof p->where);
    /* parsed first: libpq's own message for a malformed URI may quote all of it */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(target, &perr);
    if (!opts) {
        PQfreemem(perr);
        return ic_error_set(err, IC_ERR_INVALID, "%s: not a valid PostgreSQL connection URI "
                            "(libpq's message is not shown: it could quote a password)", p->where);
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        for (int k = 0; k < 2; k++)
            if (!strcmp(o->keyword, k ? "sslpassword" : "password") && o->val && o->val[0] &&
                !p->secret[k])
                p->secret[k] = strdup(o->val);
    PQconninfoFree(opts);
    /* defaults the URI can override: a server that does not answer is an error after 10 s,
     * not a hang (a gateway would never start listening), and a dead connection is noticed */
    const char *kw[6], *kv[6];
    int n = 0;
    const char *env = getenv("PGCONNECT_TIMEOUT"); /* the user's default stands */
    if (!env || !env[0])
        kw[n] = "connect_timeout", kv[n++] = "10";
    kw[n] = "keepalives_idle", kv[n++] = "30";
    kw[n] = "keepalives_interval", kv[n++] = "10";
    kw[n] = "keepalives_count", kv[n++] = "3";
    kw[n] = "dbname", kv[n++] = target; /* the URI: what it sets overrides the above */
    kw[n] = kv[n] = NULL;
    p->c = PQconnectdbParams(kw, kv, 1);
    ic_status st = IC_OK;
    if (!p->c) {
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    } else if (PQstatus(p->c) != CONNECTION_OK) {
        st = ic__pg_error(p, err, "cannot connect");
    } else {
        const char *enc = PQparameterStatus(p->c, "server_encoding");
        if (enc && strcmp(enc, "UTF8") && strcmp(enc, "SQL_ASCII"))
            st = ic_error_set(err, IC_ERR_DB, "%s: the database's encoding is %s; infercost "
                              "needs UTF8 (createdb -E UTF8 ...)", p->where, enc);
        else
            PQsetNoticeProcessor(p->c, quiet, NULL);
    }
    if (st != IC_OK)
        ic__pg_close(p);
    return st;
}
