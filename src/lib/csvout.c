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

void ic__table_emit(FILE *f, ic_report_format fmt, const char **head, int nc, const ic__trow *rows,
                    size_t n, const bool *num)
{
    if (fmt == IC_FMT_CSV) {
        for (int j = 0; j < nc; j++) {
            if (j)
                fputc(',', f);
            ic__csv_field(f, head[j]);
        }
        fputc('\n', f);
        for (size_t i = 0; i < n; i++) {
            for (int j = 0; j < nc; j++) {
                if (j)
                    fputc(',', f);
                ic__csv_field(f, rows[i].c[j]);
            }
            fputc('\n', f);
        }
        return;
    }
    size_t w[IC__COLS];
    for (int j = 0; j < nc; j++) {
        w[j] = strlen(head[j]);
        for (size_t i = 0; i < n; i++)
            if (strlen(rows[i].c[j]) > w[j])
                w[j] = strlen(rows[i].c[j]);
    }
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
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < nc; j++)
            fprintf(f, md ? (num[j] ? "| %s%*s " : "| %s%-*s ") : (num[j] ? "%s%*s" : "%s%-*s"),
                    md ? "" : (j ? "  " : ""), (int)w[j], rows[i].c[j]);
        fputs(md ? "|\n" : "\n", f);
    }
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
