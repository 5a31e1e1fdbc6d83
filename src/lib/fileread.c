/* fileread.c: a whole file into memory (fileread.h). */
#include "fileread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ic_status ic__read_file(const char *path, char **text, size_t *len, ic_error *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ic_error_set(err, IC_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return ic_error_set(err, IC_ERR_IO, "%s: read error", path);
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return IC_OK;
}
