/* money.c: exact decimal prices and pico-dollar amounts (see include/infercost/money.h for the
 * rounding rule). Nothing here uses floating point except ic_money_to_double, which is for display
 * ratios. */
#include "infercost/money.h"

#include <string.h>

static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL,
};

static ic_u128 pow10_u128(unsigned n)
{
    ic_u128 r = 1;
    while (n--)
        r *= 10;
    return r;
}

ic_status ic_decimal_parse(const char *s, size_t len, ic_decimal *out)
{
    size_t i = 0;
    if (len > 0 && s[0] == '-') {
        /* "-0" is zero; any other negative number is refused */
        ic_status st = ic_decimal_parse(s + 1, len - 1, out);
        if (st == IC_OK && out->mant != 0)
            return IC_ERR_INVALID;
        return st;
    }
    uint64_t mant = 0;
    int scale = 0, pending = 0; /* pending: fraction zeros not yet known to be followed by a digit */
    bool any = false, dot = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (mant == 0 && c == '0') {
                if (dot)
                    scale++;
                continue;
            }
            if (dot && c == '0') {
                pending++; /* trailing fraction zeros carry no value: "1.000...0" is 1 */
                continue;
            }
            for (; pending > 0; pending--, scale++) {
                if (mant > UINT64_MAX / 10)
                    return IC_ERR_RANGE;
                mant *= 10;
            }
            uint64_t d = (uint64_t)(c - '0');
            if (mant > (UINT64_MAX - d) / 10)
                return IC_ERR_RANGE;
            mant = mant * 10 + d;
            if (dot)
                scale++;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return IC_ERR_PARSE;
    long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool neg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            neg = s[i++] == '-';
        if (i >= len || s[i] < '0' || s[i] > '9')
            return IC_ERR_PARSE;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            exp = exp * 10 + (s[i] - '0');
            if (exp > 1000)
                return IC_ERR_RANGE;
        }
        if (neg)
            exp = -exp;
    }
    if (i != len)
        return IC_ERR_PARSE;
    if (mant == 0) {
        *out = (ic_decimal){0, 0};
        return IC_OK;
    }
    long sc = scale - exp;
    while (sc > 0 && mant % 10 == 0) {
        mant /= 10;
        sc--;
    }
    while (sc < 0) {
        if (mant > UINT64_MAX / 10)
            return IC_ERR_RANGE;
        mant *= 10;
        sc++;
    }
    if (sc > IC_DECIMAL_MAX_SCALE)
        return IC_ERR_RANGE;
    *out = (ic_decimal){mant, (uint8_t)sc};
    return IC_OK;
}

char *ic_decimal_format(ic_decimal d, char *buf, size_t cap)
{
    char digits[24];
    int n = 0;
    uint64_t m = d.mant;
    do {
        digits[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    char tmp[64];
    size_t o = 0;
    if (n <= d.scale) {
        tmp[o++] = '0';
        tmp[o++] = '.';
        for (int z = 0; z < d.scale - n; z++)
            tmp[o++] = '0';
        while (n)
            tmp[o++] = digits[--n];
    } else {
        while (n) {
            if (n == d.scale)
                tmp[o++] = '.';
            tmp[o++] = digits[--n];
        }
    }
    tmp[o] = 0;
    if (cap) {
        size_t k = o < cap - 1 ? o : cap - 1;
        memcpy(buf, tmp, k);
        buf[k] = 0;
    }
    return buf;
}

bool ic_decimal_to_u64(ic_decimal d, uint64_t *out)
{
    if (d.scale != 0)
        return false; /* trailing zeros are stripped, so any scale means a fraction */
    *out = d.mant;
    return true;
}

int ic_decimal_cmp(ic_decimal a, ic_decimal b)
{
    /* compare a.mant * 10^(S - a.scale) with b.mant * 10^(S - b.scale): only the side with the
     * smaller scale is multiplied, and if that overflows 128 bits it is the larger one */
    unsigned s = a.scale > b.scale ? a.scale : b.scale;
    ic_u128 x, y;
    bool xo = __builtin_mul_overflow((ic_u128)a.mant, pow10_u128(s - a.scale), &x);
    bool yo = __builtin_mul_overflow((ic_u128)b.mant, pow10_u128(s - b.scale), &y);
    if (xo || yo)
        return xo ? 1 : -1;
    return x < y ? -1 : x > y;
}

static bool mul_u128(ic_u128 a, ic_u128 b, ic_u128 *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Round num/den half to even (64-bit). */
static inline uint64_t div_half_even64(uint64_t num, uint64_t den)
{
    uint64_t q, r;
    /* The feed's divisors are per million (tokens), per thousand and per one: as constants those
     * divisions compile to multiplications; a general 64-bit division costs tens of cycles, and
     * pricing does one per item. */
    if (den == 1000000)
        q = num / 1000000, r = num % 1000000;
    else if (den == 1000)
        q = num / 1000, r = num % 1000;
    else if (den == 1)
        return num;
    else
        q = num / den, r = num % den;
    if (r > den - r || (r == den - r && (q & 1)))
        q++;
    return q;
}

uint64_t ic_money_unit_pico(ic_decimal price, uint64_t per)
{
    uint64_t v;
    if (per == 0 || price.scale > 12 ||
        __builtin_mul_overflow(price.mant, pow10_u64[12 - price.scale], &v))
        return 0;
    return v % per == 0 ? v / per : 0;
}

ic_status ic_money_of(uint64_t quantity, ic_decimal price, uint64_t per, ic_money *out)
{
    if (per == 0)
        return IC_ERR_INVALID;
    if (quantity == 0 || price.mant == 0) {
        *out = 0;
        return IC_OK;
    }
    /* amount_pico = quantity * mant * 10^12 / (per * 10^scale): all in 64 bits when it fits (the
     * usual case), else exactly the same in 128 bits */
    uint64_t n64, d64 = per;
    if (!__builtin_mul_overflow(quantity, price.mant, &n64) &&
        (price.scale <= 12 ? !__builtin_mul_overflow(n64, pow10_u64[12 - price.scale], &n64)
                           : price.scale - 12 < 20 &&
                                 !__builtin_mul_overflow(d64, pow10_u64[price.scale - 12], &d64))) {
        *out = (ic_money)div_half_even64(n64, d64);
        return IC_OK;
    }
    ic_u128 num = (ic_u128)quantity * price.mant; /* < 2^128: both factors < 2^64 */
    ic_u128 den = per;
    if (price.scale <= 12) {
        ic_u128 scale = pow10_u128(12u - price.scale), scaled;
        if (!mul_u128(num, scale, &scaled)) {
            /* num * scale / per without the overflowing product: per < 2^64 and scale <= 10^12,
             * so (num % per) * scale fits */
            ic_u128 hi, q2 = (num % den) * scale / den, r2 = (num % den) * scale % den;
            if (!mul_u128(num / den, scale, &hi) || hi + q2 < hi)
                return IC_ERR_RANGE;
            ic_u128 q = hi + q2;
            if (r2 > den - r2 || (r2 == den - r2 && (q & 1)))
                q++;
            if (q > ((ic_u128)1 << 126))
                return IC_ERR_RANGE;
            *out = (ic_money)q;
            return IC_OK;
        }
        num = scaled;
    } else {
        if (!mul_u128(den, pow10_u128(price.scale - 12u), &den))
            return IC_ERR_RANGE;
    }
    ic_u128 q = num / den, r = num % den;
    /* half to even: round up if r > den/2, or r == den/2 exactly and q is odd */
    if (r > den - r || (r == den - r && (q & 1)))
        q++;
    if (q > ((ic_u128)1 << 126))
        return IC_ERR_RANGE;
    *out = (ic_money)q;
    return IC_OK;
}

char *ic_money_format(ic_money m, char *buf, size_t cap)
{
    char tmp[IC_MONEY_STRLEN];
    char digits[44];
    int n = 0;
    bool neg = m < 0;
    ic_u128 u = neg ? (ic_u128)(-(m + 1)) + 1 : (ic_u128)m;
    ic_u128 ip;
    uint64_t fp;
    if (u <= UINT64_MAX) { /* the common case, without 128-bit division */
        uint64_t u64 = (uint64_t)u;
        ip = u64 / 1000000000000ULL;
        fp = u64 % 1000000000000ULL;
    } else {
        ip = u / (ic_u128)IC_PICO_PER_USD;
        fp = (uint64_t)(u % (ic_u128)IC_PICO_PER_USD);
    }
    if (ip <= UINT64_MAX) {
        uint64_t i64 = (uint64_t)ip;
        do {
            digits[n++] = (char)('0' + (int)(i64 % 10));
            i64 /= 10;
        } while (i64);
    } else {
        do {
            digits[n++] = (char)('0' + (int)(ip % 10));
            ip /= 10;
        } while (ip);
    }
    size_t o = 0;
    if (neg)
        tmp[o++] = '-';
    while (n)
        tmp[o++] = digits[--n];
    if (fp) {
        tmp[o++] = '.';
        int width = 12;
        while (fp % 10 == 0) {
            fp /= 10;
            width--;
        }
        for (int k = width - 1; k >= 0; k--)
            tmp[o + (size_t)k] = (char)('0' + fp % 10), fp /= 10;
        o += (size_t)width;
    }
    tmp[o] = 0;
    if (cap) {
        size_t k = o < cap - 1 ? o : cap - 1;
        memcpy(buf, tmp, k);
        buf[k] = 0;
    }
    return buf;
}

ic_status ic_money_parse(const char *s, size_t len, ic_money *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    ic_u128 ip = 0;
    bool any = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (ip > ((ic_u128)1 << 124))
            return IC_ERR_RANGE; /* far past any amount; the exact check is below */
        ip = ip * 10 + (ic_u128)(s[i] - '0');
    }
    uint64_t frac = 0;
    int fd = 0;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            any = true;
            if (fd == 12) {
                if (s[i] != '0')
                    return IC_ERR_RANGE;
                continue;
            }
            frac = frac * 10 + (uint64_t)(s[i] - '0');
            fd++;
        }
    }
    if (!any || i != len)
        return IC_ERR_PARSE;
    frac *= pow10_u64[12 - fd];
    /* the magnitude must fit: up to 2^127 - 1 pico-dollars, or 2^127 for a negative amount */
    const ic_u128 limit = ((ic_u128)1 << 127) - (neg ? 0 : 1);
    ic_u128 mag;
    if (__builtin_mul_overflow(ip, (ic_u128)IC_PICO_PER_USD, &mag) ||
        __builtin_add_overflow(mag, (ic_u128)frac, &mag) || mag > limit)
        return IC_ERR_RANGE;
    *out = neg ? (ic_money)(0 - mag) : (ic_money)mag;
    return IC_OK;
}

double ic_money_to_double(ic_money m)
{
    return (double)m / 1e12;
}
