/* cmd_estimate.c: `infercost estimate`: what an OpenAI chat/completions request will cost
 * before it is sent: prompt tokens (exact for OpenAI models, an estimate otherwise), the input
 * cost, and the worst case if the model writes max_tokens (or fills its context window). The
 * counting and pricing live in src/lib/estimate.c; this file parses options and prints. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/estimate.h"
#include "infercost/timeutil.h"

static const char usage_text[] =
    "usage: infercost estimate [--model M] [--provider P] [--at TIME] [--json]\n"
    "                          [--catalog F] [--overlay F] REQUEST.json|-\n"
    "Counts the prompt tokens of an OpenAI chat/completions request body (the OpenAI cookbook's\n"
    "rules for messages, names and tool definitions) and prices it through the catalog:\n"
    "the input cost, and the worst-case cost if max_tokens (max_completion_tokens) are generated;\n"
    "without them, the output is bounded by the model's context window minus the prompt where\n"
    "the catalog knows the window, and is reported as unbounded otherwise.\n"
    "  --model M     price and count as model M (default: the request's \"model\")\n"
    "  --provider P  the provider to resolve M in (default: any)\n"
    "  --at TIME     price at TIME (\"2026-03-01\" or RFC 3339; default now)\n"
    "  --json        one JSON object instead of text\n";

static const char *bound_name(ic_output_bound b)
{
    return b == IC_BOUND_MAX_TOKENS ? "max_tokens" : b == IC_BOUND_CONTEXT ? "context_window" : "none";
}

static void print_json(const ic_request_estimate *e, const char *path)
{
    const ic_chat_count *c = &e->count;
    char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN], w[IC_MONEY_STRLEN], q1[PATH_MAX * 6 + 3], q2[512],
        q3[512];
    printf("{\"file\":%s,\"provider\":%s,\"model\":%s,\"prompt_tokens\":%llu,",
           ic_cli_json_str(path, q1, sizeof q1), ic_cli_json_str(ic_provider_id(e->provider), q2, sizeof q2),
           ic_cli_json_str(ic_model_id(e->model), q3, sizeof q3), (unsigned long long)c->prompt_tokens);
    if (c->method == IC_COUNT_EXACT)
        printf("\"count\":\"exact\",\"encoding\":\"%s\",", c->encoding);
    else
        printf("\"count\":\"estimate\",\"family\":\"%s\",\"chars_per_token\":%.1f,", c->family,
               c->chars_per_token);
    printf("\"approximate\":%s,\"messages\":%u,\"tools\":%u,\"images\":%u,\"other_parts\":%u,"
           "\"tool_calls\":%u,\"response_format\":%s,\"choices\":%u,",
           c->approximate ? "true" : "false", c->messages, c->tools, c->images, c->other_parts,
           c->tool_calls, c->response_format ? "true" : "false", c->choices);
    if (e->context_window)
        printf("\"context_window\":%llu,", (unsigned long long)e->context_window);
    printf("\"exceeds_context\":%s,%s\"input_usd\":\"%s\",\"output_bound\":\"%s\",",
           e->exceeds_context ? "true" : "false",
           e->max_tokens_over_context ? "\"max_tokens_over_context\":true," : "",
           ic_money_format(e->input_usd, a, sizeof a), bound_name(e->bound));
    if (e->bound == IC_BOUND_NONE)
        printf("\"max_output_tokens\":null,\"worst_case_output_usd\":null,\"worst_case_usd\":\"unbounded\"}\n");
    else if (e->output_unpriced)
        printf("\"max_output_tokens\":%llu,\"output_unpriced\":true,\"worst_case_output_usd\":null,"
               "\"worst_case_usd\":null}\n",
               (unsigned long long)e->output_tokens);
    else
        printf("\"max_output_tokens\":%llu,\"worst_case_output_usd\":\"%s\",\"worst_case_usd\":\"%s\"}\n",
               (unsigned long long)e->output_tokens, ic_money_format(e->output_usd, b, sizeof b),
               ic_money_format(e->worst_usd, w, sizeof w));
}

static void print_text(const ic_request_estimate *e)
{
    const ic_chat_count *c = &e->count;
    char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN], w[IC_MONEY_STRLEN];
    printf("model            %s/%s", ic_provider_id(e->provider), ic_model_id(e->model));
    if (e->context_window)
        printf(" (context window %llu tokens)\n", (unsigned long long)e->context_window);
    else
        printf(" (context window not in the catalog)\n");
    printf("prompt tokens    %llu", (unsigned long long)c->prompt_tokens);
    if (c->method == IC_COUNT_EXACT)
        printf(" (%s, OpenAI cookbook rules: %u message%s, %u tool%s)\n", c->encoding, c->messages,
               c->messages == 1 ? "" : "s", c->tools, c->tools == 1 ? "" : "s");
    else
        printf(" (ESTIMATE: %s has no public tokenizer; %.1f characters per token)\n",
               ic_model_id(e->model), c->chars_per_token);
    if (c->approximate) { /* what the cookbook's rules do not cover, as present */
        printf("                 approximate:");
        const char *sep = " ";
        if (c->images)
            printf("%s%u image part%s not counted", sep, c->images, c->images == 1 ? "" : "s"), sep = "; ";
        if (c->other_parts)
            printf("%s%u other part%s not counted", sep, c->other_parts, c->other_parts == 1 ? "" : "s"), sep = "; ";
        if (c->response_format)
            printf("%sresponse_format schema not counted", sep), sep = "; ";
        if (c->tool_calls)
            printf("%s%u tool call%s counted as name + arguments", sep, c->tool_calls,
                   c->tool_calls == 1 ? "" : "s"), sep = "; ";
        if (c->odd_params)
            printf("%stool parameters with an enum value or type that is not a string counted as "
                   "JSON text", sep);
        printf("\n");
    }
    if (e->exceeds_context)
        printf("                 WARNING: the prompt is longer than the context window\n");
    else if (e->max_tokens_over_context)
        printf("                 WARNING: prompt + max_tokens is more than the context window: the "
               "API may refuse the request\n");
    printf("input cost       $%s\n", ic_money_format(e->input_usd, a, sizeof a));
    char each[64] = "";
    if (c->choices > 1)
        snprintf(each, sizeof each, " for each of n = %u choices", c->choices);
    switch (e->bound) {
    case IC_BOUND_MAX_TOKENS:
        printf("output at most   %llu tokens (max_tokens%s)\n", (unsigned long long)e->output_tokens,
               each);
        break;
    case IC_BOUND_CONTEXT:
        printf("output at most   %llu tokens (no max_tokens: context window minus prompt%s)\n",
               (unsigned long long)e->output_tokens, each);
        break;
    case IC_BOUND_NONE:
        printf("output           unbounded (no max_tokens, and the catalog has no context window)\n");
        printf("worst-case cost  unbounded\n");
        return;
    }
    if (e->output_unpriced) {
        printf("output cost      NOT PRICED: the catalog has no output price for %s/%s\n",
               ic_provider_id(e->provider), ic_model_id(e->model));
        printf("worst-case cost  unknown\n");
        return;
    }
    printf("output cost      up to $%s\n", ic_money_format(e->output_usd, b, sizeof b));
    printf("worst-case cost  $%s\n", ic_money_format(e->worst_usd, w, sizeof w));
}

static int run(int argc, char **argv)
{
    ic_cli_catalog_opts co = {0};
    const char *model = NULL, *provider = NULL, *at = NULL, *path = NULL;
    bool json = false;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        int r = ic_cli_catalog_arg(&co, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if ((v = ic_cli_opt("--model", argc, argv, &i, &bad))) {
            model = v;
            continue;
        }
        if (!bad && (v = ic_cli_opt("--provider", argc, argv, &i, &bad))) {
            provider = v;
            continue;
        }
        if (!bad && (v = ic_cli_opt("--at", argc, argv, &i, &bad))) {
            at = v;
            continue;
        }
        if (bad)
            return 2;
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("estimate: unknown option '%s'", argv[i]);
            fputs(usage_text, stderr);
            return 2;
        } else if (path) {
            ic_cli_error("estimate: one request file only");
            return 2;
        } else
            path = argv[i];
        i++;
    }
    if (!path) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (model && !model[0]) {
        ic_cli_error("estimate: --model wants a model name, not ''");
        return 2;
    }
    int64_t t_ms = ic_time_now_ms();
    ic_error err = {0};
    if (at && ic_time_parse(at, strlen(at), &t_ms) != IC_OK) {
        ic_cli_error("estimate: --at: '%s' is not a date or RFC 3339 time", at);
        return 2;
    }
    FILE *f = ic_cli_open_input(path);
    if (!f)
        return 2;
    size_t len = 0;
    char *body = ic_cli_read_all(f, &len);
    int read_errno = errno;
    if (f != stdin)
        fclose(f);
    if (!body) {
        ic_cli_read_error("estimate", strcmp(path, "-") ? path : "stdin", read_errno);
        return read_errno == ENOMEM ? 1 : 2;
    }
    ic_catalog *cat = ic_cli_open_catalog(&co);
    if (!cat) {
        free(body);
        return 2;
    }
    ic_request_estimate e;
    int rc = 0;
    if (ic_estimate_request(cat, provider, model, body, len, t_ms, &e, &err) != IC_OK) {
        ic_cli_error("%s: %s", strcmp(path, "-") ? path : "stdin", err.msg);
        rc = 1;
    } else if (json) {
        print_json(&e, path);
    } else {
        print_text(&e);
    }
    ic_catalog_free(cat);
    free(body);
    return rc; /* an output that could not be written: main says so */
}

IC_COMMAND(estimate, "estimate", "prompt tokens and worst-case cost of a chat request, before sending", run);
