/* tsan_cost.c: a ThreadSanitizer driver for the pricing core's thread-safety claims: one catalog
 * shared by 4 threads that each parse, price and format every line of a JSONL file (default
 * data/examples/workload.jsonl) plus unknown model names (the resolve cache's insert and grow
 * paths), and must all produce byte-identical output. Built by tests/fuzz/build.sh tsan; not part
 * of the library or of `make test`. Usage: build-fuzz/tsan_cost [FILE] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/catalog.h"
#include "infercost/record.h"

#define NT 4
static const ic_catalog *cat;
static char *text;
static size_t text_len;
static char *outs[NT];
static size_t out_len[NT];

static void *work(void *arg)
{
    int id = (int)(size_t)arg;
    size_t cap = text_len * 8 + 65536, o = 0;
    char *out = malloc(cap);
    ic_record *r = malloc(sizeof *r);
    ic_cost *cost = malloc(sizeof *cost);
    if (!out || !r || !cost)
        abort();
    for (char *p = text, *e = text + text_len; p < e;) {
        char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t len = (size_t)((nl ? nl : e) - p);
        ic_error err = {0};
        if (len && ic_record_parse(cat, p, len, r, &err) == IC_OK &&
            ic_record_price(cat, r, 1772359200000LL, cost, &err) == IC_OK) {
            size_t w = ic_cost_to_json(r, cost, out + o, cap - o - 1);
            o += w;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "%s", err.msg);
        }
        out[o++] = '\n';
        p = nl ? nl + 1 : e;
    }
    /* unknown names: every thread inserts into the shared resolve cache (and makes it grow) */
    for (int k = 0; k < 600; k++) {
        char name[64];
        snprintf(name, sizeof name, "no-such-model-%d", (k * 7 + id) % 600);
        const ic_provider *p;
        const ic_model *m;
        ic_error err = {0};
        (void)ic_catalog_resolve(cat, k & 1 ? "openai" : NULL, name, &p, &m, &err);
    }
    outs[id] = out;
    out_len[id] = o;
    free(r);
    free(cost);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/examples/workload.jsonl";
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    text = malloc(1 << 24);
    text_len = fread(text, 1, (1 << 24) - 1, f);
    fclose(f);
    ic_catalog *c;
    ic_error err = {0};
    if (ic_catalog_open(&c, NULL, &err) != IC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    cat = c;
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        pthread_create(&th[i], NULL, work, (void *)(size_t)i);
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    int bad = 0;
    for (int i = 1; i < NT; i++)
        if (out_len[i] != out_len[0] || memcmp(outs[i], outs[0], out_len[0]))
            bad = 1;
    printf("%s: %d threads, %zu bytes of output each%s\n", bad ? "FAIL" : "ok", NT, out_len[0],
           bad ? ", outputs differ" : ", identical");
    for (int i = 0; i < NT; i++)
        free(outs[i]);
    ic_catalog_free(c);
    free(text);
    return bad;
}
