/* pg_conn.h: internal. One PostgreSQL connection as infercost opens it, for the ledger's
 * PostgreSQL backend (ledger_pg.c) and the gateway's shared budget store: the URI parsed before
 * libpq sees it (libpq's own message for a malformed one may quote it whole), its passwords kept
 * aside to be cut from every message, a connect timeout and TCP keepalives by default, and only a
 * UTF8 (or SQL_ASCII) database accepted. */
#ifndef IC_PG_CONN_H
#define IC_PG_CONN_H

#include <libpq-fe.h>

#include "infercost/status.h"

typedef struct ic__pg {
    PGconn *c;
    char where[256]; /* the target without its password, for messages */
    char *secret[2]; /* the target's password and sslpassword, if given: cut from messages */
} ic__pg;

/* Connect p to target (a postgresql:// URI or libpq key=value string). On failure p holds no
 * connection and err names the target without its password. NOTICEs are not printed. */
ic_status ic__pg_connect(ic__pg *p, const char *target, ic_error *err);
/* err = "WHERE: WHAT: libpq's last message", on one line, without the target's secrets;
 * returns IC_ERR_DB */
ic_status ic__pg_error(const ic__pg *p, ic_error *err, const char *what);
/* run a statement without results; IC_OK when it succeeded */
ic_status ic__pg_exec(const ic__pg *p, const char *sql, ic_error *err, const char *what);
/* the connection closed and the secrets wiped */
void ic__pg_close(ic__pg *p);

#endif
