/* test_ledger.c: the ledger store (ledger.h) on its SQLite backend: idempotent appends, rollups
 * that match the events exactly, all-or-nothing batches, filters, revenue, stats, the refusal of a
 * PostgreSQL target, the response cache's saving summed like the costs, and the forward
 * migrations of schema-v1 and v2 files. */
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "infercost/ledger.h"
#include "infercost/units.h"
#include "test.h"

static char dir[] = "/tmp/ic_test_ledger_XXXXXX";
static char path[256];

static ic_event ev(const char *id, int64_t t, const char *model, const char *cust, ic_money cost)
{
    ic_event e = {0};
    e.id = id;
    e.t_ms = t;
    e.provider = "openai";
    e.model = model;
    e.customer = cust;
    e.feature = "chat";
    e.input_tokens = 100;
    e.output_tokens = 10;
    e.cost = cost;
    e.cost_input = cost / 2;
    e.cost_output = cost - cost / 2;
    e.latency_ms = -1;
    e.usage_json = "{\"input_tokens\":100,\"output_tokens\":10}";
    return e;
}

typedef struct sums {
    uint64_t n;
    ic_money cost, saved;
    uint64_t in;
} sums;

static int sum_roll(const ic_rollup *r, void *a)
{
    sums *s = a;
    s->n += r->requests;
    s->cost += r->cost;
    s->saved += r->cache_saved;
    s->in += r->input_tokens;
    return 0;
}

static int sum_ev(const ic_event *e, void *a)
{
    sums *s = a;
    s->n++;
    s->cost += e->cost;
    s->saved += e->cache_saved;
    s->in += e->input_tokens;
    return 0;
}

static void fresh(const char *name)
{
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
}

/* run SQL on the SQLite file at p directly (an older writer, or a downgrade) */
static void sql_exec(const char *p, const char *sql)
{
    sqlite3 *db;
    CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* the schema version the file at p says it has */
static void check_schema(const char *p, const char *want)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    CHECK_INT(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='schema_version'", -1, &q, NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), want);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void t_append_idempotent(void)
{
    fresh("a");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    /* 1 pico-dollar and a large amount (the most a call may cost, less a pico-dollar):
     * exactness in both columns */
    ic_money big = (ic_money)999999 * IC_PICO_PER_USD + 999999999999;
    ic_event e[3] = {ev("a", 1772359200000, "gpt-4o", "acme", 1),
                     ev("b", 1772359200000 + 86400000, "gpt-4o", "acme", big),
                     ev("c", 1772359200000, "gpt-4o-mini", "beta", 3000000)};
    size_t n = 0;
    bool dup[3];
    CHECK_INT(ic_ledger_append(l, e, 3, &n, dup, &err), IC_OK);
    CHECK_INT(n, 3);
    CHECK(!dup[0] && !dup[1] && !dup[2]);
    CHECK_INT(ic_ledger_append(l, e, 3, &n, dup, &err), IC_OK);
    CHECK_INT(n, 0);
    CHECK(dup[0] && dup[1] && dup[2]);
    /* a call above IC_EVENT_COST_MAX is refused whole, and nothing of its batch is written (a
     * day's rollup sums could overflow otherwise) */
    ic_event over[2] = {ev("d", 1772359200000, "gpt-4o", "acme", 5),
                        ev("e", 1772359200000, "gpt-4o", "acme", IC_EVENT_COST_MAX + 1)};
    CHECK_INT(ic_ledger_append(l, over, 2, &n, NULL, &err), IC_ERR_RANGE);
    CHECK(strstr(err.msg, "event e: a cost beyond $1,000,000") != NULL);
    sums r = {0}, s = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r, &err), IC_OK);
    CHECK_INT(ic_ledger_scan_events(l, NULL, sum_ev, &s, &err), IC_OK);
    CHECK_INT(r.n, 3);
    CHECK_INT(s.n, 3);
    CHECK(r.cost == 1 + big + 3000000);
    CHECK(s.cost == r.cost);
    CHECK_INT(r.in, 300);
    ic_ledger_stats st;
    CHECK_INT(ic_ledger_stats_get(l, &st, &err), IC_OK);
    CHECK_INT(st.events, 3);
    CHECK(st.cost == r.cost);
    CHECK_INT(st.first_ms, 1772359200000);
    CHECK_INT(st.last_ms, 1772359200000 + 86400000);
    char buf[IC_MONEY_STRLEN];
    CHECK_STR(ic_money_format(st.cost, buf, sizeof buf), "1000000.000003");
    ic_ledger_close(l);

    /* reopen: still there, a partly overlapping batch adds only the new one */
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_event e2[2] = {ev("c", 1772359200000, "gpt-4o-mini", "beta", 3000000),
                      ev("d", 1772359200000, "gpt-4o-mini", "beta", 5)};
    CHECK_INT(ic_ledger_append(l, e2, 2, &n, NULL, &err), IC_OK);
    CHECK_INT(n, 1);
    CHECK_INT(ic_ledger_stats_get(l, &st, &err), IC_OK);
    CHECK_INT(st.events, 4);
    ic_ledger_close(l);
}

static void t_batch_all_or_nothing(void)
{
    fresh("b");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_event e[3] = {ev("x", 1000, "m1", "newcustomer", 7), ev("y", 2000, "m1", "c", 8),
                     ev(NULL, 3000, "m1", "c", 9)};
    size_t n = 99;
    CHECK_INT(ic_ledger_append(l, e, 3, &n, NULL, &err), IC_ERR_INVALID);
    CHECK_INT(n, 0);
    ic_ledger_stats st;
    CHECK_INT(ic_ledger_stats_get(l, &st, &err), IC_OK);
    CHECK_INT(st.events, 0);
    sums s = {0};
    CHECK_INT(ic_ledger_scan_events(l, NULL, sum_ev, &s, &err), IC_OK);
    CHECK_INT(s.n, 0);
    /* the names added by the failed batch were rolled back: a new batch still works */
    CHECK_INT(ic_ledger_append(l, e, 2, &n, NULL, &err), IC_OK);
    CHECK_INT(n, 2);
    ic_ledger_filter f = {.customer = "newcustomer"};
    sums s2 = {0};
    CHECK_INT(ic_ledger_scan_events(l, &f, sum_ev, &s2, &err), IC_OK);
    CHECK_INT(s2.n, 1);
    CHECK(s2.cost == 7);
    ic_ledger_close(l);
}

static void t_filters(void)
{
    fresh("f");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    int64_t d0 = 20000LL * 86400000;
    ic_event e[4] = {ev("1", d0 + 5, "m1", "a", 1), ev("2", d0 + 86400000, "m2", "a", 2),
                     ev("3", d0 + 2 * 86400000, "m1", "b", 4), ev("4", d0 - 1, "m1", "b", 8)};
    e[1].model_served = "m1-served";
    CHECK_INT(ic_ledger_append(l, e, 4, NULL, NULL, &err), IC_OK);
    ic_ledger_filter f = {.from_ms = d0, .to_ms = d0 + 2 * 86400000};
    sums a = {0}, b = {0};
    CHECK_INT(ic_ledger_scan_events(l, &f, sum_ev, &a, &err), IC_OK);
    CHECK_INT(ic_ledger_scan_rollups(l, &f, sum_roll, &b, &err), IC_OK);
    CHECK_INT(a.n, 2);
    CHECK(a.cost == 3);
    CHECK_INT(b.n, 2);
    CHECK(b.cost == 3);
    ic_ledger_filter g = {.model = "m1-served"};
    sums c = {0}, d = {0};
    CHECK_INT(ic_ledger_scan_events(l, &g, sum_ev, &c, &err), IC_OK);
    CHECK_INT(ic_ledger_scan_rollups(l, &g, sum_roll, &d, &err), IC_OK);
    CHECK(c.cost == 2 && d.cost == 2);
    ic_ledger_filter h = {.customer = "nobody"};
    sums z = {0};
    CHECK_INT(ic_ledger_scan_events(l, &h, sum_ev, &z, &err), IC_OK);
    CHECK_INT(z.n, 0);
    ic_ledger_close(l);
}

static int rev_cb(const char *c, const char *p, ic_money m, void *a)
{
    char *out = a, b[IC_MONEY_STRLEN];
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s/%s=%s;", c, p, ic_money_format(m, b, sizeof b));
    return 0;
}

static void t_revenue(void)
{
    fresh("r");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(l, "acme", "2026-03", 1000 * IC_PICO_PER_USD, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(l, "acme", "2026-03", 1500 * IC_PICO_PER_USD + 1, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(l, "beta", "2026-02", -5 * IC_PICO_PER_USD, &err), IC_OK);
    char out[256] = "";
    CHECK_INT(ic_ledger_scan_revenue(l, rev_cb, out, &err), IC_OK);
    CHECK_STR(out, "beta/2026-02=-5;acme/2026-03=1500.000000000001;");
    ic_ledger_close(l);
}

static void t_backends(void)
{
    ic_ledger *l = NULL;
    ic_error err = {0};
    /* a PostgreSQL server that is not there: an error naming it, never its password */
    char url[256];
    snprintf(url, sizeof url, "postgresql://ic:%s@/x?host=%s/no-such-dir&connect_timeout=2",
             "hunter2pw", dir);
    CHECK_INT(ic_ledger_open(&l, url, false, &err), IC_ERR_DB);
    CHECK(l == NULL);
    CHECK(strstr(err.msg, "postgresql://ic@/x?host=") != NULL);
    CHECK(strstr(err.msg, "cannot connect") != NULL);
    CHECK(strstr(err.msg, "hunter2pw") == NULL);
    char shown[256];
    static const char *const cases[][2] = {
        {"postgres://u:pw@h:5/db", "postgres://u@h:5/db"},
        {"postgres://u@h/db?password=pw", "postgres://u@h/db"},
        {"postgres://h/db?sslmode=require&password=pw", "postgres://h/db?sslmode=require"},
        {"postgres://h/db?password=pw&sslmode=require", "postgres://h/db?sslmode=require"},
        {"postgres://h/db?a=1&password=pw&b=2", "postgres://h/db?a=1&b=2"},
        {"postgres://h/db?a=1&%70assword=pw", "postgres://h/db?a=1"},
        {"postgres://h/db?pass%77ord=pw&a=1", "postgres://h/db?a=1"},
        {"postgres://u:pw@[::1/db", "postgres://u@[::1/db"},
        {"postgres://u:pa/ss@h/db", "postgres://u@h/db"},
        {"postgres://h/db?sslpassword=pw&a=1", "postgres://h/db?a=1"},
        {"postgres://h:5432?password=x&user=a@b", "postgres://h:5432?user=a@b"},
        {"postgresql:///db?host=/run/pg", "postgresql:///db?host=/run/pg"},
        {"/var/lib/x.db", "/var/lib/x.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ic_ledger_target_display(cases[i][0], shown, sizeof shown);
        CHECK_STR(shown, cases[i][1]);
    }
    CHECK(ic_ledger_is_url("postgres://h/db") && ic_ledger_is_url("postgresql://h/db"));
    CHECK(!ic_ledger_is_url("sqlite:x.db") && !ic_ledger_is_url("postgres.db"));
    CHECK_INT(ic_ledger_open(&l, "", false, &err), IC_ERR_INVALID);
    fresh("ro");
    CHECK(ic_ledger_open(&l, path, true, &err) != IC_OK);
    CHECK(l == NULL);
    snprintf(path, sizeof path, "sqlite:%s/s.db", dir);
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    CHECK_STR(ic_ledger_backend(l), "sqlite");
    ic_ledger_close(l);
    /* a SQLite file that is not a ledger is refused, not modified */
    snprintf(path, sizeof path, "%s/other.db", dir);
    sql_exec(path, "CREATE TABLE t(x)");
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_ERR_DB);
    CHECK(strstr(err.msg, "not an infercost ledger") != NULL);
}

/* A file of schema v1 (no rollups, no revenue) is migrated: rollups backfilled exactly. */
static void t_migrate_v1(void)
{
    fresh("v1");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_event e[3] = {ev("e1", 1728000000000, "gpt-4o", "acme", 2999999),
                     ev("e2", 1728000000001, "gpt-4o", "acme", 1),
                     ev("e3", 1728000000000 + 86400000, "gpt-4o", "acme", 5)};
    e[1].status = "500";
    e[0].cache_hit = true;
    e[0].cache_saved = 123456789;
    CHECK_INT(ic_ledger_append(l, e, 3, NULL, NULL, &err), IC_OK);
    ic_ledger_close(l);
    sql_exec(path, "DROP TABLE rollup; DROP TABLE revenue; DROP TABLE rollup_saved;"
                   "UPDATE meta SET value='1' WHERE key='schema_version'");
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    sums r = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r, &err), IC_OK);
    CHECK_INT(r.n, 3);
    CHECK(r.cost == 2999999 + 1 + 5);
    CHECK(r.saved == 123456789);
    CHECK_INT(r.in, 300);
    ic_ledger_close(l);
    check_schema(path, "3");
    sqlite3 *db;
    sqlite3_stmt *q;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "SELECT errors, cache_hits, requests FROM rollup ORDER BY day", -1, &q,
                       NULL);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 1); /* status '500' */
    CHECK_INT(sqlite3_column_int(q, 1), 1);
    CHECK_INT(sqlite3_column_int(q, 2), 2);
    sqlite3_finalize(q);
    /* a newer schema than this build is refused */
    sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_ERR_DB);
    CHECK(strstr(err.msg, "newer") != NULL);
}

/* usage and cost items survive the round trip, exactly */
static int grab(const ic_event *e, void *a)
{
    char *out = a;
    snprintf(out, 512, "%s|%s|%s|%s|%s|%lld|%d", e->usage_json ? e->usage_json : "(null)",
             e->items ? e->items : "(null)", e->task, e->tags, e->source, (long long)e->latency_ms,
             e->batch);
    return 1;
}

/* A response-cache hit's saving is kept with the event and summed into the rollups like the
 * costs (duplicates add nothing); a v2 file (rollups without it) reads read-only as it is and
 * is upgraded by a writer. */
static void t_cache_saved(void)
{
    fresh("saved");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    int64_t t0 = 1772359200000;
    ic_money big = IC_EVENT_COST_MAX - 1;
    ic_event e[3] = {ev("h1", t0, "gpt-4o", "acme", 0), ev("h2", t0 + 1, "gpt-4o", "acme", 0),
                     ev("p1", t0 + 2, "gpt-4o", "acme", 70)};
    e[0].cache_hit = e[1].cache_hit = true;
    e[0].cache_saved = 1;   /* a pico-dollar */
    e[1].cache_saved = big; /* and the most a call may cost */
    size_t n = 0;
    CHECK_INT(ic_ledger_append(l, e, 3, &n, NULL, &err), IC_OK);
    CHECK_INT(ic_ledger_append(l, e, 3, &n, NULL, &err), IC_OK); /* all duplicates */
    CHECK_INT(n, 0);
    ic_event over = ev("o", t0, "gpt-4o", "acme", 0);
    over.cache_hit = true;
    over.cache_saved = IC_EVENT_COST_MAX + 1;
    CHECK_INT(ic_ledger_append(l, &over, 1, &n, NULL, &err), IC_ERR_RANGE);
    sums r = {0}, s = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r, &err), IC_OK);
    CHECK_INT(ic_ledger_scan_events(l, NULL, sum_ev, &s, &err), IC_OK);
    CHECK(r.saved == 1 + big);
    CHECK(s.saved == r.saved);
    CHECK(r.cost == 70);
    ic_ledger_close(l);

    /* as a v2 file: the rollups' saving gone */
    sql_exec(path, "DROP TABLE rollup_saved; UPDATE meta SET value='2' WHERE key='schema_version'");
    /* an older infercost still running on the file writes 19-column rollup rows: it still can
     * once the file is upgraded (below) */
    CHECK_INT(ic_ledger_open(&l, path, true, &err), IC_OK); /* read-only: read as it is */
    sums r2 = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r2, &err), IC_OK);
    CHECK_INT(r2.n, 3);
    CHECK(r2.cost == 70 && r2.saved == 0);
    ic_ledger_close(l);
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK); /* a writer upgrades it */
    ic_event h3 = ev("h3", t0 + 3, "gpt-4o", "acme", 0);
    h3.cache_hit = true;
    h3.cache_saved = 5;
    CHECK_INT(ic_ledger_append(l, &h3, 1, &n, NULL, &err), IC_OK);
    sums r3 = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r3, &err), IC_OK);
    CHECK_INT(r3.n, 4);
    CHECK(r3.saved == 5); /* the rows before it kept no saving */
    ic_ledger_close(l);
    sql_exec(path, "INSERT INTO rollup VALUES(20000,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0)");
    check_schema(path, "3");
}

static int flags_ev(const ic_event *e, void *a)
{
    int *n = a;
    *n += e->cache_hit * 100 + e->fallback * 10 + (e->cache_saved == 7);
    return 0;
}

/* The event-by-event path (a backend without insert_batch: ic_ledger_append's other way) keeps
 * what the batch path keeps: the flags, the saving, duplicates found. */
static void t_one_by_one(void)
{
    fresh("one");
    ic_ledger_ops ops = ic_ledger_sqlite_ops;
    ops.insert_batch = NULL;
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open_with(&l, &ops, path, false, &err), IC_OK);
    ic_event e[2] = {ev("h", 1772359200000, "gpt-4o", "acme", 0),
                     ev("f", 1772359200001, "gpt-4o", "acme", 9)};
    e[0].cache_hit = true;
    e[0].cache_saved = 7;
    e[1].fallback = true;
    size_t n = 0;
    CHECK_INT(ic_ledger_append(l, e, 2, &n, NULL, &err), IC_OK);
    CHECK_INT(n, 2);
    CHECK_INT(ic_ledger_append(l, e, 2, &n, NULL, &err), IC_OK);
    CHECK_INT(n, 0);
    int flags = 0;
    CHECK_INT(ic_ledger_scan_events(l, NULL, flags_ev, &flags, &err), IC_OK);
    CHECK_INT(flags, 111);
    sums r = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r, &err), IC_OK);
    CHECK(r.n == 2 && r.cost == 9 && r.saved == 7);
    ic_ledger_close(l);
}

static void t_detail_roundtrip(void)
{
    fresh("d");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_units_init(&err), IC_OK);
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_usage u;
    ic_usage_clear(&u);
    CHECK_INT(ic_usage_set(&u, ic_unit_find("input_tokens"), 4740, &err), IC_OK);
    CHECK_INT(ic_usage_set(&u, ic_unit_find("cache_write_tokens"), 4735, &err), IC_OK);
    ic_cost c;
    memset(&c, 0, sizeof c);
    c.nitems = 2;
    c.items[0] = (ic_cost_item){ic_unit_find("input_tokens"), 5, {3, 0}, 1000000, 15000000};
    c.items[1] = (ic_cost_item){ic_unit_find("cache_write_tokens"), 4735, {375, 2}, 1000000,
                                (ic_money)17756250000};
    unsigned char d[IC_EVENT_DETAIL_MAX];
    size_t dl = ic_event_detail_pack(&u, &c, d, sizeof d);
    CHECK(dl > 0);
    CHECK_INT(ic_event_detail_pack(&u, &c, d, 5), 0);
    ic_event e = ev("rt", 1772359200000, "claude-sonnet-4-5", "acme", 17771250000);
    e.detail = d;
    e.detail_len = dl;
    e.task = "task-9";
    e.tags = "{\"team\":\"x\"}";
    e.source = "logs/a.jsonl:17";
    e.latency_ms = 812;
    e.batch = true;
    CHECK_INT(ic_ledger_append(l, &e, 1, NULL, NULL, &err), IC_OK);
    char out[512] = "";
    ic_ledger_filter f = {.detail = true};
    CHECK_INT(ic_ledger_scan_events(l, &f, grab, out, &err), IC_OK);
    CHECK_STR(out, "{\"input_tokens\":4740,\"cache_write_tokens\":4735}|input_tokens 5 3 "
                   "1000000 0.000015;cache_write_tokens 4735 3.75 1000000 0.01775625|task-9|"
                   "{\"team\":\"x\"}|logs/a.jsonl:17|812|1");
    ic_ledger_close(l);
}

/* The batch path: duplicates found by the range read (stored before, and twice in one batch),
 * a batch whose range holds many more stored events than itself, and the batch API itself;
 * rollups equal the raw events every time. */
static void check_rollups_match(ic_ledger *l, uint64_t want_n, ic_money want_cost)
{
    ic_error err = {0};
    sums r = {0}, s = {0};
    CHECK_INT(ic_ledger_scan_rollups(l, NULL, sum_roll, &r, &err), IC_OK);
    CHECK_INT(ic_ledger_scan_events(l, NULL, sum_ev, &s, &err), IC_OK);
    CHECK_INT(r.n, want_n);
    CHECK_INT(s.n, want_n);
    CHECK(r.cost == want_cost && s.cost == want_cost);
    CHECK(r.in == s.in);
}

static void t_batch_paths(void)
{
    fresh("bp");
    ic_ledger *l;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    enum { N = 3000 };
    static ic_event e[N];
    static char ids[N][16];
    int64_t t0 = 1772359200000;
    ic_money total = 0;
    for (int i = 0; i < N; i++) { /* given out of time order: the batch sorts */
        int k = (i * 7) % N;
        snprintf(ids[i], sizeof ids[i], "e%d", k);
        e[i] = ev(ids[i], t0 + (int64_t)k * 1000, i % 2 ? "m1" : "m2", i % 3 ? "a" : "b", k + 1);
        total += k + 1;
    }
    size_t n = 0;
    CHECK_INT(ic_ledger_append(l, e, N, &n, NULL, &err), IC_OK);
    CHECK_INT(n, N);
    check_rollups_match(l, N, total);

    /* merge path: 4 events inside the stored range, 2 stored already, one given twice, and
     * one sharing a stored event's time with another id */
    ic_event m[5] = {ev("e10", t0 + 10000, "m1", "a", 11), ev("new1", t0 + 10500, "m1", "a", 100),
                     ev("new1", t0 + 10500, "m1", "a", 100), ev("e11", t0 + 11000, "m2", "a", 12),
                     ev("new2", t0 + 11000, "m1", "b", 200)};
    bool dup[5];
    CHECK_INT(ic_ledger_append(l, m, 5, &n, dup, &err), IC_OK);
    CHECK_INT(n, 2);
    CHECK(dup[0] && !dup[1] && dup[2] && dup[3] && !dup[4]);
    total += 300;
    check_rollups_match(l, N + 2, total);

    /* a batch spanning the whole ledger with few events: the range read seeks past the 3000
     * stored events between them instead of stepping through them; same answers */
    ic_event w[3] = {ev("e0", t0, "m2", "b", 1), ev("wide", t0 + 1500 * 1000 + 1, "m1", "a", 5),
                     ev("e2999", t0 + 2999 * 1000, "m2", "a", 3000)};
    CHECK_INT(ic_ledger_append(l, w, 3, &n, dup, &err), IC_OK);
    CHECK_INT(n, 1);
    CHECK(dup[0] && !dup[1] && dup[2]);
    total += 5;
    check_rollups_match(l, N + 3, total);

    /* the batch API: counts and exact cost of what was new; the batch is reusable */
    ic_ledger_batch *b;
    CHECK_INT(ic_ledger_batch_new(&b, &err), IC_OK);
    ic_event bad = ev("", t0, "m1", "a", 1);
    CHECK_INT(ic_ledger_batch_add(b, &bad, &err), IC_ERR_INVALID);
    ic_event x[3] = {ev("z1", t0 + 5000000, "m3", "c", 7), ev("e5", t0 + 5000, "m1", "a", 6),
                     ev("z2", t0 + 5000001, "m3", "c", 9)};
    for (int i = 0; i < 3; i++)
        CHECK_INT(ic_ledger_batch_add(b, &x[i], &err), IC_OK);
    CHECK_INT(ic_ledger_batch_count(b), 3);
    CHECK_INT(ic_ledger_batch_seal(b, &err), IC_OK);
    ic_money c = 0;
    CHECK_INT(ic_ledger_append_batch(l, b, &n, &c, &err), IC_OK);
    CHECK_INT(n, 2);
    CHECK(c == 16);
    CHECK_INT(ic_ledger_append_batch(l, b, &n, &c, &err), IC_OK);
    CHECK_INT(n, 0);
    CHECK(c == 0);
    total += 16;
    check_rollups_match(l, N + 5, total);
    ic_ledger_batch_clear(b);
    CHECK_INT(ic_ledger_batch_count(b), 0);
    CHECK_INT(ic_ledger_append_batch(l, b, &n, &c, &err), IC_OK);
    CHECK_INT(n, 0);
    ic_ledger_batch_free(b);
    ic_ledger_filter f = {.model = "m3"};
    sums s = {0};
    CHECK_INT(ic_ledger_scan_events(l, &f, sum_ev, &s, &err), IC_OK);
    CHECK_INT(s.n, 2);

    /* 40 events of one millisecond, ids in reverse order, one given twice and one stored: the
     * batch orders them by id (the long-run path of the sort) and finds both duplicates */
    static ic_event same[41];
    static char sid[41][16];
    int64_t ts = t0 + 7000000;
    for (int i = 0; i < 40; i++) {
        snprintf(sid[i], sizeof sid[i], "s%02d", 39 - i);
        same[i] = ev(sid[i], ts, "m1", "a", 1);
    }
    same[40] = ev("s07", ts, "m1", "a", 1);
    bool sdup[41];
    CHECK_INT(ic_ledger_append(l, same, 41, &n, sdup, &err), IC_OK);
    CHECK_INT(n, 40);
    CHECK(!sdup[32] && sdup[40]); /* "s07": the first given is stored, the second is the dup */
    CHECK_INT(ic_ledger_append(l, same, 41, &n, NULL, &err), IC_OK);
    CHECK_INT(n, 0);
    check_rollups_match(l, N + 45, total + 40);
    ic_ledger_close(l);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(t_append_idempotent);
    RUN(t_batch_all_or_nothing);
    RUN(t_filters);
    RUN(t_revenue);
    RUN(t_backends);
    RUN(t_migrate_v1);
    RUN(t_cache_saved);
    RUN(t_one_by_one);
    RUN(t_detail_roundtrip);
    RUN(t_batch_paths);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
