/* estimate.c: pre-request token counts and costs (estimate.h).
 *
 * Chat requests follow the OpenAI cookbook ("How to count tokens with tiktoken", sections 6-7):
 *   prompt = sum over messages (3 + tokens of every string value + 1 if "name") + 3
 *          + tools: per function func_init + tokens("name:description" without a final '.'),
 *            if it has properties: prop_init + per property prop_key + tokens("key:type:desc")
 *            (+ enum_init + per item enum_item + tokens(item)); once func_end.
 *   func_init is 7 for the o200k models (the cookbook measured gpt-4o/gpt-4o-mini) and 10 for
 *   cl100k (gpt-4, gpt-3.5-turbo); prop_init 3, prop_key 3, enum_init -3, enum_item 3, func_end 12.
 * Array content counts each text part's tokens; image/audio/file parts and assistant tool_calls
 * are outside those rules: they are reported and mark the count approximate.
 * Models without a public tokenizer get the family's characters-per-token ratio (estimate).
 * The cost goes through the pricing core only (ic_price_usage); nothing here knows a price. */
#include "infercost/estimate.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/pricing.h"
#include "infercost/tokenizer.h"
#include "infercost/units.h"
#include "infercost/usage.h"
#include "tokenizer_internal.h"
#include "unicode_tables.h"

/* Characters per token, by family, for Latin-script text (docs/tokenizer.md, "Estimates"):
 * Google documents ~4 characters per token for Gemini; Anthropic does not publish a ratio: 3.5
 * (more tokens than OpenAI's ~4 for English) keeps budget checks on the safe side; others 4. */
static const struct {
    const char *prefix;
    const char *family;
    double cpt;
} families[] = {
    {"claude", "anthropic", 3.5}, {"anthropic", "anthropic", 3.5}, {"gemini", "google", 4.0},
    {"gemma", "google", 4.0},     {"google", "google", 4.0},
};

static void family_of(const char *model, const char **fam, double *cpt)
{
    *fam = "other";
    *cpt = 4.0;
    if (!model)
        return;
    const char *m = strrchr(model, '/');
    m = m ? m + 1 : model;
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (strncasecmp(m, families[i].prefix, strlen(families[i].prefix)) == 0 ||
            strncasecmp(model, families[i].prefix, strlen(families[i].prefix)) == 0) {
            *fam = families[i].family;
            *cpt = families[i].cpt;
            return;
        }
}

size_t ic_char_tally_add(ic_char_tally *t, const char *text, size_t len, bool final)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t end = len;
    if (!final) { /* a lead byte in the last 3 whose character goes on past the end: kept back
                   * (no sequence before a lead byte reaches into it, so the rest decodes as in
                   * the whole text) */
        for (size_t k = len; k > 0 && k + 3 >= len; k--) {
            unsigned c = s[k - 1];
            if (c >= 0xC0) {
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                if (len - (k - 1) < need)
                    end = k - 1;
                break;
            }
            if (c < 0x80)
                break;
        }
    }
    size_t i = 0, l;
    while (i < end) {
        if (s[i] < 0x80) {
            t->ascii++;
            i++;
            continue;
        }
        (void)ic__utf8_decode(s + i, end - i, &l);
        t->other++;
        i += l;
    }
    return end;
}

uint64_t ic_char_tally_tokens(const ic_char_tally *t, double chars_per_token)
{
    if (chars_per_token <= 0)
        chars_per_token = 4.0;
    return (uint64_t)ceil((double)t->ascii / chars_per_token) + t->other;
}

uint64_t ic_estimate_ratio_tokens(const char *text, size_t len, double chars_per_token)
{
    ic_char_tally t = {0, 0};
    (void)ic_char_tally_add(&t, text, len, true);
    return ic_char_tally_tokens(&t, chars_per_token);
}

typedef struct counter {
    const ic_tokenizer *tok; /* NULL: ratio */
    ic_tokenizer_counter *kept; /* the cache's counter for tok, or NULL */
    double cpt;
} counter;

/* one counter per exact encoding, made on first use */
#define COUNTS_MAX 4
struct ic_count_cache {
    size_t bytes; /* of each counter's cache */
    const ic_tokenizer *tok[COUNTS_MAX];
    ic_tokenizer_counter *ctr[COUNTS_MAX];
};

ic_count_cache *ic_count_cache_new(size_t bytes)
{
    ic_count_cache *cc = calloc(1, sizeof *cc);
    if (cc)
        cc->bytes = bytes;
    return cc;
}

void ic_count_cache_free(ic_count_cache *cc)
{
    if (!cc)
        return;
    for (int i = 0; i < COUNTS_MAX; i++)
        ic_tokenizer_counter_free(cc->ctr[i]);
    free(cc);
}

/* the cache's counter for t, made now if need be; NULL (count without) if it could not be made */
static ic_tokenizer_counter *kept_counter(ic_count_cache *cc, const ic_tokenizer *t)
{
    if (!cc)
        return NULL;
    for (int i = 0; i < COUNTS_MAX; i++) {
        if (cc->tok[i] == t)
            return cc->ctr[i];
        if (!cc->tok[i]) {
            /* made once: after a failure this encoding counts without (ctr[i] stays NULL) */
            ic_error e = {0};
            cc->tok[i] = t;
            if (ic_tokenizer_counter_new(&cc->ctr[i], t, cc->bytes, &e) != IC_OK)
                cc->ctr[i] = NULL;
            return cc->ctr[i];
        }
    }
    return NULL;
}

const ic_tokenizer_counter *ic__count_cache_counter(const ic_count_cache *cc,
                                                    const ic_tokenizer *t)
{
    for (int i = 0; i < COUNTS_MAX; i++)
        if (cc->tok[i] == t)
            return cc->ctr[i];
    return NULL;
}

static ic_status count_str(const counter *c, const char *s, size_t len, uint64_t *n, ic_error *err)
{
    if (!c->tok) {
        *n = ic_estimate_ratio_tokens(s, len, c->cpt);
        return IC_OK;
    }
    if (c->kept)
        return ic_tokenizer_counter_count(c->kept, s, len, 0, n, err);
    return ic_tokenizer_count(c->tok, s, len, 0, n, err);
}

static ic_status counter_for(ic_count_cache *cc, const char *model, counter *c,
                             ic_count_method *method, const char **encoding, const char **family,
                             double *cpt, ic_error *err)
{
    memset(c, 0, sizeof *c);
    const char *enc = ic_tokenizer_encoding_for_model(model);
    *encoding = NULL;
    *family = NULL;
    *cpt = 0;
    if (enc) {
        c->tok = ic_tokenizer_shared(enc, err);
        if (!c->tok)
            return err ? err->status : IC_ERR_INVALID;
        c->kept = kept_counter(cc, c->tok);
        *method = IC_COUNT_EXACT;
        *encoding = enc;
        return IC_OK;
    }
    family_of(model, family, cpt);
    c->cpt = *cpt;
    *method = IC_COUNT_RATIO;
    return IC_OK;
}

ic_status ic_count_text_for_model(const char *model, const char *text, size_t len,
                                  ic_text_count *out, ic_error *err)
{
    return ic_count_text_for_model_in(NULL, model, text, len, out, err);
}

/* out cleared, with the method for model, and the counter to count with */
static ic_status text_counter(ic_count_cache *cache, const char *model, counter *c,
                              ic_text_count *out, ic_error *err)
{
    memset(out, 0, sizeof *out);
    return counter_for(cache, model, c, &out->method, &out->encoding, &out->family,
                       &out->chars_per_token, err);
}

ic_status ic_count_text_for_model_in(ic_count_cache *cache, const char *model, const char *text,
                                     size_t len, ic_text_count *out, ic_error *err)
{
    counter c;
    ic_status st = text_counter(cache, model, &c, out, err);
    if (st != IC_OK)
        return st;
    return count_str(&c, text, len, &out->tokens, err);
}

ic_status ic_count_texts_for_model_in(ic_count_cache *cache, const char *model,
                                      const char *const *texts, const size_t *lens, size_t n,
                                      ic_text_count *out, ic_error *err)
{
    counter c;
    ic_status st = text_counter(cache, model, &c, out, err);
    if (st != IC_OK)
        return st;
    uint64_t counts[256];
    for (size_t i = 0; i < n;) {
        size_t m = c.kept ? (n - i < 256 ? n - i : 256) : 1;
        if (c.kept)
            st = ic_tokenizer_counter_count_many(c.kept, texts + i, lens + i, m, 0, counts, NULL,
                                                 err);
        else
            st = count_str(&c, texts[i], lens[i], &counts[0], err);
        if (st != IC_OK)
            return st;
        for (size_t q = 0; q < m; q++)
            out->tokens += counts[q];
        i += m;
    }
    return IC_OK;
}

/* ---- chat requests ---- */

static ic_status add_str(const counter *c, json_object *v, uint64_t *total, ic_error *err)
{
    uint64_t n = 0;
    ic_status st = count_str(c, json_object_get_string(v), (size_t)json_object_get_string_len(v),
                             &n, err);
    *total += n;
    return st;
}

/* "text" without one final '.', as the cookbook strips descriptions */
static ic_status add_line(const counter *c, const char *a, const char *b, const char *d,
                          uint64_t *total, ic_error *err)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0, ld = strlen(d);
    if (ld && d[ld - 1] == '.')
        ld--;
    char *buf = malloc(la + lb + ld + 3);
    if (!buf)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    size_t w = 0;
    memcpy(buf + w, a, la);
    w += la;
    buf[w++] = ':';
    if (b) {
        memcpy(buf + w, b, lb);
        w += lb;
        buf[w++] = ':';
    }
    memcpy(buf + w, d, ld);
    w += ld;
    uint64_t n = 0;
    ic_status st = count_str(c, buf, w, &n, err);
    free(buf);
    *total += n;
    return st;
}

static const char *str_or(json_object *o, const char *key, const char *dflt)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return dflt;
}

/* the text of a tool parameter's enum value or "type": a string as it is; anything else (null in
 * a nullable enum, ["string","null"]), which the cookbook's rules do not cover, as its JSON text,
 * and out->odd_params set. NULL: out of memory */
static const char *param_text(json_object *v, ic_chat_count *out)
{
    if (json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    out->approximate = out->odd_params = true;
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* one function definition (the object holding name/description/parameters) */
static ic_status count_function(const counter *c, json_object *fn, int func_init, const char *path,
                                int64_t *total, ic_chat_count *out, ic_error *err)
{
    const char *name = str_or(fn, "name", NULL);
    if (!name)
        return ic_error_set(err, IC_ERR_INVALID, "%s: a function needs a \"name\" string", path);
    uint64_t n = 0;
    *total += func_init;
    ic_status st = add_line(c, name, NULL, str_or(fn, "description", ""), &n, err);
    if (st != IC_OK)
        return st;
    json_object *params, *props;
    if (json_object_object_get_ex(fn, "parameters", &params) &&
        json_object_object_get_ex(params, "properties", &props) &&
        json_object_is_type(props, json_type_object) && json_object_object_length(props) > 0) {
        *total += 3; /* prop_init */
        json_object_object_foreach(props, key, pv)
        {
            *total += 3; /* prop_key */
            json_object *en;
            if (json_object_object_get_ex(pv, "enum", &en) &&
                json_object_is_type(en, json_type_array)) {
                *total -= 3; /* enum_init */
                for (size_t k = 0; k < json_object_array_length(en); k++) {
                    json_object *item = json_object_array_get_idx(en, k);
                    *total += 3; /* enum_item */
                    const char *is = param_text(item, out);
                    if (!is)
                        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                    uint64_t k_n = 0;
                    if ((st = count_str(c, is, strlen(is), &k_n, err)) != IC_OK)
                        return st;
                    n += k_n;
                }
            }
            json_object *tv;
            const char *type = json_object_object_get_ex(pv, "type", &tv) ? param_text(tv, out) : "";
            if (!type)
                return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
            if ((st = add_line(c, key, type, str_or(pv, "description", ""), &n, err)) != IC_OK)
                return st;
        }
    }
    *total += (int64_t)n;
    return IC_OK;
}

static ic_status count_tools(const counter *c, json_object *root, int func_init, ic_chat_count *out,
                             int64_t *total, ic_error *err)
{
    json_object *tools;
    char path[64];
    int any = 0;
    ic_status st;
    if (json_object_object_get_ex(root, "tools", &tools) && !json_object_is_type(tools, json_type_null)) {
        if (!json_object_is_type(tools, json_type_array))
            return ic_error_set(err, IC_ERR_INVALID, "tools: expected an array");
        for (size_t i = 0; i < json_object_array_length(tools); i++) {
            json_object *t = json_object_array_get_idx(tools, i), *fn;
            snprintf(path, sizeof path, "tools[%zu]", i);
            if (!json_object_object_get_ex(t, "function", &fn)) {
                out->approximate = true; /* a non-function tool (web search, ...): not counted */
                out->other_parts++;
                continue;
            }
            if ((st = count_function(c, fn, func_init, path, total, out, err)) != IC_OK)
                return st;
            out->tools++;
            any = 1;
        }
    }
    if (json_object_object_get_ex(root, "functions", &tools) && !json_object_is_type(tools, json_type_null)) {
        if (!json_object_is_type(tools, json_type_array))
            return ic_error_set(err, IC_ERR_INVALID, "functions: expected an array");
        for (size_t i = 0; i < json_object_array_length(tools); i++) {
            snprintf(path, sizeof path, "functions[%zu]", i);
            if ((st = count_function(c, json_object_array_get_idx(tools, i), func_init, path,
                                     total, out, err)) != IC_OK)
                return st;
            out->tools++;
            any = 1;
        }
    }
    if (any)
        *total += 12; /* func_end */
    return IC_OK;
}

static ic_status count_content(const counter *c, json_object *v, size_t mi, ic_chat_count *out,
                               uint64_t *total, ic_error *err)
{
    if (json_object_is_type(v, json_type_null))
        return IC_OK;
    if (json_object_is_type(v, json_type_string))
        return add_str(c, v, total, err);
    if (!json_object_is_type(v, json_type_array))
        return ic_error_set(err, IC_ERR_INVALID,
                            "messages[%zu].content: expected a string or an array of parts", mi);
    for (size_t k = 0; k < json_object_array_length(v); k++) {
        json_object *part = json_object_array_get_idx(v, k), *txt;
        if (!json_object_is_type(part, json_type_object))
            return ic_error_set(err, IC_ERR_INVALID,
                                "messages[%zu].content[%zu]: expected an object (a content part)",
                                mi, k);
        const char *type = str_or(part, "type", NULL);
        if (!type)
            return ic_error_set(err, IC_ERR_INVALID, "messages[%zu].content[%zu]: a part needs a \"type\"",
                                mi, k);
        if ((!strcmp(type, "text") || !strcmp(type, "input_text") || !strcmp(type, "refusal")) &&
            (json_object_object_get_ex(part, "text", &txt) ||
             json_object_object_get_ex(part, "refusal", &txt)) &&
            json_object_is_type(txt, json_type_string)) {
            ic_status st = add_str(c, txt, total, err);
            if (st != IC_OK)
                return st;
        } else if (!strcmp(type, "image_url") || !strcmp(type, "input_image")) {
            out->images++;
            out->approximate = true;
        } else {
            out->other_parts++;
            out->approximate = true;
        }
    }
    return IC_OK;
}

static ic_status count_tool_calls(const counter *c, json_object *v, ic_chat_count *out,
                                  uint64_t *total, ic_error *err)
{
    if (!json_object_is_type(v, json_type_array))
        return IC_OK;
    for (size_t k = 0; k < json_object_array_length(v); k++) {
        json_object *call = json_object_array_get_idx(v, k), *fn, *x;
        out->tool_calls++;
        out->approximate = true;
        if (!json_object_object_get_ex(call, "function", &fn))
            continue;
        ic_status st;
        if (json_object_object_get_ex(fn, "name", &x) && json_object_is_type(x, json_type_string) &&
            (st = add_str(c, x, total, err)) != IC_OK)
            return st;
        if (json_object_object_get_ex(fn, "arguments", &x) &&
            json_object_is_type(x, json_type_string) && (st = add_str(c, x, total, err)) != IC_OK)
            return st;
    }
    return IC_OK;
}

static ic_status get_uint(json_object *root, const char *key, uint64_t min, uint64_t max, bool *has,
                          uint64_t *v, ic_error *err)
{
    json_object *x;
    if (!json_object_object_get_ex(root, key, &x) || json_object_is_type(x, json_type_null))
        return IC_OK;
    if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < (int64_t)min)
        return ic_error_set(err, IC_ERR_INVALID, "%s: expected %s integer", key,
                            min ? "a positive" : "a non-negative");
    /* json-c holds a larger number as INT64_MAX: the limit is named, not the number */
    if ((uint64_t)json_object_get_int64(x) > max)
        return ic_error_set(err, IC_ERR_RANGE, "%s: more than %llu", key, (unsigned long long)max);
    *has = true;
    *v = (uint64_t)json_object_get_int64(x);
    return IC_OK;
}

ic_status ic_chat_count_request(const char *body, size_t len, const char *model,
                                ic_chat_count *out, ic_error *err)
{
    return ic_chat_count_request_in(NULL, body, len, model, out, err);
}

ic_status ic_chat_count_request_in(ic_count_cache *cache, const char *body, size_t len,
                                   const char *model, ic_chat_count *out, ic_error *err)
{
    memset(out, 0, sizeof *out);
    out->choices = 1;
    /* strict JSON, as the API takes it (no comments, trailing commas, single-quoted values), after
     * an optional UTF-8 byte order mark, and nothing but whitespace after it */
    size_t bom = len >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3) ? 3 : 0;
    if (len - bom > INT32_MAX)
        return ic_error_set(err, IC_ERR_RANGE, "the request is larger than 2 GB");
    json_tokener *tk = json_tokener_new();
    if (!tk)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    json_tokener_set_flags(tk, JSON_TOKENER_STRICT);
    json_object *root = json_tokener_parse_ex(tk, body + bom, (int)(len - bom));
    enum json_tokener_error jerr = json_tokener_get_error(tk);
    size_t end = bom + json_tokener_get_parse_end(tk);
    if (jerr == json_tokener_continue) { /* the end of the text ends a bare literal ("null") */
        root = json_tokener_parse_ex(tk, "", 1);
        jerr = json_tokener_get_error(tk);
    }
    json_tokener_free(tk);
    const char *what = jerr == json_tokener_continue ? "unexpected end of JSON"
                                                     : json_tokener_error_desc(jerr);
    if (jerr == json_tokener_success) {
        while (end < len && (body[end] == ' ' || body[end] == '\t' || body[end] == '\n' ||
                             body[end] == '\r'))
            end++;
        what = end < len ? "unexpected text after the request's JSON object"
               : !root   ? "expected a JSON object (a chat/completions request), not null"
                         : NULL;
    }
    if (what) {
        if (root)
            json_object_put(root);
        size_t line = 1;
        for (size_t i = 0; i < end && i < len; i++)
            line += body[i] == '\n';
        return ic_error_set(err, IC_ERR_PARSE, "line %zu: %s", line, what);
    }
    ic_status st = IC_OK;
    counter c;
    json_object *msgs;
    int64_t total = 0;
    uint64_t text = 0;
    if (!json_object_is_type(root, json_type_object)) {
        st = ic_error_set(err, IC_ERR_INVALID, "expected a JSON object (a chat/completions request)");
        goto done;
    }
    json_object *mv;
    const char *body_model = "";
    if (json_object_object_get_ex(root, "model", &mv) && !json_object_is_type(mv, json_type_null)) {
        if (!json_object_is_type(mv, json_type_string)) {
            st = ic_error_set(err, IC_ERR_INVALID, "model: expected a string");
            goto done;
        }
        body_model = json_object_get_string(mv);
        size_t ml = (size_t)json_object_get_string_len(mv);
        if (ml != strlen(body_model) || ml >= sizeof out->model) {
            st = ic_error_set(err, IC_ERR_INVALID, "model: %s",
                              ml != strlen(body_model) ? "contains a NUL character"
                                                       : "longer than 127 bytes");
            goto done;
        }
    }
    snprintf(out->model, sizeof out->model, "%s", body_model);
    const char *m = model ? model : (body_model[0] ? body_model : NULL);
    if ((st = counter_for(cache, m, &c, &out->method, &out->encoding, &out->family,
                          &out->chars_per_token, err)) != IC_OK)
        goto done;
    if (!json_object_object_get_ex(root, "messages", &msgs) ||
        !json_object_is_type(msgs, json_type_array)) {
        st = ic_error_set(err, IC_ERR_INVALID, "messages: expected an array of messages");
        goto done;
    }
    for (size_t i = 0; i < json_object_array_length(msgs); i++) {
        json_object *msg = json_object_array_get_idx(msgs, i);
        if (!json_object_is_type(msg, json_type_object)) {
            st = ic_error_set(err, IC_ERR_INVALID, "messages[%zu]: expected an object", i);
            goto done;
        }
        if (!str_or(msg, "role", NULL)) {
            st = ic_error_set(err, IC_ERR_INVALID, "messages[%zu].role: expected a string", i);
            goto done;
        }
        out->messages++;
        total += 3; /* tokens_per_message */
        json_object_object_foreach(msg, key, val)
        {
            if (!strcmp(key, "content"))
                st = count_content(&c, val, i, out, &text, err);
            else if (!strcmp(key, "tool_calls"))
                st = count_tool_calls(&c, val, out, &text, err);
            else if (!strcmp(key, "function_call") && json_object_is_type(val, json_type_object)) {
                json_object *x;
                out->tool_calls++;
                out->approximate = true;
                if (json_object_object_get_ex(val, "arguments", &x) &&
                    json_object_is_type(x, json_type_string))
                    st = add_str(&c, x, &text, err);
            } else if (json_object_is_type(val, json_type_string)) {
                st = add_str(&c, val, &text, err);
                if (!strcmp(key, "name"))
                    total += 1; /* tokens_per_name */
            }
            if (st != IC_OK)
                goto done;
        }
    }
    total += 3; /* every reply is primed with <|start|>assistant<|message|> */
    int func_init = out->encoding && !strcmp(out->encoding, "cl100k_base") ? 10 : 7;
    if ((st = count_tools(&c, root, func_init, out, &total, err)) != IC_OK)
        goto done;
    total += (int64_t)text;
    out->prompt_tokens = total > 0 ? (uint64_t)total : 0;
    /* structured outputs: the schema is billed as prompt, by rules not published */
    json_object *rf;
    if (json_object_object_get_ex(root, "response_format", &rf) &&
        json_object_is_type(rf, json_type_object) && strcmp(str_or(rf, "type", "text"), "text")) {
        out->approximate = true;
        out->response_format = true;
    }
    if ((st = get_uint(root, "max_completion_tokens", 0, IC_USAGE_VALUE_MAX, &out->has_max_tokens,
                       &out->max_tokens, err)) != IC_OK)
        goto done;
    if (!out->has_max_tokens &&
        (st = get_uint(root, "max_tokens", 0, IC_USAGE_VALUE_MAX, &out->has_max_tokens,
                       &out->max_tokens, err)) != IC_OK)
        goto done;
    bool has_n = false;
    uint64_t n = 1;
    if ((st = get_uint(root, "n", 1, IC_CHAT_CHOICES_MAX, &has_n, &n, err)) != IC_OK)
        goto done;
    out->choices = (uint32_t)n;
done:
    json_object_put(root);
    return st;
}

/* ---- pricing ---- */

/* the cost of in input and outk output tokens; *out_unpriced set when output tokens were given
 * and the model prices them nowhere */
static ic_status price(const ic_model *m, uint64_t in, uint64_t outk, int64_t t_ms, ic_money *usd,
                       bool *out_unpriced, ic_error *err)
{
    ic_usage u;
    ic_usage_clear(&u);
    ic_status st = ic_units_init(err);
    if (st != IC_OK)
        return st;
    int ui = ic_unit_find("input_tokens"), uo = ic_unit_find("output_tokens");
    if (ui < 0 || uo < 0)
        return ic_error_set(err, IC_ERR_CATALOG, "unit registry lacks input_tokens/output_tokens");
    if ((st = ic_usage_set(&u, ui, in, err)) != IC_OK)
        return st;
    if (outk && (st = ic_usage_set(&u, uo, outk, err)) != IC_OK)
        return st;
    ic_cost cost;
    memset(&cost, 0, sizeof cost);
    if ((st = ic_price_usage(m, &u, t_ms, &cost, err)) != IC_OK)
        return st;
    *usd = cost.total;
    *out_unpriced = outk && (cost.unpriced >> uo & 1);
    return IC_OK;
}

ic_status ic_estimate_request(const ic_catalog *c, const char *provider, const char *model,
                              const char *body, size_t len, int64_t t_ms,
                              ic_request_estimate *out, ic_error *err)
{
    memset(out, 0, sizeof *out);
    /* resolve first: the catalog's id decides the tokenizer as well as the price */
    ic_chat_count probe;
    ic_status st = ic_chat_count_request(body, len, model, &probe, err);
    if (st != IC_OK)
        return st;
    const char *name = model ? model : probe.model;
    if (!name || !name[0])
        return ic_error_set(err, IC_ERR_INVALID, "no model: the request has no \"model\" and none was given");
    if ((st = ic_catalog_resolve(c, provider, name, &out->provider, &out->model, err)) != IC_OK)
        return st;
    const char *id = ic_model_id(out->model);
    if (ic_tokenizer_encoding_for_model(id) || !ic_tokenizer_encoding_for_model(name))
        st = ic_chat_count_request(body, len, id, &out->count, err);
    else
        out->count = probe; /* the caller's name maps to a tokenizer, the catalog id does not */
    if (st != IC_OK)
        return st;
    uint64_t prompt = out->count.prompt_tokens;
    out->context_window = ic_model_context_window(out->model);
    bool unpriced;
    if ((st = price(out->model, prompt, 0, t_ms, &out->input_usd, &unpriced, err)) != IC_OK)
        return st;
    if (out->context_window && prompt > out->context_window)
        out->exceeds_context = true;
    /* every choice ("n") may write the bound, and each is billed */
    if (out->count.has_max_tokens) {
        out->bound = IC_BOUND_MAX_TOKENS;
        out->output_tokens = out->count.max_tokens * out->count.choices;
        out->max_tokens_over_context = out->context_window && !out->exceeds_context &&
                                       prompt + out->count.max_tokens > out->context_window;
    } else if (out->context_window) {
        out->bound = IC_BOUND_CONTEXT;
        out->output_tokens =
            out->exceeds_context ? 0 : (out->context_window - prompt) * out->count.choices;
    } else {
        out->bound = IC_BOUND_NONE;
        out->worst_usd = out->input_usd;
        return IC_OK;
    }
    if ((st = price(out->model, prompt, out->output_tokens, t_ms, &out->worst_usd,
                    &out->output_unpriced, err)) != IC_OK)
        return st;
    if (out->output_unpriced) /* never a silent $0: the worst case is not known */
        out->worst_usd = out->input_usd;
    out->output_usd = out->worst_usd - out->input_usd;
    return IC_OK;
}
