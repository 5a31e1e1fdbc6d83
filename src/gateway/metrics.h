/* metrics.h: the gateway's counters and the /metrics page in Prometheus text format (requests by
 * status, tokens, exact cost, cache hits and savings, upstream latency histogram, the gateway's
 * own overhead histogram, in-flight, refusals, retries, spool). Event-loop thread only;
 * rendering never touches request state. */
#ifndef IC_GW_METRICS_H
#define IC_GW_METRICS_H

#include <stdint.h>

#include "infercost/money.h"

struct evbuffer;

#define GW_LAT_BUCKETS 14
#define GW_OVH_BUCKETS 13

typedef struct gw_metrics {
    uint64_t req_by_class[6];       /* 1xx..5xx by status/100, [0] other */
    uint64_t req_by_endpoint[5];    /* chat, responses, embeddings, messages, models */
    uint64_t input_tokens, output_tokens, cache_read_tokens, reasoning_tokens;
    ic_money cost, cache_saved;
    uint64_t unpriced;
    uint64_t estimated;             /* calls whose usage the gateway estimated (proxy.c) */
    ic_money estimated_cost;        /* ... priced on that estimate */
    uint64_t cache_hits, cache_misses;
    uint64_t refused_budget, refused_rate, refused_auth;
    uint64_t upstream_errors, retries, fallbacks, client_aborts;
    uint64_t streams, stream_pauses;
    int64_t inflight;
    uint64_t lat_bucket[GW_LAT_BUCKETS + 1]; /* cumulative on render */
    uint64_t lat_count;
    double lat_sum_s;
    /* the gateway's own time per API call: request read -> response written to the client
     * socket, minus the upstream attempts and retry backoff (proxy.c) */
    uint64_t ovh_bucket[GW_OVH_BUCKETS + 1];
    uint64_t ovh_count;
    double ovh_sum_s;
} gw_metrics;

void gw_metrics_observe_upstream(gw_metrics *m, uint64_t us);
void gw_metrics_observe_overhead(gw_metrics *m, uint64_t us);
/* extra: spool and cache gauges appended by the caller */
void gw_metrics_render(const gw_metrics *m, struct evbuffer *out);

struct gw_config;
struct gw_budget_ops;
/* Per virtual key with limits in the config: what it has used in the current UTC periods (every
 * gateway sharing its budget counted) beside its limits, as gauges labelled key="ID". */
void gw_metrics_render_keys(const struct gw_config *cfg, const struct gw_budget_ops *ops,
                            void *store, int64_t now_ms, struct evbuffer *out);

#endif
