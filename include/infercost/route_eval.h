/* route_eval.h: how much quality a routing rule keeps for the share of calls it sends to the
 * strong (expensive) model, measured on prompts for which both models' outcomes are known: the
 * RouteLLM evaluation sets shipped in data/routellm (MT-Bench judge scores, GSM8K and MMLU
 * correctness of GPT-4 and Mixtral-8x7B), or a user's own CSV of prompts and outcomes.
 *
 * A router gives each prompt a score; the prompts with the highest scores go to the strong
 * model. Sorting by score gives the router's whole curve: for each share of strong calls (ties
 * move together), the mean quality. Metrics as RouteLLM defines them (routellm/evals):
 *   PGR(share)  = (quality - weak quality) / (strong quality - weak quality), the performance gap
 *                 recovered;
 *   APGR        = the area under PGR over the share from 0 to 1 (trapezoids between the curve's
 *                 points; a random router scores about 0.5);
 *   CPT(x)      = the smallest share of strong calls at which PGR reaches x (linear between the
 *                 curve's points; at most 1).
 * RouteLLM samples the curve at 11 quantile thresholds; this uses every point, so its figures
 * are exact for the router and close to RouteLLM's. The routers are the rules the gateway can
 * apply (prompt size, a regex) plus two references: random and the oracle ("optimal").
 * Scores and qualities are doubles: this is statistics, not money. Nothing here prints. */
#ifndef INFERCOST_ROUTE_EVAL_H
#define INFERCOST_ROUTE_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "infercost/report.h"
#include "infercost/status.h"

typedef struct ic_route_item {
    char *prompt;        /* what the router sees (MT-Bench: the first turn) */
    double strong, weak; /* each model's outcome: 1/0 correct, or a judge's score */
} ic_route_item;

typedef struct ic_route_set {
    char *name;
    char *strong_model, *weak_model;
    ic_route_item *items;
    size_t n, cap;       /* items, and room for (the loaders' business) */
    size_t contaminated; /* prompts left out because the routers' training data held them */
    bool binary;         /* every outcome is 0 or 1 (right or wrong), not a score */
} ic_route_set;

void ic_route_set_free(ic_route_set *s);

/* A CSV (RFC 4180; quoted fields may span lines) with a "prompt" column and a column per model
 * (True/False, true/false, 1/0, or a number): the GSM8K and MMLU files of RouteLLM, or the
 * user's own (a UTF-8 byte order mark is skipped). strong_col and weak_col name the two
 * columns, two others than "prompt"; each of the three must appear once. Prompts listed in
 * exclude (may be NULL; JSONL with "eval_prompt", RouteLLM's contaminated_prompts files) are
 * left out. Errors name the file, line and column. *set is a new set, or NULL on failure. */
ic_status ic_route_set_load_csv(ic_route_set **set, const char *name, const char *path,
                                const char *strong_col, const char *weak_col,
                                const char *exclude_path, ic_error *err);

/* MT-Bench: the questions (question_id, turns[2]), the GPT-4 judge's scores per question, turn
 * and model (question_id, model, score, turn), as RouteLLM scores it: a question is routed on its
 * first turn, its quality is the mean of the routed model's two scores (each at most 1e9);
 * questions with either turn in exclude are left out. *set is a new set, or NULL on failure. */
ic_status ic_route_set_load_mtbench(ic_route_set **set, const char *questions_path,
                                    const char *judgements_path, const char *strong_model,
                                    const char *weak_model, const char *exclude_path,
                                    ic_error *err);

/* The shipped sets: "mt-bench", "gsm8k", "mmlu" from dir (data/routellm). *set as above. */
ic_status ic_route_set_load_builtin(ic_route_set **set, const char *dir, const char *name,
                                    ic_error *err);

/* A router: "random" (a hash of the prompt), "prompt-tokens[:MODEL]" (the prompt counted as the
 * gateway counts a chat request of one user message for MODEL, default gpt-4o: exact for
 * OpenAI's encodings, else the family's estimate, with OpenAI's per-message rules; longer
 * prompts to the strong model, the gateway's min_prompt_tokens rule),
 * "keywords:A,B,..." (prompts holding any of them, case-insensitive, to the strong model) and
 * "regex:PATTERN" (prompts PATTERN matches, PCRE2 as the gateway compiles it), the gateway's
 * keywords and regex rules; or "optimal" (the oracle: the prompts where the strong model does
 * better first; the upper bound). */
#define IC_ROUTE_CURVE_POINTS 11 /* shares 0%, 10%, ..., 100% */
/* Outcomes and scores are at most this in magnitude (a set's sums stay finite and exact to far
 * below what the metrics show). */
#define IC_ROUTE_OUTCOME_MAX 1e9
/* PCRE2's match limit for a routing regex, here and in the gateway: a pattern that backtracks
 * catastrophically on a prompt fails after about this many steps (milliseconds with JIT)
 * instead of holding the gateway's event loop. route-eval reports such a failure; the gateway
 * does not route the call by that rule. */
#define IC_ROUTE_REGEX_MATCH_LIMIT 1000000

typedef struct ic_route_result {
    char *router;
    double apgr;
    double cpt50, cpt80;          /* shares of strong calls, 0..1 (every call on the strong
                                     model recovers the whole gap, so both are reached) */
    /* The rule "score >= rule50_score goes to the strong model" that recovers half the gap with
     * the fewest strong calls, without splitting a tie: for prompt-tokens, the gateway's
     * min_prompt_tokens. rule50_share and rule50_pgr are what it gives. */
    double rule50_score, rule50_share, rule50_pgr;
    double pgr_at[IC_ROUTE_CURVE_POINTS];   /* PGR at shares 0, 0.1, ..., 1 */
    double quality_at[IC_ROUTE_CURVE_POINTS];
} ic_route_result;

typedef struct ic_route_eval {
    const ic_route_set *set;     /* borrowed: it must outlive the evaluation */
    double strong_quality, weak_quality;
    ic_route_result *results;
    size_t nresults;
} ic_route_eval;

/* Evaluate each router on the set. IC_ERR_INVALID for an unknown router or a bad regex; for a
 * set where the strong model is not better than the weak one (no gap to recover). */
ic_status ic_route_eval_run(const ic_route_set *set, const char *const *routers, size_t nrouters,
                            ic_route_eval **out, ic_error *err);
void ic_route_eval_free(ic_route_eval *e);

/* Write evaluations (one per set) as a table per set, Markdown, or one JSON document;
 * IC_ERR_INVALID for IC_FMT_CSV (a curve per router has no one-table form). */
ic_status ic_route_eval_write(const ic_route_eval *const *evals, size_t n, ic_report_format fmt,
                              FILE *f, ic_error *err);

#endif
