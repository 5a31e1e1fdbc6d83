/* ledger_internal.h: helpers shared by the ledger's generic layer and its backends: LEB128
 * varints (unsigned, zig-zag signed, 128-bit) for the packed event rows, and the layout of an
 * ic_ledger_batch (events packed off the writer thread). Not public API. */
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

/* whether an event's status is a failure: anything but empty, ok/success/completed/unset (any
 * case) or an HTTP 2xx */
bool ic__status_is_error(const char *s);

struct ic_event;
struct ic_rollup;

/* Text a decoded row points into (task, tags, source, rendered detail): one per scan. */
typedef struct ic__rowtext {
    char task[1024], tags[4096], source[1200], usage[4096], items[8192], request_hash[72];
} ic__rowtext;
/* Decode a row body, as ic_ledger_batch_add packs it (everything after the names: source line,
 * counts, costs, latency, flags, the cache saving when flagged, task, tags, detail, the optional
 * request hash), into e; file is
 * the source file's name ("file:line" is formatted, and the detail rendered, only with detail).
 * The names and id are the caller's. false if malformed. */
bool ic__body_decode(const unsigned char *d, size_t len, const char *file, struct ic_event *e,
                     ic__rowtext *rb, bool detail);
/* the rollup row of one event (the rules ic_ledger_append applies) */
void ic__rollup_from_event(const struct ic_event *e, struct ic_rollup *r);

/* ---- ic_ledger_batch (ledger.h) ----
 * Everything an append needs: each event's row body packed and its names (provider, model, ...,
 * source file) as indexes into the batch's own small string table, on the producing thread; then
 * (ic_ledger_batch_seal) the batch's rollup deltas summed per (day, provider, model, customer,
 * feature) and the order by (time, id). The writer maps the batch's few distinct names to the
 * store's ids, prefixes each body with them and inserts. */
#define IC__NNAMES 10  /* provider model model_served api_flavor customer feature key_id status
                        * routed_from source-file */
#define IC__ROW_GAP 112 /* bytes kept free before each body for the row header: the format and
                         * the 10 name ids as varints (at most 1 + 10 * 10) */

typedef struct ic__bent {
    int64_t t;
    size_t id_off;      /* arena offset of the NUL-terminated id */
    size_t body_off;    /* arena offset of the body; IC__ROW_GAP free bytes precede it */
    uint32_t body_len;
    uint32_t id_len;
    uint32_t slot;      /* rollup slot */
    uint32_t name[IC__NNAMES];
    bool error, cache_hit;
    uint64_t tok[5];    /* input, cache read, cache write, output, reasoning */
    ic_money cost, cost_input, cost_output, cache_saved;
} ic__bent;

typedef struct ic__bslot { /* one rollup key of the batch and its sums */
    int64_t day;
    uint32_t p, m, c, f; /* local name indexes */
    uint64_t requests, cache_hits, errors, tok[5];
    ic_money cost, cost_input, cost_output, cache_saved;
} ic__bslot;

struct ic_ledger_batch {
    ic__bent *ent;
    size_t n, cap;
    unsigned char *arena; /* ids, bodies (each after a gap) and names */
    size_t alen, acap;
    /* local names: offsets into the arena; name 0 is "" */
    size_t *name_off;
    size_t nnames, capnames;
    uint32_t *nhash;      /* open addressing: local index + 1, 0 = empty */
    size_t capnhash;
    uint32_t last[IC__NNAMES]; /* the last local name of each field: consecutive events repeat */
    /* rollup slots */
    ic__bslot *slots;
    size_t nslots, capslots;
    uint32_t *shash;      /* slot index + 1 */
    size_t capshash;
    /* (time, id) order, set by ic_ledger_batch_seal */
    uint32_t *order;
    bool sealed;
    bool *dup;            /* by entry: filled by the append */
};

/* A backend's insert op: the event as a batch of one through its insert_batch (so that a row is
 * packed in one place, ledger.c). */
ic_status ic__insert_one(void *state,
                         ic_status (*insert_batch)(void *, struct ic_ledger_batch *, bool *,
                                                   ic_error *),
                         const struct ic_event *e, bool *inserted, ic_error *err);

static inline const char *ic__bname(const struct ic_ledger_batch *b, uint32_t i)
{
    return (const char *)b->arena + b->name_off[i];
}
static inline const char *ic__bid(const struct ic_ledger_batch *b, const ic__bent *e)
{
    return (const char *)b->arena + e->id_off;
}

#endif
