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

/* a cell as a table shows it: control characters (a newline in a name) as spaces, so that rows
 * stay rows, and in Markdown '|' escaped, so that columns stay columns */
static const char *disp(const char *s, bool md, char *out, size_t cap)
{
    if (!strpbrk(s, md ? "|\n\r\t" : "\n\r\t")) {
        bool plain = true;
        for (const char *p = s; *p && plain; p++)
            plain = (unsigned char)*p >= 0x20 && *p != 0x7f;
        if (plain)
            return s;
    }
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (md && ch == '|')
            out[n++] = '\\';
        out[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    out[n] = 0;
    return out;
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
    bool md = fmt == IC_FMT_MD;
    char buf[1024], hb[300];
    size_t w[IC__MAX_COLS];
    for (int j = 0; j < nc && j < IC__MAX_COLS; j++) {
        /* a header may come from the user (tag:NAME) */
        w[j] = strlen(disp(head[j], md, hb, sizeof hb));
        for (size_t i = 0; i < nrows; i++) {
            size_t l = strlen(disp(cell(ctx, i, j), md, buf, sizeof buf));
            if (l > w[j])
                w[j] = l;
        }
    }
    if (nc > IC__MAX_COLS)
        nc = IC__MAX_COLS;
    for (int j = 0; j < nc; j++)
        fprintf(f, md ? "| %s%-*s " : (num[j] ? "%s%*s" : "%s%-*s"), md ? "" : (j ? "  " : ""),
                (int)w[j], disp(head[j], md, hb, sizeof hb));
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
                    md ? "" : (j ? "  " : ""), (int)w[j], disp(cell(ctx, i, j), md, buf, sizeof buf));
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
