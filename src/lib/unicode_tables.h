/* unicode_tables.h: internal. The character classes tiktoken's pre-split regexes test, per code
 * point, as one byte of flags (two-stage table generated into unicode_tables.c), plus a UTF-8
 * decoder that treats every invalid sequence as one "other" character so that the scanner never
 * stalls. It knows nothing about tokens or regexes. */
#ifndef IC_UNICODE_TABLES_H
#define IC_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

/* flags (tools/gen_unicode_tables.mjs sets the same bits) */
#define IC_U_UP 1  /* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] */
#define IC_U_LO 2  /* [\p{Ll}\p{Lm}\p{Lo}\p{M}] */
#define IC_U_L 4   /* \p{L} */
#define IC_U_N 8   /* \p{N} */
#define IC_U_WS 16 /* \s: White_Space */
#define IC_U_NL 32 /* \r or \n */

extern const uint16_t ic__uni_stage1[0x1100];
extern const uint8_t ic__uni_stage2[];

static inline unsigned ic__uni_class(uint32_t cp)
{
    return ic__uni_stage2[(size_t)ic__uni_stage1[cp >> 8] * 256 + (cp & 255)];
}

/* Decode one character at s[0..n) (n >= 1): its code point and byte length. An invalid or
 * truncated sequence yields UINT32_MAX and the length of its maximal subpart (at least 1), as
 * the WHATWG decoder splits it into U+FFFD characters. */
static inline uint32_t ic__utf8_decode_strict(const unsigned char *s, size_t n, size_t *len)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80) {
            *len = 2;
            return ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        }
        *len = 1;
        return UINT32_MAX;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (n < 2 || s[1] < lo || s[1] > hi) {
            *len = 1;
            return UINT32_MAX;
        }
        if (n < 3 || (s[2] & 0xC0) != 0x80) {
            *len = 2;
            return UINT32_MAX;
        }
        *len = 3;
        return ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (n < 2 || s[1] < lo || s[1] > hi) {
            *len = 1;
            return UINT32_MAX;
        }
        if (n < 3 || (s[2] & 0xC0) != 0x80) {
            *len = 2;
            return UINT32_MAX;
        }
        if (n < 4 || (s[3] & 0xC0) != 0x80) {
            *len = 3;
            return UINT32_MAX;
        }
        *len = 4;
        return ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
    }
    *len = 1;
    return UINT32_MAX;
}

/* The same, with U+FFFD for an invalid sequence. */
static inline uint32_t ic__utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
    uint32_t cp = ic__utf8_decode_strict(s, n, len);
    return cp == UINT32_MAX ? 0xFFFD : cp;
}

#endif
