/* usage_internal.h: extraction over an already-parsed json-c body, shared by usage.c,
 * usage_stream.c and record.c (which parses a whole input line once). */
#ifndef IC_USAGE_INTERNAL_H
#define IC_USAGE_INTERNAL_H

#include <json-c/json.h>

#include "infercost/usage.h"

struct ic_provider;
ic_status ic__usage_extract_json(const struct ic_provider *p, const char *flavor, json_object *body,
                                 ic_usage *out, char *model, size_t model_cap, ic_error *err);
/* ic_usage_set_text with the key already looked up (unit = ic_unit_find(key), may be -1) */
ic_status ic__usage_set_unit_text(ic_usage *u, int unit, const char *key, const char *num, size_t len,
                                  ic_error *err);
ic_status ic__usage_extract_stream(const struct ic_provider *p, const char *flavor, const char *text,
                                   size_t len, ic_usage *out, char *model, size_t model_cap,
                                   ic_error *err);
#endif
