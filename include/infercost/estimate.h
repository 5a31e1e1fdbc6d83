/* estimate.h: token counts and cost BEFORE a request is sent.
 *
 *  - Text: exact through tiktoken (tokenizer.h) for OpenAI models, otherwise an estimate from a
 *    documented characters-per-token ratio for the model's family (docs/tokenizer.md), always
 *    flagged as an estimate.
 *  - Chat: an OpenAI chat/completions request body -> prompt tokens by the OpenAI cookbook's
 *    rules (3 tokens per message, +1 per name, 3 to prime the reply; its formula for tool and
 *    function definitions). Content parts that the rules do not cover (images, audio, files,
 *    tool_calls) make the count "approximate" and are reported.
 *  - Request: prompt tokens priced through the pricing core (input cost), and the worst case if
 *    the model writes max_tokens (or, without max_tokens, fills its context window); when nothing
 *    bounds the output the worst case is "unbounded", never a made-up number.
 * Nothing here prints or performs I/O. */
#ifndef INFERCOST_ESTIMATE_H
#define INFERCOST_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/catalog.h"
#include "infercost/money.h"
#include "infercost/status.h"

/* How a count was obtained. */
typedef enum ic_count_method {
    IC_COUNT_EXACT = 0,   /* tiktoken encoding of the model */
    IC_COUNT_RATIO = 1,   /* characters / ratio: an estimate */
} ic_count_method;

typedef struct ic_text_count {
    uint64_t tokens;
    ic_count_method method;
    const char *encoding;  /* IC_COUNT_EXACT: "o200k_base" / "cl100k_base" */
    const char *family;    /* IC_COUNT_RATIO: "anthropic", "google", "other" */
    double chars_per_token; /* IC_COUNT_RATIO: the ratio applied to ASCII text */
} ic_text_count;

/* The ratio estimate alone: ceil(ASCII characters / chars_per_token) + one token per non-ASCII
 * character (code point; each maximal ill-formed UTF-8 subpart counts as one): calibrated in
 * docs/tokenizer.md. */
uint64_t ic_estimate_ratio_tokens(const char *text, size_t len, double chars_per_token);

/* The same over a text given in parts (a file read a block at a time): ic_char_tally_add counts
 * the characters of text[0..len) and returns the bytes it took: all of them, but for a UTF-8
 * character cut at the end (at most 3 bytes), which the caller puts before the next part; with
 * final set, everything. ic_char_tally_tokens then gives ic_estimate_ratio_tokens of the whole. */
typedef struct ic_char_tally {
    uint64_t ascii, other;
} ic_char_tally;
size_t ic_char_tally_add(ic_char_tally *t, const char *text, size_t len, bool final);
uint64_t ic_char_tally_tokens(const ic_char_tally *t, double chars_per_token);

/* Tokens of a text for a model: exact when ic_tokenizer_encoding_for_model() knows the model,
 * else the family ratio (model NULL or unknown: "other"). */
ic_status ic_count_text_for_model(const char *model, const char *text, size_t len,
                                  ic_text_count *out, ic_error *err);

/* For a caller that counts many texts or requests in one thread (the gateway's event loop):
 * one ic_tokenizer_counter per exact encoding (tokenizer.h), made on first use and kept, so the
 * words of a system prompt sent with every request are merged once, not once per request. The
 * counts are the same as without. Each counter's cache takes at most bytes (as
 * ic_tokenizer_counter_new: 0 for 2.5 MB); not thread-safe. */
typedef struct ic_count_cache ic_count_cache;
ic_count_cache *ic_count_cache_new(size_t bytes); /* NULL: out of memory */
void ic_count_cache_free(ic_count_cache *c);
/* ic_count_text_for_model through cache's counters (cache NULL: the same as without) */
ic_status ic_count_text_for_model_in(ic_count_cache *cache, const char *model, const char *text,
                                     size_t len, ic_text_count *out, ic_error *err);
/* The tokens of n texts (texts[i], lens[i] bytes) for model, summed in out->tokens: the total of
 * n calls of ic_count_text_for_model_in. With an exact encoding and a counter in cache, the texts
 * are counted together (ic_tokenizer_counter_count_many), their lookups overlapping: an
 * embeddings request's many short inputs. */
ic_status ic_count_texts_for_model_in(ic_count_cache *cache, const char *model,
                                      const char *const *texts, const size_t *lens, size_t n,
                                      ic_text_count *out, ic_error *err);

#define IC_CHAT_CHOICES_MAX 128 /* the API's limit on a chat request's "n" */

typedef struct ic_chat_count {
    uint64_t prompt_tokens;
    ic_count_method method;
    const char *encoding;      /* exact method */
    const char *family;        /* ratio method */
    double chars_per_token;
    bool approximate;          /* parts outside the cookbook rules were present */
    uint32_t messages;
    uint32_t tools;            /* tool / function definitions counted */
    uint32_t images;           /* image parts (not counted: their size is unknown here) */
    uint32_t other_parts;      /* audio, file or unknown parts, tools that are not functions
                                * (web search, ...): not counted */
    uint32_t tool_calls;       /* assistant tool_calls (name + arguments counted, approximate) */
    bool response_format;      /* a response_format schema (json_schema, json_object): not counted,
                                * approximate */
    bool odd_params;           /* tool parameters outside the cookbook's shapes (an enum value or
                                * a "type" that is not a string, as in a nullable field):
                                * counted as their JSON text, approximate */
    bool has_max_tokens;
    uint64_t max_tokens;       /* max_completion_tokens, else max_tokens (at most 10^15) */
    uint32_t choices;          /* "n": the choices asked for (1 to IC_CHAT_CHOICES_MAX; 1 without) */
    char model[128];           /* "model" of the body ("" if absent) */
} ic_chat_count;

/* Count an OpenAI chat/completions request body. model overrides the body's "model" for the
 * choice of tokenizer (NULL: use the body's). Errors name the JSON path at fault
 * ("messages[2].content: expected a string or an array of parts"). */
ic_status ic_chat_count_request(const char *body, size_t len, const char *model,
                                ic_chat_count *out, ic_error *err);
/* the same through cache's counters (NULL: none) */
ic_status ic_chat_count_request_in(ic_count_cache *cache, const char *body, size_t len,
                                   const char *model, ic_chat_count *out, ic_error *err);

typedef enum ic_output_bound {
    IC_BOUND_MAX_TOKENS = 0, /* the request's max_tokens / max_completion_tokens */
    IC_BOUND_CONTEXT = 1,    /* the model's context window minus the prompt */
    IC_BOUND_NONE = 2,       /* nothing bounds the output: worst case is unbounded */
} ic_output_bound;

typedef struct ic_request_estimate {
    ic_chat_count count;
    const ic_provider *provider;
    const ic_model *model;
    uint64_t context_window;   /* 0: unknown */
    bool exceeds_context;      /* the prompt alone is larger than the context window */
    bool max_tokens_over_context; /* prompt + max_tokens is more than the context window (the
                                   * prompt alone is not): the API may refuse the request; the
                                   * bound is max_tokens still */
    ic_money input_usd;        /* the prompt at the input price */
    ic_output_bound bound;
    uint64_t output_tokens;    /* the bound, of all count.choices together (0 when IC_BOUND_NONE) */
    ic_money output_usd;       /* worst-case output cost (not valid when IC_BOUND_NONE or
                                * output_unpriced) */
    ic_money worst_usd;        /* prompt + worst-case output, priced together (tiers); not valid
                                * when IC_BOUND_NONE or output_unpriced */
    bool output_unpriced;      /* the catalog prices no output tokens for the model (an embedding
                                * model, a gap in the feed): the worst case is not known */
} ic_request_estimate;

/* Count and price a chat request against the catalog at time t_ms. provider may be NULL; model
 * NULL means the body's "model". */
ic_status ic_estimate_request(const ic_catalog *c, const char *provider, const char *model,
                              const char *body, size_t len, int64_t t_ms,
                              ic_request_estimate *out, ic_error *err);

#endif
