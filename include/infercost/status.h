/* status.h: the one error vocabulary of libinfercost. Every fallible function returns an
 * ic_status; when it takes an ic_error *, it also fills a human message there naming the
 * file/line/field or the value at fault. The library never prints. The numbering is stable:
 * new codes are added before IC_STATUS_LAST. */
#ifndef INFERCOST_STATUS_H
#define INFERCOST_STATUS_H

#include <stddef.h>

typedef enum ic_status {
    IC_OK = 0,
    IC_ERR_NOMEM,          /* out of memory */
    IC_ERR_IO,             /* a file could not be read or written */
    IC_ERR_PARSE,          /* malformed input: JSON, YAML, CSV, timestamp, number */
    IC_ERR_INVALID,        /* well-formed but not acceptable (negative tokens, cache > input...) */
    IC_ERR_RANGE,          /* a number too large to be handled exactly */
    IC_ERR_UNKNOWN_MODEL,  /* no catalog model matches */
    IC_ERR_UNKNOWN_PROVIDER,
    IC_ERR_NO_PRICE,       /* the model has no usable price for this usage */
    IC_ERR_CATALOG,        /* the price feed itself is inconsistent */
    IC_ERR_DB,             /* the ledger's storage failed */
    IC_ERR_NOT_FOUND,      /* a named thing (key, file, record) does not exist */
    IC_ERR_LIMIT,          /* a budget or rate limit refuses the call */
    IC_ERR_UPSTREAM,       /* a provider could not be reached or answered badly */
    IC_STATUS_LAST
} ic_status;

/* Detail for the last failure. Fixed size, so that reporting an error never allocates. */
typedef struct ic_error {
    ic_status status;
    char msg[512];
} ic_error;

/* A static, never-NULL description of a status code. */
const char *ic_strerror(ic_status st);

/* Fill err (if not NULL) with st and a printf-style message; returns st. */
ic_status ic_error_set(ic_error *err, ic_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err->msg with "prefix: " (for adding file:line context on the way up). */
void ic_error_prefix(ic_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Provider keys cut out of text, in place: "sk-..." (OpenAI, Anthropic) and "AIza..." (Google),
 * a prefix and at least 16 key characters starting a word, each become their first 6 characters
 * and "[redacted]" (never longer); what may be part of one (8 to 15 key characters, or any number
 * running to the end of the text, as when a message is cut) is starred after the prefix. Returns the new length. Every message ic_error_set writes has
 * been through it; a program that prints what it was given can do the same. */
size_t ic_redact_keys(char *s, size_t len);

#endif
