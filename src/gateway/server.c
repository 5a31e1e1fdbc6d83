/* server.c: `infercost serve --config FILE`: loads and validates the configuration and the price
 * catalog, replays the spool journal, listens (libevent evhttp, HTTP/1.1 keep-alive), runs the
 * event loop, and on SIGTERM/SIGINT stops accepting, drains in-flight calls (up to
 * drain_timeout_ms), flushes the spool and the access log, and exits. Also `--check` (validate
 * only) and `--hash-key` (the SHA-256 to put in the config for a virtual key). The request path
 * itself is in proxy.c. */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "infercost/catalog.h"
#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/units.h"
#include "../cli/cli_common.h"
#include "../cli/command.h"
#include "budget_pg.h"
#include "gw_util.h"
#include "server.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: infercost serve --config FILE [--listen HOST:PORT] [--catalog FILE]\n"
            "                       [--overlay FILE]... [--check]\n"
            "       infercost serve --hash-key < key.txt\n"
            "The gateway (docs/gateway.md): an OpenAI- and Anthropic-compatible HTTP server that\n"
            "prices, records (JSONL spool), routes, caches and budgets every call it forwards.\n"
            "  --config FILE     the JSON configuration (required)\n"
            "  --listen H:P      override the config's listen address (port 0: any free port)\n"
            "  --catalog/--overlay  price catalog (default: the embedded snapshot + config's)\n"
            "  --check           validate the configuration and the catalog, then exit\n"
            "  --hash-key        read a virtual key on stdin, print its sha256 for keys[].sha256\n"
            "Provider keys come from the environment (upstreams[].api_key_env), never the file.\n"
            "Prints \"infercost serve listening on http://HOST:PORT\" when ready; SIGTERM drains;\n"
            "SIGHUP reopens the spool and the access log (after logrotate renamed them).\n");
}

static gw_server *g_srv;
static struct event *g_drain_timer;
static uint64_t g_drain_start;

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_server *s = arg;
    uint64_t waited = (gw_mono_us() - g_drain_start) / 1000;
    if (s->m.inflight <= 0 || waited >= (uint64_t)s->cfg->drain_timeout_ms) {
        if (s->m.inflight > 0) {
            fprintf(stderr, "infercost serve: drain timeout: %lld call(s) still in flight are cut\n",
                    (long long)s->m.inflight);
            event_base_loopbreak(s->base);
            return;
        }
        /* the last responses are queued in their connections' output buffers: give the loop a
         * moment to write them before the connections are closed */
        struct timeval grace = {0, 200000};
        event_base_loopexit(s->base, &grace);
        return;
    }
    struct timeval tv = {0, 20000};
    evtimer_add(g_drain_timer, &tv);
}

/* accept() failing (EMFILE: out of descriptors) left libevent logging a warning and retrying at
 * once for as long as a connection waited: a core at 100% and a million stderr lines in seconds.
 * Instead new connections pause for 100 ms (they wait in the backlog), with one line on stderr
 * at most every 10 s. */
static struct event *g_accept_timer;
static int64_t g_accept_warned_ms; /* when the last line was written; 0: none yet */

static void accept_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evconnlistener_enable(arg);
}

static void accept_error(struct evconnlistener *l, void *arg)
{
    (void)arg;
    int e = EVUTIL_SOCKET_ERROR();
    evconnlistener_disable(l);
    int64_t now = gw_now_ms();
    if (!g_accept_warned_ms || now - g_accept_warned_ms >= 10000) {
        fprintf(stderr, "infercost serve: cannot accept connections: %s; new ones wait 100 ms "
                        "at a time (raise the descriptor limit, ulimit -n)\n",
                evutil_socket_error_to_string(e));
        g_accept_warned_ms = now;
    }
    struct timeval tv = {0, 100000};
    evtimer_add(g_accept_timer, &tv);
}

/* The budgets' spend so far today and this month, from the spool: without it a restart would
 * start every key at $0 and a day's budget could be spent again. Each of the spool's events of
 * the current UTC month for a key with a budget is priced again (as ingest would: a cache hit is
 * $0), then charged to the store: this month's before today, then today's. A call whose usage
 * came back incomplete counts what it recorded (its whole hold is not in the spool). From byte
 * from on; says on stderr how many events it counted. */
static void budgets_from_spool(gw_server *s, long from)
{
    const gw_config *cfg = s->cfg;
    bool any = false;
    for (size_t i = 0; i < cfg->nkeys; i++)
        any = any || cfg->keys[i].has_day || cfg->keys[i].has_month;
    FILE *f = any ? fopen(cfg->spool, "r") : NULL;
    if (!f)
        return;
    if (from > 0 && fseek(f, from, SEEK_SET) != 0)
        rewind(f);
    ic_money *day = calloc(cfg->nkeys, sizeof *day), *month = calloc(cfg->nkeys, sizeof *month);
    int64_t now = gw_now_ms(), today = ic_time_day(now) * 86400000;
    int64_t y;
    unsigned mo, d;
    ic_civil_from_days(ic_time_day(now), &y, &mo, &d);
    int64_t month_start = ic_days_from_civil(y, mo, 1) * 86400000;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t n = 0;
    ic_record r;
    ic_cost c;
    ic_error err;
    while (day && month && (got = getline(&line, &cap, f)) > 0) {
        if (!memmem(line, (size_t)got, "\"key_id\"", 8)) /* calls without a key: not budgeted */
            continue;
        if (ic_record_parse(s->cat, line, (size_t)got - (line[got - 1] == '\n'), &r, &err) != IC_OK ||
            !r.has_time || r.t_ms < month_start || r.t_ms > now)
            continue;
        size_t k = 0;
        while (k < cfg->nkeys && strcmp(cfg->keys[k].id, r.key_id))
            k++;
        if (k == cfg->nkeys || ic_record_price(s->cat, &r, now, &c, &err) != IC_OK)
            continue;
        month[k] += c.total;
        if (r.t_ms >= today)
            day[k] += c.total;
        n++;
    }
    free(line);
    fclose(f);
    for (size_t k = 0; day && month && k < cfg->nkeys; k++) {
        if (month[k] - day[k] && month_start < today) /* a moment of this month before today */
            s->bops->settle(s->bstore, cfg->keys[k].id, 0, 0, month[k] - day[k], 0, month_start);
        if (day[k])
            s->bops->settle(s->bstore, cfg->keys[k].id, 0, 0, day[k], 0, now);
    }
    free(day);
    free(month);
    if (n)
        fprintf(stderr, "infercost serve: budgets: %llu call(s) of this month counted from the "
                        "spool\n", (unsigned long long)n);
}

/* The budget store (budget_pg.h), before the first call is served. The gateway's id goes with
 * its spool, in SPOOL.gateway-id: the store's row under it holds what this spool's calls spent,
 * so a restart finds it (the default id, HOSTNAME:PORT, is made once and kept there). Beside the
 * id the file keeps where in the spool (inode, offset) the id began: the spool from there is
 * counted into the budgets too (the row lacks what was spent while the store was out of reach;
 * the larger count stands), and not the calls before it, which an earlier id's row holds (read
 * as another gateway's). A file missing: the whole spool is this id's. */
/* What the spool's first min(off, 256) bytes hash to, where off must follow a newline: an offset
 * kept in SPOOL.gateway-id is used only while it still names the same place in the same file.
 * 1 when the byte before off is not a newline (or the file cannot be read), 0 for off 0. */
static unsigned long long spool_mark(const char *spool, unsigned long long off)
{
    if (!off)
        return 0;
    FILE *f = fopen(spool, "rb");
    if (!f)
        return 1;
    unsigned char b[256];
    size_t n = fread(b, 1, off < sizeof b ? (size_t)off : sizeof b, f);
    int last = fseek(f, (long)off - 1, SEEK_SET) == 0 ? fgetc(f) : EOF;
    fclose(f);
    if (last != '\n')
        return 1;
    unsigned long long h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h < 2 ? h + 2 : h;
}

static bool open_budget_store(gw_server *s, int port, const char *cfgpath)
{
    const gw_config *cfg = s->cfg;
    char path[4096], id[320] = "", had[320] = "", err[1024];
    unsigned long long had_ino = 0, had_off = 0, had_fp = 0;
    snprintf(path, sizeof path, "%s.gateway-id", cfg->spool);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(had, sizeof had, f))
            had[0] = 0;
        had[strcspn(had, "\n")] = 0;
        if (fscanf(f, "%llu %llu %llx", &had_ino, &had_off, &had_fp) != 3)
            had_ino = had_off = had_fp = 0;
        fclose(f);
    }
    snprintf(id, sizeof id, "%s", cfg->gateway_id ? cfg->gateway_id : had);
    if (!id[0]) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(id, sizeof id, "%s:%d", host, port);
    }
    struct stat st;
    bool spool_there = stat(cfg->spool, &st) == 0;
    unsigned long long ino = spool_there ? (unsigned long long)st.st_ino : 0;
    unsigned long long off = 0; /* where this id's part of the spool begins */
    if (had[0] && strcmp(had, id)) {
        /* a new id: the spool so far is the earlier id's, in its row; from here on, this one's */
        off = spool_there ? (unsigned long long)st.st_size : 0;
    } else {
        /* no file (a spool from before there was a store): all of it this id's; the same id:
         * from its offset, if it still names the same place in the same file (the same inode,
         * long enough, a line ending before it, the same first bytes: a spool emptied in
         * place, made again under the inode or rotated is all this id's) */
        if (had[0] && had_ino == ino && spool_there && had_off <= (unsigned long long)st.st_size &&
            spool_mark(cfg->spool, had_off) == had_fp)
            off = had_off;
        budgets_from_spool(s, (long)off);
    }
    const char **keys = calloc(cfg->nkeys ? cfg->nkeys : 1, sizeof *keys);
    size_t nk = 0;
    for (size_t i = 0; keys && i < cfg->nkeys; i++)
        if (cfg->keys[i].has_day || cfg->keys[i].has_month || cfg->keys[i].rpm || cfg->keys[i].tpm)
            keys[nk++] = cfg->keys[i].id;
    s->bsync = keys ? gw_budget_sync_open(cfg->budget_store, id, cfg->budget_sync_ms, keys, nk,
                                          s->bstore, err, sizeof err)
                    : NULL;
    bool oom = !keys;
    free(keys);
    if (!s->bsync) {
        ic_cli_error("%s: budget_store: %s", cfgpath, oom ? "out of memory" : err);
        return false;
    }
    /* written once the store took the id: the spool's calls from off on are counted under it */
    if ((f = fopen(path, "w"))) {
        fprintf(f, "%s\n%llu %llu %llx\n", id, ino, off, spool_mark(cfg->spool, off));
        if (fclose(f) != 0)
            f = NULL;
    }
    if (!f)
        fprintf(stderr, "infercost serve: budget store: cannot write %s: %s (the gateway_id is "
                        "not kept with the spool)\n", path, strerror(errno));
    return true;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    gw_server *s = arg;
    if (s->draining) { /* a second signal: stop now */
        event_base_loopbreak(s->base);
        return;
    }
    fprintf(stderr, "infercost serve: %s: draining %lld in-flight call(s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", (long long)s->m.inflight);
    s->draining = true;
    if (g_accept_timer)
        evtimer_del(g_accept_timer); /* the listener goes below */
    if (s->bound) {
        evhttp_del_accept_socket(s->http, s->bound);
        s->bound = NULL;
    }
    g_drain_start = gw_mono_us();
    g_drain_timer = evtimer_new(s->base, drain_tick, s);
    drain_tick(-1, 0, s);
}

/* SIGHUP, after logrotate renamed the files: the spool's writer opens its path again (the old
 * file gets every event before), the access log is flushed and reopened */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    gw_server *s = arg;
    gw_spool_reopen(s->spool);
    if (s->alog_fd > 2) {
        gw_access_log_flush(s);
        int fd = open(s->cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            fprintf(stderr, "infercost serve: access_log: cannot reopen %s: %s; it goes on to the "
                            "old file\n", s->cfg->access_log, strerror(errno));
        } else {
            close(s->alog_fd);
            s->alog_fd = fd;
        }
    }
}

/* every 200 ms: the access log flushed; a budget store that stopped answering noticed */
static void alog_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gw_server *s = arg;
    gw_access_log_flush(s);
    if (s->bsync)
        gw_budget_sync_watch(s->bsync);
}

static int hash_key(void)
{
    char buf[4096];
    if (!fgets(buf, sizeof buf, stdin)) {
        ic_cli_error("serve --hash-key: expected the key on stdin");
        return 2;
    }
    size_t n = strcspn(buf, "\r\n");
    buf[n] = 0;
    if (n < 16) {
        ic_cli_error("serve --hash-key: a virtual key should be at least 16 characters");
        return 2;
    }
    char h[65];
    gw_sha256_hex(buf, n, h);
    memset(buf, 0, sizeof buf);
    printf("%s\n", h);
    return 0;
}

/* Warn (at start) about route models the catalog cannot price: their calls are spooled unpriced. */
static void check_prices(gw_server *s)
{
    const gw_config *c = s->cfg;
    for (size_t i = 0; i < c->nupstreams; i++)
        if (!ic_catalog_find_provider(s->cat, c->upstreams[i].provider))
            fprintf(stderr, "infercost serve: warning: %s: upstreams[%zu].provider: '%s' is not a "
                            "provider of the price catalog (calls through '%s' are spooled unpriced "
                            "until an overlay adds it)\n",
                    c->path, i, c->upstreams[i].provider, c->upstreams[i].name);
    for (size_t i = 0; i < c->nroutes; i++) {
        const gw_route *r = &c->routes[i];
        const gw_target *lists[3] = {r->targets, r->fallbacks, r->tier};
        size_t ns[3] = {r->ntargets, r->nfallbacks, r->ntier};
        const char *names[3] = {"targets", "fallbacks", "tier"};
        for (int l = 0; l < 3; l++)
            for (size_t k = 0; k < ns[l]; k++) {
                const gw_target *t = &lists[l][k];
                if (!t->model)
                    continue;
                const ic_provider *p;
                const ic_model *m;
                ic_error err = {0};
                if (ic_catalog_resolve(s->cat, c->upstreams[t->upstream].provider, t->model, &p, &m,
                                       &err) != IC_OK)
                    fprintf(stderr, "infercost serve: warning: %s: routes[%zu].%s[%zu]: %s (calls "
                                    "to it are spooled unpriced; keys with budgets cannot use it)\n",
                            c->path, i, names[l], k, err.msg);
            }
    }
}

static int cmd_serve(int argc, char **argv)
{
    const char *cfgpath = NULL, *listen = NULL;
    bool check = false;
    ic_cli_catalog_opts co = {0};
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--hash-key"))
            return hash_key();
        if (!strcmp(argv[i], "--check")) {
            check = true;
            i++;
            continue;
        }
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--config", argc, argv, &i, &bad))) {
            cfgpath = v;
            continue;
        }
        if (bad)
            return 2;
        if ((v = ic_cli_opt("--listen", argc, argv, &i, &bad))) {
            listen = v;
            continue;
        }
        if (bad)
            return 2;
        ic_cli_error("serve: unknown option '%s'", argv[i]);
        usage(stderr);
        return 2;
    }
    if (!cfgpath) {
        ic_cli_error("serve: --config FILE is required");
        usage(stderr);
        return 2;
    }
    if (!gw_sha256_ok()) {
        ic_cli_error("serve: OpenSSL's libcrypto offers no SHA-256 (virtual keys and cache keys "
                     "need it): check the libssl3 install");
        return 2;
    }
    char err[1024];
    gw_server *s = calloc(1, sizeof *s);
    s->alog_fd = -1;
    s->cfg = gw_config_load(cfgpath, err, sizeof err);
    if (!s->cfg) {
        ic_cli_error("%s", err);
        free(s);
        return 2;
    }
    int rc = 2;
    if (listen && !gw_parse_listen(listen, s->cfg->host, sizeof s->cfg->host, &s->cfg->port)) {
        ic_cli_error("--listen: expected HOST:PORT with an IPv4 address, got '%s'", listen);
        goto out;
    }
    if (!co.catalog)
        co.catalog = s->cfg->catalog;
    for (size_t i = 0; i < s->cfg->noverlays && co.noverlays < IC_CLI_MAX_OVERLAYS; i++)
        co.overlays[co.noverlays++] = s->cfg->overlays[i];
    s->cat = ic_cli_open_catalog(&co);
    if (!s->cat)
        goto out;
    for (size_t i = 0; i < s->cfg->nroutes; i++)
    {
        const gw_route *r = &s->cfg->routes[i];
        if (r->nkeywords || r->regex || r->min_prompt_tokens >= 0 || r->max_prompt_tokens >= 0)
            s->need_prompt_text = true;
        if (r->min_prompt_tokens >= 0 || r->max_prompt_tokens >= 0)
            s->need_prompt_tokens = true;
    }
    check_prices(s);
    s->prov_openai = ic_catalog_find_provider(s->cat, "openai");
    s->prov_anthropic = ic_catalog_find_provider(s->cat, "anthropic");
    if (check) {
        printf("%s: OK: %zu upstream(s), %zu route(s), %zu key(s), cache %s\n", cfgpath,
               s->cfg->nupstreams, s->cfg->nroutes, s->cfg->nkeys,
               s->cfg->cache_enabled ? "on" : "off");
        rc = 0;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN); /* before the event loop handles it (on_hup) and after: not fatal */
    uint64_t replayed = 0;
    s->spool = gw_spool_open_at(s->cfg->spool, s->cfg->journal, 16u << 20, s->cfg->spool_fsync,
                                &replayed, err, sizeof err);
    if (!s->spool) {
        ic_cli_error("%s", err);
        goto out;
    }
    if (replayed)
        fprintf(stderr, "infercost serve: recovered %llu event(s) from the journal into %s\n",
                (unsigned long long)replayed, s->cfg->spool);
    if (s->cfg->ledger) {
        s->ledger = gw_ledger_sink_open(s->cfg->ledger, s->cfg->spool, s->spool, s->cat, err,
                                       sizeof err);
        if (!s->ledger) {
            ic_cli_error("%s: %s", cfgpath, err);
            goto out;
        }
    }
    if (s->cfg->access_log) {
        if (!strcmp(s->cfg->access_log, "-"))
            s->alog_fd = 2;
        else if ((s->alog_fd = open(s->cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                                    0640)) < 0) {
            ic_cli_error("%s: access_log: cannot open %s: %s", cfgpath, s->cfg->access_log,
                         strerror(errno));
            goto out;
        }
    }
    s->alog = evbuffer_new();
    snprintf(s->idprefix, sizeof s->idprefix, "gw%llx%x", (unsigned long long)gw_now_ms(),
             (unsigned)getpid() & 0xffff);
    s->bops = &gw_budget_memory_ops;
    s->bstore = gw_budget_memory_new();
    s->cops = &gw_cache_memory_ops;
    s->cstore = gw_cache_memory_new(s->cfg->cache_max_bytes);
    {
        /* epoll changelist: the interest changes of one loop pass (evhttp toggling read/write on
         * a client connection, curl's socket callbacks) are merged and applied in one go before
         * epoll_wait, instead of an epoll_ctl each: strace showed ~6 epoll_ctl per proxied call.
         * Safe here: no fd is dup()ed behind libevent's back. */
        struct event_config *ec = event_config_new();
        if (ec) {
            event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
            s->base = event_base_new_with_config(ec);
            event_config_free(ec);
        }
        if (!s->base)
            s->base = event_base_new();
    }
    s->http = evhttp_new(s->base);
    s->up = gw_up_new(s->base, s->cfg->connect_timeout_ms);
    if (!s->bstore || !s->cstore || !s->base || !s->http || !s->up || !s->alog) {
        ic_cli_error("serve: out of memory at start");
        goto out;
    }
    if (!s->cfg->budget_store) /* with a store, see open_budget_store */
        budgets_from_spool(s, 0);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg->max_body_bytes);
    evhttp_set_max_headers_size(s->http, 64 * 1024); /* else one huge header line grows memory */
    {
        /* a client that sends part of a request and then nothing would hold its connection
         * (and a descriptor) for ever: reading, or writing to it, gives up after this long */
        struct timeval tv = {s->cfg->client_timeout_ms / 1000,
                             (s->cfg->client_timeout_ms % 1000) * 1000};
        evhttp_set_timeout_tv(s->http, &tv);
    }
    evhttp_set_gencb(s->http, gw_proxy_handle, s);
    {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)s->cfg->port);
        inet_pton(AF_INET, s->cfg->host, &sin.sin_addr);
        struct evconnlistener *l = evconnlistener_new_bind(
            s->base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
            4096, (struct sockaddr *)&sin, sizeof sin);
        if (!l) {
            ic_cli_error("serve: cannot listen on %s:%d: %s", s->cfg->host, s->cfg->port,
                         strerror(errno));
            goto out;
        }
        /* TCP_NODELAY on the listener, inherited by every accepted connection (Linux): a stream
         * writes one small SSE event at a time, and with Nagle an event written while the
         * previous one was not yet acknowledged waited for the client's delayed ACK: streamed
         * tokens arrived in clumps up to 40 ms late (tests/e2e/gateway_serve.sh measures it) */
        int one = 1;
        setsockopt(evconnlistener_get_fd(l), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s->bound = evhttp_bind_listener(s->http, l);
        g_accept_timer = evtimer_new(s->base, accept_resume, l);
        evconnlistener_set_error_cb(l, accept_error);
        struct sockaddr_in got;
        socklen_t gl = sizeof got;
        getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&got, &gl);
        if (s->cfg->budget_store && !open_budget_store(s, ntohs(got.sin_port), cfgpath))
            goto out;
        printf("infercost serve listening on http://%s:%d\n", s->cfg->host, ntohs(got.sin_port));
        fflush(stdout);
    }
    g_srv = s;
    {
        /* json-c's parser switches the thread to a "C" LC_NUMERIC locale around every parse
         * (uselocale(NULL), duplocale, newlocale, ..., freelocale): mallocs and a getenv on each
         * request parse and each usage extraction (perf: ~1.4% of the gateway's CPU per parse).
         * glibc hands back its static C locale object for all of these, without allocating, when
         * the thread already runs in it, so the event loop thread does. Nothing here formats
         * for humans in a locale (and metrics and JSON want '.' decimals anyway). */
        locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (cloc)
            uselocale(cloc);
    }
    struct event *sig1 = evsignal_new(s->base, SIGTERM, on_signal, s);
    struct event *sig2 = evsignal_new(s->base, SIGINT, on_signal, s);
    struct event *sig3 = evsignal_new(s->base, SIGHUP, on_hup, s);
    event_add(sig1, NULL);
    event_add(sig2, NULL);
    event_add(sig3, NULL);
    s->alog_timer = event_new(s->base, -1, EV_PERSIST, alog_tick, s);
    struct timeval tv = {0, 200000};
    event_add(s->alog_timer, &tv);
    event_base_dispatch(s->base);
    gw_proxy_abort_all(s);
    gw_proxy_free_pool(s);
    event_free(sig1);
    event_free(sig2);
    event_free(sig3);
    if (g_drain_timer)
        event_free(g_drain_timer);
    event_free(s->alog_timer);
    if (g_accept_timer)
        event_free(g_accept_timer);
    fprintf(stderr, "infercost serve: stopped; %llu event(s) spooled to %s\n",
            (unsigned long long)gw_spool_events(s->spool), s->cfg->spool);
    rc = 0;
out:
    if (s->http)
        evhttp_free(s->http);
    if (s->up)
        gw_up_free(s->up);
    if (s->alog) {
        gw_access_log_flush(s);
        evbuffer_free(s->alog);
    }
    if (s->alog_fd > 2)
        close(s->alog_fd);
    gw_spool_stop(s->spool);
    if (s->ledger && !gw_ledger_sink_close(s->ledger, NULL, err, sizeof err)) {
        fprintf(stderr, "infercost serve: ledger: %s\n", err);
        rc = rc ? rc : 1;
    }
    gw_spool_close(s->spool); /* after the sink, which reads its generation */
    if (s->cstore)
        s->cops->free(s->cstore);
    /* the last counters out, after every call settled; a store the thread may still use
     * (a database that stopped answering) is left to the exit */
    if (gw_budget_sync_close(s->bsync) && s->bstore)
        s->bops->free(s->bstore);
    if (s->base)
        event_base_free(s->base);
    if (s->cat)
        ic_catalog_free(s->cat);
    gw_config_free(s->cfg);
    free(s);
    return rc;
}

IC_COMMAND(serve, "serve", "the gateway: meter, route, cache and budget every model call", cmd_serve);
