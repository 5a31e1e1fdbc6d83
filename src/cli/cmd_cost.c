/* cmd_cost.c: `infercost cost`: JSONL in, JSONL out, one output line per input line, in order.
 * A line that cannot be priced becomes {"line":N,"error":"..."} and the run goes on; the exit
 * status is 1 if any line failed. It is a thin loop over ic_record_parse / ic_record_price /
 * ic_cost_to_json; all rules live in the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost cost [--catalog FILE] [--overlay FILE]... [FILE|-]\n"
    "Prices JSONL usage records or provider responses (docs/cost.md). Each input line gives\n"
    "one output line: the itemized exact cost, or {\"line\":N,\"error\":\"...\"}.\n"
    "  --catalog FILE   a genai-prices v2 data.json instead of the embedded snapshot\n"
    "  --overlay FILE   add or override prices (genai-prices schema or LiteLLM's JSON); repeatable\n"
    "Exit status: 0 all lines priced, 1 some line failed, 2 usage or catalog error.\n";

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *path = NULL;
    for (int i = 1; i < argc;) {
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("cost: unknown option %s", argv[i]);
            fputs(usage_text, stderr);
            return 2;
        }
        if (path) {
            ic_cli_error("cost: one input file at a time");
            return 2;
        }
        path = argv[i++];
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat)
        return 2;
    FILE *in = ic_cli_open_input(path);
    if (!in) {
        ic_catalog_free(cat);
        return 2;
    }
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    const char *name = path && strcmp(path, "-") ? path : "stdin";
    int64_t now = ic_time_now_ms();
    char *line = NULL, out[16384];
    size_t cap = 0, lineno = 0, failed = 0;
    ssize_t n;
    ic_record rec;
    ic_cost cost;
    ic_error err, first = {0};
    size_t first_line = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        ic_status st;
        err.msg[0] = 0;
        if (len == 0)
            st = ic_error_set(&err, IC_ERR_PARSE, "empty line");
        else if ((st = ic_record_parse(cat, line, len, &rec, &err)) == IC_OK)
            st = ic_record_price(cat, &rec, now, &cost, &err);
        size_t w = 0;
        if (st == IC_OK && (w = ic_cost_to_json(&rec, &cost, out, sizeof out)) == 0)
            st = ic_error_set(&err, IC_ERR_RANGE, "output line too long");
        if (st != IC_OK) {
            if (!failed++) {
                first = err;
                first_line = lineno;
            }
            int k = snprintf(out, sizeof out, "{\"line\":%zu,\"error\":", lineno);
            size_t q = ic_json_quote(err.msg, strlen(err.msg), out + k, sizeof out - (size_t)k - 2);
            w = (size_t)k + q;
            out[w++] = '}';
        } else {
            out[w] = 0;
        }
        out[w++] = '\n';
        fwrite(out, 1, w, stdout);
    }
    int read_error = ferror(in);
    free(line);
    if (in != stdin)
        fclose(in);
    if (fflush(stdout) != 0) {
        ic_cli_error("cost: cannot write the output");
        ic_catalog_free(cat);
        return 2;
    }
    ic_catalog_free(cat);
    if (read_error) {
        ic_cli_error("%s: read error after line %zu", name, lineno);
        return 2;
    }
    if (failed) {
        ic_cli_error("%s: %zu of %zu lines could not be priced (first: line %zu: %s)", name,
                     failed, lineno, first_line, first.msg);
        return 1;
    }
    return 0;
}

IC_COMMAND(cost, "cost", "price JSONL usage records or provider responses, line by line", run);
