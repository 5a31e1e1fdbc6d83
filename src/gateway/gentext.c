/* gentext.c: the text a model generated, from its stream events or its answer, and a request's
 * text (gentext.h). An SSE event is scanned as bytes, not parsed: each "delta" value, a string
 * or an object whose string members under the keys below are the text, at a cost of a memmem and
 * a walk over the delta per event, on every stream (the text is only counted when the call ends
 * without usage). */
#include "gentext.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* members of a stream's delta object that are generated text, taken only there (not at any
 * depth: a server may repeat reasoning in nested details) */
static const char *const DELTA_KEYS[] = {"content", "text", "thinking", "partial_json", "refusal", NULL};
/* the reasoning a delta may carry under either name (some servers send both): one of them */
static const char *const REASONING_KEYS[] = {"reasoning_content", "reasoning", NULL};
const char *const GW_GEN_REQUEST_KEYS[] = {
    "content", "text", "input", "instructions", "system", "arguments", NULL,
};

void gw_gen_free(gw_gen *g)
{
    free(g->p);
    memset(g, 0, sizeof *g);
}

/* append n bytes, keeping at most GW_GEN_KEEP (cut at a character's start) and counting the rest */
static void put(gw_gen *g, const char *s, size_t n)
{
    size_t room = g->len < GW_GEN_KEEP ? GW_GEN_KEEP - g->len : 0;
    size_t take = n < room ? n : room;
    while (take < n && take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
        take--; /* the rest of a character cut by the limit goes with the part dropped */
    if (take && g->len + take > g->cap) {
        size_t nc = g->cap ? g->cap : 256;
        while (nc < g->len + take)
            nc *= 2;
        char *np = realloc(g->p, nc);
        if (!np) {
            g->dropped += n;
            return;
        }
        g->p = np;
        g->cap = nc;
    }
    if (take)
        memcpy(g->p + g->len, s, take);
    g->len += take;
    g->dropped += n - take;
}

static void put_cp(gw_gen *g, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80)
        b[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 63)), n = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 63)),
        b[2] = (char)(0x80 | (cp & 63)), n = 3;
    else
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 63)),
        b[2] = (char)(0x80 | (cp >> 6 & 63)), b[3] = (char)(0x80 | (cp & 63)), n = 4;
    put(g, b, n);
}

static int hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* p just after a string's opening quote: the byte after its closing quote, the text decoded into
 * g when g is not NULL; NULL when the string is malformed or cut */
static const char *string(const char *p, const char *e, gw_gen *g)
{
    while (p < e) {
        const char *q = p;
        while (q < e && *q != '"' && *q != '\\')
            q++;
        if (g && q > p)
            put(g, p, (size_t)(q - p));
        if (q >= e)
            return NULL;
        if (*q == '"')
            return q + 1;
        if (q + 1 >= e)
            return NULL;
        char c = q[1];
        p = q + 2;
        if (c == 'u') {
            int v = hex4(p, e);
            if (v < 0)
                return NULL;
            p += 4;
            unsigned cp = (unsigned)v;
            if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                int lo = hex4(p + 2, e);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (unsigned)(lo - 0xDC00);
                    p += 6;
                }
            }
            if (g)
                put_cp(g, cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : cp); /* a lone surrogate */
            continue;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = memchr(from, c, sizeof from - 1);
        if (!k)
            return NULL;
        if (g)
            put(g, &to[k - from], 1);
    }
    return NULL;
}

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static bool in_list(const char *const *list, const char *k, size_t n)
{
    for (const char *const *t = list; *t; t++)
        if (strlen(*t) == n && !memcmp(*t, k, n))
            return true;
    return false;
}

/* How a value is read: skipped; taken (a string under a text key, or the strings of an array
 * under one); the delta object itself (its members by DELTA_KEYS, one of REASONING_KEYS, and
 * tool calls); inside tool calls (only "function" objects and their "arguments") */
enum mode { SKIP, TAKE, DELTA, TOOLS };

/* one JSON value at p: the byte after it, its text into g by mode; NULL when malformed */
static const char *value(const char *p, const char *e, enum mode m, int depth, gw_gen *g)
{
    if (p >= e || depth > 32)
        return NULL;
    if (*p == '"')
        return string(p + 1, e, m == TAKE ? g : NULL);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool reasoning = false;
        p = ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            enum mode t = m == DELTA ? SKIP : m; /* an array's items: as the array */
            if (close == '}') {
                if (p >= e || *p != '"')
                    return NULL;
                const char *k = p + 1, *ke = string(k, e, NULL);
                if (!ke)
                    return NULL;
                size_t kn = (size_t)(ke - 1 - k);
                t = SKIP;
                if (m == DELTA && in_list(DELTA_KEYS, k, kn))
                    t = TAKE;
                else if (m == DELTA && !reasoning && in_list(REASONING_KEYS, k, kn))
                    t = TAKE, reasoning = true;
                else if (m == DELTA && kn == 10 && !memcmp(k, "tool_calls", 10))
                    t = TOOLS;
                else if (m == TOOLS)
                    t = kn == 8 && !memcmp(k, "function", 8)    ? TOOLS
                        : kn == 9 && !memcmp(k, "arguments", 9) ? TAKE
                                                                : SKIP;
                p = ws(ke, e);
                if (p >= e || *p != ':')
                    return NULL;
                p = ws(p + 1, e);
            }
            p = value(p, e, t, depth + 1, g);
            if (!p)
                return NULL;
            p = ws(p, e);
            if (p < e && *p == ',') {
                p = ws(p + 1, e);
                continue;
            }
            return p < e && *p == close ? p + 1 : NULL;
        }
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' &&
           *p != '\t')
        p++; /* a number, true, false or null */
    return p;
}

void gw_gen_event(gw_gen *g, const char *ev, size_t len)
{
    const char *e = ev + len, *p = ev;
    int audio = -1; /* Responses' audio events (base64 audio, or its transcript): not text output */
    for (;;) {
        const char *d = memmem(p, (size_t)(e - p), "\"delta\"", 7);
        if (!d)
            return;
        p = ws(d + 7, e);
        if (p >= e || *p != ':')
            continue;
        p = ws(p + 1, e);
        if (p < e && *p == '"') {
            if (audio < 0) /* once per event: a scan per delta would be quadratic */
                audio = memmem(ev, len, "\"response.audio.", 16) != NULL ||
                        memmem(ev, len, "\"response.audio_", 16) != NULL;
            if (audio)
                return;
        }
        if (p >= e)
            return;
        p = value(p, e, *p == '"' ? TAKE : DELTA, 0, g);
        if (!p)
            return;
    }
}

static void add_text(gw_gen *g, const char *t, size_t n)
{
    if (g->len || g->dropped)
        put(g, "\n", 1);
    put(g, t, n);
}

static bool listed(const char *const *list, const char *k) { return in_list(list, k, strlen(k)); }

/* What a walk over a parsed body takes: the strings under the keys in take, at any depth, but
 * not under those in skip; for an answer (answer), also one of REASONING_KEYS per object and a
 * tool call's "input" object as its JSON text */
typedef struct rules {
    const char *const *take, *const *skip;
    bool answer;
} rules;

static void walk(gw_gen *g, json_object *o, const rules *w, bool take, int depth)
{
    if (depth > 64)
        return;
    switch (json_object_get_type(o)) {
    case json_type_string:
        if (take)
            add_text(g, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        break;
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(o); i < n; i++)
            walk(g, json_object_array_get_idx(o, i), w, take, depth + 1);
        break;
    case json_type_object: {
        bool reasoning = false;
        json_object_object_foreach(o, k, v) {
            if (w->skip && listed(w->skip, k))
                continue;
            if (w->answer && !strcmp(k, "input") && !json_object_is_type(v, json_type_string)) {
                /* an Anthropic tool call's input: the JSON the model wrote */
                size_t n = 0;
                const char *t = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
                if (t)
                    add_text(g, t, n);
                continue;
            }
            bool t = listed(w->take, k);
            if (w->answer && !t && !reasoning && listed(REASONING_KEYS, k))
                t = reasoning = true;
            walk(g, v, w, t, depth + 1);
        }
        break;
    }
    default:
        break;
    }
}

void gw_gen_json(gw_gen *g, json_object *o, const char *const *keys)
{
    rules w = {keys, NULL, false};
    walk(g, o, &w, false, 0);
}

/* members of an answer's choices, content blocks and output items that are generated text; what
 * is not gone into (details that repeat the text, token log-probabilities, citations) */
static const char *const ANSWER_KEYS[] = {"content", "text", "thinking", "refusal", "arguments", NULL};
static const char *const ANSWER_SKIP[] = {"reasoning_details", "logprobs", "annotations",
                                          "citations", "usage", NULL};

void gw_gen_answer(gw_gen *g, json_object *body)
{
    static const char *const tops[] = {"choices", "content", "output"};
    rules w = {ANSWER_KEYS, ANSWER_SKIP, true};
    for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
        json_object *v;
        if (json_object_is_type(body, json_type_object) &&
            json_object_object_get_ex(body, tops[i], &v))
            walk(g, v, &w, false, 0);
    }
}
