/* gw_util.c: clocks, SHA-256, listen-address parsing, reuse-port listeners and JSON quoting for
 * the gateway and the mock provider (gw_util.h). No request logic lives here. */
#include "gw_util.h"

#include <arpa/inet.h>
#include <errno.h>
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

/* ---- SHA-256 ---- */
static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(gw_sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5],
             g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + S1 + ch + K256[i] + w[i];
        uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

void gw_sha256_init(gw_sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->nbuf = 0;
}

void gw_sha256_update(gw_sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->len += len;
    while (len) {
        size_t take = 64 - s->nbuf;
        if (take > len)
            take = len;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        len -= take;
        if (s->nbuf == 64) {
            sha_block(s, s->buf);
            s->nbuf = 0;
        }
    }
}

void gw_sha256_final(gw_sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    uint8_t pad = 0x80;
    gw_sha256_update(s, &pad, 1);
    uint8_t z = 0;
    while (s->nbuf != 56)
        gw_sha256_update(s, &z, 1);
    uint8_t lenb[8];
    for (int i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    gw_sha256_update(s, lenb, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

void gw_sha256_hex(const void *data, size_t len, char out[65])
{
    gw_sha256 s;
    uint8_t d[32];
    gw_sha256_init(&s);
    gw_sha256_update(&s, data, len);
    gw_sha256_final(&s, d);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
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
