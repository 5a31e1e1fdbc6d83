/* csvout.h: tabular output shared by the ledger's writers (report.c, economics.c, whatif.c,
 * focus.c): one CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break, its
 * quotes doubled), and a table of text cells written as CSV, an aligned terminal table or
 * Markdown. */
#ifndef IC_CSVOUT_H
#define IC_CSVOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "infercost/money.h"
#include "infercost/report.h"

void ic__csv_field(FILE *f, const char *s);

#define IC__COLS 16
#define IC__CELL 136 /* a name of the ledger (at most 127 bytes) and its NUL */
typedef struct ic__trow {
    char c[IC__COLS][IC__CELL];
} ic__trow;

/* A table of nrows rows and nc columns (at most IC__MAX_COLS) whose cells cell(ctx, row, col)
 * gives; num[j]: column j is right-aligned (and so marked in Markdown). */
#define IC__MAX_COLS 32
typedef const char *(*ic__cell_fn)(const void *ctx, size_t row, int col);
void ic__table_write(FILE *f, ic_report_format fmt, const char *const *head, int nc,
                     size_t nrows, ic__cell_fn cell, const void *ctx, const bool *num);

/* The same from rows of ic__trow */
void ic__table_emit(FILE *f, ic_report_format fmt, const char **head, int nc, const ic__trow *rows,
                    size_t n, const bool *num);

/* part as a percentage of whole with two decimals ("20.34", "-7.10"); "no revenue" when whole
 * is not above 0 and part is, else "-" */
void ic__share_text(char *buf, size_t cap, ic_money part, ic_money whole);

#endif
