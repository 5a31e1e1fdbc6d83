/* report.h: spend reports from the ledger. Spend over a period grouped by up to four of provider,
 * model, customer, feature, task, virtual key, a tag's value, day, week (ISO, Monday), month;
 * optionally only the calls of one key and with given tag values; tokens by kind, the share of
 * input served from cache, cost per request (mean, and p50/p95/p99 from the events), cost per
 * task, month-over-month change and the top movers between the last two months.
 *
 * Sums come from the daily rollups (fast, kept current at ingest) unless the report needs the
 * events (grouping by task, key or tag, selecting by key or tag, percentiles, or raw = true).
 * Every amount is an exact ic_money sum; means and percentiles are exact amounts of single
 * events or exact quotients rounded half-even to the pico-dollar. The writer functions format into a caller's FILE; nothing here prints on
 * its own or prices anything. */
#ifndef INFERCOST_REPORT_H
#define INFERCOST_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/ledger.h"

typedef enum ic_dim {
    IC_DIM_PROVIDER, IC_DIM_MODEL, IC_DIM_CUSTOMER, IC_DIM_FEATURE, IC_DIM_TASK,
    IC_DIM_DAY, IC_DIM_WEEK, IC_DIM_MONTH,
    IC_DIM_KEY, /* the virtual key (ic_event.key_id) */
    IC_DIM_TAG, /* the value of one tag (ic_event.tags), named in ic_report_opts.tag */
    IC_DIM_LAST
} ic_dim;

#define IC_REPORT_MAX_DIMS 4
#define IC_REPORT_MAX_TAGS 4
#define IC_REPORT_TAG_MAX 127 /* bytes of a tag's name */

typedef enum ic_report_format { IC_FMT_TABLE, IC_FMT_CSV, IC_FMT_JSON, IC_FMT_MD } ic_report_format;

typedef struct ic_report_opts {
    ic_ledger_filter filter;        /* period [from, to) and exact matches */
    ic_dim dims[IC_REPORT_MAX_DIMS];
    const char *tag[IC_REPORT_MAX_DIMS]; /* for each IC_DIM_TAG dimension, the tag's name */
    int ndims;
    /* only the calls of this virtual key (NULL: any), and whose tags hold every name = value of
     * tag_is (a value compares as its text: a string's content, else its compact JSON, so
     * "true" or "3"; "" matches a call without the tag) */
    const char *key_id;
    const char *tag_is[IC_REPORT_MAX_TAGS][2];
    int ntag_is;
    bool raw;          /* scan the events even when the rollups would do */
    bool percentiles;  /* p50/p95/p99 per request and per task (scans the events) */
    int top;           /* rows shown (0: all), largest cost first; movers shown: 5 */
} ic_report_opts;

typedef struct ic_report_row {
    char *key[IC_REPORT_MAX_DIMS];
    uint64_t requests, cache_hits, errors;
    uint64_t input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens;
    ic_money cost, cost_input, cost_output;
    ic_money cache_saved; /* what the response cache's hits (cache_hits) would have cost */
    /* with percentiles */
    ic_money p50, p95, p99;
    uint64_t tasks;
    ic_money task_mean, task_p50, task_p95, task_p99;
} ic_report_row;

typedef struct ic_report_month {
    char month[8];     /* "2026-07" */
    uint64_t requests;
    ic_money cost;
} ic_report_month;

typedef struct ic_report_mover {
    char *key;         /* the rows' keys joined with " / " (time dimensions left out) */
    ic_money before, after; /* cost in the second-to-last and the last month */
} ic_report_mover;

typedef struct ic_report {
    ic_report_opts opts;
    char head[IC_REPORT_MAX_DIMS][IC_REPORT_TAG_MAX + 8]; /* each dimension's column name
                                                            ("model", "tag:team") */
    bool from_events;  /* the source actually used */
    double seconds;    /* time spent reading the ledger */
    ic_report_row *rows;
    size_t nrows;
    ic_report_row total;
    ic_report_month *months;
    size_t nmonths;
    ic_report_mover *movers;
    size_t nmovers;
} ic_report;

/* "provider" -> IC_DIM_PROVIDER; -1 if unknown. "tag:NAME" is IC_DIM_TAG: see ic_dim_parse_tag. */
int ic_dim_parse(const char *name);
/* "tag:NAME" (NAME 1 to IC_REPORT_TAG_MAX bytes) -> NAME; NULL if name is not one */
const char *ic_dim_parse_tag(const char *name);
const char *ic_dim_name(ic_dim d);

ic_status ic_report_build(ic_ledger *l, const ic_report_opts *o, ic_report **out, ic_error *err);
void ic_report_free(ic_report *r);
ic_status ic_report_write(const ic_report *r, ic_report_format fmt, FILE *f, ic_error *err);

/* half-even a / n (n > 0), for means */
ic_money ic_money_div_round(ic_money a, uint64_t n);

#endif
