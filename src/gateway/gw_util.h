/* gw_util.h: small helpers shared by the gateway and the mock provider: clocks, SHA-256 (for
 * virtual-key hashes and cache keys), "host:port" parsing, a reuse-port listener for evhttp,
 * and JSON text helpers. Internal to src/gateway/; it must not grow policy (routing, budgets). */
#ifndef IC_GW_UTIL_H
#define IC_GW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evhttp;
struct event_base;
struct evbuffer;

int64_t gw_now_ms(void);       /* wall clock, ms since the epoch */
uint64_t gw_mono_us(void);     /* monotonic clock, µs */

/* SHA-256 (OpenSSL's libcrypto), for key hashes and cache keys: at once, or fed in pieces
 * (buffered here, so that many small pieces cost one libcrypto call per buffer) */
void gw_sha256(const void *data, size_t len, uint8_t out[32]);
typedef struct gw_sha256_ctx {
    void *md;   /* EVP_MD_CTX */
    size_t n;
    unsigned char buf[2048];
} gw_sha256_ctx;
void gw_sha256_init(gw_sha256_ctx *s);
void gw_sha256_update(gw_sha256_ctx *s, const void *data, size_t len);
void gw_sha256_final(gw_sha256_ctx *s, uint8_t out[32]); /* frees what init took */
/* HMAC-SHA256 (RFC 2104) of data under key */
void gw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32]);
/* whether libcrypto has SHA-256 (false only on a broken install: gw_sha256 would abort) */
bool gw_sha256_ok(void);
/* 32 bytes as 64 lowercase hex digits and a NUL */
void gw_hex32(const uint8_t d[32], char out[65]);
/* hex of SHA-256(data): out needs 65 bytes */
void gw_sha256_hex(const void *data, size_t len, char out[65]);

/* "127.0.0.1:8080", ":8080", "8080" -> host (default 127.0.0.1) and port. false on bad text. */
bool gw_parse_listen(const char *s, char *host, size_t hostcap, int *port);

/* Bind host:port (port 0 = any free port) with SO_REUSEADDR|SO_REUSEPORT and hand the listener
 * to http. Returns the bound port, or -1 (errno set). */
int gw_http_listen(struct event_base *base, struct evhttp *http, const char *host, int port);

/* Byte-level scans of JSON text for the request path, without a parse. Both follow strings
 * (escapes included, skipped with memchr) and nesting.
 * gw_json_top_object: where the value of the top-level key `key`, an object, lies in an object
 * text: [*vs, *ve); false when absent or not an object. A "usage" inside generated text or a
 * nested object is never taken for the top-level one.
 * gw_json_object_keys: the number of top-level keys of an object text (duplicates counted each
 * time) and the offset just past its opening brace; false unless the text is one object whose
 * bytes outside strings are plain JSON (structure, numbers, true/false/null: no comments or
 * single quotes, which a lenient parser would have accepted). */
bool gw_json_top_object(const char *b, size_t n, const char *key, size_t *vs, size_t *ve);
bool gw_json_object_keys(const char *b, size_t n, size_t *keys, size_t *open);

/* Append s as a JSON string literal (with quotes) to b. */
void gw_json_quote(struct evbuffer *b, const char *s);

/* A text builder over a caller's (stack) buffer that moves to the heap when it outgrows it:
 * for hot-path lines (spool events) without printf. oom is set (and appends stop) if the heap
 * refuses; gw_sb_free releases the heap copy, if any. */
typedef struct gw_sbuf {
    char *p;
    size_t len, cap;
    bool heap, oom;
} gw_sbuf;
void gw_sb_init(gw_sbuf *b, char *stack, size_t cap);
void gw_sb_add(gw_sbuf *b, const void *data, size_t n);
void gw_sb_str(gw_sbuf *b, const char *s);   /* s as is */
void gw_sb_quote(gw_sbuf *b, const char *s); /* s as a JSON string literal */
void gw_sb_u64(gw_sbuf *b, uint64_t v);      /* decimal */
void gw_sb_free(gw_sbuf *b);

/* dst = a followed by b (b may be NULL), cut to cap - 1 bytes, NUL-terminated; returns the
 * length written. For the hot path's string copies, instead of snprintf("%s%s"). */
size_t gw_scopy(char *dst, size_t cap, const char *a, const char *b);
/* src into dst as valid UTF-8 (a byte that does not begin a valid character becomes U+FFFD),
 * cut at a character's boundary to fit cap - 1 bytes; returns the length */
size_t gw_utf8_copy(char *dst, size_t cap, const char *src);

/* xorshift random in [0,1) from a per-thread state seeded once. */
double gw_rand01(void);
uint64_t gw_rand64(void);

#endif
