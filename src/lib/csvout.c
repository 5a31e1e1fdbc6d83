/* csvout.c: tabular output: CSV fields, aligned and Markdown tables, cost shares; see csvout.h. */
#include "csvout.h"

#include <string.h>

#include "infercost/economics.h"

void ic__csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void ic__table_write(FILE *f, ic_report_format fmt, const char *const *head, int nc,
                     size_t nrows, ic__cell_fn cell, const void *ctx, const bool *num)
{
    if (fmt == IC_FMT_CSV) {
        for (int j = 0; j < nc; j++) {
            if (j)
                fputc(',', f);
            ic__csv_field(f, head[j]);
        }
        fputc('\n', f);
        for (size_t i = 0; i < nrows; i++) {
            for (int j = 0; j < nc; j++) {
                if (j)
                    fputc(',', f);
                ic__csv_field(f, cell(ctx, i, j));
            }
            fputc('\n', f);
        }
        return;
    }
    size_t w[IC__MAX_COLS];
    for (int j = 0; j < nc && j < IC__MAX_COLS; j++) {
        w[j] = strlen(head[j]);
        for (size_t i = 0; i < nrows; i++)
            if (strlen(cell(ctx, i, j)) > w[j])
                w[j] = strlen(cell(ctx, i, j));
    }
    if (nc > IC__MAX_COLS)
        nc = IC__MAX_COLS;
    bool md = fmt == IC_FMT_MD;
    for (int j = 0; j < nc; j++)
        fprintf(f, md ? "| %s%-*s " : (num[j] ? "%s%*s" : "%s%-*s"), md ? "" : (j ? "  " : ""),
                (int)w[j], head[j]);
    fputs(md ? "|\n" : "\n", f);
    for (int j = 0; j < nc; j++) {
        fputs(md ? "|" : (j ? "  " : ""), f);
        for (size_t k = 0; k < w[j] + (md ? 2 : 0); k++)
            fputc(md && num[j] && k == w[j] + 1 ? ':' : '-', f);
    }
    fputs(md ? "|\n" : "\n", f);
    for (size_t i = 0; i < nrows; i++) {
        for (int j = 0; j < nc; j++)
            fprintf(f, md ? (num[j] ? "| %s%*s " : "| %s%-*s ") : (num[j] ? "%s%*s" : "%s%-*s"),
                    md ? "" : (j ? "  " : ""), (int)w[j], cell(ctx, i, j));
        fputs(md ? "|\n" : "\n", f);
    }
}

static const char *trow_cell(const void *ctx, size_t row, int col)
{
    return ((const ic__trow *)ctx)[row].c[col];
}

void ic__table_emit(FILE *f, ic_report_format fmt, const char **head, int nc, const ic__trow *rows,
                    size_t n, const bool *num)
{
    ic__table_write(f, fmt, head, nc, n, trow_cell, rows, num);
}

void ic__share_text(char *buf, size_t cap, ic_money part, ic_money whole)
{
    int64_t bp = ic_cost_share_bp(part, whole);
    if (bp == INT64_MIN)
        snprintf(buf, cap, part > 0 ? "no revenue" : "-");
    else
        snprintf(buf, cap, "%s%lld.%02lld", bp < 0 ? "-" : "", (long long)(bp < 0 ? -bp : bp) / 100,
                 (long long)(bp < 0 ? -bp : bp) % 100);
}
