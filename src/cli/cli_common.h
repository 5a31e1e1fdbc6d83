/* cli_common.h: what every subcommand shares: the catalog options (--catalog FILE, repeated
 * --overlay FILE), opening input files or stdin, and printing one clear error line. */
#ifndef IC_CLI_COMMON_H
#define IC_CLI_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "infercost/catalog.h"

#define IC_CLI_MAX_OVERLAYS 16

typedef struct ic_cli_catalog_opts {
    const char *catalog;                       /* NULL: the embedded snapshot */
    const char *overlays[IC_CLI_MAX_OVERLAYS];
    int noverlays;
} ic_cli_catalog_opts;

/* If argv[*i] is --catalog/--overlay (as "--opt VALUE" or "--opt=VALUE"), take it, advance *i
 * past it and return 1; return 0 if it is another argument; -1 (after printing) on a bad use. */
int ic_cli_catalog_arg(ic_cli_catalog_opts *o, int argc, char **argv, int *i);

/* Open the catalog and apply the overlays; prints "infercost: FILE: message" and returns NULL on
 * failure. Deprecation and other warnings go to stderr. */
ic_catalog *ic_cli_open_catalog(const ic_cli_catalog_opts *o);

/* Value of "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i. NULL if not that option;
 * prints and sets *bad if the value is missing. */
const char *ic_cli_opt(const char *name, int argc, char **argv, int *i, bool *bad);

/* v as a whole number from min to max (decimal digits only: "-5", "3x" and "" are refused);
 * 0 and *out set, or -1 after printing "NAME wants a whole number from MIN to MAX, not 'V'". */
int ic_cli_uint(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out);

/* v as a decimal number from min to max; 0, or -1 after printing what was wanted. */
int ic_cli_real(const char *name, const char *v, double min, double max, double *out);

/* v as a percentage above 0 and at most 100 with at most two decimals ("25", "27.5") in basis
 * points, exactly; 0, or -1 after printing "NAME wants a percentage ...". */
int ic_cli_parse_pct_bp(const char *name, const char *v, uint32_t *bp);

/* fopen for reading, "-" or NULL meaning stdin; prints the error. */
FILE *ic_cli_open_input(const char *path);
/* A command's --out FILE for writing, NULL meaning stdout; prints the error (NULL then). */
FILE *ic_cli_open_output(const char *path);
/* Close what ic_cli_open_output opened (stdout is flushed, left open): rc, or 2 after printing
 * when rc was 0 and the file could not be written. */
int ic_cli_close_output(FILE *f, const char *path, int rc);

/* The whole of f into a malloc'd buffer (NUL-terminated; *len excludes the NUL); NULL on a read
 * error or out of memory, with errno set (ENOMEM for out of memory). */
char *ic_cli_read_all(FILE *f, size_t *len);

/* whether paths a and b (b may carry a ledger's "sqlite:" prefix) name one existing file: an
 * output must not overwrite the ledger or an input */
bool ic_cli_same_file(const char *a, const char *b);
/* whether path names the ledger's file or one of SQLite's files beside it (-wal, -shm,
 * -journal), existing yet or not: an output written there would destroy committed events */
bool ic_cli_is_ledger_file(const char *path, const char *ledger);

/* the error of ic_cli_read_all (err: its errno): "CMD: NAME: out of memory (...)" for ENOMEM
 * (exit 1), else "NAME: cannot read: REASON" (exit 2) */
void ic_cli_read_error(const char *cmd, const char *name, int err);

/* s as a quoted JSON string into buf ("\"\"" if it does not fit); returns buf */
const char *ic_cli_json_str(const char *s, char *buf, size_t cap);

/* "infercost: " + message on stderr */
void ic_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
