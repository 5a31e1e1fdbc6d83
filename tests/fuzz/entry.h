/* entry.h: the libFuzzer entry point shared by the fuzz_*.c targets. A violated property (see
 * harness.h) aborts, so libFuzzer saves the input; with FZ_FOUND_DIR set it instead saves the input
 * as FZ_FOUND_DIR/<target>-<hash of the first words of the message> (one file per kind of
 * finding) plus a .why file, and keeps fuzzing, so that one known finding does not hide the next.
 * Sanitizer reports and crashes always stop the run. Not part of the library. */
#ifndef IC_FUZZ_ENTRY_H
#define IC_FUZZ_ENTRY_H
#include "harness.h"

static void fz_report(const char *target, const char *why, const uint8_t *data, size_t size)
{
    const char *dir = getenv("FZ_FOUND_DIR");
    fprintf(stderr, "FUZZ PROPERTY VIOLATED (%s): %s\n", target, why);
    if (!dir)
        abort();
    /* the kind of finding: the message up to its first quote or digit */
    uint32_t h = 2166136261u;
    for (const char *p = why; *p && *p != '"' && !(*p >= '0' && *p <= '9'); p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%08x", dir, target, h);
    FILE *f = fopen(path, "rb");
    if (f) { /* keep the shortest reproducer of each kind */
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fclose(f);
        if (n >= 0 && (size_t)n <= size)
            return;
    }
    if ((f = fopen(path, "wb"))) {
        fwrite(data, 1, size, f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/%s-%08x.why", dir, target, h);
    if ((f = fopen(path, "w"))) {
        fprintf(f, "%s\n", why);
        fclose(f);
    }
}

#define FZ_ENTRY(target)                                                                       \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
    {                                                                                          \
        char why[1024];                                                                        \
        if (fz_##target(data, size, why, sizeof why))                                          \
            fz_report(#target, why, data, size);                                               \
        return 0;                                                                              \
    }
#endif
