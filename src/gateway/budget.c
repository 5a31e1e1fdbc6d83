/* budget.c: the in-memory budget and rate-limit store (budget.h). Per key: spend and in-flight
 * holds for the current UTC day and month (a period change resets the settled spend, holds carry
 * over), and a one-minute window of requests and tokens. Used from the event-loop thread only. */
#include "budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/timeutil.h"

typedef struct kstate {
    char *id;
    int64_t day, month;        /* period numbers: days since epoch, y*12+m */
    ic_money day_spent, month_spent, held;
    int64_t minute;            /* minute number of the window */
    uint32_t req;
    uint64_t tok, tok_held;
    struct kstate *next;
} kstate;

typedef struct mem {
    kstate *b[256];
} mem;

static unsigned hs(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h & 255;
}

static void periods(int64_t now_ms, int64_t *day, int64_t *month)
{
    int64_t d = now_ms >= 0 ? now_ms / 86400000 : -((-now_ms + 86399999) / 86400000);
    int64_t y;
    unsigned m, dd;
    ic_civil_from_days(d, &y, &m, &dd);
    *day = d;
    *month = y * 12 + (int64_t)m;
}

static kstate *get(mem *s, const char *id, int64_t now_ms)
{
    unsigned h = hs(id);
    kstate *k;
    for (k = s->b[h]; k; k = k->next)
        if (!strcmp(k->id, id))
            break;
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k)
            return NULL;
        k->id = strdup(id);
        k->next = s->b[h];
        s->b[h] = k;
    }
    int64_t d, m;
    periods(now_ms, &d, &m);
    if (k->day != d) {
        k->day = d;
        k->day_spent = 0;
    }
    if (k->month != m) {
        k->month = m;
        k->month_spent = 0;
    }
    int64_t minute = now_ms / 60000;
    if (k->minute != minute) {
        k->minute = minute;
        k->req = 0;
        k->tok = 0;
    }
    return k;
}

static bool mem_reserve(void *store, const char *key_id, const gw_limits *lim, ic_money worst,
                        uint64_t tokens, int64_t now_ms, char *why, size_t whycap)
{
    kstate *k = get(store, key_id, now_ms);
    char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN], c[IC_MONEY_STRLEN], d[IC_MONEY_STRLEN];
    if (!k) {
        snprintf(why, whycap, "out of memory");
        return false;
    }
    if (lim->rpm && k->req + 1 > lim->rpm) {
        snprintf(why, whycap, "rate limit: %u requests per minute reached for key '%s'", lim->rpm,
                 key_id);
        return false;
    }
    if (lim->tpm && k->tok + k->tok_held >= lim->tpm) {
        snprintf(why, whycap, "rate limit: %llu tokens per minute reached for key '%s'",
                 (unsigned long long)lim->tpm, key_id);
        return false;
    }
    if (lim->has_day && k->day_spent + k->held + worst > lim->day) {
        snprintf(why, whycap,
                 "budget: key '%s' has spent $%s of its $%s daily budget (plus $%s in flight); "
                 "this call could cost up to $%s",
                 key_id, ic_money_format(k->day_spent, a, sizeof a),
                 ic_money_format(lim->day, b, sizeof b), ic_money_format(k->held, c, sizeof c),
                 ic_money_format(worst, d, sizeof d));
        return false;
    }
    if (lim->has_month && k->month_spent + k->held + worst > lim->month) {
        snprintf(why, whycap,
                 "budget: key '%s' has spent $%s of its $%s monthly budget; this call could cost "
                 "up to $%s",
                 key_id, ic_money_format(k->month_spent, a, sizeof a),
                 ic_money_format(lim->month, b, sizeof b), ic_money_format(worst, c, sizeof c));
        return false;
    }
    k->held += worst;
    k->req++;
    k->tok_held += tokens;
    return true;
}

static void mem_settle(void *store, const char *key_id, ic_money reserved,
                       uint64_t tokens_reserved, ic_money actual, uint64_t tokens, int64_t now_ms)
{
    kstate *k = get(store, key_id, now_ms);
    if (!k)
        return;
    k->held -= reserved;
    if (k->held < 0)
        k->held = 0;
    k->day_spent += actual;
    k->month_spent += actual;
    k->tok += tokens;
    k->tok_held = k->tok_held > tokens_reserved ? k->tok_held - tokens_reserved : 0;
}

static void mem_spent(void *store, const char *key_id, int64_t now_ms, ic_money *day, ic_money *month)
{
    kstate *k = get(store, key_id, now_ms);
    *day = k ? k->day_spent : 0;
    *month = k ? k->month_spent : 0;
}

static void mem_free(void *store)
{
    mem *s = store;
    for (int i = 0; i < 256; i++)
        for (kstate *k = s->b[i], *n; k; k = n) {
            n = k->next;
            free(k->id);
            free(k);
        }
    free(s);
}

void *gw_budget_memory_new(void) { return calloc(1, sizeof(mem)); }

const gw_budget_ops gw_budget_memory_ops = {mem_reserve, mem_settle, mem_spent, mem_free};
