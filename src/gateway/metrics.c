/* metrics.c: Prometheus text rendering of the gateway counters (metrics.h). Money totals are
 * printed from the exact pico-dollar sums. */
#include "metrics.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "config.h"

static const double LAT_LE[GW_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,    10};

/* fine buckets at the low end: the target is a p99 under 0.5 ms */
static const double OVH_LE[GW_OVH_BUCKETS] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25, 1};

/* One Prometheus histogram: cumulative buckets (n finite bounds, then +Inf at bucket[n]), sum, count. */
static void histogram(struct evbuffer *b, const char *name, const char *help, const double *le,
                      const uint64_t *bucket, int n, double sum, uint64_t count)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < n; i++) {
        cum += bucket[i];
        evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], (unsigned long long)cum);
    }
    cum += bucket[n];
    evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                        (unsigned long long)cum, name, sum, name, (unsigned long long)count);
}

/* one observation into a histogram of n finite bounds (bucket[n] is +Inf) */
static void observe(const double *le, int n, uint64_t *bucket, uint64_t *count, double *sum,
                    uint64_t us)
{
    double s = (double)us / 1e6;
    int i = 0;
    while (i < n && s > le[i])
        i++;
    bucket[i]++;
    (*count)++;
    *sum += s;
}

void gw_metrics_observe_overhead(gw_metrics *m, uint64_t us)
{
    observe(OVH_LE, GW_OVH_BUCKETS, m->ovh_bucket, &m->ovh_count, &m->ovh_sum_s, us);
}

void gw_metrics_observe_upstream(gw_metrics *m, uint64_t us)
{
    observe(LAT_LE, GW_LAT_BUCKETS, m->lat_bucket, &m->lat_count, &m->lat_sum_s, us);
}

void gw_metrics_render(const gw_metrics *m, struct evbuffer *b)
{
    static const char *cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    static const char *eps[] = {"chat_completions", "responses", "embeddings", "messages", "models"};
    char a[IC_MONEY_STRLEN];
    evbuffer_add_printf(b, "# HELP infercost_requests_total Requests answered, by status class.\n"
                           "# TYPE infercost_requests_total counter\n");
    for (int i = 0; i < 6; i++)
        evbuffer_add_printf(b, "infercost_requests_total{code=\"%s\"} %llu\n", cls[i],
                            (unsigned long long)m->req_by_class[i]);
    evbuffer_add_printf(b, "# HELP infercost_endpoint_requests_total Requests by API endpoint.\n"
                           "# TYPE infercost_endpoint_requests_total counter\n");
    for (int i = 0; i < 5; i++)
        evbuffer_add_printf(b, "infercost_endpoint_requests_total{endpoint=\"%s\"} %llu\n", eps[i],
                            (unsigned long long)m->req_by_endpoint[i]);
    evbuffer_add_printf(b,
                        "# HELP infercost_tokens_total Tokens metered from provider usage.\n"
                        "# TYPE infercost_tokens_total counter\n"
                        "infercost_tokens_total{kind=\"input\"} %llu\n"
                        "infercost_tokens_total{kind=\"output\"} %llu\n"
                        "infercost_tokens_total{kind=\"cache_read\"} %llu\n"
                        "infercost_tokens_total{kind=\"reasoning\"} %llu\n",
                        (unsigned long long)m->input_tokens, (unsigned long long)m->output_tokens,
                        (unsigned long long)m->cache_read_tokens,
                        (unsigned long long)m->reasoning_tokens);
    evbuffer_add_printf(b, "# HELP infercost_cost_usd_total Exact cost of metered calls, USD.\n"
                           "# TYPE infercost_cost_usd_total counter\n"
                           "infercost_cost_usd_total %s\n", ic_money_format(m->cost, a, sizeof a));
    evbuffer_add_printf(b, "# HELP infercost_unpriced_calls_total Calls whose cost could not be computed (recorded in the spool for repricing).\n"
                           "# TYPE infercost_unpriced_calls_total counter\n"
                           "infercost_unpriced_calls_total %llu\n", (unsigned long long)m->unpriced);
    evbuffer_add_printf(b, "# HELP infercost_estimated_calls_total Calls whose provider did not report usage (a stream cut before it, an answer without it): recorded with the gateway's estimate.\n"
                           "# TYPE infercost_estimated_calls_total counter\n"
                           "infercost_estimated_calls_total %llu\n"
                           "# HELP infercost_estimated_cost_usd_total Their cost on that estimate, USD (not in infercost_cost_usd_total).\n"
                           "# TYPE infercost_estimated_cost_usd_total counter\n"
                           "infercost_estimated_cost_usd_total %s\n",
                        (unsigned long long)m->estimated, ic_money_format(m->estimated_cost, a, sizeof a));
    evbuffer_add_printf(b,
                        "# HELP infercost_cache_hits_total Responses served from the exact cache.\n"
                        "# TYPE infercost_cache_hits_total counter\n"
                        "infercost_cache_hits_total %llu\n"
                        "# HELP infercost_cache_misses_total Cacheable requests not in the cache.\n"
                        "# TYPE infercost_cache_misses_total counter\n"
                        "infercost_cache_misses_total %llu\n"
                        "# HELP infercost_cache_saved_usd_total What cache hits would have cost, USD.\n"
                        "# TYPE infercost_cache_saved_usd_total counter\n"
                        "infercost_cache_saved_usd_total %s\n",
                        (unsigned long long)m->cache_hits, (unsigned long long)m->cache_misses,
                        ic_money_format(m->cache_saved, a, sizeof a));
    evbuffer_add_printf(b,
                        "# HELP infercost_refused_total Requests refused before reaching a provider.\n"
                        "# TYPE infercost_refused_total counter\n"
                        "infercost_refused_total{reason=\"budget\"} %llu\n"
                        "infercost_refused_total{reason=\"rate_limit\"} %llu\n"
                        "infercost_refused_total{reason=\"auth\"} %llu\n",
                        (unsigned long long)m->refused_budget, (unsigned long long)m->refused_rate,
                        (unsigned long long)m->refused_auth);
    evbuffer_add_printf(b,
                        "# HELP infercost_upstream_errors_total Upstream attempts that failed (transport, 429, 5xx).\n"
                        "# TYPE infercost_upstream_errors_total counter\n"
                        "infercost_upstream_errors_total %llu\n"
                        "# HELP infercost_retries_total Upstream attempts after the first.\n"
                        "# TYPE infercost_retries_total counter\n"
                        "infercost_retries_total %llu\n"
                        "# HELP infercost_fallbacks_total Calls served by a fallback target.\n"
                        "# TYPE infercost_fallbacks_total counter\n"
                        "infercost_fallbacks_total %llu\n"
                        "# HELP infercost_client_aborts_total Streams the client left before the end.\n"
                        "# TYPE infercost_client_aborts_total counter\n"
                        "infercost_client_aborts_total %llu\n"
                        "# HELP infercost_streams_total Streamed responses.\n"
                        "# TYPE infercost_streams_total counter\n"
                        "infercost_streams_total %llu\n"
                        "# HELP infercost_stream_pauses_total Times a stream's upstream was paused for a slow client.\n"
                        "# TYPE infercost_stream_pauses_total counter\n"
                        "infercost_stream_pauses_total %llu\n"
                        "# HELP infercost_inflight Requests in progress.\n"
                        "# TYPE infercost_inflight gauge\n"
                        "infercost_inflight %lld\n",
                        (unsigned long long)m->upstream_errors, (unsigned long long)m->retries,
                        (unsigned long long)m->fallbacks, (unsigned long long)m->client_aborts,
                        (unsigned long long)m->streams, (unsigned long long)m->stream_pauses,
                        (long long)m->inflight);
    histogram(b, "infercost_upstream_latency_seconds", "Time to the upstream's complete response.",
              LAT_LE, m->lat_bucket, GW_LAT_BUCKETS, m->lat_sum_s, m->lat_count);
    histogram(b, "infercost_gateway_overhead_seconds",
              "The gateway's own time per API call: from the request fully read to the response "
              "fully written to the client socket, minus the time spent waiting for upstream "
              "attempts and retry backoff.",
              OVH_LE, m->ovh_bucket, GW_OVH_BUCKETS, m->ovh_sum_s, m->ovh_count);
}

/* a label value as the text format wants it: backslash, double quote and newline escaped; out
 * holds 2 * strlen(v) + 1 */
static void label(char *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n')
            *out++ = '\\';
        *out++ = *v == '\n' ? 'n' : *v;
    }
    *out = 0;
}

void gw_metrics_render_keys(const struct gw_config *cfg, const struct gw_budget_ops *ops,
                            void *store, int64_t now_ms, struct evbuffer *b)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->nkeys; i++) {
        const gw_key_cfg *k = &cfg->keys[i];
        n += k->has_day || k->has_month || k->rpm || k->tpm;
    }
    if (!n)
        return;
    gw_key_usage *u = calloc(cfg->nkeys, sizeof *u);
    char (*lab)[2 * 64 + 1] = calloc(cfg->nkeys, sizeof *lab);
    if (!u || !lab) {
        free(u);
        free(lab);
        return;
    }
    for (size_t i = 0; i < cfg->nkeys; i++) {
        const gw_key_cfg *k = &cfg->keys[i];
        if (!(k->has_day || k->has_month || k->rpm || k->tpm))
            continue;
        ops->usage(store, k->id, now_ms, &u[i]);
        if (strlen(k->id) < 64) /* the config takes 63 bytes at most */
            label(lab[i], k->id);
    }
    /* one family at a time, as the text format wants: 0 budget, 1 spent, 2 in flight, 3 requests
     * this minute, 4 the rpm limit, 5 tokens this minute, 6 the tpm limit */
    static const char *const fam[7][2] = {
        {"infercost_key_budget_usd", "A virtual key's budget for the UTC period (day or month), USD."},
        {"infercost_key_spent_usd", "What a virtual key has spent in the current UTC period, every "
                                    "gateway sharing its budget counted, USD."},
        {"infercost_key_inflight_usd", "The worst cases held for a virtual key's calls in flight, USD."},
        {"infercost_key_requests_minute", "A virtual key's requests in the current UTC minute."},
        {"infercost_key_rpm_limit", "A virtual key's requests-per-minute limit."},
        {"infercost_key_tokens_minute", "A virtual key's tokens in the current UTC minute, those "
                                        "held included."},
        {"infercost_key_tpm_limit", "A virtual key's tokens-per-minute limit."}};
    char line[1024], a[IC_MONEY_STRLEN];
    for (int f = 0; f < 7; f++) {
        bool head = false;
        for (size_t i = 0; i < cfg->nkeys; i++) {
            const gw_key_cfg *k = &cfg->keys[i];
            bool money = k->has_day || k->has_month;
            if (!(f <= 2 ? money : f <= 4 ? k->rpm != 0 : k->tpm != 0))
                continue;
            if (!head) {
                evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", fam[f][0], fam[f][1],
                                    fam[f][0]);
                head = true;
            }
            int len = 0;
            if (f <= 1) { /* budget and spent: a line per period the key has a budget for */
                for (int p = 0; p < 2; p++)
                    if (p ? k->has_month : k->has_day) {
                        ic_money v = f == 0 ? (p ? k->month_usd : k->day_usd)
                                            : (p ? u[i].month_spent : u[i].day_spent);
                        len += snprintf(line + len, sizeof line - (size_t)len,
                                        "%s{key=\"%s\",period=\"%s\"} %s\n", fam[f][0], lab[i],
                                        p ? "month" : "day", ic_money_format(v, a, sizeof a));
                    }
            } else if (f == 2) {
                len = snprintf(line, sizeof line, "%s{key=\"%s\"} %s\n", fam[f][0], lab[i],
                               ic_money_format(u[i].held, a, sizeof a));
            } else {
                uint64_t v = f == 3 ? u[i].requests : f == 4 ? k->rpm : f == 5 ? u[i].tokens : k->tpm;
                len = snprintf(line, sizeof line, "%s{key=\"%s\"} %llu\n", fam[f][0], lab[i],
                               (unsigned long long)v);
            }
            evbuffer_add(b, line, (size_t)len);
        }
    }
    free(u);
    free(lab);
}
