/* match.c: evaluation of the feed's match clauses (match.h). String clauses compare ASCII
 * case-insensitively, as the reference's toLowerCase() does for the ids the feed holds; regexes
 * are compiled once, with PCRE2_DOLLAR_ENDONLY so that "$" means end of string as in JavaScript. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "match.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

typedef enum { M_EQUALS, M_STARTS, M_ENDS, M_CONTAINS, M_REGEX, M_AND, M_OR } kind;

struct ic_match {
    kind k;
    char *s; /* lower-cased literal */
    size_t len;
    pcre2_code *re;
    ic_match **kids;
    size_t nkids;
};

static char *lower_dup(ic_arena *a, const char *s)
{
    char *d = ic_arena_strdup(a, s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

void *ic_regex_compile(const char *pattern, ic_regex_list *rl, const char *where, ic_error *err)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY, &ec, &off,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(ec, msg, sizeof msg);
        ic_error_set(err, IC_ERR_CATALOG, "%s: bad regex \"%s\" at offset %zu: %s", where,
                     pattern, (size_t)off, (char *)msg);
        return NULL;
    }
    if (rl->n == rl->cap) {
        size_t cap = rl->cap ? rl->cap * 2 : 16;
        void **p = realloc(rl->codes, cap * sizeof *p);
        if (!p) {
            pcre2_code_free(re);
            ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        rl->codes = p;
        rl->cap = cap;
    }
    rl->codes[rl->n++] = re;
    return re;
}

bool ic_regex_test(const void *code, const char *s, bool anchored_start)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    if (!md)
        return false;
    int rc = pcre2_match(code, (PCRE2_SPTR)s, strlen(s), 0, anchored_start ? PCRE2_ANCHORED : 0,
                         md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

void ic_regex_list_free(ic_regex_list *rl)
{
    for (size_t i = 0; i < rl->n; i++)
        pcre2_code_free(rl->codes[i]);
    free(rl->codes);
    rl->codes = NULL;
    rl->n = rl->cap = 0;
}

ic_match *ic_match_equals(ic_arena *a, const char *s)
{
    ic_match *m = ic_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    m->k = M_EQUALS;
    m->s = lower_dup(a, s);
    m->len = strlen(s);
    return m->s ? m : NULL;
}

ic_match *ic_match_or(ic_arena *a, ic_match **kids, size_t n)
{
    ic_match *m = ic_arena_alloc(a, sizeof *m);
    ic_match **k = ic_arena_alloc(a, (n ? n : 1) * sizeof *k);
    if (!m || !k)
        return NULL;
    memcpy(k, kids, n * sizeof *k);
    m->k = M_OR;
    m->kids = k;
    m->nkids = n;
    return m;
}

ic_match *ic_match_parse(json_object *o, ic_arena *a, ic_regex_list *rl, const char *where,
                         ic_error *err)
{
    if (!o || !json_object_is_type(o, json_type_object)) {
        ic_error_set(err, IC_ERR_CATALOG, "%s: match clause must be an object", where);
        return NULL;
    }
    ic_match *m = ic_arena_alloc(a, sizeof *m);
    if (!m) {
        ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    json_object *v;
    /* the reference's order of precedence: or, and, equals, starts_with, ends_with, contains, regex */
    if (json_object_object_get_ex(o, "or", &v) || json_object_object_get_ex(o, "and", &v)) {
        m->k = json_object_object_get_ex(o, "or", NULL) ? M_OR : M_AND;
        if (!json_object_is_type(v, json_type_array)) {
            ic_error_set(err, IC_ERR_CATALOG, "%s: \"%s\" must be a list", where,
                         m->k == M_OR ? "or" : "and");
            return NULL;
        }
        m->nkids = json_object_array_length(v);
        m->kids = ic_arena_alloc(a, (m->nkids ? m->nkids : 1) * sizeof *m->kids);
        if (!m->kids) {
            ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < m->nkids; i++)
            if (!(m->kids[i] = ic_match_parse(json_object_array_get_idx(v, i), a, rl, where, err)))
                return NULL;
        return m;
    }
    static const struct { const char *key; kind k; } lits[] = {
        {"equals", M_EQUALS}, {"starts_with", M_STARTS}, {"ends_with", M_ENDS},
        {"contains", M_CONTAINS}, {"regex", M_REGEX},
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        if (!json_object_object_get_ex(o, lits[i].key, &v))
            continue;
        if (!json_object_is_type(v, json_type_string)) {
            ic_error_set(err, IC_ERR_CATALOG, "%s: \"%s\" must be a string", where, lits[i].key);
            return NULL;
        }
        m->k = lits[i].k;
        const char *s = json_object_get_string(v);
        if (m->k == M_REGEX) {
            m->s = ic_arena_strdup(a, s);
            if (!(m->re = ic_regex_compile(s, rl, where, err)))
                return NULL;
        } else {
            m->s = lower_dup(a, s);
        }
        m->len = strlen(s);
        return m;
    }
    ic_error_set(err, IC_ERR_CATALOG, "%s: unknown match clause %s", where,
                 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    return NULL;
}

/* case-insensitive (ASCII) helpers on a lower-cased needle */
static bool ieq_at(const char *hay, const char *needle, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((char)tolower((unsigned char)hay[i]) != needle[i])
            return false;
    return true;
}

bool ic_match_eval(const ic_match *m, const char *s)
{
    size_t len;
    switch (m->k) {
    case M_OR:
        for (size_t i = 0; i < m->nkids; i++)
            if (ic_match_eval(m->kids[i], s))
                return true;
        return false;
    case M_AND:
        for (size_t i = 0; i < m->nkids; i++)
            if (!ic_match_eval(m->kids[i], s))
                return false;
        return true;
    case M_EQUALS:
        return strlen(s) == m->len && ieq_at(s, m->s, m->len);
    case M_STARTS:
        return strlen(s) >= m->len && ieq_at(s, m->s, m->len);
    case M_ENDS:
        len = strlen(s);
        return len >= m->len && ieq_at(s + len - m->len, m->s, m->len);
    case M_CONTAINS:
        len = strlen(s);
        for (size_t i = 0; i + m->len <= len; i++)
            if (ieq_at(s + i, m->s, m->len))
                return true;
        return false;
    case M_REGEX:
        return ic_regex_test(m->re, s, false);
    }
    return false;
}
