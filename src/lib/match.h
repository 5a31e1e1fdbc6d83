/* match.h: internal. The feed's match clauses (equals / starts_with / ends_with / contains,
 * case-insensitive; regex, JavaScript syntax via PCRE2, case-sensitive; and / or, nesting), as the
 * reference evaluates them. Clauses live in the catalog's arena; compiled regexes are also
 * registered with the catalog so they can be freed. */
#ifndef IC_MATCH_H
#define IC_MATCH_H

#include <json-c/json.h>
#include <stdbool.h>

#include "arena.h"
#include "infercost/status.h"

typedef struct ic_match ic_match;

typedef struct ic_regex_list {
    void **codes; /* pcre2_code_8 * */
    size_t n, cap;
} ic_regex_list;

ic_match *ic_match_parse(json_object *o, ic_arena *a, ic_regex_list *rl, const char *where,
                         ic_error *err);
/* Build "equals s" (for importers). */
ic_match *ic_match_equals(ic_arena *a, const char *s);
ic_match *ic_match_or(ic_arena *a, ic_match **kids, size_t n);
bool ic_match_eval(const ic_match *m, const char *s);

/* Compile a JavaScript-syntax regex (as the feed writes them) with PCRE2; NULL + err on error. */
void *ic_regex_compile(const char *pattern, ic_regex_list *rl, const char *where, ic_error *err);
/* anchored_start: match only at offset 0 (for api_pattern's "^(?:...)"). */
bool ic_regex_test(const void *code, const char *s, bool anchored_start);
void ic_regex_list_free(ic_regex_list *rl);

#endif
