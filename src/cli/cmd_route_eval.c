/* cmd_route_eval.c: `infercost route-eval`: how much of the strong model's quality a routing rule
 * keeps for each share of calls it sends there, on the shipped RouteLLM sets or the user's own
 * CSV. The measuring is route_eval.h's; this file finds the data, parses options and writes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_ledger.h"
#include "command.h"
#include "infercost/route_eval.h"

static const char usage_text[] =
    "usage: infercost route-eval [--set mt-bench|gsm8k|mmlu|all]... [--router R]...\n"
    "                            [--data DIR] [--csv FILE --strong COL --weak COL]\n"
    "                            [--format table|json|md]\n"
    "How much of the strong model's quality a routing rule keeps for the share of calls it\n"
    "sends to it, on prompts whose outcomes on both models are known (docs/gateway.md,\n"
    "\"Routing evaluation\"): APGR (0.5 is random; the oracle's is the ceiling), CPT(50%) and\n"
    "CPT(80%) (the share of strong calls that recovers half and 80% of the quality gap), PGR at\n"
    "20% and 50%; for prompt-tokens, the gateway's min_prompt_tokens that recovers half.\n"
    "  --set S     a shipped RouteLLM set: GPT-4 vs Mixtral-8x7B on MT-Bench, GSM8K, MMLU\n"
    "              (default all three)\n"
    "  --router R  random, prompt-tokens[:MODEL] (longer prompts to the strong model, counted as\n"
    "              the gateway counts them for MODEL, default gpt-4o), keywords:A,B,...,\n"
    "              regex:PATTERN (the gateway's rules), optimal (the oracle); default: random,\n"
    "              prompt-tokens, optimal\n"
    "  --csv FILE  your own set: a \"prompt\" column and the outcome columns --strong and --weak\n"
    "              (True/False or scores)\n"
    "  --data DIR  where the shipped sets are (default: $INFERCOST_DATA/routellm, else\n"
    "              data/routellm beside the binary's directory, else ./data/routellm)\n"
    "What a prompt-size rule saves on your traffic: `infercost whatif --swap STRONG=WEAK\n"
    "--share PCT --share-by input-tokens`.\n";

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* the shipped sets: $INFERCOST_DATA/routellm when set, else ../data/routellm from the binary,
 * then ./data/routellm */
static const char *find_data(char *buf, size_t cap)
{
    const char *env = getenv("INFERCOST_DATA");
    if (env && *env) {
        snprintf(buf, cap, "%s/routellm", env);
        if (is_dir(buf))
            return buf;
        ic_cli_error("route-eval: %s is not a directory (INFERCOST_DATA): give --data DIR or "
                     "unset it", buf);
        return NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(buf, cap, "%s/../data/routellm", exe);
            if (is_dir(buf))
                return buf;
        }
    }
    snprintf(buf, cap, "data/routellm");
    if (is_dir(buf))
        return buf;
    ic_cli_error("route-eval: the RouteLLM sets are not found (looked beside the binary, in "
                 "../data/routellm, and in ./data/routellm): give --data DIR");
    return NULL;
}

#define MAX_ITEMS 16

static int run(int argc, char **argv)
{
    const char *sets[MAX_ITEMS], *routers[MAX_ITEMS], *data = NULL, *csv = NULL, *strong = NULL,
               *weak = NULL;
    size_t nsets = 0, nrouters = 0;
    ic_report_format fmt = IC_FMT_TABLE;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--set", argc, argv, &i, &bad))) {
            bool all = !strcmp(v, "all");
            if (nsets + (all ? 3 : 1) > MAX_ITEMS) {
                ic_cli_error("at most %d sets", MAX_ITEMS);
                return 2;
            }
            if (all) {
                sets[nsets++] = "mt-bench";
                sets[nsets++] = "gsm8k";
                sets[nsets++] = "mmlu";
            } else {
                sets[nsets++] = v;
            }
        } else if ((v = ic_cli_opt("--router", argc, argv, &i, &bad))) {
            if (nrouters == MAX_ITEMS) {
                ic_cli_error("at most %d --router options", MAX_ITEMS);
                return 2;
            }
            routers[nrouters++] = v;
        } else if ((v = ic_cli_opt("--data", argc, argv, &i, &bad))) {
            data = v;
        } else if ((v = ic_cli_opt("--csv", argc, argv, &i, &bad))) {
            csv = v;
        } else if ((v = ic_cli_opt("--strong", argc, argv, &i, &bad))) {
            strong = v;
        } else if ((v = ic_cli_opt("--weak", argc, argv, &i, &bad))) {
            weak = v;
        } else if ((v = ic_cli_opt("--format", argc, argv, &i, &bad))) {
            if (ic_cli_format(v, &fmt))
                return 2;
            if (fmt == IC_FMT_CSV) {
                ic_cli_error("--format: route-eval writes table, json or md");
                return 2;
            }
        } else {
            if (!bad)
                ic_cli_error("route-eval: unknown argument '%s' (see infercost route-eval --help)",
                             argv[i]);
            return 2;
        }
    }
    if (csv && (!strong || !weak)) {
        ic_cli_error("--csv needs --strong COL and --weak COL: the columns of each model's "
                     "outcome");
        return 2;
    }
    if ((strong || weak) && !csv) {
        ic_cli_error("--strong and --weak name columns of a --csv file");
        return 2;
    }
    if (!nrouters) {
        routers[0] = "random", routers[1] = "prompt-tokens", routers[2] = "optimal";
        nrouters = 3;
    }
    if (!nsets && !csv) {
        sets[0] = "mt-bench", sets[1] = "gsm8k", sets[2] = "mmlu";
        nsets = 3;
    }
    char dbuf[PATH_MAX + 32];
    if (nsets && !data && !(data = find_data(dbuf, sizeof dbuf)))
        return 2;
    size_t n = nsets + (csv != NULL);
    ic_route_set *loaded[MAX_ITEMS + 1] = {0};
    ic_route_eval *evals[MAX_ITEMS + 1] = {0};
    ic_error err = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        ic_status st = i < nsets ? ic_route_set_load_builtin(&loaded[i], data, sets[i], &err)
                                 : ic_route_set_load_csv(&loaded[i], csv, csv, strong, weak, NULL,
                                                         &err);
        if (st == IC_OK)
            st = ic_route_eval_run(loaded[i], routers, nrouters, &evals[i], &err);
        if (st != IC_OK) {
            ic_cli_error("%s", err.msg);
            rc = st == IC_ERR_INVALID || st == IC_ERR_IO ? 2 : 1;
        }
    }
    if (!rc && ic_route_eval_write((const ic_route_eval *const *)evals, n, fmt, stdout, &err) !=
                   IC_OK) {
        ic_cli_error("%s", err.msg);
        rc = 1;
    }
    for (size_t i = 0; i < n; i++) {
        ic_route_eval_free(evals[i]);
        ic_route_set_free(loaded[i]);
    }
    return rc;
}

IC_COMMAND(route_eval, "route-eval", "what a routing rule keeps of the quality per share of "
           "strong-model calls", run);
