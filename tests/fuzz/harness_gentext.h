/* harness_gentext.h: the check of fuzz_gentext (the gateway's reading of generated text from
 * stream events and answers, src/gateway/gentext.c: bytes from an upstream, untrusted), shared
 * with the regression replay (tests/unit/test_fuzz_regress.c). The input is one SSE event, as
 * is and inside an OpenAI chunk's delta; then parsed by json-c and read as an answer and as a
 * request.
 * Properties: no read past the input (ASan); the text taken is never longer than the bytes it
 * came from (a JSON escape only shrinks: the input, or in the chunk what follows "delta":); at most GW_GEN_KEEP bytes are kept. fz_gentext returns
 * 0 when the input passed, or 1 with the reason in why[]. It must not print. */
#ifndef IC_FUZZ_HARNESS_GENTEXT_H
#define IC_FUZZ_HARNESS_GENTEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gateway/gentext.c"

static int fz_gentext(const uint8_t *data, size_t size, char *why, size_t cap)
{
    if (size > 1 << 16)
        return 0;
    static const char pre[] = "data: {\"choices\":[{\"index\":0,\"delta\":", post[] = "}]}\n\n";
    char *w = malloc(sizeof pre + size + sizeof post);
    char *c = malloc(size ? size : 1); /* the bare input, at the end of its own block */
    if (!w || !c) {
        free(w);
        free(c);
        return 0;
    }
    memcpy(c, data, size);
    size_t wn = sizeof pre - 1;
    memcpy(w, pre, wn);
    memcpy(w + wn, data, size);
    wn += size;
    memcpy(w + wn, post, sizeof post - 1);
    wn += sizeof post - 1;
    int bad = 0;
    gw_gen g = {0};
    gw_gen_event(&g, c, size);
    if (g.len + g.dropped > size)
        bad = snprintf(why, cap, "event: %zu bytes of text from %zu bytes", g.len + g.dropped, size);
    gw_gen_free(&g);
    gw_gen_event(&g, w, wn);
    /* the text lies after "delta": (the input and what closes the chunk after it) */
    if (!bad && g.len + g.dropped > size + sizeof post - 1)
        bad = snprintf(why, cap, "in a delta: %zu bytes of text from %zu bytes",
                       g.len + g.dropped, size + sizeof post - 1);
    gw_gen_free(&g);
    json_tokener *tk = json_tokener_new();
    json_object *o = tk ? json_tokener_parse_ex(tk, c, (int)size) : NULL;
    if (tk)
        json_tokener_free(tk);
    for (int k = 0; k < 2 && o && !bad; k++) {
        if (k)
            gw_gen_json(&g, o, GW_GEN_REQUEST_KEYS);
        else
            gw_gen_answer(&g, o);
        if (g.len > GW_GEN_KEEP)
            bad = snprintf(why, cap, "json: %zu bytes kept", g.len);
        gw_gen_free(&g);
    }
    json_object_put(o);
    free(w);
    free(c);
    return bad != 0;
}

#endif
