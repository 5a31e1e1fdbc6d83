/* gentext.h: the text a model generated, kept as its stream goes by (or read from its answer), and
 * the text of a request, so that the gateway can estimate the usage of a call whose provider did
 * not report it: a stream the client left or the upstream cut before its usage arrived, an
 * answer without usage. The text is counted with the model's tokenizer (estimate.h) when such a
 * call ends; nothing is counted for calls that report their usage. */
#ifndef IC_GW_GENTEXT_H
#define IC_GW_GENTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* At most GW_GEN_KEEP bytes of text are kept per call; past it only their number (dropped), and
 * the count is extrapolated from the kept part. */
#define GW_GEN_KEEP 65536

typedef struct gw_gen {
    char *p;          /* NULL until a first text */
    size_t len, cap;
    uint64_t dropped; /* bytes of text past GW_GEN_KEEP */
} gw_gen;

/* The generated text of one SSE event (its "delta": OpenAI chat chunks' content, refusal,
 * reasoning and tool-call arguments; Anthropic's text, thinking and input JSON deltas; OpenAI
 * Responses' text, argument and reasoning-summary deltas; not audio nor its transcript),
 * appended. Scans the bytes without a JSON parser, in time linear in the event; an event it
 * cannot read adds what came before the fault. */
void gw_gen_event(gw_gen *g, const char *ev, size_t len);
/* The strings under o whose key is one of keys (NULL-terminated), at any depth, appended one per
 * line: a request's text */
void gw_gen_json(gw_gen *g, json_object *o, const char *const *keys);
/* what a request's text is under (prompts of the endpoints that have no counter of their own) */
extern const char *const GW_GEN_REQUEST_KEYS[];
/* A whole answer's generated text, appended one part per line: chat choices (content, refusal,
 * reasoning, tool-call arguments), Anthropic content blocks (text, thinking, tool input as JSON),
 * Responses output items (text, refusal, arguments, reasoning summaries) */
void gw_gen_answer(gw_gen *g, json_object *body);
void gw_gen_free(gw_gen *g);

#endif
