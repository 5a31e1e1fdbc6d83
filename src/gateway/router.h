/* router.h: picks the upstream candidates for a call: the first route (config order) whose match
 * holds (model glob, customer/feature/task, prompt size in bytes or tokens, keywords, regex) gives a weighted
 * choice among its targets followed by its fallbacks in order; model "auto" takes the route's
 * tier sorted by worst-case price, cheapest first. With no matching route, every upstream of the
 * request's API format serves the requested model, in config order. Only candidates whose
 * upstream speaks the request's format are kept. It does not send anything. */
#ifndef IC_GW_ROUTER_H
#define IC_GW_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#define GW_MAX_CANDS 8

struct gw_server;

typedef struct gw_cand {
    int upstream;
    const char *model; /* points into the config or at the request's model */
} gw_cand;

typedef struct gw_route_req {
    const char *model, *customer, *feature, *task;
    size_t prompt_bytes;
    const char *prompt_text; /* NULL unless a route needs it */
    int64_t prompt_tokens;   /* -1 unless a route matches on tokens: the requested model's count
                              * (exact with its tiktoken encoding, else the family ratio) */
    int format;
    uint64_t prompt_bound, max_out; /* for pricing the "auto" tier */
} gw_route_req;

/* Fills out[] and returns how many; 0 (with why) when nothing can serve the call. */
int gw_route_pick(struct gw_server *s, const gw_route_req *r, gw_cand *out, int max, char *why,
             size_t whycap);

#endif
