/* usage_internal.h: extraction over an already-parsed json-c body, shared by usage.c,
 * usage_stream.c and record.c (which parses a whole input line once), and the packed record's
 * expansion that pricing.c uses. */
#ifndef IC_USAGE_INTERNAL_H
#define IC_USAGE_INTERNAL_H

#include <json-c/json.h>

#include "infercost/usage.h"
#include "units_internal.h"

struct ic_provider;
ic_status ic__usage_extract_json(const struct ic_provider *p, const char *flavor, json_object *body,
                                 ic_usage *out, char *model, size_t model_cap, ic_error *err);
/* ic__usage_extract_json's answer for a plain small body without json-c (usage.c explains which
 * bodies), or false: then json-c's path decides. ic_usage_extract tries it first. */
bool ic__usage_extract_small(const struct ic_provider *p, const char *flavor, const char *body,
                             size_t len, ic_usage *out, char *model, size_t model_cap, ic_error *err);
/* ic_usage_set_text with the key already looked up (unit = ic_unit_find(key), may be -1) */
ic_status ic__usage_set_unit_text(ic_usage *u, int unit, const char *key, const char *num, size_t len,
                                  ic_error *err);
/* whole: the stream must be complete: an Anthropic stream without its message_delta (where the
 * output count comes) is refused; else message_start's counts stand (for a proxy that knows the
 * stream was cut and says so) */
ic_status ic__usage_extract_stream(const struct ic_provider *p, const char *flavor, const char *text,
                                   size_t len, bool whole, ic_usage *out, char *model,
                                   size_t model_cap, ic_error *err);

/* The usual count, decided inline: a plain integer of 1 to 15 digits (so below the limit) with no
 * leading zero, for a reported unit. false: ic__usage_count_text decides (and words any error). */
static inline bool ic__usage_plain_count(int unit, const char *s, size_t n, uint64_t *out)
{
    if (unit < 0 || !ic__unit_reported[unit] || n == 0 || n > 15 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
/* The count a usage key's JSON number text gives (the checks and messages of ic_usage_set_text),
 * without storing it: the record scanner gathers a line's counts by unit id, then packs them once
 * with ic__usage_pack. */
ic_status ic__usage_count_text(int unit, const char *key, const char *num, size_t len, uint64_t *out,
                               ic_error *err);
/* The error for a record's (IC_USAGE_MAX_UNITS + 1)-th unit. */
ic_status ic__usage_too_many(int unit, ic_error *err);
/* Pack values gathered by unit id (val[k] for each bit k of present, at most IC_USAGE_MAX_UNITS). */
static inline void ic__usage_pack(ic_usage *u, uint64_t present, const uint64_t *val)
{
    int i = 0;
    u->present = present;
    for (uint64_t bits = present; bits; bits &= bits - 1)
        u->v[i++] = val[__builtin_ctzll(bits)];
}
/* The packed values spread by unit id into val (only the present units' slots are written). */
static inline void ic__usage_expand(const ic_usage *u, uint64_t *val)
{
    int i = 0;
    for (uint64_t bits = u->present; bits; bits &= bits - 1)
        val[__builtin_ctzll(bits)] = u->v[i++];
}
/* ic_usage_validate over expanded values (no unit may exceed a reported ancestor). */
ic_status ic__usage_validate_dense(uint64_t present, const uint64_t *val, ic_error *err);
#endif
