/* status.c: ic_strerror and the ic_error helpers. Messages are short, lower-case and never
 * contain secrets: callers must not pass keys or request bodies into an error. */
#include "infercost/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "redact.h"

static const char *const messages[IC_STATUS_LAST] = {
    [IC_OK] = "ok",
    [IC_ERR_NOMEM] = "out of memory",
    [IC_ERR_IO] = "i/o error",
    [IC_ERR_PARSE] = "parse error",
    [IC_ERR_INVALID] = "invalid input",
    [IC_ERR_RANGE] = "number too large",
    [IC_ERR_UNKNOWN_MODEL] = "unknown model",
    [IC_ERR_UNKNOWN_PROVIDER] = "unknown provider",
    [IC_ERR_NO_PRICE] = "no price",
    [IC_ERR_CATALOG] = "price catalog error",
    [IC_ERR_DB] = "ledger storage error",
    [IC_ERR_NOT_FOUND] = "not found",
    [IC_ERR_LIMIT] = "limit reached",
    [IC_ERR_UPSTREAM] = "upstream error",
};

const char *ic_strerror(ic_status st)
{
    if ((int)st < 0 || st >= IC_STATUS_LAST || !messages[st])
        return "unknown status";
    return messages[st];
}

ic_status ic_error_set(ic_error *err, ic_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* no provider key leaves in a message, whatever value it quotes */
        size_t n = strlen(err->msg);
        err->msg[ic_redact_keys(err->msg, n)] = 0;
    }
    return st;
}

void ic_error_prefix(ic_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
    size_t rest = sizeof err->msg - n - 3;
    strncpy(err->msg + n + 2, old, rest);
    err->msg[sizeof err->msg - 1] = 0;
    err->msg[ic_redact_keys(err->msg, strlen(err->msg))] = 0;
}
