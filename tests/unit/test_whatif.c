/* test_whatif.c: what-if savings on a ledger whose every cost is known by hand (prices of the
 * shipped snapshot, June 2026):
 *   a1, a2  openai gpt-4o, 1M in + 100k out = 2.5 + 1.0 = $3.50 each (acme, chat);
 *           on gpt-4o-mini 0.15 + 0.06 = $0.21
 *   a3      openai gpt-4o, a gateway cache hit: $0 (acme)
 *   x1      openai gpt-4o, $1 recorded without usage (appended directly; acme)
 *   b1      anthropic claude-sonnet-4-5, 100k in + 10k out + 1 web search = $0.46 (beta, agent)
 *   b2      the same without the search, sent through the batch API already: $0.45 (beta, agent)
 *   c1      openai gpt-5.6-luna, 100k in + 100k out = 0.1 + 0.6 = $0.70 (beta, chat); at the
 *           prices in force from 2026-07-30: 0.02 + 0.12 = $0.14
 *   d1      deepseek deepseek-chat at 00:00 UTC (off-peak), 1M in + 1M out = $0.685 (beta, chat)
 * Revenue: acme $100, beta $10 for 2026-06. */
#include <stdlib.h>
#include <unistd.h>

#include "infercost/catalog.h"
#include "infercost/economics.h"
#include "infercost/ingest.h"
#include "infercost/whatif.h"
#include "test.h"

#define USD(x) ((ic_money)((x) * 1000000) * 1000000) /* whole micro-dollars only */

static char dir[] = "/tmp/ic_test_whatif_XXXXXX";
static ic_catalog *cat;
static ic_ledger *led;

static const char jsonl[] =
    "{\"id\":\"a1\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-06-10T10:00:00Z\","
    "\"usage\":{\"input_tokens\":1000000,\"output_tokens\":100000},\"customer\":\"acme\",\"feature\":\"chat\"}\n"
    "{\"id\":\"a2\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-06-10T11:00:00Z\","
    "\"usage\":{\"input_tokens\":1000000,\"output_tokens\":100000},\"customer\":\"acme\",\"feature\":\"chat\"}\n"
    "{\"id\":\"a3\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-06-10T12:00:00Z\","
    "\"usage\":{\"input_tokens\":1000000,\"output_tokens\":100000},\"customer\":\"acme\",\"feature\":\"chat\","
    "\"cache_hit\":true}\n"
    "{\"id\":\"b1\",\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"timestamp\":\"2026-06-11T10:00:00Z\","
    "\"usage\":{\"input_tokens\":100000,\"output_tokens\":10000,\"web_searches\":1},\"customer\":\"beta\",\"feature\":\"agent\"}\n"
    "{\"id\":\"b2\",\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"timestamp\":\"2026-06-11T11:00:00Z\","
    "\"usage\":{\"input_tokens\":100000,\"output_tokens\":10000},\"customer\":\"beta\",\"feature\":\"agent\","
    "\"batch\":true}\n"
    "{\"id\":\"c1\",\"provider\":\"openai\",\"model\":\"gpt-5.6-luna\",\"timestamp\":\"2026-06-12T10:00:00Z\","
    "\"usage\":{\"input_tokens\":100000,\"output_tokens\":100000},\"customer\":\"beta\",\"feature\":\"chat\"}\n"
    "{\"id\":\"d1\",\"provider\":\"deepseek\",\"model\":\"deepseek-chat\",\"timestamp\":\"2026-06-13T00:00:00Z\","
    "\"usage\":{\"input_tokens\":1000000,\"output_tokens\":1000000},\"customer\":\"beta\",\"feature\":\"chat\"}\n";

static const ic_model *model(const char *provider, const char *id)
{
    const ic_provider *p;
    const ic_model *m = NULL;
    ic_error err = {0};
    CHECK_INT(ic_catalog_resolve(cat, provider, id, &p, &m, &err), IC_OK);
    return m;
}

static const ic_whatif_row *row(const ic_whatif *w, const char *key)
{
    for (size_t i = 0; i < w->nrows; i++)
        if (!strcmp(w->rows[i].key, key))
            return &w->rows[i];
    fprintf(stderr, "no row %s\n", key);
    return &w->total;
}

static ic_whatif *build(const ic_whatif_opts *o)
{
    ic_whatif *w = NULL;
    ic_error err = {0};
    CHECK_INT(ic_whatif_build(led, o, &w, &err), IC_OK);
    if (!w)
        fprintf(stderr, "%s\n", err.msg);
    return w;
}

static void t_setup(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/w.db", dir);
    ic_error err = {0};
    CHECK_INT(ic_catalog_open(&cat, NULL, &err), IC_OK);
    CHECK_INT(ic_ledger_open(&led, path, false, &err), IC_OK);
    FILE *in = fmemopen((void *)jsonl, sizeof jsonl - 1, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(led, &io, in, "w.jsonl", &st, &err), IC_OK);
    fclose(in);
    CHECK_INT(st.inserted, 7);
    CHECK(st.cost == USD(3.5) * 2 + USD(0.46) + USD(0.45) + USD(0.7) + USD(0.685));
    ic_event x = {.id = "x1", .t_ms = 1781092800000 /* 2026-06-10T12:00Z */, .provider = "openai",
                  .model = "gpt-4o", .customer = "acme", .feature = "chat",
                  .cost = IC_PICO_PER_USD, .latency_ms = -1};
    CHECK_INT(ic_ledger_append(led, &x, 1, NULL, NULL, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(led, "acme", "2026-06", 100 * IC_PICO_PER_USD, &err), IC_OK);
    CHECK_INT(ic_ledger_revenue_put(led, "beta", "2026-06", 10 * IC_PICO_PER_USD, &err), IC_OK);
}

static const ic_money period = USD(3.5) * 2 + USD(1) + USD(0.46) + USD(0.45) + USD(0.7) + USD(0.685);

static void t_swap_all(void)
{
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_MODEL, .nswaps = 1};
    o.swaps[0] = (ic_whatif_swap){"gpt-4o", model("openai", "gpt-4o-mini")};
    ic_whatif *w = build(&o);
    if (!w)
        return;
    const ic_whatif_row *r = row(w, "gpt-4o");
    CHECK_INT(r->requests, 4);
    CHECK_INT(r->moved, 2);    /* a1, a2: a3 is a cache hit, x1 has no usage */
    CHECK_INT(r->unpriced, 1); /* x1 keeps its recorded $1 */
    CHECK(r->before == USD(8));
    CHECK(r->after == USD(0.21) * 2 + USD(1));
    CHECK_INT(w->swap_matched[0], 3);
    CHECK(strstr(w->first_unpriced, "x1") && strstr(w->first_unpriced, "no usage recorded"));
    const ic_whatif_row *s = row(w, "claude-sonnet-4-5");
    CHECK(s->before == s->after && s->moved == 0);
    CHECK(w->total.before == period);
    CHECK(w->total.period_cost == period);
    CHECK(w->total.after == period - (USD(3.5) - USD(0.21)) * 2);
    CHECK(w->rows[0].key && !strcmp(w->rows[0].key, "gpt-4o")); /* largest saving first */
    CHECK(w->total.has_revenue && w->total.revenue == 110 * IC_PICO_PER_USD);
    ic_whatif_free(w);
}

static void t_swap_unpriced_unit(void)
{
    /* gpt-4o-mini prices no web search: b1 cannot move and says why; b2 can */
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_CUSTOMER, .nswaps = 1};
    o.swaps[0] = (ic_whatif_swap){"claude-sonnet-4-5", model("openai", "gpt-4o-mini")};
    ic_whatif *w = build(&o);
    if (!w)
        return;
    const ic_whatif_row *r = row(w, "beta");
    CHECK_INT(r->moved, 1);
    CHECK_INT(r->unpriced, 1);
    CHECK(strstr(w->first_unpriced, "b1") && strstr(w->first_unpriced, "web_searches"));
    /* b2 on gpt-4o-mini: 100k x 0.15 + 10k x 0.6 per M = 0.015 + 0.006 */
    CHECK(r->after == r->before - USD(0.45) + USD(0.021));
    ic_whatif_free(w);
}

static void t_batch(void)
{
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_PROVIDER, .batch = true};
    ic_whatif *w = build(&o);
    if (!w)
        return;
    const ic_whatif_row *oa = row(w, "openai"), *an = row(w, "anthropic"), *ds = row(w, "deepseek");
    CHECK_INT(oa->batched, 3); /* a1, a2, c1; not the cache hit, nor x1 (no recorded items) */
    CHECK_INT(oa->unpriced, 1);
    CHECK(oa->after == (USD(3.5) * 2 + USD(0.7)) / 2 + USD(1));
    CHECK_INT(an->batched, 1); /* b2 was batched already */
    /* b1: its tokens at half price (0.45 / 2), its web search ($0.01) not */
    CHECK(an->after == USD(0.225) + USD(0.01) + USD(0.45));
    CHECK(ds->after == ds->before && ds->batched == 0);
    CHECK_INT(w->no_batch_price, 1);
    ic_whatif_free(w);
    /* one discount for every provider, rounded half-even per call: 0.685 x 0.8 = 0.548 */
    o.batch_bp = 2000;
    w = build(&o);
    if (!w)
        return;
    CHECK(row(w, "deepseek")->after == USD(0.548));
    CHECK_INT(w->no_batch_price, 0);
    ic_whatif_free(w);
}

static void t_at_and_filter(void)
{
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_FEATURE, .at = true,
                        .at_ms = 1785542400000 /* 2026-08-01 */};
    o.filter.model = "gpt-5.6-luna";
    ic_whatif *w = build(&o);
    if (!w)
        return;
    CHECK_INT(w->nrows, 1);
    const ic_whatif_row *r = row(w, "chat");
    CHECK_INT(r->requests, 1);
    CHECK(r->before == USD(0.7) && r->after == USD(0.14));
    CHECK(w->total.period_cost == period); /* the rest of the period is counted as it is */
    ic_whatif_free(w);
}

static void t_unpriced_swap_still_batched(void)
{
    /* b1 cannot move to gpt-4o-mini (no web search price): it stays on Anthropic and is batched
     * there, its tokens 0.45 / 2 and the search 0.01; b2 is batched already and moves: 0.021 */
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_FEATURE, .nswaps = 1,
                        .batch = true};
    o.swaps[0] = (ic_whatif_swap){"claude-sonnet-4-5", model("openai", "gpt-4o-mini")};
    o.filter.feature = "agent";
    ic_whatif *w = build(&o);
    if (!w)
        return;
    const ic_whatif_row *r = row(w, "agent");
    CHECK_INT(r->unpriced, 1);
    CHECK_INT(r->batched, 1);
    CHECK_INT(r->moved, 1);
    CHECK(r->after == USD(0.225) + USD(0.01) + USD(0.021));
    ic_whatif_free(w);
}

static void t_time_of_day_and_empty(void)
{
    /* deepseek-chat at 10:00 UTC is in its 00:30-16:30 window ($0.27 per M input), at 20:00 not
     * ($0.135): priced again at the same date's prices, nothing changes */
    char path[256];
    snprintf(path, sizeof path, "%s/t.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_MODEL, .at = true,
                        .at_ms = 1772323200000 /* 2026-03-01 */};
    ic_whatif *w = NULL;
    /* an empty ledger, without revenue: no rows, no error */
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w)
        CHECK(w->nrows == 0 && w->total.period_cost == 0 && !w->total.has_revenue);
    ic_whatif_free(w);
    static const char text[] =
        "{\"id\":\"p\",\"provider\":\"deepseek\",\"model\":\"deepseek-chat\",\"timestamp\":"
        "\"2026-03-01T10:00:00Z\",\"usage\":{\"input_tokens\":1000000,\"output_tokens\":0}}\n"
        "{\"id\":\"q\",\"provider\":\"deepseek\",\"model\":\"deepseek-chat\",\"timestamp\":"
        "\"2026-03-01T20:00:00Z\",\"usage\":{\"input_tokens\":1000000,\"output_tokens\":0}}\n";
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "t.jsonl", &st, &err), IC_OK);
    fclose(in);
    CHECK(st.cost == USD(0.405));
    o.at_ms += 12 * 3600000; /* any time of that date */
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK(w->total.before == USD(0.405));
        CHECK(w->total.after == USD(0.405));
        CHECK_INT(w->total.unpriced, 0);
    }
    ic_whatif_free(w);
    ic_ledger_close(l);
}

static void t_cache_reads(void)
{
    /* half of each input read from the cache: a1 and a2 (1M in, none cached) read 500k at $1.25
     * per M instead of $2.5: 0.625 less each; b1 and b2 (Sonnet, 100k in) 50k at $0.3 instead of
     * $3: 0.135 less each; c1 (luna, June: $0.1 per M cached, $1 uncached, 100k in) 0.045 less;
     * d1 (deepseek, off-peak: $0.035 / $0.135, 1M in) 0.05 less. a3 is a cache hit, x1 has no
     * usage: unpriced, kept. */
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_PROVIDER,
                        .cache_read_bp = 5000};
    ic_whatif *w = build(&o);
    if (!w)
        return;
    CHECK(row(w, "openai")->before - row(w, "openai")->after == USD(0.625) * 2 + USD(0.045));
    CHECK(row(w, "anthropic")->before - row(w, "anthropic")->after == USD(0.135) * 2);
    CHECK(row(w, "deepseek")->before - row(w, "deepseek")->after == USD(0.05));
    CHECK_INT(w->total.unpriced, 1);
    ic_whatif_free(w);
    /* 0.01%, rounded down per call: 100 tokens of a1, a2 and d1, 10 of b1, b2 and c1:
     * 2 x 0.000125 + 2 x 0.000027 + 0.000009 + 0.00001 */
    o.cache_read_bp = 1;
    w = build(&o);
    if (w)
        CHECK(w->total.before - w->total.after == USD(0.000323));
    ic_whatif_free(w);
}

static void t_own_model_and_catalog(void)
{
    /* a call priced on gpt-4o and served by gpt-4o-mini is priced again on gpt-4o, the model that
     * priced it; one ingested under an overlay (gpt-4o at $5 / $20) and priced again with the
     * plain catalog keeps its recorded cost plus the scenario's change, and is counted */
    char path[256];
    snprintf(path, sizeof path, "%s/o.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    static const char served[] =
        "{\"id\":\"s\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"model_served\":"
        "\"gpt-4o-mini\",\"timestamp\":\"2026-06-10T10:00:00Z\",\"usage\":{\"input_tokens\":"
        "1000000,\"output_tokens\":100000}}\n";
    FILE *in = fmemopen((void *)served, sizeof served - 1, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "s.jsonl", &st, &err), IC_OK);
    fclose(in);
    ic_catalog *over = NULL;
    CHECK_INT(ic_catalog_open(&over, NULL, &err), IC_OK);
    static const char ov[] = "[{\"id\":\"openai\",\"name\":\"OpenAI\",\"api_pattern\":"
                             "\"https://api\\\\.openai\\\\.com\",\"models\":[{\"id\":\"gpt-4o\","
                             "\"match\":{\"equals\":\"gpt-4o\"},\"prices\":{\"input_mtok\":5,"
                             "\"output_mtok\":20}}]}]";
    CHECK_INT(ic_catalog_overlay_text(over, ov, sizeof ov - 1, "ov.json", &err), IC_OK);
    static const char priced_over[] =
        "{\"id\":\"v\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":"
        "\"2026-06-10T11:00:00Z\",\"usage\":{\"input_tokens\":1000000,\"output_tokens\":100000}}\n";
    in = fmemopen((void *)priced_over, sizeof priced_over - 1, "r");
    io.catalog = over;
    CHECK_INT(ic_ingest_stream(l, &io, in, "v.jsonl", &st, &err), IC_OK);
    fclose(in);
    ic_whatif_opts o = {.catalog = cat, .by = IC_DIM_MODEL, .at = true,
                        .at_ms = 1781049600000 /* 2026-06-10 */};
    ic_whatif *w = NULL;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK(w->total.before == USD(3.5) + USD(7));
        CHECK(w->total.after == w->total.before); /* the calls' own date: nothing changes */
        CHECK_INT(w->total.unpriced, 0);
        CHECK_INT(w->catalog_differs, 1);
    }
    ic_whatif_free(w);
    /* and a batch on top: half of each call's recorded token cost, whatever today's catalog */
    o.batch = true;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w)
        CHECK(w->total.after == (USD(3.5) + USD(7)) / 2);
    ic_whatif_free(w);
    ic_catalog_free(over);
    ic_ledger_close(l);
}

static void t_half_pico_tie(void)
{
    /* a model at $0.000001 per million tokens, a pico-dollar a token: 3 tokens cost 3
     * pico-dollars, half of it 1.5, which rounds to even: 2 off, 1 left; 1 token: 0.5 rounds to
     * 0 off */
    ic_catalog *tiny = NULL;
    ic_error err = {0};
    CHECK_INT(ic_catalog_open(&tiny, NULL, &err), IC_OK);
    static const char ov[] = "[{\"id\":\"tiny\",\"name\":\"Tiny\",\"api_pattern\":\"x\","
                             "\"models\":[{\"id\":\"t1\",\"match\":{\"equals\":\"t1\"},"
                             "\"prices\":{\"input_mtok\":0.000001}}]}]";
    CHECK_INT(ic_catalog_overlay_text(tiny, ov, sizeof ov - 1, "tiny.json", &err), IC_OK);
    char path[256];
    snprintf(path, sizeof path, "%s/h.db", dir);
    ic_ledger *l = NULL;
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    static const char text[] =
        "{\"id\":\"t3\",\"provider\":\"tiny\",\"model\":\"t1\",\"timestamp\":"
        "\"2026-06-10T10:00:00Z\",\"usage\":{\"input_tokens\":3}}\n"
        "{\"id\":\"t1\",\"provider\":\"tiny\",\"model\":\"t1\",\"timestamp\":"
        "\"2026-06-10T10:00:00Z\",\"usage\":{\"input_tokens\":1}}\n";
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    ic_ingest_opts io = {.catalog = tiny};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "t.jsonl", &st, &err), IC_OK);
    fclose(in);
    CHECK(st.cost == 4);
    ic_whatif_opts o = {.catalog = tiny, .by = IC_DIM_MODEL, .batch = true, .batch_bp = 5000};
    ic_whatif *w = NULL;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w)
        CHECK(w->total.after == 1 + 1); /* 3 - 2, 1 - 0 */
    ic_whatif_free(w);
    ic_ledger_close(l);
    ic_catalog_free(tiny);
}

static void t_customer_shares(void)
{
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_CUSTOMER, .nswaps = 1};
    o.swaps[0] = (ic_whatif_swap){"gpt-4o", model("openai", "gpt-4o-mini")};
    o.filter.feature = "chat";
    ic_whatif *w = build(&o);
    if (!w)
        return;
    const ic_whatif_row *a = row(w, "acme"), *b = row(w, "beta");
    CHECK(a->has_revenue && a->revenue == 100 * IC_PICO_PER_USD);
    CHECK(a->period_cost == USD(8) && a->after == USD(1.42));
    CHECK_INT(b->requests, 2); /* c1, d1: beta's agent calls are outside the filter */
    CHECK(b->period_cost == USD(0.46) + USD(0.45) + USD(0.7) + USD(0.685));
    CHECK(ic_cost_share_bp(a->period_cost - (a->before - a->after), a->revenue) == 142);
    char buf[1 << 14];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ic_error err = {0};
    CHECK_INT(ic_whatif_write(w, IC_FMT_JSON, f, &err), IC_OK);
    fclose(f);
    CHECK(strstr(buf, "\"key\":\"acme\",\"calls\":4,\"moved\":2,\"batched\":0,\"unpriced\":1,"
                      "\"cost_usd\":\"8\",\"whatif_usd\":\"1.42\",\"saving_usd\":\"6.58\","
                      "\"saving_pct\":\"82.25\",\"revenue_usd\":\"100\",\"cost_share_pct\":\"8.00\","
                      "\"whatif_cost_share_pct\":\"1.42\"},{\"key\":\"beta\",") != NULL);
    CHECK(strstr(buf, "\"total\":{\"calls\":6,") != NULL);
    CHECK(strstr(buf, "\"period_cost_usd\":\"10.295\",\"period_whatif_usd\":\"3.715\"") != NULL);
    ic_whatif_free(w);
    /* one customer's calls: the other customer has no row, the period still counts its calls */
    o.filter.feature = NULL;
    o.filter.customer = "beta";
    w = build(&o);
    if (!w)
        return;
    CHECK_INT(w->nrows, 1);
    CHECK(w->total.period_cost == period);
    ic_whatif_free(w);
}

static void t_share(void)
{
    /* 1,000 more calls on another day: moving a share moves about that share, each call either
     * wholly or not at all, and the same calls on every run */
    char path[256];
    snprintf(path, sizeof path, "%s/s.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    size_t cap = 1000 * 256, n = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "{\"id\":\"s%d\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
                              "\"timestamp\":\"2026-06-20T10:00:00Z\",\"usage\":{\"input_tokens\":"
                              "1000000,\"output_tokens\":100000}}\n", i);
    FILE *in = fmemopen(text, n, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "s.jsonl", &st, &err), IC_OK);
    fclose(in);
    free(text);
    uint64_t last = 0;
    for (uint32_t share = 1000; share <= 10000; share += 3000) {
        ic_whatif_opts o = {.catalog = cat, .share_bp = share, .by = IC_DIM_MODEL, .nswaps = 1};
        o.swaps[0] = (ic_whatif_swap){"gpt-4o", model("openai", "gpt-4o-mini")};
        ic_whatif *w = NULL, *again = NULL;
        CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
        CHECK_INT(ic_whatif_build(l, &o, &again, &err), IC_OK);
        if (!w || !again)
            break;
        uint64_t m = w->total.moved;
        CHECK(m * 10000 >= (uint64_t)share * 1000 - 60 * 10000 &&
              m * 10000 <= (uint64_t)share * 1000 + 60 * 10000);
        CHECK(m >= last);
        CHECK(w->total.after == USD(3.5) * 1000 - (USD(3.5) - USD(0.21)) * (ic_money)m);
        CHECK(again->total.after == w->total.after);
        last = m;
        ic_whatif_free(w);
        ic_whatif_free(again);
    }
    CHECK_INT(last, 1000);
    ic_ledger_close(l);
}

static void t_share_by_size(void)
{
    /* gpt-4o calls of 1,000 x i input tokens (i = 1..10), no output: $0.0025 x i each, on
     * gpt-4o-mini $0.00015 x i. The smallest 30% are i = 1, 2, 3: saving 0.00235 x 6. */
    char path[256];
    snprintf(path, sizeof path, "%s/z.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    char text[4096];
    size_t n = 0;
    for (int i = 10; i >= 1; i--) /* in any order */
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "{\"id\":\"z%d\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
                              "\"timestamp\":\"2026-06-20T10:00:00Z\",\"usage\":{\"input_tokens\":"
                              "%d,\"output_tokens\":0}}\n", i, 1000 * i);
    FILE *in = fmemopen(text, n, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "z.jsonl", &st, &err), IC_OK);
    fclose(in);
    ic_whatif_opts o = {.catalog = cat, .share_bp = 3000, .share_smallest = true,
                        .by = IC_DIM_MODEL, .nswaps = 1};
    o.swaps[0] = (ic_whatif_swap){"gpt-4o", model("openai", "gpt-4o-mini")};
    ic_whatif *w = NULL;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK_INT(w->total.moved, 3);
        CHECK(w->total.before - w->total.after == (USD(0.0025) - USD(0.00015)) * 6);
    }
    ic_whatif_free(w);
    o.share_bp = 1; /* less than one call: none moves */
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w)
        CHECK_INT(w->total.moved, 0);
    ic_whatif_free(w);
    ic_ledger_close(l);
}

/* --response-cache: a ledger of gpt-4o calls of $3.50 each (1M in + 100k out), H1 and H2 request
 * hashes, a cache of 1h. What each call does (the filter: customer acme):
 *   r1  10:00:00 H1, 2 s long     miss: its answer is stored at 10:00:02
 *   r2  10:00:01 H1, 1 s long     miss (r1 still in flight); stored again at 10:00:02
 *   r3  10:00:02 H1               hit
 *   r4  11:00:01.999 H1           hit (the entry lives until 11:00:02)
 *   r5  11:00:02 H1               miss: expired; stored at 11:00:02
 *   r6  11:30 H2, status 500, $0  miss, and a failure stores nothing
 *   r7  11:31 H2                  miss: stored
 *   r8  11:32 H2, a recorded hit  $0 as recorded
 *   r9  11:33 H2, customer beta   outside the filter: unchanged
 *   r10 11:34 H2                  hit
 *   r11 11:35 no hash             no cache answers it */
static void t_response_cache(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/rc.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    static const char *const H1 = "1111111111111111111111111111111111111111111111111111111111111111",
                             *const H2 = "22222222";
    const struct {
        const char *t, *hash, *extra;
    } ev[] = {{"10:00:00", H1, ",\"latency_ms\":2000"}, {"10:00:01", H1, ",\"latency_ms\":1000"},
              {"10:00:02", H1, ""}, {"11:00:01.999", H1, ""}, {"11:00:02", H1, ""},
              {"11:30:00", H2, ",\"status\":\"500\""}, {"11:31:00", H2, ",\"status\":\"200\""},
              {"11:32:00", H2, ",\"cache_hit\":true"}, {"11:33:00", H2, ",\"customer\":\"beta\""},
              {"11:34:00", H2, ""}, {"11:35:00", NULL, ""}};
    char text[8192];
    size_t n = 0;
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
        bool failed = strstr(ev[i].extra, "500") != NULL;
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "{\"id\":\"r%zu\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
                              "\"timestamp\":\"2026-06-20T%sZ\",\"usage\":{\"input_tokens\":%d,"
                              "\"output_tokens\":%d}%s%s%s%s%s}\n",
                              i + 1, ev[i].t, failed ? 0 : 1000000, failed ? 0 : 100000,
                              strstr(ev[i].extra, "customer") ? "" : ",\"customer\":\"acme\"",
                              ev[i].hash ? ",\"request_hash\":\"" : "",
                              ev[i].hash ? ev[i].hash : "", ev[i].hash ? "\"" : "", ev[i].extra);
    }
    FILE *in = fmemopen(text, n, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "rc.jsonl", &st, &err), IC_OK);
    fclose(in);
    CHECK_INT(st.inserted, 11);
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_CUSTOMER,
                        .response_cache_ms = 3600000};
    o.filter.customer = "acme";
    ic_whatif *w = NULL;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK_INT(w->total.requests, 10);
        CHECK_INT(w->total.cached, 3); /* r3, r4, r10 */
        CHECK_INT(w->unhashed, 1);     /* r11 */
        CHECK(w->total.before == USD(3.5) * 8);
        CHECK(w->total.after == USD(3.5) * 5);
        CHECK(w->total.period_cost == USD(3.5) * 9); /* r9 counted in the period, unchanged */
    }
    ic_whatif_free(w);
    /* with a swap: the hits stay $0 and still count as the swap's calls; the misses move */
    o.nswaps = 1;
    o.swaps[0] = (ic_whatif_swap){"gpt-4o", model("openai", "gpt-4o-mini")};
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK_INT(w->total.cached, 3);
        CHECK_INT(w->total.moved, 6);      /* r1, r2, r5, r6, r7, r11 */
        CHECK_INT(w->swap_matched[0], 9);  /* all but the recorded hit r8 */
        CHECK(w->total.after == USD(0.21) * 5);
    }
    ic_whatif_free(w);
    /* a lifetime of 1 ms: only r3 (the same millisecond its entry was stored) */
    o.nswaps = 0;
    o.response_cache_ms = 1;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w)
        CHECK_INT(w->total.cached, 1);
    ic_whatif_free(w);
    o.response_cache_ms = -1;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_ERR_INVALID);
    ic_ledger_close(l);
}

/* --response-cache with calls in flight at once, in one ledger of H3 calls (TTL 1h):
 *   x  00:00:00.000, 1 s     miss: in at 00:00:01
 *   a  00:00:00.500, 10 s    miss (x still in flight): in at 00:00:10.5, replacing x's
 *   b  00:00:02              hit on x's answer (a's is not in yet)
 *   c  01:00:05              hit on a's answer (x's alone would have expired at 01:00:01)
 *   d  01:00:11              miss: a's expired at 01:00:10.5; in at 01:00:11.005
 *   e  02:00:12              miss: d's expired; latency 2^63 - 1 ms (not one: clamped to a day,
 *                            where the sum would overflow)
 *   f  02:30:00              miss: e's answer is not in before 02:00:12 the next day */
static void t_response_cache_in_flight(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/rf.db", dir);
    ic_ledger *l = NULL;
    ic_error err = {0};
    CHECK_INT(ic_ledger_open(&l, path, false, &err), IC_OK);
    const struct {
        const char *id, *t;
        long long lat;
    } ev[] = {{"x", "00:00:00", 1000},      {"a", "00:00:00.500", 10000},
              {"b", "00:00:02", 5},         {"c", "01:00:05", 5},
              {"d", "01:00:11", 5},         {"e", "02:00:12", 9223372036854775807LL},
              {"f", "02:30:00", 5}};
    char text[4096];
    size_t n = 0;
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "{\"id\":\"%s\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
                              "\"timestamp\":\"2026-06-21T%sZ\",\"usage\":{\"input_tokens\":1000000,"
                              "\"output_tokens\":100000},\"request_hash\":\"H3\",\"latency_ms\":%lld}\n",
                              ev[i].id, ev[i].t, ev[i].lat);
    FILE *in = fmemopen(text, n, "r");
    ic_ingest_opts io = {.catalog = cat};
    ic_ingest_stats st = {0};
    CHECK_INT(ic_ingest_stream(l, &io, in, "rf.jsonl", &st, &err), IC_OK);
    fclose(in);
    CHECK_INT(st.inserted, 7);
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_MODEL,
                        .response_cache_ms = 3600000};
    ic_whatif *w = NULL;
    CHECK_INT(ic_whatif_build(l, &o, &w, &err), IC_OK);
    if (w) {
        CHECK_INT(w->total.cached, 2); /* b, c */
        CHECK(w->total.after == USD(3.5) * 5);
    }
    ic_whatif_free(w);
    ic_ledger_close(l);
}

static void t_refused(void)
{
    ic_whatif *w = NULL;
    ic_error err = {0};
    ic_whatif_opts o = {.catalog = cat, .share_bp = 10000, .by = IC_DIM_MODEL};
    CHECK_INT(ic_whatif_build(led, &o, &w, &err), IC_ERR_INVALID); /* no scenario */
    CHECK(strstr(err.msg, "no scenario") != NULL);
    o.batch = true;
    o.by = IC_DIM_TASK;
    CHECK_INT(ic_whatif_build(led, &o, &w, &err), IC_ERR_INVALID);
    o.by = IC_DIM_MODEL;
    o.share_bp = 10001;
    CHECK_INT(ic_whatif_build(led, &o, &w, &err), IC_ERR_INVALID);
    CHECK(w == NULL);
    /* unroute is a scenario of its own; on a ledger without routed calls it moves nothing */
    o.share_bp = 10000;
    o.unroute = true;
    CHECK_INT(ic_whatif_build(led, &o, &w, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "unroute is a scenario of its own") != NULL);
    o.batch = false;
    w = build(&o);
    if (w) {
        CHECK_INT(w->total.moved, 0);
        CHECK(w->total.after == w->total.before && w->total.unpriced == 0);
        ic_whatif_free(w);
    }
    CHECK_INT(ic_whatif_batch_discount_bp("openai"), 5000);
    CHECK_INT(ic_whatif_batch_discount_bp("deepseek"), 0);
    CHECK_INT(ic_whatif_batch_discount_bp(NULL), 0);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    RUN(t_setup);
    if (cat && led) {
        RUN(t_swap_all);
        RUN(t_swap_unpriced_unit);
        RUN(t_batch);
        RUN(t_at_and_filter);
        RUN(t_unpriced_swap_still_batched);
        RUN(t_time_of_day_and_empty);
        RUN(t_cache_reads);
        RUN(t_own_model_and_catalog);
        RUN(t_half_pico_tie);
        RUN(t_customer_shares);
        RUN(t_share);
        RUN(t_share_by_size);
        RUN(t_response_cache);
        RUN(t_response_cache_in_flight);
        RUN(t_refused);
    }
    ic_ledger_close(led);
    ic_catalog_free(cat);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
