/* gw_util.c: clocks, SHA-256, listen-address parsing, reuse-port listeners and JSON quoting for
 * the gateway and the mock provider (gw_util.h). No request logic lives here. */
#include "gw_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/evp.h>

#include "infercost/record.h"

int64_t gw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t gw_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- SHA-256 ----
 * OpenSSL's libcrypto (SHA-NI or AVX2 where the CPU has them): 1.27 us for a 2 KB request where
 * the version written here took 7.4 to 8.6 us (BENCHMARKS.md, "Session 14"). The digest is fetched once;
 * EVP_Digest with it is thread-safe. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

bool gw_sha256_ok(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md != NULL;
}

void gw_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    if (!gw_sha256_ok() || !EVP_Digest(data, len, out, &n, sha256_md, NULL) || n != 32) {
        /* only a libcrypto without SHA-256 (a broken install) gets here, and `serve` checks
         * gw_sha256_ok before it starts: a key that matches nothing is safer than a wrong one */
        fprintf(stderr, "infercost: libcrypto has no SHA-256\n");
        abort();
    }
}

static void sha256_fail(void)
{
    fprintf(stderr, "infercost: libcrypto: SHA-256 failed\n");
    abort();
}

void gw_sha256_init(gw_sha256_ctx *s)
{
    s->n = 0;
    s->md = EVP_MD_CTX_new();
    if (!s->md || !gw_sha256_ok() || !EVP_DigestInit_ex2(s->md, sha256_md, NULL))
        sha256_fail();
}

void gw_sha256_update(gw_sha256_ctx *s, const void *data, size_t len)
{
    if (s->n + len > sizeof s->buf) {
        if ((s->n && !EVP_DigestUpdate(s->md, s->buf, s->n)))
            sha256_fail();
        s->n = 0;
        if (len >= sizeof s->buf) {
            if (!EVP_DigestUpdate(s->md, data, len))
                sha256_fail();
            return;
        }
    }
    memcpy(s->buf + s->n, data, len);
    s->n += len;
}

void gw_sha256_final(gw_sha256_ctx *s, uint8_t out[32])
{
    unsigned int n = 0;
    if ((s->n && !EVP_DigestUpdate(s->md, s->buf, s->n)) || !EVP_DigestFinal_ex(s->md, out, &n) ||
        n != 32)
        sha256_fail();
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

void gw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
    size_t n = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len, out, 32, &n) ||
        n != 32)
        sha256_fail();
}

void gw_hex32(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}

void gw_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    gw_sha256(data, len, d);
    gw_hex32(d, out);
}

/* ---- addresses and listeners ---- */
bool gw_parse_listen(const char *s, char *host, size_t hostcap, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *ps = colon ? colon + 1 : s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (hl >= hostcap)
        return false;
    if (hl == 0)
        snprintf(host, hostcap, "127.0.0.1");
    else {
        memcpy(host, s, hl);
        host[hl] = 0;
    }
    if (!*ps)
        return false;
    char *end;
    long p = strtol(ps, &end, 10);
    if (*end || p < 0 || p > 65535)
        return false;
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1)
        return false;
    *port = (int)p;
    return true;
}

int gw_http_listen(struct event_base *base, struct evhttp *http, const char *host, int port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        1024, (struct sockaddr *)&sin, sizeof sin);
    if (!l)
        return -1;
    /* no Nagle on the accepted connections (inherited from the listener): streamed events go
     * out as written, not held for the peer's delayed ACK (server.c says more) */
    int one = 1;
    setsockopt(evconnlistener_get_fd(l), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!evhttp_bind_listener(http, l)) {
        evconnlistener_free(l);
        return -1;
    }
    struct sockaddr_in got;
    socklen_t gl = sizeof got;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&got, &gl) != 0)
        return -1;
    return ntohs(got.sin_port);
}

/* s as a JSON string literal into b (gw_sb_quote): one quoter for the spool and the logs */
void gw_json_quote(struct evbuffer *b, const char *s)
{
    char stack[512];
    gw_sbuf sb;
    gw_sb_init(&sb, stack, sizeof stack);
    gw_sb_quote(&sb, s);
    evbuffer_add(b, sb.oom ? "\"\"" : sb.p, sb.oom ? 2 : sb.len);
    gw_sb_free(&sb);
}

static _Thread_local uint64_t rng_state;

uint64_t gw_rand64(void)
{
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts ^
                    0x9e3779b97f4a7c15ULL;
        if (!rng_state)
            rng_state = 1;
    }
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

double gw_rand01(void)
{
    return (double)(gw_rand64() >> 11) / 9007199254740992.0;
}

void gw_sb_init(gw_sbuf *b, char *stack, size_t cap)
{
    b->p = stack;
    b->len = 0;
    b->cap = cap;
    b->heap = b->oom = false;
}

void gw_sb_add(gw_sbuf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        char *np = b->heap ? realloc(b->p, cap) : malloc(cap);
        if (!np) {
            b->oom = true;
            return;
        }
        if (!b->heap)
            memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
        b->heap = true;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void gw_sb_str(gw_sbuf *b, const char *s) { gw_sb_add(b, s, strlen(s)); }

/* s as a JSON string literal: printable ASCII other than '"' and '\\' (names, ids, models nearly
 * always are) as it is; anything else through ic_json_quote (escapes, invalid UTF-8 as \ufffd) */
void gw_sb_quote(gw_sbuf *b, const char *s)
{
    size_t n = 0;
    while ((unsigned char)s[n] - 0x20u < 0x60u && s[n] != '"' && s[n] != '\\')
        n++;
    if (!s[n]) {
        gw_sb_add(b, "\"", 1);
        gw_sb_add(b, s, n);
        gw_sb_add(b, "\"", 1);
        return;
    }
    n += strlen(s + n);
    char buf[768];
    char *t = n * 6 + 3 <= sizeof buf ? buf : malloc(n * 6 + 3);
    size_t w = t ? ic_json_quote(s, n, t, n * 6 + 3) : 0;
    if (!w)
        b->oom = true;
    else
        gw_sb_add(b, t, w);
    if (t != buf)
        free(t);
}

void gw_sb_u64(gw_sbuf *b, uint64_t v)
{
    char d[24];
    int i = 24;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    gw_sb_add(b, d + i, (size_t)(24 - i));
}

void gw_sb_free(gw_sbuf *b)
{
    if (b->heap)
        free(b->p);
    b->heap = false;
}

size_t gw_scopy(char *dst, size_t cap, const char *a, const char *b)
{
    if (!cap)
        return 0;
    size_t n = 0;
    for (const char *src = a; src; src = src == a ? b : NULL) {
        size_t l = strlen(src);
        if (l > cap - 1 - n)
            l = cap - 1 - n;
        memcpy(dst + n, src, l);
        n += l;
        if (src == b)
            break;
    }
    dst[n] = 0;
    return n;
}

size_t gw_utf8_copy(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return 0;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)src;
    while (*p) {
        size_t l = *p < 0x80 ? 1 : *p >= 0xC2 && *p <= 0xDF ? 2 : *p >= 0xE0 && *p <= 0xEF ? 3
                 : *p >= 0xF0 && *p <= 0xF4 ? 4 : 0;
        size_t have = 0;
        while (have < l && p[have])
            have++;
        bool ok = l && have == l && ic_utf8_valid((const char *)p, l);
        const char *out = ok ? (const char *)p : "\xEF\xBF\xBD"; /* U+FFFD for a bad byte */
        size_t ol = ok ? l : 3;
        if (ol > cap - 1 - n)
            break; /* at a character's boundary */
        memcpy(dst + n, out, ol);
        n += ol;
        p += ok ? l : 1;
    }
    dst[n] = 0;
    return n;
}

/* the index of the quote closing the string opened at b[i], or n: the next quote not escaped
 * (an even number of backslashes before it), found with memchr rather than byte by byte, since
 * strings (generated text) are most of a response */
static size_t json_string_end(const char *b, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n) {
        const char *q = memchr(b + j, '"', n - j);
        if (!q)
            return n;
        size_t k = (size_t)(q - b), bs = 0;
        while (k - bs > i + 1 && b[k - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            return k;
        j = k + 1;
    }
    return n;
}

static bool json_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool gw_json_top_object(const char *b, size_t n, const char *key, size_t *vs, size_t *ve)
{
    size_t kl = strlen(key);
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (ch == '"') {
            size_t start = i;
            i = json_string_end(b, n, i);
            if (i >= n)
                return false;
            if (depth == 1 && i - start - 1 == kl && !memcmp(b + start + 1, key, kl)) {
                size_t j = i + 1;
                while (j < n && json_ws(b[j]))
                    j++;
                if (j < n && b[j] == ':') {
                    j++;
                    while (j < n && json_ws(b[j]))
                        j++;
                    if (j >= n || b[j] != '{')
                        return false;
                    int d = 0;
                    for (size_t k = j; k < n; k++) {
                        if (b[k] == '"') {
                            k = json_string_end(b, n, k);
                            if (k >= n)
                                return false;
                        } else if (b[k] == '{')
                            d++;
                        else if (b[k] == '}' && --d == 0) {
                            *vs = j;
                            *ve = k + 1;
                            return true;
                        }
                    }
                    return false;
                }
            }
        } else if (ch == '{' || ch == '[')
            depth++;
        else if (ch == '}' || ch == ']')
            depth--;
    }
    return false;
}

bool gw_json_object_keys(const char *b, size_t n, size_t *keys, size_t *open)
{
    int depth = 0;
    size_t k = 0;
    bool seen_open = false;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (ch == '"') {
            if (!seen_open)
                return false;
            i = json_string_end(b, n, i);
            if (i >= n)
                return false;
            if (depth == 1) { /* a key if a colon follows */
                size_t j = i + 1;
                while (j < n && json_ws(b[j]))
                    j++;
                if (j < n && b[j] == ':')
                    k++;
            }
        } else if (ch == '{' || ch == '[') {
            if (!seen_open) {
                if (ch != '{')
                    return false;
                seen_open = true;
                *open = i + 1;
            } else if (depth == 0)
                return false; /* a second value after the object */
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (--depth < 0)
                return false;
            size_t j = i; /* a trailing comma, which a lenient parser forgives */
            while (j > 0 && json_ws(b[j - 1]))
                j--;
            if (j > 0 && b[j - 1] == ',')
                return false;
        } else if (!strchr(" \t\r\n,:-+.0123456789eEtrufalsn", ch) || !ch)
            return false;
        else if (depth == 0 && !json_ws(ch))
            return false; /* anything but white space around the object */
    }
    *keys = k;
    return seen_open && depth == 0;
}
