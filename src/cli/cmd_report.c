/* cmd_report.c: `infercost report`: spend from the ledger grouped by the chosen dimensions, as a
 * terminal table, CSV, JSON or Markdown. The numbers come from report.h; this file parses options
 * (also shared by margin/forecast/export through cli_ledger.h) and writes the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "infercost/economics.h"
#include "command.h"
#include "infercost/report.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost report [--ledger PATH] [--from DATE] [--to DATE] [--month YYYY-MM]\n"
    "                        [--by DIM[,DIM...]] [--provider P] [--model M] [--customer C]\n"
    "                        [--feature F] [--key K] [--tag NAME=VALUE]... [--percentiles]\n"
    "                        [--raw] [--top N] [--format table|csv|json|md] [--timing]\n"
    "Spend over a period (docs/ledger.md). DIM: provider, model, customer, feature, task, key\n"
    "(the gateway's virtual key), tag:NAME (the value of a call's tag NAME), day, week, month\n"
    "(default: model). Columns: requests, tokens by kind, share of input served\n"
    "from cache, cost, cost per request, calls answered by a response cache and what they\n"
    "saved, share of the total; then month over month and the top movers between the last\n"
    "two months.\n"
    "  --from DATE      start (inclusive, UTC); --to DATE: through the end of that day\n"
    "  --month YYYY-MM  that calendar month\n"
    "  --key K          only the calls of virtual key K\n"
    "  --tag NAME=VALUE only the calls whose tag NAME has that value (up to 4, all must hold;\n"
    "                   NAME= selects the calls without the tag); key and tags read every event\n"
    "  --percentiles    cost per request and per task at p50/p95/p99 (reads every event)\n"
    "  --raw            sum the events instead of the daily rollups (same totals, slower)\n"
    "  --top N          show the N costliest rows (default 0 = all)\n"
    "  --timing         print the time spent reading the ledger on stderr\n";

void ic_cli_warn_no_match(const ic_ledger_filter *f, uint64_t matched)
{
    const char *v[4] = {f->provider, f->model, f->customer, f->feature};
    static const char *const opt[4] = {"--provider", "--model", "--customer", "--feature"};
    char buf[1200];
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < 4; i++)
        if (v[i] && n < sizeof buf)
            n += (size_t)snprintf(buf + n, sizeof buf - n, " %s '%.200s'", opt[i], v[i]);
    if (matched || !n)
        return;
    ic_cli_error("no call in the period matches%s (names match exactly, case included: `infercost "
                 "report --by provider,model,customer,feature` lists them)", buf);
}

int ic_cli_period(const char *from, const char *to, const char *month, ic_ledger_filter *f)
{
    int64_t t;
    if (month) {
        int y, m;
        char extra;
        if (sscanf(month, "%4d-%2d%c", &y, &m, &extra) != 2 || m < 1 || m > 12) {
            ic_cli_error("--month wants YYYY-MM, not '%s'", month);
            return -1;
        }
        f->from_ms = ic_days_from_civil(y, (unsigned)m, 1) * 86400000;
        f->to_ms = ic_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : (unsigned)m + 1, 1) *
                   86400000;
    }
    if (from) {
        if (ic_time_parse(from, strlen(from), &t) != IC_OK) {
            ic_cli_error("--from: '%s' is not a date (YYYY-MM-DD or RFC 3339)", from);
            return -1;
        }
        f->from_ms = t;
    }
    if (to) {
        if (ic_time_parse(to, strlen(to), &t) != IC_OK) {
            ic_cli_error("--to: '%s' is not a date (YYYY-MM-DD or RFC 3339)", to);
            return -1;
        }
        f->to_ms = strlen(to) == 10 ? t + 86400000 : t;
    }
    if (f->from_ms && f->to_ms && f->to_ms <= f->from_ms) {
        ic_cli_error("the period is empty (--to is not after --from)");
        return -1;
    }
    return 0;
}

int ic_cli_format(const char *v, ic_report_format *out)
{
    static const char *names[] = {"table", "csv", "json", "md"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(v, names[i])) {
            *out = (ic_report_format)i;
            return 0;
        }
    ic_cli_error("--format wants table, csv, json or md, not '%s'", v);
    return -1;
}

int ic_cli_ledger_arg(ic_cli_ledger_opts *o, int argc, char **argv, int *i)
{
    static const char *const names[] = {"--ledger", "--from", "--to", "--month"};
    const char **slots[] = {&o->ledger, &o->from, &o->to, &o->month};
    bool bad = false;
    for (int k = 0; k < 4; k++) {
        const char *v = ic_cli_opt(names[k], argc, argv, i, &bad);
        if (v) {
            *slots[k] = v;
            return 1;
        }
        if (bad)
            return -1;
    }
    return 0;
}

const char *ic_cli_ledger_path(const char *opt)
{
    if (opt && opt[0])
        return opt;
    const char *e = getenv("INFERCOST_LEDGER");
    return e && e[0] ? e : "infercost.db";
}

void ic_cli_note_cut_month(const ic_ledger_filter *f)
{
    int cut = ic_period_cuts_month(f);
    if (cut)
        ic_cli_error("note: the period %s within a month: revenue counts whole months, so the "
                     "cost shares compare part of a month's cost with all of its revenue (use "
                     "--month, or whole months)", cut == 2 ? "ends" : "starts");
}

ic_ledger *ic_cli_open_ledger(const char *path, bool readonly)
{
    ic_ledger *l = NULL;
    ic_error err = {0};
    if (ic_ledger_open(&l, path, readonly, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        return NULL;
    }
    return l;
}

static int run(int argc, char **argv)
{
    ic_cli_ledger_opts lo = {0};
    const char *by = "model";
    ic_report_opts o = {0};
    ic_report_format fmt = IC_FMT_TABLE;
    bool timing = false;
    char tagname[IC_REPORT_MAX_TAGS][IC_REPORT_TAG_MAX + 1];
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        int r = ic_cli_ledger_arg(&lo, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--by", argc, argv, &i, &bad)))
            by = v;
        else if ((v = ic_cli_opt("--provider", argc, argv, &i, &bad)))
            o.filter.provider = v;
        else if ((v = ic_cli_opt("--model", argc, argv, &i, &bad)))
            o.filter.model = v;
        else if ((v = ic_cli_opt("--customer", argc, argv, &i, &bad)))
            o.filter.customer = v;
        else if ((v = ic_cli_opt("--feature", argc, argv, &i, &bad)))
            o.filter.feature = v;
        else if ((v = ic_cli_opt("--key", argc, argv, &i, &bad)))
            o.key_id = v;
        else if ((v = ic_cli_opt("--tag", argc, argv, &i, &bad))) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || eq - v > IC_REPORT_TAG_MAX) {
                ic_cli_error("--tag wants NAME=VALUE (NAME 1 to %d bytes), not '%s'",
                             IC_REPORT_TAG_MAX, v);
                return 2;
            }
            if (o.ntag_is == IC_REPORT_MAX_TAGS) {
                ic_cli_error("--tag: at most %d", IC_REPORT_MAX_TAGS);
                return 2;
            }
            snprintf(tagname[o.ntag_is], sizeof tagname[0], "%.*s", (int)(eq - v), v);
            o.tag_is[o.ntag_is][0] = tagname[o.ntag_is];
            o.tag_is[o.ntag_is++][1] = eq + 1;
        } else if ((v = ic_cli_opt("--top", argc, argv, &i, &bad))) {
            uint64_t t;
            if (ic_cli_uint("--top", v, 0, 1000000, &t))
                return 2;
            o.top = (int)t;
        }
        else if ((v = ic_cli_opt("--format", argc, argv, &i, &bad))) {
            if (ic_cli_format(v, &fmt))
                return 2;
        } else if (!strcmp(argv[i], "--percentiles")) {
            o.percentiles = true;
            i++;
        } else if (!strcmp(argv[i], "--raw")) {
            o.raw = true;
            i++;
        } else if (!strcmp(argv[i], "--timing")) {
            timing = true;
            i++;
        } else {
            if (!bad)
                ic_cli_error("report: unknown argument '%s' (see infercost report --help)", argv[i]);
            return 2;
        }
    }
    if (ic_cli_period(lo.from, lo.to, lo.month, &o.filter))
        return 2;
    char dims[1024];
    if (strlen(by) >= sizeof dims) {
        ic_cli_error("--by: longer than %zu bytes", sizeof dims - 1);
        return 2;
    }
    snprintf(dims, sizeof dims, "%s", by);
    for (char *tok = strtok(dims, ","); tok; tok = strtok(NULL, ",")) {
        const char *tag = ic_dim_parse_tag(tok);
        int d = tag ? (int)IC_DIM_TAG : ic_dim_parse(tok);
        if (d < 0 || (d == IC_DIM_TAG && !tag)) { /* "tag" alone, or a name of 128+ bytes */
            ic_cli_error("--by: unknown dimension '%s' (provider, model, customer, feature, task, "
                         "key, tag:NAME with NAME of 1 to %d bytes, day, week, month)", tok,
                         IC_REPORT_TAG_MAX);
            return 2;
        }
        if (o.ndims == IC_REPORT_MAX_DIMS) {
            ic_cli_error("--by: at most %d dimensions", IC_REPORT_MAX_DIMS);
            return 2;
        }
        o.tag[o.ndims] = tag; /* points into dims[], which outlives the report */
        o.dims[o.ndims++] = (ic_dim)d;
    }
    ic_ledger *l = ic_cli_open_ledger(ic_cli_ledger_path(lo.ledger), true);
    if (!l)
        return 2;
    ic_report *r = NULL;
    ic_error err = {0};
    int rc = 0;
    if (ic_report_build(l, &o, &r, &err) != IC_OK ||
        ic_report_write(r, fmt, stdout, &err) != IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 2;
    }
    if (!rc)
        ic_cli_warn_no_match(&o.filter, r->total.requests);
    if (!rc && !r->total.requests && (o.key_id || o.ntag_is))
        ic_cli_error("no call in the period has %s%s%s (keys and tag values match exactly)",
                     o.key_id ? "that --key" : "", o.key_id && o.ntag_is ? " and " : "",
                     o.ntag_is ? "those --tag values" : "");
    if (timing && r)
        fprintf(stderr, "report: %.3f s reading the %s\n", r->seconds,
                r->from_events ? "events" : "rollups");
    ic_report_free(r);
    ic_ledger_close(l);
    return rc;
}

IC_COMMAND(report, "report", "spend from the ledger by provider/model/customer/feature/task/time",
           run);
