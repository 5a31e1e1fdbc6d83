/* ledger_internal.h: helpers shared by the ledger's generic layer and its backends: LEB128
 * varints (unsigned, zig-zag signed, 128-bit) for the packed event rows. Not public API. */
#ifndef IC_LEDGER_INTERNAL_H
#define IC_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/money.h"

typedef struct ic__wbuf {
    unsigned char *p;
    size_t n, cap;
    bool overflow;
} ic__wbuf;

typedef struct ic__rbuf {
    const unsigned char *p;
    size_t n, at;
    bool bad;
} ic__rbuf;

void ic__put_u64(ic__wbuf *w, uint64_t v);
void ic__put_i64(ic__wbuf *w, int64_t v);   /* zig-zag */
void ic__put_money(ic__wbuf *w, ic_money v); /* zig-zag, 128-bit */
void ic__put_bytes(ic__wbuf *w, const void *s, size_t len); /* length-prefixed */
uint64_t ic__get_u64(ic__rbuf *r);
int64_t ic__get_i64(ic__rbuf *r);
ic_money ic__get_money(ic__rbuf *r);
/* a length-prefixed string copied into buf (NUL-terminated, truncated to cap-1) */
const char *ic__get_str(ic__rbuf *r, char *buf, size_t cap);

struct ic_event;
struct ic_rollup;
/* the rollup row of one event (the rules ic_ledger_append applies) */
void ic__rollup_from_event(const struct ic_event *e, struct ic_rollup *r);

#endif
