/* dashboard.c: the ledger as one self-contained HTML page (dashboard.h). It builds the same
 * reports the commands print (report by day, feature and model; margin by customer; forecast)
 * and lays them out with inline CSS and SVG; it computes no figure of its own beyond shares
 * and the charts' geometry. Nothing here prices anything. */
#include "infercost/dashboard.h"

#include <stdlib.h>
#include <string.h>

#include "infercost/economics.h"
#include "infercost/forecast.h"
#include "infercost/report.h"
#include "infercost/timeutil.h"
#include "infercost/whatif.h"

/* text with & < > " ' escaped */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* digits of v with thousands separators */
static void group3(ic_u128 v, char *out)
{
    char d[48];
    int n = 0;
    do {
        d[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    int k = 0;
    for (int i = n - 1; i >= 0; i--) {
        out[k++] = d[i];
        if (i && i % 3 == 0)
            out[k++] = ',';
    }
    out[k] = 0;
}

/* m for display, rounded half-even, by its size: to the cent from $1 up, to $0.0001 from $0.0001
 * up ($0.0133 a call), to the micro-dollar below that; never "$0.00" for an amount that is not
 * zero. The sign goes before the dollar sign. */
static const char *usd(ic_money m, char *buf, size_t cap)
{
    const char *sign = m < 0 ? "-" : "";
    ic_money a = m < 0 ? -m : m;
    ic_money unit = 10000000000LL; /* pico-dollars per step shown */
    int digits = 2;
    if (a < (ic_money)1000000000000LL && a != 0 &&
        ic_money_div_round(a, 100000000) < 10000) { /* below $1 even once rounded */
        unit = a >= 100000000 ? 100000000 : 1000000;
        digits = a >= 100000000 ? 4 : 6;
    }
    ic_money q = ic_money_div_round(a, (uint64_t)unit), one = digits == 2 ? 100 : digits == 4 ? 10000 : 1000000;
    if (q == 0 && a != 0) {
        snprintf(buf, cap, "%s&lt;$0.000001", sign);
        return buf;
    }
    char g[64];
    group3((ic_u128)(q / one), g);
    snprintf(buf, cap, "%s$%s.%0*lld", sign, g, digits, (long long)(q % one));
    return buf;
}

/* the exact amount as a tooltip: "$1.5", "-$0.25" */
static const char *exact(ic_money m, char *buf, size_t cap)
{
    char x[IC_MONEY_STRLEN];
    ic_money_format(m < 0 ? -m : m, x, sizeof x);
    snprintf(buf, cap, "%s$%s", m < 0 ? "-" : "", x);
    return buf;
}

/* a short axis label: "$950.00", "$12.5k", "$14.1M" */
static const char *axis_usd(double v, char *buf, size_t cap)
{
    /* the unit chosen after rounding to 3 digits: 999,700 is "$1M", not "$1e+03k" */
    static const struct {
        double d;
        const char *u;
    } units[] = {{1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (v >= units[i].d * 0.9995) {
            snprintf(buf, cap, "$%.3g%s", v / units[i].d, units[i].u);
            return buf;
        }
    if (v >= 1 || v == 0)
        snprintf(buf, cap, "$%.2f", v);
    else
        snprintf(buf, cap, "$%.4f", v);
    return buf;
}

/* a table cell (or any element) with the rounded amount and the exact one as its tooltip;
 * with plus, a change: "+" before an increase */
static void money_el2(FILE *f, const char *tag, const char *cls, ic_money m, bool plus)
{
    char d[80], x[64];
    fprintf(f, "<%s%s%s%s title=\"%s\">%s%s</%s>", tag, cls ? " class=\"" : "", cls ? cls : "",
            cls ? "\"" : "", exact(m, x, sizeof x), plus && m > 0 ? "+" : "", usd(m, d, sizeof d),
            tag);
}

static void money_el(FILE *f, const char *tag, const char *cls, ic_money m)
{
    money_el2(f, tag, cls, m, false);
}

static void count_el(FILE *f, uint64_t n)
{
    char g[64];
    group3(n, g);
    fprintf(f, "<td>%s</td>", g);
}

/* part / whole as a percentage with one decimal ("-" when whole is 0) */
static void pct_el(FILE *f, const char *cls, double part, double whole)
{
    if (whole == 0)
        fprintf(f, "<td%s%s%s>-</td>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    else
        fprintf(f, "<td%s%s%s>%.1f%%</td>", cls ? " class=\"" : "", cls ? cls : "",
                cls ? "\"" : "", 100.0 * part / whole);
}

static const char *style =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
    "max-width:1040px;margin:24px auto;padding:0 16px;background:#fbfbfd}"
    "h1{font-size:22px;margin:0 0 2px}h2{font-size:16px;margin:28px 0 8px;color:#2b3547}"
    ".sub{color:#667085;margin:0 0 16px}"
    ".kpi{display:inline-block;vertical-align:top;min-width:218px;margin:0 8px 8px 0;background:#fff;"
    "border:1px solid #e4e7ec;border-radius:8px;padding:10px 12px;box-sizing:border-box}"
    ".kpi b{display:block;font-size:20px;font-weight:600;white-space:nowrap}.kpi span{color:#667085;font-size:12px}"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e4e7ec}"
    "th,td{padding:5px 8px;border-bottom:1px solid #eef0f3;text-align:right;white-space:nowrap}"
    "th:first-child,td:first-child{text-align:left;white-space:normal;word-break:break-all}"
    "th{background:#f4f5f8;font-weight:600;font-size:12px;color:#475467}"
    "tr.total td{font-weight:600;background:#f8f9fb}"
    ".bad{color:#b42318;font-weight:600}.warn{color:#b54708}.good{color:#067647}"
    ".bar{display:inline-block;height:9px;background:#5b7bd5;border-radius:2px;vertical-align:middle}"
    "svg.chart{width:100%;height:auto;background:#fff;border:1px solid #e4e7ec}"
    "svg text{font-size:11px;fill:#667085}"
    ".note{color:#667085;font-size:12px}"
    ".legend span{display:inline-block;margin-right:14px;font-size:12px}"
    ".legend i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}"
    "footer{margin:28px 0;color:#98a2b3;font-size:12px}";

/* a headline figure; title (may be NULL) is its exact value */
static void kpi(FILE *f, const char *value_html, const char *label, const char *cls,
                const char *title)
{
    fprintf(f, "<div class=\"kpi\"><b%s%s%s%s%s%s>%s</b><span>", cls ? " class=\"" : "",
            cls ? cls : "", cls ? "\"" : "", title ? " title=\"" : "", title ? title : "",
            title ? "\"" : "", value_html);
    esc(f, label);
    fputs("</span></div>\n", f);
}

static ic_status build(ic_ledger *l, const ic_ledger_filter *flt, ic_dim d, int top,
                       ic_report **out, ic_error *err)
{
    ic_report_opts o = {.filter = *flt, .ndims = 1, .top = top};
    o.dims[0] = d;
    return ic_report_build(l, &o, out, err);
}

/* spend per day as bars, a bar for every day from the first to the last with calls */
static void day_chart(FILE *f, const ic_report *r)
{
    if (!r->nrows)
        return;
    int64_t first = INT64_MAX, last = INT64_MIN;
    int64_t *day = malloc(r->nrows * sizeof *day);
    if (!day)
        return;
    ic_money max = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        int y = 0;
        unsigned mo = 0, dd = 0;
        day[i] = INT64_MIN;
        if (sscanf(r->rows[i].key[0], "%d-%u-%u", &y, &mo, &dd) == 3)
            day[i] = ic_days_from_civil(y, mo, dd);
        if (day[i] == INT64_MIN)
            continue;
        first = day[i] < first ? day[i] : first;
        last = day[i] > last ? day[i] : last;
        max = r->rows[i].cost > max ? r->rows[i].cost : max;
    }
    if (first > last || max <= 0) {
        fputs("<p class=\"note\">No spend to chart in this period.</p>\n", f);
        free(day);
        return;
    }
    const double W = 960, H = 220, L = 84, B = 24, T = 10;
    double n = (double)(last - first + 1), bw = (W - L - 8) / n, top = ic_money_to_double(max);
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "aria-label=\"spend per day\">\n", W, H);
    char d1[80], d2[80];
    for (int k = 0; k <= 2; k++) { /* grid lines at 0, half and the highest day */
        double y = H - B - (H - B - T) * k / 2.0;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f3\"/>"
                   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, W - 8, y, y, L - 6, y + 4, axis_usd(top * k / 2, d1, sizeof d1));
    }
    for (size_t i = 0; i < r->nrows; i++) {
        if (day[i] == INT64_MIN || r->rows[i].cost <= 0 || top <= 0)
            continue;
        double h = (H - B - T) * ic_money_to_double(r->rows[i].cost) / top;
        double x = L + bw * (double)(day[i] - first);
        ic_money_format(r->rows[i].cost, d2, sizeof d2);
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#5b7bd5\">"
                   "<title>", x, H - B - h, bw > 2 ? bw - 1 : bw, h);
        esc(f, r->rows[i].key[0]);
        fprintf(f, ": $%s, %llu calls</title></rect>\n", d2,
                (unsigned long long)r->rows[i].requests);
    }
    for (int e = 0; e < 2; e++) {
        int64_t z = e ? last : first, y;
        unsigned mo, dd;
        ic_civil_from_days(z, &y, &mo, &dd);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"%s\">%04lld-%02u-%02u</text>\n",
                e ? W - 8 : L, H - 6, e ? "end" : "start", (long long)y, mo, dd);
    }
    fputs("</svg>\n", f);
    free(day);
}

/* a table of one dimension's rows: name, calls, cost, share, a bar */
static void dim_table(FILE *f, const ic_report *r, const char *what, size_t show)
{
    fprintf(f, "<table><tr><th>%s</th><th>calls</th><th>cost</th><th>per call</th>"
               "<th>share</th><th style=\"width:30%%\"></th></tr>\n", what);
    double total = ic_money_to_double(r->total.cost);
    ic_money rest = 0;
    uint64_t rest_calls = 0;
    size_t nrest = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        const ic_report_row *x = &r->rows[i];
        if (i >= show) {
            rest += x->cost;
            rest_calls += x->requests;
            nrest++;
            continue;
        }
        fputs("<tr><td>", f);
        esc(f, x->key[0][0] ? x->key[0] : "(none)");
        fputs("</td>", f);
        count_el(f, x->requests);
        money_el(f, "td", NULL, x->cost);
        money_el(f, "td", NULL, ic_money_div_round(x->cost, x->requests));
        double share = total > 0 ? ic_money_to_double(x->cost) / total : 0;
        pct_el(f, NULL, ic_money_to_double(x->cost), total);
        fprintf(f, "<td style=\"text-align:left\"><span class=\"bar\" style=\"width:%.1f%%\">"
                   "</span></td></tr>\n", share > 0 ? 100 * share : 0);
    }
    if (nrest) {
        fprintf(f, "<tr><td>%zu more</td>", nrest);
        count_el(f, rest_calls);
        money_el(f, "td", NULL, rest);
        money_el(f, "td", NULL, ic_money_div_round(rest, rest_calls));
        pct_el(f, NULL, ic_money_to_double(rest), total);
        fputs("<td></td></tr>\n", f);
    }
    fputs("<tr class=\"total\"><td>total</td>", f);
    count_el(f, r->total.requests);
    money_el(f, "td", NULL, r->total.cost);
    money_el(f, "td", NULL, ic_money_div_round(r->total.cost, r->total.requests));
    fputs("<td>100%</td><td></td></tr></table>\n", f);
}

static void customers(FILE *f, const ic_margin *m, uint32_t target_bp)
{
    fputs("<table><tr><th>customer</th><th>calls</th><th>cost</th><th>revenue</th>"
          "<th>gross margin</th><th>cost share of revenue</th><th>cost per task</th></tr>\n", f);
    for (size_t i = 0; i <= m->nrows; i++) {
        const ic_margin_row *x = i < m->nrows ? &m->rows[i] : &m->total;
        fprintf(f, "<tr%s><td>", i < m->nrows ? "" : " class=\"total\"");
        if (i < m->nrows)
            esc(f, x->customer && x->customer[0] ? x->customer : "(none)");
        else
            fputs("total", f);
        fputs("</td>", f);
        count_el(f, x->requests);
        money_el(f, "td", NULL, x->cost);
        if (x->has_revenue) { /* revenue of 0 or below (refunds) too: the margin is what counts */
            money_el(f, "td", NULL, x->revenue);
            money_el(f, "td", x->margin < 0 ? "bad" : NULL, x->margin);
            int64_t bp = ic_cost_share_bp(x->cost, x->revenue);
            if (bp == INT64_MIN)
                fprintf(f, "<td%s>-</td>", x->margin < 0 ? " class=\"bad\"" : "");
            else
                fprintf(f, "<td class=\"%s\">%.2f%%</td>",
                        x->margin < 0 ? "bad" : bp > (int64_t)target_bp ? "warn" : "good",
                        (double)bp / 100);
        } else {
            fputs("<td>-</td><td>-</td><td class=\"note\">no revenue</td>", f);
        }
        if (x->tasks)
            money_el(f, "td", NULL, x->task_mean);
        else
            fputs("<td>-</td>", f);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* the days of month "YYYY-MM" that lie within [first, last] ("YYYY-MM-DD", the first and the
 * last day with calls), and the month's length */
static int days_covered(const char *month, const char *first, const char *last, int *month_days)
{
    int y = 0;
    unsigned m = 0, d1 = 0, d2 = 0;
    *month_days = 0;
    if (sscanf(month, "%d-%u", &y, &m) != 2 || m < 1 || m > 12)
        return 0;
    int64_t a = ic_days_from_civil(y, m, 1);
    int64_t z = ic_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
    *month_days = (int)(z - a + 1);
    int fy = 0, ly = 0;
    unsigned fm = 0, lm = 0;
    if (sscanf(first, "%d-%u-%u", &fy, &fm, &d1) == 3 && sscanf(last, "%d-%u-%u", &ly, &lm, &d2) == 3) {
        int64_t lo = ic_days_from_civil(fy, fm, d1), hi = ic_days_from_civil(ly, lm, d2);
        a = lo > a ? lo : a;
        z = hi < z ? hi : z;
    }
    return z >= a ? (int)(z - a + 1) : 0;
}

static void months(FILE *f, const ic_report *r, const char *first, const char *last)
{
    fputs("<table><tr><th>month</th><th>calls</th><th>cost</th><th>change</th></tr>\n", f);
    int prev_partial = 0, md = 0, partial_last = 0, last_days = 0, last_md = 0;
    for (size_t i = 0; i < r->nmonths; i++) {
        int days = days_covered(r->months[i].month, first, last, &md);
        int partial = days < md;
        fputs("<tr><td>", f);
        esc(f, r->months[i].month);
        if (partial)
            fprintf(f, " (%d of %d days)", days, md);
        fputs("</td>", f);
        count_el(f, r->months[i].requests);
        money_el(f, "td", NULL, r->months[i].cost);
        if (i == 0 || r->months[i - 1].cost <= 0) {
            fputs("<td>-</td>", f);
        } else {
            double c = ic_money_to_double(r->months[i].cost) /
                       ic_money_to_double(r->months[i - 1].cost) - 1;
            /* a month the ledger covers in part says little against a whole one: no colour */
            fprintf(f, "<td class=\"%s\">%+.1f%%%s</td>",
                    partial || prev_partial ? "note" : c > 0 ? "warn" : "good", 100 * c,
                    partial || prev_partial ? " (partial month)" : "");
        }
        fputs("</tr>\n", f);
        prev_partial = partial;
        partial_last = partial;
        last_days = days;
        last_md = md;
    }
    fputs("</table>\n", f);
    if (!r->nmovers)
        return;
    fputs("<h2>Top movers between the last two months (models)</h2>\n", f);
    if (partial_last)
        fprintf(f, "<p class=\"note\">The last month holds %d of its %d days: its costs are "
                   "lower for that alone.</p>\n", last_days, last_md);
    fputs("<table><tr><th>model</th><th>before</th><th>after</th><th>change</th></tr>\n", f);
    for (size_t i = 0; i < r->nmovers; i++) {
        const ic_report_mover *x = &r->movers[i];
        fputs("<tr><td>", f);
        esc(f, x->key);
        fputs("</td>", f);
        money_el(f, "td", NULL, x->before);
        money_el(f, "td", NULL, x->after);
        money_el2(f, "td", x->after > x->before ? "warn" : "good", x->after - x->before, true);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static const char *scen_color[IC_FORECAST_SCENARIOS] = {"#b42318", "#5b7bd5", "#067647",
                                                        "#7a5af8"};

/* a month of the ledger's history at its run-rate when the ledger covers only part of it (the
 * chart's line would dip at the ends otherwise); projections as they are */
static double chart_cost(const ic_forecast_point *p, int s)
{
    double v = ic_money_to_double(p->cost[s]);
    return p->history && p->days > 0 && p->days < p->month_days ? v * p->month_days / p->days
                                                                : v;
}

/* the target's share of a month's revenue, or -1 when the month has none */
static double target_of(const ic_forecast *fc, const ic_forecast_point *p)
{
    return p->revenue > 0 ? ic_money_to_double(p->revenue) * fc->opts.target_bp / 10000.0 : -1;
}

static void forecast_chart(FILE *f, const ic_forecast *fc, int ns)
{
    size_t n = fc->npoints;
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < ns; s++) {
            double v = chart_cost(&fc->points[i], s);
            top = v > top ? v : top;
        }
        double t = target_of(fc, &fc->points[i]);
        top = t > top ? t : top;
    }
    if (n < 2 || top <= 0)
        return;
    const double W = 960, H = 240, L = 84, B = 24, T = 10;
    double dx = (W - L - 8) / (double)(n - 1);
    fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "aria-label=\"monthly cost, actual and projected\">\n", W, H);
    char d[80];
    for (int k = 0; k <= 2; k++) {
        double y = H - B - (H - B - T) * k / 2.0;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f3\"/>"
                   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, W - 8, y, y, L - 6, y + 4, axis_usd(top * k / 2, d, sizeof d));
    }
    size_t hist = 0;
    while (hist < n && fc->points[hist].history)
        hist++;
    if (hist > 0 && hist < n) { /* where the projection starts */
        double x = L + dx * (double)(hist - 1);
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#d0d5dd\" "
                   "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%.0f\" "
                   "text-anchor=\"end\">actual</text><text x=\"%.1f\" y=\"%.0f\">projected"
                   "</text>\n", x, x, T, H - B, x - 4, H - B - 6, x + 4, H - B - 6);
    }
#define PT(i, v) L + dx * (double)(i), H - B - (H - B - T) * (v) / top
    if (fc->have_revenue) { /* the target share of revenue, where there is revenue */
        bool open = false;
        for (size_t i = 0; i < n; i++) {
            double t = target_of(fc, &fc->points[i]);
            if (t < 0) {
                if (open)
                    fputs("\"/>\n", f);
                open = false;
                continue;
            }
            if (!open)
                fputs("<polyline fill=\"none\" stroke=\"#98a2b3\" stroke-dasharray=\"6 4\" "
                      "points=\"", f);
            open = true;
            fprintf(f, "%.1f,%.1f ", PT(i, t));
        }
        if (open)
            fputs("\"/>\n", f);
    }
    for (int s = ns - 1; s >= 0; s--) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                scen_color[s]);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%.1f,%.1f ", PT(i, chart_cost(&fc->points[i], s)));
        fputs("\"/>\n", f);
    }
#undef PT
    for (int e = 0; e < 2; e++) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"%s\">", e ? W - 8 : L, H - 6,
                e ? "end" : "start");
        esc(f, fc->points[e ? n - 1 : 0].month);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n<p class=\"legend\">", f);
    for (int s = 0; s < ns; s++) {
        fprintf(f, "<span><i style=\"background:%s\"></i>", scen_color[s]);
        esc(f, fc->scenario[s]);
        fputs("</span>", f);
    }
    if (fc->have_revenue)
        fprintf(f, "<span><i style=\"background:#98a2b3\"></i>%.1f%% of revenue (the target)"
                   "</span>", fc->opts.target_bp / 100.0);
    fputs("<span>(months the ledger covers in part are drawn at their run-rate)</span></p>\n", f);
}

static void forecast(FILE *f, const ic_forecast *fc)
{
    size_t n = fc->npoints;
    int ns = fc->catalog_scenario ? IC_FORECAST_SCENARIOS : IC_FORECAST_SCENARIOS - 1;
    forecast_chart(f, fc, ns);
    fputs("<table><tr><th>month</th><th>revenue</th>", f);
    for (int s = 0; s < ns; s++) {
        fputs("<th>", f);
        esc(f, fc->scenario[s]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        const ic_forecast_point *p = &fc->points[i];
        fputs("<tr><td>", f);
        esc(f, p->month);
        if (p->history && p->days < p->month_days)
            fprintf(f, " (actual, %d of %d days)", p->days, p->month_days);
        else if (p->history)
            fputs(" (actual)", f);
        fputs("</td>", f);
        if (p->revenue != 0)
            money_el(f, "td", NULL, p->revenue);
        else
            fputs("<td>-</td>", f);
        /* an actual month has one cost: it stands under every scenario */
        for (int s = 0; s < ns; s++) {
            int64_t bp = ic_cost_share_bp(p->cost[s], p->revenue);
            bool over = bp != INT64_MIN && bp > (int64_t)fc->opts.target_bp;
            money_el(f, "td", over ? "warn" : NULL, p->cost[s]);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    if (fc->have_revenue) { /* forecast.h: with above_now, cross[] is where a scenario falls back
                             * under the target, and -1 that it stays above */
        fprintf(f, "<p class=\"note\">Target: cost at most %.2f%% of revenue; %s now. ",
                fc->opts.target_bp / 100.0, fc->above_now ? "above it" : "within it");
        for (int s = 0; s < ns; s++) {
            esc(f, fc->scenario[s]);
            if (fc->cross[s] >= 0 && (size_t)fc->cross[s] < n) {
                fputs(fc->above_now ? ": falls back under the target in "
                                    : ": crosses the target in ", f);
                esc(f, fc->points[fc->cross[s]].month);
            } else {
                fprintf(f, ": %s within %d months", fc->above_now ? "stays above the target"
                                                                  : "stays under the target",
                        fc->opts.months);
            }
            fputs(s + 1 < ns ? "; " : ".", f);
        }
        fputs("</p>\n", f);
    }
    /* the catalog's own price history, per price class in use, as forecast prints it */
    fputs("<p class=\"note\">", f);
    if (fc->catalog_scenario)
        fprintf(f, "Catalog trend: the fitted price declines cover %.1f%% of the spend (x%.3f in "
                   "the first year overall); the rest stays at today's prices. ",
                100 * fc->catalog_covered, fc->catalog_annual);
    else
        fputs("No catalog-trend scenario: the catalog's price history gives no fitted decline for "
              "the price classes in use. ", f);
    for (int k = IC_PRICE_CLASSES - 1; k >= 0; k--) {
        const ic_class_trend *t = &fc->classes[k];
        if (fc->class_share[k] <= 0)
            continue;
        esc(f, t->name);
        fprintf(f, " models (%.1f%% of spend): ", 100 * fc->class_share[k]);
        if (t->usable)
            fprintf(f, "x%.3f a year, fitted on %d dated price changes. ", t->annual, t->changes);
        else {
            fputs("no fitted decline: ", f);
            esc(f, t->why);
            fputs(". ", f);
        }
    }
    fputs("</p>\n", f);
    if (fc->history_months < 2) /* forecast.c fits nothing from fewer: usage is held flat */
        fprintf(f, "<p class=\"note\">Usage growth not fitted (%d month%s with 7 days or more of "
                   "data; 2 needed): usage held flat. Projections are estimates, rounded to the "
                   "cent.</p>\n", fc->history_months, fc->history_months == 1 ? "" : "s");
    else
        fprintf(f, "<p class=\"note\">Usage grows %+.1f%% a month (fitted on %d months of "
                   "requests per day)%s; projections are estimates, rounded to the cent.</p>\n",
                100 * fc->usage_growth, fc->history_months,
                fc->have_revenue ? ", revenue as fitted on the revenue table" : "");
}

ic_status ic_dashboard_write(ic_ledger *l, const ic_dashboard_opts *o, FILE *f, uint64_t *calls,
                             ic_error *err)
{
    *calls = 0;
    ic_ledger_filter flt = {.from_ms = o->filter.from_ms, .to_ms = o->filter.to_ms};
    ic_report *byday = NULL, *byfeat = NULL, *bymodel = NULL;
    ic_margin *mg = NULL;
    ic_forecast *fc = NULL;
    ic_whatif *routing = NULL;
    ic_error ferr = {0};
    ic_status st;
    ic_margin_opts mo = {.filter = flt, .target_bp = o->target_bp};
    if ((st = build(l, &flt, IC_DIM_DAY, 0, &byday, err)) != IC_OK ||
        (st = build(l, &flt, IC_DIM_FEATURE, 0, &byfeat, err)) != IC_OK ||
        (st = build(l, &flt, IC_DIM_MODEL, 0, &bymodel, err)) != IC_OK ||
        (st = ic_margin_build(l, &mo, &mg, err)) != IC_OK)
        goto out;
    if (o->catalog) { /* what the gateway's router saved (whatif --unroute), when it moved calls */
        ic_whatif_opts wo = {.catalog = o->catalog, .filter = flt, .share_bp = 10000,
                             .unroute = true, .by = IC_DIM_MODEL};
        if (ic_whatif_build(l, &wo, &routing, &ferr) != IC_OK)
            routing = NULL; /* the rest of the page does without it */
    }
    const ic_report_row *t = &byday->total;
    *calls = t->requests;
    char now[40], a[80], b[80];
    ic_time_format(o->now_ms, now, sizeof now);
    const char *first = byday->nrows ? byday->rows[0].key[0] : "",
               *last = byday->nrows ? byday->rows[byday->nrows - 1].key[0] : "";
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
          "<title>Inference cost", f);
    if (byday->nrows) {
        fputs(", ", f);
        esc(f, first);
        fputs(" to ", f);
        esc(f, last);
    }
    fprintf(f, "</title>\n<style>%s</style></head><body>\n<h1>Inference cost", style);
    if (byday->nrows) {
        fputs(", ", f);
        esc(f, first);
        fputs(" to ", f);
        esc(f, last);
    }
    fputs("</h1>\n<p class=\"sub\">", f);
    if (flt.from_ms || flt.to_ms) { /* the period asked for; the heading has the days with calls */
        char p1[40] = "the start", p2[40] = "the end";
        if (flt.from_ms)
            ic_time_format(flt.from_ms, p1, sizeof p1);
        if (flt.to_ms)
            ic_time_format(flt.to_ms - 1, p2, sizeof p2);
        p1[flt.from_ms ? 10 : sizeof p1 - 1] = 0;
        p2[flt.to_ms ? 10 : sizeof p2 - 1] = 0;
        fprintf(f, "Period asked for: %s to %s. ", p1, p2);
    }
    fputs("From ", f);
    esc(f, o->source ? o->source : "the ledger");
    fputs(", made by infercost at ", f);
    esc(f, now);
    fputs(". Amounts are rounded (to the cent from $1 up); point at one for its exact value.</p>\n", f);
    if (!t->requests) {
        fputs("<p>No calls in this period.</p>\n</body></html>\n", f);
        goto out;
    }

    /* the headline */
    fputs("<div class=\"kpis\">\n", f);
    char v[200], x[80];
    ic_money per = ic_money_div_round(t->cost, t->requests);
    kpi(f, usd(t->cost, a, sizeof a), "spend", NULL, exact(t->cost, x, sizeof x));
    group3(t->requests, a);
    kpi(f, a, "calls", NULL, NULL);
    kpi(f, usd(per, a, sizeof a), "per call", NULL, exact(per, x, sizeof x));
    snprintf(v, sizeof v, "%.1f%%",
             t->input_tokens ? 100.0 * (double)t->cache_read_tokens / (double)t->input_tokens : 0);
    kpi(f, v, "of input tokens read from cache", NULL, NULL);
    if (t->cache_hits) {
        group3(t->cache_hits, b);
        snprintf(v, sizeof v, "saved by the response cache (%s call%s answered)", b,
                 t->cache_hits == 1 ? "" : "s");
        kpi(f, usd(t->cache_saved, a, sizeof a), v, "good", exact(t->cache_saved, x, sizeof x));
    }
    if (routing && routing->total.moved) {
        ic_money d = routing->total.after - routing->total.before;
        group3(routing->total.moved, b);
        snprintf(v, sizeof v, "%s routing (%s call%s moved to other models; same tokens)",
                 d >= 0 ? "saved by" : "more spent through", b,
                 routing->total.moved == 1 ? "" : "s");
        ic_money ad = d < 0 ? -d : d;
        kpi(f, usd(ad, a, sizeof a), v, d >= 0 ? "good" : "warn", exact(ad, x, sizeof x));
    }
    if (t->errors) {
        snprintf(v, sizeof v, "%.2f%%", 100.0 * (double)t->errors / (double)t->requests);
        kpi(f, v, "of calls failed", "warn", NULL);
    }
    const ic_margin_row *mt = &mg->total;
    if (mt->has_revenue) {
        kpi(f, usd(mt->revenue, a, sizeof a), "revenue", NULL, exact(mt->revenue, x, sizeof x));
        int64_t bp = ic_cost_share_bp(mt->cost, mt->revenue),
                mbp = ic_cost_share_bp(mt->margin, mt->revenue);
        if (bp == INT64_MIN)
            snprintf(v, sizeof v, "%s", usd(mt->margin, b, sizeof b));
        else
            snprintf(v, sizeof v, "%s (%.2f%%)", usd(mt->margin, b, sizeof b), (double)mbp / 100);
        kpi(f, v, "gross margin after inference", mt->margin < 0 ? "bad" : NULL,
            exact(mt->margin, x, sizeof x));
        if (bp != INT64_MIN) {
            snprintf(v, sizeof v, "%.2f%%", (double)bp / 100);
            snprintf(b, sizeof b, "inference cost as a share of revenue (target %.2f%%)",
                     o->target_bp / 100.0);
            kpi(f, v, b, bp > (int64_t)o->target_bp ? "warn" : "good", NULL);
        }
    }
    fputs("</div>\n<h2>Spend per day</h2>\n", f);
    day_chart(f, byday);
    fputs("<h2>Customers: inference cost against revenue</h2>\n", f);
    customers(f, mg, o->target_bp);
    if (!mt->has_revenue)
        fputs("<p class=\"note\">No revenue in the ledger for this period: <code>infercost "
              "revenue import FILE.csv</code> adds it, and with it margins and cost shares.</p>\n",
              f);
    int cut = ic_period_cuts_month(&flt);
    if (cut && mt->has_revenue)
        fprintf(f, "<p class=\"note warn\">The period %s within a month: revenue counts whole "
                   "months, so these cost shares set part of a month's cost against all of its "
                   "revenue.</p>\n", cut == 2 ? "ends" : "starts");
    fputs("<h2>Features</h2>\n", f);
    dim_table(f, byfeat, "feature", 15);
    fputs("<h2>Models</h2>\n", f);
    dim_table(f, bymodel, "model", 15);
    fputs("<h2>Month over month</h2>\n", f);
    months(f, bymodel, first, last);
    if (o->forecast_months > 0) {
        ic_forecast_opts fo = {.months = o->forecast_months, .target_bp = o->target_bp,
                               .catalog = o->catalog, .now_ms = o->now_ms};
        fputs("<h2>Forecast (the whole ledger)</h2>\n", f);
        if (ic_forecast_build(l, &fo, &fc, &ferr) == IC_OK) {
            forecast(f, fc);
        } else {
            fputs("<p class=\"note\">No forecast: ", f);
            esc(f, ferr.msg);
            fputs("</p>\n", f);
        }
    }
    fputs("<footer>infercost: every amount is an exact sum of the ledger's priced calls "
          "(the same figures as infercost report, margin and forecast).</footer>\n"
          "</body></html>\n", f);
out:
    ic_report_free(byday);
    ic_report_free(byfeat);
    ic_report_free(bymodel);
    ic_margin_free(mg);
    ic_forecast_free(fc);
    ic_whatif_free(routing);
    if (st == IC_OK && ferror(f))
        st = ic_error_set(err, IC_ERR_IO, "writing the dashboard failed");
    return st;
}
