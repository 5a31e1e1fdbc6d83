/* timeutil.h: UTC timestamps as int64 milliseconds since the Unix epoch. Parses RFC 3339 /
 * ISO 8601 ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.250+02:00", "2026-03-01" as midnight
 * UTC) without the C library's locale or time-zone state, so it is thread-safe and fast. */
#ifndef INFERCOST_TIMEUTIL_H
#define INFERCOST_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "infercost/status.h"

ic_status ic_time_parse(const char *s, size_t len, int64_t *ms_out);
/* "2026-03-01T10:00:00Z" (with ".250" when the milliseconds are not zero); buf >= 32 bytes */
char *ic_time_format(int64_t ms, char *buf, size_t cap);
/* the UTC day of a time: days since 1970-01-01, rounded down (before 1970 too) */
static inline int64_t ic_time_day(int64_t ms)
{
    return ms / 86400000 - (ms % 86400000 < 0);
}
/* days since 1970-01-01 for a civil date, and back */
int64_t ic_days_from_civil(int64_t y, unsigned m, unsigned d);
void ic_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
int64_t ic_time_now_ms(void);

#endif
