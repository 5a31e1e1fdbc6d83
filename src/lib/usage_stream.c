/* usage_stream.c: usage from a whole streamed response. The stream is folded into the final
 * body the provider would have returned unstreamed, then extracted like any body:
 *  - OpenAI chat (stream_options.include_usage): the last chunk whose "usage" is not null;
 *  - OpenAI responses: the "response" of the response.completed (or .incomplete/.failed) event;
 *    realtime: the response.done event itself (its extractor's root is response.usage);
 *  - Anthropic: message_start's message, with message_delta's cumulative usage fields applied;
 *  - Gemini streamGenerateContent: the last chunk with usageMetadata (cumulative), as SSE
 *    (alt=sse) or as the JSON array of chunks the non-SSE stream returns.
 * A stream with no usage at all is an error that says what to ask the provider for. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "usage_internal.h"

typedef struct fold {
    json_object *anthropic;  /* deep copy of message_start's message, usage merged */
    json_object *candidate;  /* owned reference to the best final body so far */
    bool delta;              /* an Anthropic message_delta brought its usage */
    bool root_is_response;   /* extractor root starts at "response" (realtime) */
} fold;

static void take(fold *f, json_object *o)
{
    json_object_get(o);
    json_object_put(f->candidate);
    f->candidate = o;
}

static void feed(fold *f, json_object *ev)
{
    if (!json_object_is_type(ev, json_type_object))
        return;
    json_object *type, *v, *usage;
    const char *t = json_object_object_get_ex(ev, "type", &type) && json_object_is_type(type, json_type_string)
                        ? json_object_get_string(type) : "";
    if (!strcmp(t, "message_start") && json_object_object_get_ex(ev, "message", &v) &&
        json_object_is_type(v, json_type_object)) {
        json_object_put(f->anthropic);
        f->anthropic = NULL;
        if (json_object_deep_copy(v, &f->anthropic, NULL) != 0)
            f->anthropic = NULL;
        return;
    }
    if (!strcmp(t, "message_delta")) {
        json_object *mu;
        if (f->anthropic && json_object_object_get_ex(ev, "usage", &usage) &&
            json_object_is_type(usage, json_type_object)) {
            if (!json_object_object_get_ex(f->anthropic, "usage", &mu) ||
                !json_object_is_type(mu, json_type_object)) {
                mu = json_object_new_object();
                json_object_object_add(f->anthropic, "usage", mu);
            }
            json_object_object_foreach(usage, k, val)
            {
                if (!val)
                    continue; /* a null in the delta does not erase the start's count */
                json_object_object_add(mu, k, json_object_get(val));
            }
            f->delta = true;
        }
        return;
    }
    if (!strncmp(t, "response.", 9)) {
        if (json_object_object_get_ex(ev, "response", &v) && json_object_is_type(v, json_type_object) &&
            json_object_object_get_ex(v, "usage", &usage) && usage)
            take(f, f->root_is_response ? ev : v);
        return;
    }
    if ((json_object_object_get_ex(ev, "usage", &usage) && usage) ||
        (json_object_object_get_ex(ev, "usageMetadata", &usage) && usage))
        take(f, ev);
}

static json_object *parse(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new();
    if (tok)
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* no comments, no single quotes */
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

ic_status ic__usage_extract_stream(const ic_provider *p, const char *flavor, const char *text,
                                   size_t len, bool whole, ic_usage *out, char *model,
                                   size_t model_cap, ic_error *err)
{
    const ic_extractor *x = ic__find_extractor(p, flavor);
    fold f = {NULL, NULL, x && x->root.n && x->root.steps[0].key &&
                              !strcmp(x->root.steps[0].key, "response"), false};
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    size_t events = 0, bad = 0;
    if (i < len && (text[i] == '[' || text[i] == '{')) {
        /* a JSON array of chunks (Gemini's non-SSE stream), or a single body */
        json_object *o = parse(text + i, len - i);
        if (!o)
            return ic_error_set(err, IC_ERR_PARSE, "stream is neither SSE nor valid JSON");
        if (json_object_is_type(o, json_type_array))
            for (size_t k = 0; k < json_object_array_length(o); k++, events++)
                feed(&f, json_object_array_get_idx(o, k));
        else
            feed(&f, o), events++;
        json_object_put(o);
    } else {
        /* SSE: events are separated by blank lines; data lines of one event are joined by \n */
        char *data = malloc(len + 1);
        size_t dn = 0;
        if (!data)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        while (i <= len) {
            /* a line ends at LF, CRLF or a bare CR (the SSE specification allows all three) */
            size_t e = i;
            while (e < len && text[e] != '\n' && text[e] != '\r')
                e++;
            size_t le = e;
            if (e < len && text[e] == '\r' && e + 1 < len && text[e + 1] == '\n')
                e++;
            if (le == i) { /* blank line (or end): dispatch */
                if (dn && !(dn == 6 && !memcmp(data, "[DONE]", 6))) {
                    json_object *o = parse(data, dn);
                    if (o) {
                        feed(&f, o);
                        events++;
                        json_object_put(o);
                    } else {
                        bad++;
                    }
                }
                dn = 0;
            } else if (le - i >= 5 && !memcmp(text + i, "data:", 5)) {
                size_t s = i + 5;
                if (s < le && text[s] == ' ')
                    s++;
                if (dn)
                    data[dn++] = '\n';
                memcpy(data + dn, text + s, le - s);
                dn += le - s;
            }
            if (e >= len) {
                if (dn && !(dn == 6 && !memcmp(data, "[DONE]", 6))) {
                    json_object *o = parse(data, dn);
                    if (o) {
                        feed(&f, o);
                        events++;
                        json_object_put(o);
                    } else {
                        bad++;
                    }
                }
                break;
            }
            i = e + 1;
        }
        free(data);
    }
    json_object *final = f.anthropic ? f.anthropic : f.candidate;
    ic_status st;
    if (!final) {
        bool chat = flavor && !strcmp(flavor, "chat");
        st = ic_error_set(err, IC_ERR_INVALID, "stream has no usage (%zu events%s)%s", events,
                          bad ? ", some not JSON" : "",
                          chat ? "; a chat stream reports usage only when the request sets "
                                 "stream_options.include_usage" : "");
    } else if (bad) { /* the usage an unreadable event held (Anthropic's output count comes in a
                       * late message_delta) would be missing: never priced as if complete */
        st = ic_error_set(err, IC_ERR_INVALID,
                          "%zu of %zu events are not JSON (a cut or garbled stream): its usage "
                          "may be incomplete", bad, bad + events);
    } else if (whole && f.anthropic && !f.delta) {
        st = ic_error_set(err, IC_ERR_INVALID,
                          "no message_delta event (a cut stream): Anthropic reports the output "
                          "count in it, and message_start's is a placeholder");
    } else {
        st = ic__usage_extract_json(p, flavor, final, out, model, model_cap, err);
    }
    json_object_put(f.anthropic);
    json_object_put(f.candidate);
    return st;
}

ic_status ic_usage_extract_stream(const ic_provider *p, const char *api_flavor, const char *text,
                                  size_t len, ic_usage *out, char *model, size_t model_cap,
                                  ic_error *err)
{
    return ic__usage_extract_stream(p, api_flavor, text, len, false, out, model, model_cap, err);
}
