/* cli_common.c: shared option handling and error printing for the subcommands (cli_common.h). */
#include "cli_common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "infercost/ledger.h"
#include "infercost/record.h"

void ic_cli_error(const char *fmt, ...)
{
    /* formatted first, so that a provider key given as an option's value is not echoed */
    char stack[4096], *m = stack;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof stack && (m = malloc((size_t)n + 1))) {
        va_start(ap, fmt);
        vsnprintf(m, (size_t)n + 1, fmt, ap);
        va_end(ap);
    } else if ((size_t)n >= sizeof stack) {
        m = stack; /* out of memory: the message cut to the buffer */
        n = (int)sizeof stack - 1;
    }
    n = (int)ic_redact_keys(m, (size_t)n);
    fprintf(stderr, "infercost: %.*s\n", n, m);
    if (m != stack)
        free(m);
}

const char *ic_cli_opt(const char *name, int argc, char **argv, int *i, bool *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=') {
        (*i)++;
        return a + n + 1;
    }
    if (a[n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        ic_cli_error("%s needs a value", name);
        *bad = true;
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

int ic_cli_uint(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t x = 0;
    bool ok = *v != 0;
    for (const char *p = v; *p && ok; p++)
        ok = *p >= '0' && *p <= '9' && !__builtin_mul_overflow(x, 10, &x) &&
             !__builtin_add_overflow(x, (uint64_t)(*p - '0'), &x);
    if (!ok || x < min || x > max) {
        ic_cli_error("%s wants a whole number from %llu to %llu, not '%s'", name,
                     (unsigned long long)min, (unsigned long long)max, v);
        return -1;
    }
    *out = x;
    return 0;
}

int ic_cli_real(const char *name, const char *v, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !(x >= min && x <= max)) {
        ic_cli_error("%s wants a number from %g to %g, not '%s'", name, min, max, v);
        return -1;
    }
    *out = x;
    return 0;
}

int ic_cli_catalog_arg(ic_cli_catalog_opts *o, int argc, char **argv, int *i)
{
    bool bad = false;
    const char *v;
    if ((v = ic_cli_opt("--catalog", argc, argv, i, &bad))) {
        o->catalog = v;
        return 1;
    }
    if (bad)
        return -1;
    if ((v = ic_cli_opt("--overlay", argc, argv, i, &bad))) {
        if (o->noverlays == IC_CLI_MAX_OVERLAYS) {
            ic_cli_error("at most %d --overlay files", IC_CLI_MAX_OVERLAYS);
            return -1;
        }
        o->overlays[o->noverlays++] = v;
        return 1;
    }
    return bad ? -1 : 0;
}

ic_catalog *ic_cli_open_catalog(const ic_cli_catalog_opts *o)
{
    ic_error err = {0};
    ic_catalog *c = NULL;
    if (ic_catalog_open(&c, o->catalog, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        return NULL;
    }
    for (int k = 0; k < o->noverlays; k++)
        if (ic_catalog_overlay(c, o->overlays[k], &err) != IC_OK) {
            ic_cli_error("%s", err.msg);
            ic_catalog_free(c);
            return NULL;
        }
    return c;
}

FILE *ic_cli_open_input(const char *path)
{
    if (!path || !strcmp(path, "-"))
        return stdin;
    FILE *f = fopen(path, "r");
    if (!f)
        ic_cli_error("%s: %s", path, strerror(errno));
    return f;
}

FILE *ic_cli_open_output(const char *path)
{
    if (!path)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        ic_cli_error("%s: cannot write: %s", path, strerror(errno));
    return f;
}

int ic_cli_close_output(FILE *f, const char *path, int rc)
{
    if (!path) {
        fflush(stdout);
        return rc;
    }
    if (fclose(f) != 0 && rc == 0) {
        ic_cli_error("%s: write error", path);
        return 2;
    }
    return rc;
}

char *ic_cli_read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        errno = ENOMEM;
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                errno = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                if (!errno)
                    errno = EIO;
                break;
            }
            buf[n] = 0;
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

bool ic_cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strncmp(b, "sqlite:", 7))
        b += 7;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* path made absolute with its directory resolved (the file itself need not exist); false if the
 * directory cannot be */
static bool resolve(const char *path, char *out, size_t cap)
{
    char dir[PATH_MAX], rd[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return false;
        memcpy(dir, path, n);
        dir[n] = 0;
    } else {
        strcpy(dir, ".");
    }
    if (!realpath(dir, rd))
        return false;
    return (size_t)snprintf(out, cap, "%s/%s", rd, base) < cap;
}

bool ic_cli_is_ledger_file(const char *path, const char *ledger)
{
    if (ic_ledger_is_url(ledger)) /* a database server: no file of ours to overwrite */
        return false;
    if (!strncmp(ledger, "sqlite:", 7))
        ledger += 7;
    if (ic_cli_same_file(path, ledger))
        return true;
    char lp[PATH_MAX], side[PATH_MAX + 16];
    /* the ledger through its real path (it may be a symbolic link), then the side files */
    if (!realpath(ledger, lp) && !resolve(ledger, lp, sizeof lp))
        return false;
    char pr[PATH_MAX];
    bool have = realpath(path, pr) != NULL || resolve(path, pr, sizeof pr);
    static const char *const sfx[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        snprintf(side, sizeof side, "%s%s", lp, sfx[i]);
        if ((have && !strcmp(pr, side)) || ic_cli_same_file(path, side))
            return true;
    }
    return false;
}

void ic_cli_read_error(const char *cmd, const char *name, int err)
{
    if (err == ENOMEM)
        ic_cli_error("%s: %s: out of memory (the input is read whole)", cmd, name);
    else
        ic_cli_error("%s: cannot read: %s", name, strerror(err));
}

const char *ic_cli_json_str(const char *s, char *buf, size_t cap)
{
    if (!ic_json_quote(s, strlen(s), buf, cap))
        snprintf(buf, cap, "\"\"");
    return buf;
}

int ic_cli_parse_pct_bp(const char *name, const char *v, uint32_t *bp)
{
    ic_money m;
    if (ic_money_parse(v, strlen(v), &m) != IC_OK || m <= 0 || m > 100 * IC_PICO_PER_USD ||
        (m * 100) % IC_PICO_PER_USD != 0) {
        ic_cli_error("%s wants a percentage above 0 and at most 100 with at most two decimals, "
                     "not '%s'", name, v);
        return -1;
    }
    *bp = (uint32_t)(m * 100 / IC_PICO_PER_USD);
    return 0;
}
