/* test_fuzz_regress.c: replays every reproducer saved under tests/fuzz/regress/ through the same
 * API calls and property checks as the fuzz target that found it (tests/fuzz/harness.h). The
 * target is the file name's prefix: record-*, overlay-*, stream-*, money-*, tokenizer-*, chat-*,
 * merge-*. Each file runs in a forked child so that a crash is reported as a failure of that file
 * and the others still run. A file fails while its bug is unfixed; that is the point. Runs from
 * the repository root (tests/run.sh does), or set FZ_REGRESS_DIR and FZ_BASE_CATALOG. Must stay
 * under a few seconds. */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fuzz/harness_gentext.h"
#include "../fuzz/harness_merge.h"
#include "../fuzz/harness_route.h"
#include "../fuzz/harness_redact.h"
#include "../fuzz/harness_tokenizer.h"
#include "test.h"

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap) {
            uint8_t *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *n = len;
    return b;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *dir = getenv("FZ_REGRESS_DIR");
    if (!dir)
        dir = "tests/fuzz/regress";
    /* load what every target shares before forking, so each child starts warm */
    (void)fz_catalog();
    size_t blen;
    (void)fz_base_text(&blen);
    (void)fz_tok(0);
    (void)fz_tok(1);
    (void)fz_ranks(0);
    (void)fz_ranks(1);

    DIR *d = opendir(dir);
    ic_t_name = "regress dir";
    CHECK(d != NULL);
    if (!d) {
        ic_t_fail++;
        TEST_END();
    }
    static char *names[1024]; /* static: still reachable when a child exits */
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 1024)
        if (de->d_name[0] != '.' && !strstr(de->d_name, ".why"))
            names[nn++] = strdup(de->d_name);
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_names);

    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        int (*fn)(const uint8_t *, size_t, char *, size_t) =
            !strncmp(names[i], "record-", 7)    ? fz_record
            : !strncmp(names[i], "overlay-", 8) ? fz_overlay
            : !strncmp(names[i], "stream-", 7)  ? fz_stream
            : !strncmp(names[i], "money-", 6)   ? fz_money
            : !strncmp(names[i], "tokenizer-", 10) ? fz_tokenizer
            : !strncmp(names[i], "chat-", 5)    ? fz_chat
            : !strncmp(names[i], "merge-", 6)   ? fz_merge
            : !strncmp(names[i], "routecsv-", 9) ? fz_routecsv
            : !strncmp(names[i], "redact-", 7)  ? fz_redact
            : !strncmp(names[i], "gentext-", 8) ? fz_gentext
                                                : NULL;
        ic_t_name = names[i];
        ic_t_bad = 0;
        CHECK(fn != NULL); /* a reproducer must name its target */
        size_t n = 0;
        uint8_t *data = fn ? read_all(path, &n) : NULL;
        CHECK(!fn || data != NULL);
        if (fn && data) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                char why[1024];
                alarm(10);
                int bad = fn(data, n, why, sizeof why);
                free(data); /* so that LeakSanitizer, at exit, reports only the library's leaks */
                if (bad)
                    fprintf(stderr, "%s: %s\n", names[i], why);
                exit(bad ? 1 : 0); /* exit, not _exit: LeakSanitizer runs at exit */
            }
            int status = 0;
            CHECK(pid > 0);
            if (pid > 0 && waitpid(pid, &status, 0) == pid) {
                if (WIFSIGNALED(status))
                    fprintf(stderr, "%s: crashed with signal %d\n", names[i], WTERMSIG(status));
                else if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)
                    fprintf(stderr, "%s: exited with %d (sanitizer report?)\n", names[i], WEXITSTATUS(status));
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            }
        }
        free(data);
        if (ic_t_bad) {
            ic_t_fail++;
            fprintf(stderr, "FAIL %s\n", names[i]);
        }
        else
            ic_t_pass++;
        free(names[i]);
    }
    TEST_END();
}
