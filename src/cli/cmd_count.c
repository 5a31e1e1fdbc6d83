/* cmd_count.c: `infercost count`: tokens in a text, exactly as OpenAI's tiktoken counts them
 * (o200k_base, cl100k_base), or, for a model without a public tokenizer, an estimate that says
 * so. Whole input, or one JSON line per input line (--lines); ids on request (--ids). It holds
 * no tokenizer logic (src/lib/tokenizer.c, estimate.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "command.h"
#include "infercost/estimate.h"
#include "infercost/tokenizer.h"

static const char usage_text[] =
    "usage: infercost count [--encoding E | --model M] [--ids] [--lines] [--special] [FILE|-]\n"
    "Counts the tokens of FILE (default: stdin) and prints one JSON object:\n"
    "  {\"encoding\":\"o200k_base\",\"tokens\":K}\n"
    "  --encoding E  o200k_base (default) or cl100k_base\n"
    "  --model M     the model's encoding (gpt-4o, gpt-4.1, gpt-5, o1/o3/o4 -> o200k_base;\n"
    "                gpt-4, gpt-3.5-turbo, text-embedding-3 -> cl100k_base); other models\n"
    "                (Claude, Gemini, ...) get a characters-per-token estimate, marked\n"
    "                \"estimate\":true\n"
    "  --lines       one line of output per input line: {\"line\":N,\"tokens\":K}; a line is its\n"
    "                text without the newline (\\n, or \\r\\n)\n"
    "  --ids         add the token ids: \"ids\":[...] (exact encodings only)\n"
    "  --special     recognise special tokens (<|endoftext|>, ...) instead of counting their\n"
    "                text as ordinary text\n";

/* the decimal digits of v at d (room for 20): their number. printf's work without parsing a
 * format, for the millions of numbers of --lines and --ids */
static size_t fmt_u64(char *d, uint64_t v)
{
    char tmp[20];
    size_t k = 0, w = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        d[w++] = tmp[--k];
    return w;
}

/* pre, the decimal v, post (pre and post short) */
static void put_u64(const char *pre, uint64_t v, const char *post)
{
    char buf[64];
    size_t pl = strlen(pre), ql = strlen(post);
    memcpy(buf, pre, pl);
    size_t w = pl + fmt_u64(buf + pl, v);
    memcpy(buf + w, post, ql);
    fwrite(buf, 1, w + ql, stdout);
}

static void print_ids(const uint32_t *ids, size_t n)
{
    char buf[1 << 16];
    size_t w = 0;
    fputs(",\"ids\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        if (w > sizeof buf - 16) {
            fwrite(buf, 1, w, stdout);
            w = 0;
        }
        if (i)
            buf[w++] = ',';
        w += fmt_u64(buf + w, ids[i]);
    }
    fwrite(buf, 1, w, stdout);
    fputc(']', stdout);
}

typedef struct job {
    const ic_tokenizer *tok; /* NULL: estimate */
    ic_tokenizer_counter *counter; /* --lines: one cache of merged pieces for all the lines */
    const char *model;
    bool ids, special;
} job;

/* count one text and print its JSON object: head (the '{' and the opening fields), then the
 * count; nothing on stdout when it cannot be counted (the error names where: "line N: ", or "") */
static int one(const job *j, const char *head, const char *where, const char *text, size_t len)
{
    ic_error err = {0};
    if (!j->tok) {
        ic_text_count tc;
        if (ic_count_text_for_model(j->model, text, len, &tc, &err) != IC_OK) {
            ic_cli_error("count: %s%s", where, err.msg);
            return 1;
        }
        printf("%s\"tokens\":%llu,\"estimate\":true,\"family\":\"%s\",\"chars_per_token\":%.1f}\n",
               head, (unsigned long long)tc.tokens, tc.family, tc.chars_per_token);
        return 0;
    }
    unsigned fl = j->special ? IC_TOK_ALLOW_SPECIAL : 0;
    if (j->ids) {
        uint32_t *ids;
        size_t n;
        if (ic_tokenizer_encode(j->tok, text, len, fl, &ids, &n, &err) != IC_OK) {
            ic_cli_error("count: %s%s", where, err.msg);
            return 1;
        }
        fputs(head, stdout);
        put_u64("\"tokens\":", n, "");
        print_ids(ids, n);
        fputs("}\n", stdout);
        free(ids);
        return 0;
    }
    uint64_t n;
    if (ic_tokenizer_count(j->tok, text, len, fl, &n, &err) != IC_OK) {
        ic_cli_error("count: %s%s", where, err.msg);
        return 1;
    }
    fputs(head, stdout);
    put_u64("\"tokens\":", n, "}\n");
    return 0;
}

/* --lines, counting only: lines gathered in blocks, each block counted in one call through
 * one counter (ic_tokenizer_counter_count_many: one cache of merged pieces for all the lines,
 * and the lookups of many short lines overlapping). Memory: a block plus the longest line. */
#define BLOCK_LINES 1024
#define BLOCK_BYTES (1u << 20)
typedef struct block {
    char *buf;
    size_t len, cap, n, first; /* n lines; the first is line first + 1 */
    size_t off[BLOCK_LINES], lens[BLOCK_LINES];
    const char *texts[BLOCK_LINES];
    uint64_t counts[BLOCK_LINES];
} block;

/* count and print the block's lines; a line that cannot be counted is reported (and has no
 * output line), the others are still counted. 0, or 1 if a line failed */
static int flush_block(const job *j, block *b)
{
    int rc = 0;
    unsigned fl = j->special ? IC_TOK_ALLOW_SPECIAL : 0;
    for (size_t q = 0; q < b->n; q++)
        b->texts[q] = b->buf + b->off[q];
    for (size_t from = 0; from < b->n;) {
        size_t done;
        ic_error err = {0};
        ic_status st = ic_tokenizer_counter_count_many(j->counter, b->texts + from, b->lens + from,
                                                       b->n - from, fl, b->counts + from, &done,
                                                       &err);
        for (size_t q = from; q < from + done; q++) {
            put_u64("{\"line\":", b->first + q + 1, ",");
            put_u64("\"tokens\":", b->counts[q], "}\n");
        }
        if (st == IC_OK)
            break;
        ic_cli_error("count: line %zu: %s", b->first + from + done + 1, err.msg);
        rc = 1;
        from += done + 1;
    }
    b->first += b->n;
    b->n = b->len = 0;
    return rc;
}

static int count_lines(job *j, FILE *f, const char *name)
{
    ic_error err = {0};
    if (j->tok && !j->ids && ic_tokenizer_counter_new(&j->counter, j->tok, 0, &err) != IC_OK) {
        ic_cli_error("count: %s", err.msg);
        return 1;
    }
    block *b = j->counter ? calloc(1, sizeof *b) : NULL;
    if (b && !(b->buf = malloc(b->cap = 4096))) {
        free(b);
        b = NULL;
    }
    if (j->counter && !b) {
        ic_cli_error("count: out of memory");
        return 1;
    }
    int rc = 0;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        size_t tl = (size_t)got;
        if (line[tl - 1] == '\n' && --tl && line[tl - 1] == '\r')
            tl--;
        lineno++;
        if (!b) { /* ids, or an estimate: line by line */
            char head[48], where[48];
            snprintf(head, sizeof head, "{\"line\":%zu,", lineno);
            snprintf(where, sizeof where, "line %zu: ", lineno);
            if (one(j, head, where, line, tl))
                rc = 1;
            continue;
        }
        if (tl && b->len + tl > b->cap) {
            size_t nc = b->cap;
            while (nc < b->len + tl)
                nc *= 2;
            char *p = realloc(b->buf, nc);
            if (!p) {
                ic_cli_error("count: out of memory at line %zu", lineno);
                rc = 1;
                break;
            }
            b->buf = p;
            b->cap = nc;
        }
        if (tl)
            memcpy(b->buf + b->len, line, tl);
        b->off[b->n] = b->len;
        b->lens[b->n++] = tl;
        b->len += tl;
        if (b->n == BLOCK_LINES || b->len >= BLOCK_BYTES)
            rc |= flush_block(j, b);
    }
    if (b) {
        rc |= flush_block(j, b);
        free(b->buf);
        free(b);
    }
    if (ferror(f)) {
        ic_cli_error("%s: cannot read after line %zu", name, lineno);
        rc = 2;
    }
    free(line);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *encoding = NULL, *model = NULL, *path = NULL;
    job j = {0};
    bool lines = false;
    for (int i = 1; i < argc;) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = ic_cli_opt("--encoding", argc, argv, &i, &bad))) {
            encoding = v;
            continue;
        }
        if ((v = ic_cli_opt("--model", argc, argv, &i, &bad))) {
            model = v;
            continue;
        }
        if (bad)
            return 2;
        if (!strcmp(argv[i], "--ids"))
            j.ids = true;
        else if (!strcmp(argv[i], "--lines"))
            lines = true;
        else if (!strcmp(argv[i], "--special"))
            j.special = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            ic_cli_error("count: unknown option '%s'", argv[i]);
            fputs(usage_text, stderr);
            return 2;
        } else if (path) {
            ic_cli_error("count: one input file only ('%s' and '%s')", path, argv[i]);
            return 2;
        } else
            path = argv[i];
        i++;
    }
    if (encoding && model) {
        ic_cli_error("count: give --encoding or --model, not both");
        return 2;
    }
    if (model) {
        encoding = ic_tokenizer_encoding_for_model(model);
        if (!encoding && j.ids) {
            ic_cli_error("count: --ids needs an exact tokenizer; '%s' has no public one (its count "
                         "is an estimate)", model);
            return 2;
        }
        if (!encoding && j.special) {
            ic_cli_error("count: --special needs an exact tokenizer; '%s' has no public one", model);
            return 2;
        }
    } else if (!encoding) {
        encoding = "o200k_base";
    }
    ic_error err = {0};
    ic_tokenizer *tok = NULL;
    if (encoding && ic_tokenizer_open(&tok, encoding, &err) != IC_OK) {
        ic_cli_error("count: %s", err.msg);
        return 2;
    }
    j.tok = tok;
    j.model = model;
    FILE *f = ic_cli_open_input(path);
    if (!f) {
        ic_tokenizer_free(tok);
        return 2;
    }
    int rc = 0;
    if (lines) {
        rc = count_lines(&j, f, path ? path : "stdin");
        if (f != stdin)
            fclose(f);
    } else {
        size_t len = 0;
        char *text = ic_cli_read_all(f, &len);
        if (f != stdin)
            fclose(f);
        if (!text) {
            ic_cli_error("%s: cannot read", path ? path : "stdin");
            ic_tokenizer_free(tok);
            return 2;
        }
        char head[1024], mq[600];
        if (!tok)
            snprintf(head, sizeof head, "{\"model\":%s,", ic_cli_json_str(model, mq, sizeof mq));
        else if (model)
            snprintf(head, sizeof head, "{\"model\":%s,\"encoding\":\"%s\",",
                     ic_cli_json_str(model, mq, sizeof mq), encoding);
        else
            snprintf(head, sizeof head, "{\"encoding\":\"%s\",", encoding);
        rc = one(&j, head, "", text, len);
        free(text);
    }
    ic_tokenizer_counter_free(j.counter);
    ic_tokenizer_free(tok);
    if (fflush(stdout) != 0) {
        ic_cli_error("count: write error");
        return 1;
    }
    return rc;
}

IC_COMMAND(count, "count", "tokens in a text, exactly as tiktoken counts them (or an estimate)", run);
