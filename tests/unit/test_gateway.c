/* test_gateway.c: unit tests of the gateway's pieces that need no network: SHA-256 (FIPS 180-4
 * vectors), the SSE splitter (events split at every byte boundary, CRLF, usage-only chunks), the
 * LRU/TTL cache, the generated text of stream events and answers (for estimating usage), budgets and rate limits (holds, settlement, refusal), the spool journal (replay
 * after a crash, torn lines, duplicates), the ledger sink (complete lines only, its position
 * file, a replay that adds nothing), config validation messages and the glob. The gateway
 * sources are compiled in here because the Makefile links unit tests against libinfercost only. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#include "../../src/gateway/budget.c"
#include "../../src/gateway/cache.c"
#include "../../src/gateway/config.c"
#include "../../src/gateway/gentext.c"
#include "../../src/gateway/gw_util.c"
#include "../../src/gateway/ledger_sink.c"
#include "../../src/gateway/metrics.c"
#include "../../src/gateway/spool.c"
#include "../../src/gateway/sse.c"

static void t_sha256(void)
{
    char h[65];
    gw_sha256_hex("", 0, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    gw_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    gw_sha256_hex(two, strlen(two), h);
    CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a' */
    char *m = malloc(1000000);
    if (!m)
        return;
    memset(m, 'a', 1000000);
    gw_sha256_hex(m, 1000000, h);
    free(m);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same fed in pieces of 1 to 4,999 bytes in a scrambled order (the buffered path, and
     * pieces larger than its buffer) */
    gw_sha256_ctx c;
    uint8_t d[32];
    static char piece[4999];
    memset(piece, 'a', sizeof piece);
    gw_sha256_init(&c);
    size_t left = 1000000;
    for (size_t k = 1; left; k = (k * 7919 + 13) % sizeof piece + 1) {
        size_t n = k < left ? k : left;
        gw_sha256_update(&c, piece, n);
        left -= n;
    }
    gw_sha256_final(&c, d);
    gw_hex32(d, h);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* HMAC-SHA256, RFC 4231 test case 2 */
    const char *what = "what do ya want for nothing?";
    gw_hmac_sha256("Jefe", 4, what, strlen(what), d);
    gw_hex32(d, h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

typedef struct evs {
    char all[4096];
    size_t len;
    int n;
} evs;

static bool collect(void *arg, const char *ev, size_t len)
{
    evs *e = arg;
    memcpy(e->all + e->len, ev, len);
    e->len += len;
    e->n++;
    return true;
}

static void t_sse_split(void)
{
    const char *text = "event: a\ndata: {\"x\":1}\n\ndata: two\r\n\r\n: comment\n\ndata: [DONE]\n\n";
    size_t tl = strlen(text);
    /* every split point gives the same events, byte for byte */
    for (size_t cut = 0; cut <= tl; cut++) {
        gw_sse s;
        evs e = {{0}, 0, 0};
        gw_sse_init(&s);
        gw_sse_feed(&s, text, cut, collect, &e);
        gw_sse_feed(&s, text + cut, tl - cut, collect, &e);
        CHECK_INT(e.n, 4);
        CHECK_INT(e.len, tl);
        CHECK(!memcmp(e.all, text, tl));
        CHECK_INT(gw_sse_pending(&s), 0);
        gw_sse_free(&s);
    }
    /* byte by byte */
    gw_sse s;
    evs e = {{0}, 0, 0};
    gw_sse_init(&s);
    for (size_t i = 0; i < tl; i++)
        gw_sse_feed(&s, text + i, 1, collect, &e);
    CHECK_INT(e.n, 4);
    gw_sse_feed(&s, "data: partial", 13, collect, &e);
    CHECK_INT(gw_sse_pending(&s), 13);
    gw_sse_free(&s);
}

static void t_sse_usage_chunk(void)
{
    const char *u = "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\n";
    const char *c = "data: {\"id\":\"x\",\"choices\":[{\"delta\":{}}],\"usage\":null}\n\n";
    CHECK(gw_sse_is_usage_only_chunk(u, strlen(u)));
    CHECK(!gw_sse_is_usage_only_chunk(c, strlen(c)));
}

static void key_of(uint8_t k[32], int i)
{
    char s[32];
    snprintf(s, sizeof s, "k%d", i);
    gw_sha256(s, strlen(s), k);
}

static void t_cache_lru_ttl(void)
{
    size_t per = sizeof(ent) + 100;
    void *c = gw_cache_memory_new(per * 3);
    const gw_cache_ops *o = &gw_cache_memory_ops;
    char body[100];
    memset(body, 'x', sizeof body);
    gw_cached v;
    memset(&v, 0, sizeof v);
    v.body = body;
    v.len = sizeof body;
    snprintf(v.model, sizeof v.model, "gpt-4o");
    uint8_t k[5][32];
    for (int i = 0; i < 5; i++)
        key_of(k[i], i);
    o->put(c, k[0], &v, 1000, 10);
    o->put(c, k[1], &v, 1000, 10);
    o->put(c, k[2], &v, 1000, 10);
    gw_cached out;
    CHECK(o->get(c, k[0], 1001, &out)); /* k0 becomes most recent */
    CHECK_STR(out.model, "gpt-4o");
    CHECK_INT(out.len, 100);
    free(out.body);
    o->put(c, k[3], &v, 1002, 10);      /* evicts the least recent: k1 */
    CHECK(!o->get(c, k[1], 1003, &out));
    CHECK(o->get(c, k[2], 1003, &out));
    free(out.body);
    CHECK(o->get(c, k[0], 1003, &out));
    free(out.body);
    uint64_t n, b, ev;
    o->stats(c, &n, &b, &ev);
    CHECK_INT(n, 3);
    CHECK_INT(ev, 1);
    CHECK(b <= per * 3);
    /* TTL: 10 s */
    CHECK(!o->get(c, k[3], 1002 + 10000, &out));
    o->stats(c, &n, &b, &ev);
    CHECK_INT(n, 2);
    /* an entry bigger than the cap is not stored */
    v.len = per * 4;
    char *big = calloc(1, v.len);
    v.body = big;
    o->put(c, k[4], &v, 1000, 10);
    CHECK(!o->get(c, k[4], 1001, &out));
    free(big);
    o->free(c);
}

static void t_budget(void)
{
    void *st = gw_budget_memory_new();
    const gw_budget_ops *o = &gw_budget_memory_ops;
    gw_limits lim = {true, false, 10 * IC_PICO_PER_USD, 0, 0, 0};
    char why[512];
    int64_t t = 1767225600000LL; /* 2026-01-01 */
    /* worst $4: two fit, the third is refused while both are in flight */
    CHECK(o->reserve(st, "k", &lim, 4 * IC_PICO_PER_USD, 0, t, why, sizeof why));
    CHECK(o->reserve(st, "k", &lim, 4 * IC_PICO_PER_USD, 0, t, why, sizeof why));
    CHECK(!o->reserve(st, "k", &lim, 4 * IC_PICO_PER_USD, 0, t, why, sizeof why));
    CHECK(strstr(why, "daily budget") != NULL);
    CHECK(strstr(why, "could cost up to $4") != NULL);
    /* settle the first at $1: $6 free again minus the $4 hold -> $5 headroom */
    o->settle(st, "k", 4 * IC_PICO_PER_USD, 0, 1 * IC_PICO_PER_USD, 0, t);
    CHECK(o->reserve(st, "k", &lim, 5 * IC_PICO_PER_USD, 0, t, why, sizeof why));
    CHECK(!o->reserve(st, "k", &lim, 1, 0, t, why, sizeof why));
    gw_key_usage u;
    o->usage(st, "k", t, &u);
    CHECK(u.day_spent == 1 * IC_PICO_PER_USD && u.month_spent == 1 * IC_PICO_PER_USD);
    CHECK(u.held == 9 * IC_PICO_PER_USD && u.requests == 3); /* $4 and $5 in flight */
    /* next day: spend resets; holds carry over ($9 held) */
    CHECK(o->reserve(st, "k", &lim, 1 * IC_PICO_PER_USD, 0, t + 86400000, why, sizeof why));
    CHECK(!o->reserve(st, "k", &lim, 1, 0, t + 86400000, why, sizeof why));
    /* requests per minute */
    gw_limits r = {false, false, 0, 0, 2, 0};
    CHECK(o->reserve(st, "r", &r, 0, 0, t, why, sizeof why));
    CHECK(o->reserve(st, "r", &r, 0, 0, t, why, sizeof why));
    CHECK(!o->reserve(st, "r", &r, 0, 0, t, why, sizeof why));
    CHECK(strstr(why, "2 requests per minute") != NULL);
    CHECK(o->reserve(st, "r", &r, 0, 0, t + 60000, why, sizeof why));
    /* tokens per minute: held tokens count until settled */
    gw_limits tp = {false, false, 0, 0, 0, 1000};
    CHECK(o->reserve(st, "t", &tp, 0, 600, t, why, sizeof why));
    CHECK(o->reserve(st, "t", &tp, 0, 600, t, why, sizeof why)); /* 600 < 1000 when admitted */
    CHECK(!o->reserve(st, "t", &tp, 0, 10, t, why, sizeof why));
    o->settle(st, "t", 0, 600, 0, 100, t);
    o->settle(st, "t", 0, 600, 0, 100, t);
    CHECK(o->reserve(st, "t", &tp, 0, 10, t, why, sizeof why));
    o->free(st);
}

/* the shared store's side of the memory store: what changed goes out, the others' sums come in
 * and count only in their own periods, an earlier run's spend raises the current periods' */
static void t_budget_shared(void)
{
    void *st = gw_budget_memory_new();
    const gw_budget_ops *o = &gw_budget_memory_ops;
    gw_limits lim = {true, true, 10 * IC_PICO_PER_USD, 30 * IC_PICO_PER_USD, 3, 0};
    char why[512];
    int64_t t = 1767225600000LL, day, month, minute; /* 2026-01-01 */
    gw_budget_periods(t, &day, &month, &minute);
    CHECK(day == 20454 && month == 2026 * 12 + 1 && minute == t / 60000);
    gw_budget_row *rows;
    CHECK(gw_budget_memory_changed(st, false, &rows) == 0);
    gw_budget_rows_free(rows, 0);
    CHECK(o->reserve(st, "k", &lim, 2 * IC_PICO_PER_USD, 0, t, why, sizeof why));
    o->settle(st, "k", 2 * IC_PICO_PER_USD, 0, 1 * IC_PICO_PER_USD, 0, t);
    CHECK(o->reserve(st, "k", &lim, 2 * IC_PICO_PER_USD, 0, t, why, sizeof why)); /* in flight */
    CHECK(gw_budget_memory_changed(st, false, &rows) == 1);
    CHECK(!strcmp(rows[0].key_id, "k") && rows[0].day == day && rows[0].month == month);
    CHECK(rows[0].day_spent == IC_PICO_PER_USD && rows[0].held == 2 * IC_PICO_PER_USD &&
          rows[0].requests == 2);
    gw_budget_rows_free(rows, 1);
    /* still holding: taken again although unchanged */
    CHECK(gw_budget_memory_changed(st, false, &rows) == 1);
    gw_budget_rows_free(rows, 1);
    o->settle(st, "k", 2 * IC_PICO_PER_USD, 0, 1 * IC_PICO_PER_USD, 0, t);
    CHECK(gw_budget_memory_changed(st, false, &rows) == 1); /* the settle changed it */
    gw_budget_rows_free(rows, 1);
    CHECK(gw_budget_memory_changed(st, false, &rows) == 0); /* nothing since */
    gw_budget_rows_free(rows, 0);
    CHECK(gw_budget_memory_changed(st, true, &rows) == 1);  /* all: after a failed write */
    gw_budget_rows_free(rows, 1);
    /* the others: $6 spent today, $1 in flight -> $2 spent here + 7 = 9: a $1 call fits, $1.01 not */
    gw_budget_row other = {"k", day, month, minute, 6 * IC_PICO_PER_USD, 20 * IC_PICO_PER_USD,
                           1 * IC_PICO_PER_USD, 2, 0};
    gw_budget_memory_set_others(st, &other, 1);
    gw_limits money = lim;
    money.rpm = 0;
    CHECK(!o->reserve(st, "k", &money, IC_PICO_PER_USD + 10000000000, 0, t, why, sizeof why));
    CHECK(strstr(why, "has spent $8 of its $10 daily budget (plus $1 in flight)") != NULL);
    /* what /metrics shows is what reserve counts: both gateways' */
    gw_key_usage u;
    o->usage(st, "k", t, &u);
    CHECK(u.day_spent == 8 * IC_PICO_PER_USD && u.month_spent == 22 * IC_PICO_PER_USD);
    CHECK(u.held == IC_PICO_PER_USD && u.requests == 4);
    /* the rpm limit counts the others' 2 requests: 2 here + 2 there > 3 */
    CHECK(!o->reserve(st, "k", &lim, IC_PICO_PER_USD, 0, t, why, sizeof why));
    CHECK(strstr(why, "3 requests per minute") != NULL);
    /* the next minute: their requests no longer count, their spend does ($1 fits: 8 + 1 + 1) */
    CHECK(o->reserve(st, "k", &lim, IC_PICO_PER_USD, 0, t + 60000, why, sizeof why));
    o->settle(st, "k", IC_PICO_PER_USD, 0, 0, 0, t + 60000);
    /* the next day: the others' sums are yesterday's; the month's still count ($22 + $2 + $1) */
    int64_t t2 = t + 86400000;
    gw_limits mon = {false, true, 0, 30 * IC_PICO_PER_USD, 0, 0};
    CHECK(!o->reserve(st, "k", &mon, 8 * IC_PICO_PER_USD + 1, 0, t2, why, sizeof why));
    CHECK(o->reserve(st, "k", &mon, 7 * IC_PICO_PER_USD, 0, t2, why, sizeof why));
    o->settle(st, "k", 7 * IC_PICO_PER_USD, 0, 0, 0, t2);
    CHECK(o->reserve(st, "k", &lim, 7 * IC_PICO_PER_USD, 0, t2, why, sizeof why)); /* new day */
    o->settle(st, "k", 7 * IC_PICO_PER_USD, 0, 0, 0, t2);
    /* new sums replace the old: none for k now */
    gw_budget_memory_set_others(st, NULL, 0);
    CHECK(o->reserve(st, "k", &mon, 28 * IC_PICO_PER_USD, 0, t2, why, sizeof why));
    o->settle(st, "k", 28 * IC_PICO_PER_USD, 0, 0, 0, t2);
    /* restore: raises the current periods only, never lowers */
    gw_budget_row mine = {"k", day + 1, month, minute, 9 * IC_PICO_PER_USD, IC_PICO_PER_USD, 0, 0, 0};
    gw_budget_memory_restore(st, &mine, t2);
    o->usage(st, "k", t2, &u);
    CHECK(u.day_spent == 9 * IC_PICO_PER_USD && u.month_spent == 2 * IC_PICO_PER_USD);
    gw_budget_row old = {"k", day, month - 1, minute, 50 * IC_PICO_PER_USD, 50 * IC_PICO_PER_USD, 0,
                         0, 0};
    gw_budget_memory_restore(st, &old, t2);
    o->usage(st, "k", t2, &u);
    CHECK(u.day_spent == 9 * IC_PICO_PER_USD && u.month_spent == 2 * IC_PICO_PER_USD);
    o->free(st);
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, 1 << 20);
    *len = fread(b, 1, (1 << 20) - 1, f);
    fclose(f);
    return b;
}

/* /metrics per key: each family once, a line per key and limit it has, the id escaped as a
 * label value, the spend as the store counts it */
static void t_key_metrics(void)
{
    void *st = gw_budget_memory_new();
    const gw_budget_ops *o = &gw_budget_memory_ops;
    int64_t t = 1767225600000LL;
    gw_key_cfg keys[3] = {{.id = "q\"b\\s\nn", .has_day = true, .day_usd = 2 * IC_PICO_PER_USD},
                          {.id = "free"},
                          {.id = "r", .has_month = true, .month_usd = IC_PICO_PER_USD / 2, .rpm = 7}};
    gw_config cfg = {.keys = keys, .nkeys = 3};
    gw_limits lim = {true, false, 2 * IC_PICO_PER_USD, 0, 0, 0};
    char why[256];
    CHECK(o->reserve(st, keys[0].id, &lim, IC_PICO_PER_USD, 0, t, why, sizeof why));
    o->settle(st, keys[0].id, IC_PICO_PER_USD, 0, IC_PICO_PER_USD / 4, 0, t);
    CHECK(o->reserve(st, keys[0].id, &lim, IC_PICO_PER_USD / 10, 0, t, why, sizeof why));
    struct evbuffer *b = evbuffer_new();
    gw_metrics_render_keys(&cfg, o, st, t, b);
    size_t n = evbuffer_get_length(b);
    char *s = calloc(1, n + 1);
    evbuffer_remove(b, s, n);
    CHECK(strstr(s, "infercost_key_budget_usd{key=\"q\\\"b\\\\s\\nn\",period=\"day\"} 2\n") != NULL);
    CHECK(strstr(s, "infercost_key_spent_usd{key=\"q\\\"b\\\\s\\nn\",period=\"day\"} 0.25\n") != NULL);
    CHECK(strstr(s, "infercost_key_inflight_usd{key=\"q\\\"b\\\\s\\nn\"} 0.1\n") != NULL);
    CHECK(strstr(s, "infercost_key_budget_usd{key=\"r\",period=\"month\"} 0.5\n") != NULL);
    CHECK(strstr(s, "infercost_key_rpm_limit{key=\"r\"} 7\n") != NULL);
    CHECK(strstr(s, "infercost_key_requests_minute{key=\"r\"} 0\n") != NULL);
    CHECK(strstr(s, "free") == NULL);        /* no limits: no lines */
    CHECK(strstr(s, "tpm_limit") == NULL);   /* no key has one */
    const char *fam = strstr(s, "# TYPE infercost_key_spent_usd gauge");
    CHECK(fam && !strstr(fam + 1, "# TYPE infercost_key_spent_usd")); /* one family header */
    CHECK(strstr(s, "key=\"r\",period=\"day\"") == NULL); /* r has no daily budget */
    free(s);
    evbuffer_free(b);
    o->free(st);
}

static void t_spool_replay(void)
{
    char dir[] = "/tmp/ic-gw-spool-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], wal[300];
    snprintf(path, sizeof path, "%s/s.jsonl", dir);
    snprintf(wal, sizeof wal, "%s.wal", path);
    char err[512];
    uint64_t rep = 99;
    gw_spool *s = gw_spool_open(path, 65536, false, &rep, err, sizeof err);
    CHECK(s != NULL);
    CHECK_INT(rep, 0);
    char line[128];
    for (int i = 1; i <= 2000; i++) { /* wraps the 64 KiB ring several times */
        int n = snprintf(line, sizeof line, "{\"id\":\"e%d\",\"x\":\"%040d\"}", i, i);
        CHECK(gw_spool_append(s, line, (size_t)n));
    }
    gw_spool_close(s);
    size_t len;
    char *txt = slurp(path, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += txt[i] == '\n';
    CHECK_INT(lines, 2000);
    CHECK(strstr(txt, "{\"id\":\"e2000\",") != NULL);
    free(txt);

    /* a crash: the journal holds lines the writer had not copied (tail behind head), the spool
     * file ends in a torn copy of one of them, and one of them is already in the file whole */
    int wfd = open(wal, O_RDWR);
    hdr h;
    CHECK(pread(wfd, &h, sizeof h, 0) == (ssize_t)sizeof h);
    uint64_t start = h.head;
    const char *pend[3] = {"{\"id\":\"p1\"}\n", "{\"id\":\"p2\"}\n", "{\"id\":\"p3\"}\n"};
    uint64_t off = start;
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(pend[i]);
        for (size_t k = 0; k < l; k++) {
            char ch = pend[i][k];
            CHECK(pwrite(wfd, &ch, 1, (off_t)(HDR + (off + k) % h.cap)) == 1);
        }
        off += l;
    }
    h.head = off;
    h.tail = start;
    CHECK(pwrite(wfd, &h, sizeof h, 0) == (ssize_t)sizeof h);
    close(wfd);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, "{\"id\":\"p1\"}\n{\"id\":\"p2", 20) == 20); /* p1 whole, p2 torn */
    close(fd);
    s = gw_spool_open(path, 65536, false, &rep, err, sizeof err);
    CHECK(s != NULL);
    CHECK_INT(rep, 2); /* p2 and p3: p1 was already there */
    gw_spool_close(s);
    txt = slurp(path, &len);
    CHECK(strstr(txt, "{\"id\":\"e2000\",") != NULL);
    const char *tailp = strstr(txt, "{\"id\":\"p1\"}");
    CHECK(tailp && !strcmp(tailp, "{\"id\":\"p1\"}\n{\"id\":\"p2\"}\n{\"id\":\"p3\"}\n"));
    free(txt);
    /* a damaged journal is refused with a message, not trusted */
    wfd = open(wal, O_RDWR);
    CHECK(pread(wfd, &h, sizeof h, 0) == (ssize_t)sizeof h);
    h.tail = h.head + 1;
    CHECK(pwrite(wfd, &h, sizeof h, 0) == (ssize_t)sizeof h);
    close(wfd);
    CHECK(gw_spool_open(path, 65536, false, &rep, err, sizeof err) == NULL);
    CHECK(strstr(err, "damaged") != NULL);
    unlink(path);
    unlink(wal);
    rmdir(dir);
}

static uint64_t ledger_count(const char *db)
{
    ic_ledger *l = NULL;
    ic_error e = {0};
    ic_ledger_stats st = {0};
    if (ic_ledger_open(&l, db, true, &e) != IC_OK)
        return UINT64_MAX;
    ic_ledger_stats_get(l, &st, &e);
    ic_ledger_close(l);
    return st.events;
}

static void t_ledger_sink(void)
{
    char dir[] = "/tmp/ic-gw-sink-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char spool[256], db[256], pos[300], err[1200];
    snprintf(spool, sizeof spool, "%s/s.jsonl", dir);
    snprintf(db, sizeof db, "%s/l.db", dir);
    snprintf(pos, sizeof pos, "%s.ledger-pos", spool);
    ic_catalog *cat = NULL;
    ic_error e = {0};
    CHECK(ic_catalog_open(&cat, NULL, &e) == IC_OK);
    const char *ev = "{\"id\":\"gw-%d\",\"timestamp\":\"2026-11-27T10:00:0%dZ\",\"provider\":\"openai\","
                     "\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}\n";
    FILE *f = fopen(spool, "w");
    for (int i = 1; i <= 3; i++)
        fprintf(f, ev, i, i);
    fputs("{\"id\":\"gw-4\",\"timestamp\":\"2026-11-27T10:00", f); /* being written */
    fclose(f);
    gw_ledger_sink *k = gw_ledger_sink_open(db, spool, NULL, cat, err, sizeof err);
    CHECK(k != NULL);
    if (!k)
        return;
    bool ok = gw_ledger_sink_close(k, NULL, err, sizeof err); /* loads up to the end: the torn line waits */
    CHECK(!ok);
    CHECK(strstr(err, "not in the ledger yet") != NULL);
    CHECK_INT(ledger_count(db), 3);
    /* the line completes; a restart goes on from the position file */
    f = fopen(spool, "a");
    fputs(":04Z\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}\n", f);
    fclose(f);
    k = gw_ledger_sink_open(db, spool, NULL, cat, err, sizeof err);
    CHECK(k != NULL);
    CHECK(gw_ledger_sink_close(k, NULL, err, sizeof err));
    CHECK_INT(ledger_count(db), 4);
    /* no position file: the whole spool again, every event already there */
    unlink(pos);
    k = gw_ledger_sink_open(db, spool, NULL, cat, err, sizeof err);
    CHECK(k != NULL);
    gw_ledger_stats st = {0};
    CHECK(gw_ledger_sink_close(k, &st, err, sizeof err));
    CHECK_INT(st.duplicates, 4);
    CHECK_INT(st.inserted, 0);
    CHECK_INT(ledger_count(db), 4);
    /* a ledger that cannot be opened is refused at start, with its path */
    k = gw_ledger_sink_open("/nonexistent-dir/x.db", spool, NULL, cat, err, sizeof err);
    CHECK(k == NULL);
    CHECK(strstr(err, "/nonexistent-dir/x.db") != NULL);
    ic_catalog_free(cat);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void cfg_err(const char *json, const char *want)
{
    char err[1024] = "";
    gw_config *c = gw_config_parse(json, strlen(json), "t.json", err, sizeof err);
    CHECK(c == NULL);
    if (!strstr(err, want)) {
        fprintf(stderr, "config error '%s' lacks '%s'\n", err, want);
        ic_t_bad = 1;
    }
    gw_config_free(c);
}

static void t_config(void)
{
    setenv("IC_UNIT_FAKE_KEY", "sk-fake-unit", 1);
    const char *good =
        "{\"spool\":\"s\",\"listen\":\"127.0.0.1:9\",\"cache\":{\"ttl_s\":5},"
        "\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1/\","
        "\"api_key_env\":\"IC_UNIT_FAKE_KEY\"},{\"name\":\"b\",\"provider\":\"anthropic\","
        "\"base_url\":\"https://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
        "\"ledger\":\"l.db\",\"journal\":\"/dev/shm/j.wal\","
        "\"routes\":[{\"match\":{\"model\":\"gpt-*\",\"keywords\":[\"x\"],\"min_prompt_tokens\":100},\"targets\":[{\"upstream\":\"a\",\"weight\":2}],"
        "\"fallbacks\":[{\"upstream\":\"a\",\"model\":\"m\"}]}],"
        "\"keys\":[{\"id\":\"k\",\"sha256\":\"" "0000000000000000000000000000000000000000000000000000000000000000"
        "\",\"budget_usd_day\":\"12.5\",\"rpm\":5}]}";
    char err[1024] = "";
    gw_config *c = gw_config_parse(good, strlen(good), "t.json", err, sizeof err);
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_INT(c->port, 9);
    CHECK_STR(c->upstreams[0].base_url, "http://h/v1");
    CHECK_INT(c->upstreams[1].format, GW_FMT_ANTHROPIC);
    CHECK_STR(c->upstreams[0].api_key, "sk-fake-unit");
    CHECK(c->cache_enabled);
    CHECK_INT(c->routes[0].targets[0].weight, 2);
    CHECK_INT(c->routes[0].min_prompt_tokens, 100);
    CHECK_INT(c->routes[0].max_prompt_tokens, -1);
    CHECK_STR(c->ledger, "l.db");
    CHECK_STR(c->journal, "/dev/shm/j.wal");
    CHECK(c->keys[0].has_day && c->keys[0].day_usd == 12500000000000LL);
    CHECK_INT(c->keys[0].rpm, 5);
    gw_config_free(c);
    cfg_err("{\"spool\":\"s\"}", "t.json: upstreams: required");
    cfg_err("[1]", "t.json: expected a JSON object");
    cfg_err("{\"spool\":\"s\",\n\"upstreams\":[}", "t.json: line 2");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"ftp://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}]}",
            "upstreams[0].base_url: 'ftp://h/v1' must start with http");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}]}",
            "upstreams[0].base_url: 'http://h' has no API path");
    cfg_err("{\"spool\":\"s\",\"max_retries\":99,\"upstreams\":[]}", "max_retries: 99 is out of range");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"routes\":[{\"targets\":[{\"upstream\":\"a\",\"weight\":0}]}]}", "routes[0].targets: the weights add up to 0");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"keys\":[{\"id\":\"k\",\"sha256\":\"ABC\"}]}", "keys[0].sha256: expected 64 lower-case hex digits");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"keys\":[{\"id\":\"k\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"budget_usd_month\":\"-3\"}]}",
            "keys[0].budget_usd_month");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"routes\":[{\"match\":{\"max_prompt_tokens\":-1},\"targets\":[{\"upstream\":\"a\"}]}]}",
            "routes[0].match.max_prompt_tokens: -1 is out of range");
    cfg_err("{\"spool\":\"s\",\"ledger\":7,\"upstreams\":[]}", "ledger: expected a string");
    /* a key whose calls the ledger would refuse: its id, customer or feature too long */
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"keys\":[{\"id\":\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
            "keys[0].id: expected at most 63 bytes of UTF-8");
    cfg_err("{\"spool\":\"s\",\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}],"
            "\"keys\":[{\"id\":\"k\",\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"customer\":\"a\xff\"}]}",
            "keys[0].customer: expected at most 127 bytes of UTF-8");
    cfg_err("{\"spool\":\"s\",\"budget_store\":\"/tmp/b.db\",\"upstreams\":[]}",
            "budget_store: expected a postgresql:// URI");
    cfg_err("{\"spool\":\"s\",\"budget_store\":\"postgresql:///b\",\"budget_sync_ms\":10,\"upstreams\":[]}",
            "budget_sync_ms: 10 is out of range");
    cfg_err("{\"spool\":\"s\",\"budget_store\":\"postgresql:///b\",\"gateway_id\":\"a\\nb\",\"upstreams\":[]}",
            "gateway_id: expected up to 200 bytes of printable UTF-8");
    cfg_err("{\"spool\":\"s\",\"gateway_id\":\"a\",\"upstreams\":[]}", "t.json: gateway_id: only with budget_store");
    cfg_err("{\"spool\":\"s\",\"budget_sync_ms\":100,\"upstreams\":[]}", "budget_sync_ms: only with budget_store");
    cfg_err("{\"upstreams\":[]}", "t.json: spool: required field missing");
    setenv("IC_UNIT_SHORT_SECRET", "too-short", 1);
    cfg_err("{\"spool\":\"s\",\"cache\":{\"hash_key_env\":\"IC_UNIT_SHORT_SECRET\"},\"upstreams\":[]}",
            "cache.hash_key_env: environment variable IC_UNIT_SHORT_SECRET is not set or shorter");
    cfg_err("{\"spool\":\"s\",\"cache\":{\"hash_key_env\":\"IC_UNIT_NO_SUCH_VAR\"},\"upstreams\":[]}",
            "IC_UNIT_NO_SUCH_VAR is not set");
    cfg_err("{\"spool\":\"s\",\"require_key\":true,\"upstreams\":[{\"name\":\"a\",\"provider\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key_env\":\"IC_UNIT_FAKE_KEY\"}]}",
            "require_key: true but no keys");
}

static void t_text_helpers(void)
{
    char d[8];
    CHECK_INT(gw_scopy(d, sizeof d, "abc", "de"), 5);
    CHECK_STR(d, "abcde");
    CHECK_INT(gw_scopy(d, sizeof d, "abcdef", "ghij"), 7); /* cut to the buffer */
    CHECK_STR(d, "abcdefg");
    CHECK_INT(gw_scopy(d, sizeof d, "", NULL), 0);
    CHECK_STR(d, "");
    char st[8];
    gw_sbuf b;
    gw_sb_init(&b, st, sizeof st); /* outgrows the stack buffer: moves to the heap */
    gw_sb_str(&b, "{");
    gw_sb_quote(&b, "a\"b\\c\n\x01");
    gw_sb_add(&b, ":", 1);
    gw_sb_u64(&b, 0);
    gw_sb_add(&b, ",", 1);
    gw_sb_u64(&b, 18446744073709551615ULL);
    gw_sb_add(&b, "", 1);
    CHECK(b.heap && !b.oom);
    CHECK_STR(b.p, "{\"a\\\"b\\\\c\\n\\u0001\":0,18446744073709551615");
    gw_sb_free(&b);
}

static void t_glob_listen(void)
{
    CHECK(gw_glob("gpt-*", "gpt-4o"));
    CHECK(gw_glob("*mini", "gpt-4o-mini"));
    CHECK(gw_glob("*", ""));
    CHECK(!gw_glob("gpt-*", "claude"));
    CHECK(gw_glob("a*b*c", "aXXbYYc"));
    CHECK(!gw_glob("a*b*c", "aXXbYY"));
    char host[64];
    int port;
    CHECK(gw_parse_listen("127.0.0.1:8080", host, sizeof host, &port) && port == 8080);
    CHECK(gw_parse_listen(":0", host, sizeof host, &port) && port == 0 && !strcmp(host, "127.0.0.1"));
    CHECK(!gw_parse_listen("127.0.0.1:70000", host, sizeof host, &port));
    CHECK(!gw_parse_listen("localhost:80", host, sizeof host, &port));
}

/* the request path's JSON text scans (gw_util.c): strings with escapes, nesting, lenient input */
static bool top_is(const char *txt, const char *key, const char *want)
{
    size_t vs = 0, ve = 0;
    if (!gw_json_top_object(txt, strlen(txt), key, &vs, &ve))
        return want == NULL;
    return want && ve - vs == strlen(want) && !memcmp(txt + vs, want, ve - vs);
}

static void t_json_scans(void)
{
    CHECK(top_is("{\"id\":\"x\",\"usage\":{\"a\":1,\"d\":{\"b\":2}},\"z\":3}", "usage",
                 "{\"a\":1,\"d\":{\"b\":2}}"));
    CHECK(top_is("{ \"usage\" :\n {\"a\":\"}\"} }", "usage", "{\"a\":\"}\"}"));
    /* a "usage" key inside a string or a nested object is not the top-level one */
    CHECK(top_is("{\"t\":\"\\\"usage\\\":{\\\"a\\\":1}\",\"usage\":{\"b\":2}}", "usage", "{\"b\":2}"));
    CHECK(top_is("{\"c\":[{\"usage\":{\"a\":1}}]}", "usage", NULL));
    CHECK(top_is("{\"c\":{\"usage\":{\"a\":1}}}", "usage", NULL));
    /* a string ending in an escaped backslash ends there; one with an escaped quote does not */
    CHECK(top_is("{\"t\":\"a\\\\\",\"usage\":{\"b\":2}}", "usage", "{\"b\":2}"));
    CHECK(top_is("{\"t\":\"a\\\",\\\"usage\\\":{}\",\"usage\":{\"b\":3}}", "usage", "{\"b\":3}"));
    CHECK(top_is("{\"usage\":null}", "usage", NULL));
    CHECK(top_is("{\"usage\":{\"a\":\"unterminated}", "usage", NULL));
    CHECK(top_is("{\"t\":\"unterminated", "usage", NULL));

    size_t k = 99, open = 0;
    const char *a = "  {\"model\" : \"m\", \"messages\":[{\"role\":\"user\",\"content\":\"x: \\\"y\\\" {\"}],"
                    "\"n\":-1.5e3,\"s\":true,\"t\":null,\"o\":{\"k\":1}} \n";
    CHECK(gw_json_object_keys(a, strlen(a), &k, &open));
    CHECK_INT(k, 6);
    CHECK_INT(open, 3);
    const char *dup = "{\"model\":\"a\",\"model\":\"b\"}";
    CHECK(gw_json_object_keys(dup, strlen(dup), &k, &open) && k == 2);
    static const char *const bad[] = {"{'model':'a'}", "{\"a\":1} // c", "{\"a\":1}{\"b\":2}",
                                      "[1]", "{\"a\":1", "{\"a\":1}}", "x{\"a\":1}", "{\"a\":\"x}",
                                      "{\"a\":1,}x", "{\"a\":NaN}", "{\"a\":1 , }",
                                      "{\"a\":[1,]}", NULL};
    for (int i = 0; bad[i]; i++) {
        bool ok = gw_json_object_keys(bad[i], strlen(bad[i]), &k, &open);
        if (ok)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(!ok);
    }
}

/* the text of stream events (gentext.c): what each API streams as generated text, and nothing
 * else; the kept part bounded */
static const char *gen_text(gw_gen *g)
{
    static char out[1024];
    snprintf(out, sizeof out, "%.*s", (int)g->len, g->p ? g->p : "");
    CHECK_INT(g->dropped, 0);
    gw_gen_free(g);
    return out;
}

static const char *gen_of(const char *const *list)
{
    gw_gen g = {0};
    for (int i = 0; list[i]; i++)
        gw_gen_event(&g, list[i], strlen(list[i]));
    return gen_text(&g);
}

static void t_gentext(void)
{
    /* OpenAI chat: the role-only first chunk, content with escapes (a \uXXXX pair: one emoji),
     * null content, tool-call arguments and name, refusal, two choices in one chunk, the
     * usage-only chunk, [DONE] */
    static const char *const chat[] = {
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\\"you\\\"\\n\\u00e9\\ud83d\\ude00\\/\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"no\"}},{\"index\":1,\"delta\":{\"content\":\"B\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}\n\n",
        "data: [DONE]\n\n", NULL};
    CHECK_STR(gen_of(chat), "Hi \"you\"\n\xc3\xa9\xf0\x9f\x98\x80/{\"a\":1}noB");
    /* Anthropic: text, thinking and tool input deltas; not the signature, not message_delta's */
    static const char *const anth[] = {
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"q\\\": \"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
        NULL};
    CHECK_STR(gen_of(anth), "hm Hello{\"q\": ");
    /* OpenAI Responses: text and arguments deltas; not audio, nor its transcript (audio output
     * is billed as audio tokens) */
    static const char *const resp[] = {
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"status\":\"in_progress\",\"usage\":null}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"One\"}\n\n",
        "event: response.audio.delta\ndata: {\"type\":\"response.audio.delta\",\"delta\":\"UklGRiQAAABXQVZF\"}\n\n",
        "event: response.audio_transcript.delta\ndata: {\"type\":\"response.audio_transcript.delta\",\"delta\":\" two\"}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"delta\":\" [3]\"}\n\n",
        NULL};
    CHECK_STR(gen_of(resp), "One [3]");
    /* reasoning a server sends twice (both names, and again in nested details) counted once;
     * chat audio and its transcript not at all */
    static const char *const twice[] = {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Hm. \",\"reasoning_content\":\"Hm. \",\"reasoning_details\":[{\"type\":\"reasoning.text\",\"text\":\"Hm. \"}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"audio\":{\"id\":\"a\",\"data\":\"UklG\",\"transcript\":\"said\"},\"content\":\"ok\"}}]}\n\n",
        NULL};
    CHECK_STR(gen_of(twice), "Hm. ok");
    /* many string deltas in one event: read once each (a scan of the whole event per delta
     * made this quadratic: minutes for a 1 MB event) */
    {
        size_t n = 100000, o = 0;
        char *big = malloc(n * 12 + 64);
        if (big) {
            o += (size_t)sprintf(big, "data: {");
            for (size_t i = 0; i < n; i++)
                o += (size_t)sprintf(big + o, "\"delta\":\"x\",");
            o += (size_t)sprintf(big + o, "\"z\":0}\n\n");
            gw_gen gb = {0};
            gw_gen_event(&gb, big, o);
            CHECK_INT(gb.len + gb.dropped, n);
            gw_gen_free(&gb);
            free(big);
        }
    }
    /* malformed or cut events add at most what came before the fault, and never read past the
     * event; deep nesting stops at 32 levels */
    static const char *const bad[] = {"data: {\"delta\":{\"content\":\"ab\\q\"}}\n\n",
                                      "data: {\"delta\":{\"content\":\"\\u12\"}}\n\n",
                                      "data: {\"delta\":{\"content\":\"cd", "data: {\"delta\":",
                                      "data: {\"delta\":{\"content\" \"x\"}}\n\n",
                                      "data: {\"delta\" :{ \"text\" : \"ef\" , \"n\" : 1.5e3 }}\n\n",
                                      NULL};
    CHECK_STR(gen_of(bad), "abcdef");
    char deep[200];
    int n = 0;
    n += snprintf(deep, sizeof deep, "data: {\"delta\":");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    snprintf(deep + n, sizeof deep - (size_t)n, "\"x\"");
    const char *const deeps[] = {deep, NULL};
    CHECK_STR(gen_of(deeps), "");
    /* past GW_GEN_KEEP: counted, not kept; the cut falls on a character's start */
    gw_gen g = {0};
    char ev[300];
    for (int i = 0; i < 4000; i++) { /* 4000 x 17 bytes of "\u00e9" x 8 + "x" */
        snprintf(ev, sizeof ev, "data: {\"delta\":\"%s\"}\n\n",
                 "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x");
        gw_gen_event(&g, ev, strlen(ev));
    }
    CHECK(g.len <= GW_GEN_KEEP && g.len > GW_GEN_KEEP - 4);
    CHECK_INT(g.len + g.dropped, 4000 * 17);
    CHECK(((unsigned char)g.p[g.len - 1] & 0xC0) != 0xC0); /* no lead byte left alone */
    gw_gen_free(&g);
    /* whole answers and requests through json-c */
    json_object *a = json_tokener_parse(
        "{\"model\":\"m\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Yes\","
        "\"reasoning\":\"W\",\"reasoning_content\":\"W\",\"reasoning_details\":[{\"text\":\"W\"}],"
        "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
        "\"logprobs\":{\"content\":[{\"token\":\"Yes\"}]}}],"
        "\"content\":[{\"type\":\"text\",\"text\":\"A\"},{\"type\":\"thinking\",\"thinking\":\"T\","
        "\"signature\":\"sig\"},{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"g\",\"input\":{\"q\":1}}],"
        "\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"R\"}]},"
        "{\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"S\"}]}],"
        "\"usage\":null,\"instructions\":[{\"role\":\"system\",\"content\":\"not output\"}]}");
    gw_gen_answer(&g, a);
    CHECK_STR(gen_text(&g), "Yes\nW\n{}\nA\nT\n{\"q\":1}\nR\nS");
    json_object_put(a);
    json_object *r = json_tokener_parse(
        "{\"model\":\"m\",\"system\":\"S\",\"instructions\":\"I\",\"input\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"input_text\",\"text\":\"Q\"}]}],\"max_tokens\":5}");
    gw_gen_json(&g, r, GW_GEN_REQUEST_KEYS);
    CHECK_STR(gen_text(&g), "S\nI\nQ");
    json_object_put(r);
}

int main(void)
{
    RUN(t_sha256);
    RUN(t_sse_split);
    RUN(t_sse_usage_chunk);
    RUN(t_cache_lru_ttl);
    RUN(t_budget);
    RUN(t_budget_shared);
    RUN(t_key_metrics);
    RUN(t_spool_replay);
    RUN(t_ledger_sink);
    RUN(t_config);
    RUN(t_glob_listen);
    RUN(t_text_helpers);
    RUN(t_json_scans);
    RUN(t_gentext);
    TEST_END();
}
