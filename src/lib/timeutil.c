/* timeutil.c: RFC 3339 timestamps <-> int64 ms since the epoch, UTC, by the civil-date algorithm
 * (no tm structures, no TZ state). Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff...]]" with
 * "Z", "+HH:MM", "-HH:MM" or no zone (taken as UTC), and a space instead of "T". */
#include "infercost/timeutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

int64_t ic_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ic_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t len, size_t at, int n, int *out)
{
    if (at + (size_t)n > len)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = s[at + (size_t)i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* no byte of w outside '0'..'9' (exact: when all are digits nothing carries or borrows) */
static inline bool all_digits8(uint64_t w)
{
    return !(((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) & 0x8080808080808080ULL);
}

static inline int d2(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* The forms logs write, "YYYY-MM-DDTHH:MM:SSZ" and "YYYY-MM-DDTHH:MM:SS.mmmZ", checked eight
 * bytes at a time; false sends anything else (or anything out of range) to the general parser,
 * which decides. */
static bool parse_canonical(const char *s, size_t len, int64_t *ms_out)
{
    if ((len != 20 && len != 24) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[len - 1] != 'Z' || (len == 24 && s[19] != '.'))
        return false;
    char b[24];
    memcpy(b, s, len);
    if (len == 20)
        memcpy(b + 20, "0000", 4);
    b[4] = b[7] = b[10] = b[13] = b[16] = b[19] = b[23] = '0'; /* separators, checked above */
    uint64_t w[3];
    memcpy(w, b, sizeof w);
    if (!all_digits8(w[0]) || !all_digits8(w[1]) || !all_digits8(w[2]))
        return false;
    int y = d2(s) * 100 + d2(s + 2), mo = d2(s + 5), d = d2(s + 8), h = d2(s + 11), mi = d2(s + 14),
        se = d2(s + 17), ms = len == 24 ? d2(s + 20) * 10 + (s[22] - '0') : 0;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return false;
    *ms_out = (ic_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se) * 1000 + ms;
    return true;
}

ic_status ic_time_parse(const char *s, size_t len, int64_t *ms_out)
{
    if (parse_canonical(s, len, ms_out))
        return IC_OK;
    int y, mo, d, h = 0, mi = 0, se = 0, ms = 0;
    if (!digits(s, len, 0, 4, &y) || len < 10 || s[4] != '-' || !digits(s, len, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, len, 8, 2, &d))
        return IC_ERR_PARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return IC_ERR_PARSE;
    size_t i = 10;
    int64_t offset_min = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return IC_ERR_PARSE;
        i++;
        if (!digits(s, len, i, 2, &h) || i + 2 >= len || s[i + 2] != ':' ||
            !digits(s, len, i + 3, 2, &mi))
            return IC_ERR_PARSE;
        i += 5;
        if (i < len && s[i] == ':') {
            if (!digits(s, len, i + 1, 2, &se))
                return IC_ERR_PARSE;
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 3)
                        ms = ms * 10 + (s[i] - '0');
                    nd++;
                    i++;
                }
                if (nd == 0)
                    return IC_ERR_PARSE;
                for (; nd < 3; nd++)
                    ms *= 10;
            }
        }
        if (h > 23 || mi > 59 || se > 60)
            return IC_ERR_PARSE;
        if (i < len) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int oh, om;
                bool neg = s[i] == '-';
                if (!digits(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
                    !digits(s, len, i + 4, 2, &om) || oh > 23 || om > 59)
                    return IC_ERR_PARSE;
                offset_min = (neg ? -1 : 1) * (oh * 60 + om);
                i += 6;
            }
        }
        if (i != len)
            return IC_ERR_PARSE;
    }
    int64_t days = ic_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms_out = ((days * 86400 + h * 3600 + mi * 60 + se) - offset_min * 60) * 1000 + ms;
    return IC_OK;
}

char *ic_time_format(int64_t ms, char *buf, size_t cap)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msr = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    ic_civil_from_days(days, &y, &m, &d);
    if (msr)
        snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msr);
    else
        snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return buf;
}

int64_t ic_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
