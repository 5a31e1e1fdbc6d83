# tests/pg_server.bash: start a throwaway PostgreSQL server for the ledger's tests (sourced; not a
# test itself). pg_start DIR starts one in DIR (a new cluster: no password, a Unix socket in DIR,
# no TCP, fsync off) and sets IC_PG_URL to a libpq URI of its database "infercost"; pg_stop stops
# it; pg_down and pg_up stop and start it again with its data. The server refuses to run as
# root, so as root it runs as the "postgres" user the Debian package creates. pg_start returns
# 1, with the reason in PG_SKIP, when the server binaries are missing (scripts/bootstrap
# installs them) or the server does not start.
pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    return 1
}

pg_as() { # run a command as the server's user
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() { # DIR
    PG_DIR=$1 PG_SKIP=""
    PG_BIN=$(pg_bindir) || { PG_SKIP="no PostgreSQL server binaries (apt-get install postgresql)"; return 1; }
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
        PG_SKIP="running as root and there is no postgres user to run the server as"
        return 1
    fi
    mkdir -p "$PG_DIR"
    chmod 755 "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    # the scratch directory's parents must let the server's user reach its socket
    local p=$PG_DIR
    while [ "$p" != / ] && [ "$p" != . ]; do p=$(dirname "$p"); [ "$(id -u)" = 0 ] && chmod o+x "$p" 2>/dev/null; done
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || {
        PG_SKIP="initdb failed: $(tail -n 3 "$PG_DIR/initdb.log")"; return 1; }
    PG_PORT=$((20000 + RANDOM % 20000))
    pg_up || { PG_SKIP="the server did not start: $(tail -n 3 "$PG_DIR/server.log")"; return 1; }
    pg_as "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U postgres infercost || {
        PG_SKIP="createdb failed"; pg_stop; return 1; }
    IC_PG_URL="postgresql://postgres@/infercost?host=$PG_DIR&port=$PG_PORT"
    export IC_PG_URL
}

pg_start_or_fail() { # DIR: pg_start, or the test fails (its bad and finish) and exits 1. Sets
    # PG_PW, a made-up password (the server trusts local connections: it is sent to no one), and
    # PG_PW_URL, the database's URI with it, to check that no message shows it
    if ! pg_start "$1"; then
        bad "cannot start a PostgreSQL server: $PG_SKIP"
        finish
        exit 1
    fi
    PG_PW="pw$RANDOM$RANDOM"
    PG_PW_URL="postgresql://postgres:$PG_PW@/infercost?host=$PG_DIR&port=$PG_PORT"
}

pg_psql() { # SQL... against the test database
    pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR" -p "$PG_PORT" -U postgres -d infercost "$@"
}

pg_fresh() { # an empty database again: the ledger's tables dropped
    pg_psql -c "DROP TABLE IF EXISTS infercost_meta, infercost_events, infercost_rollup, infercost_revenue" >/dev/null
}

pg_stop() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] &&
        pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    return 0
}

pg_down() { # stop the server, keeping its data (pg_up starts it again on the same port)
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
}

pg_up() { # PG_DURABLE=1: the server's defaults (fsync, synchronous commit), as in production
    local fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && fast=""
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-k $PG_DIR -p $PG_PORT -c listen_addresses='' $fast" start >/dev/null 2>&1
}
