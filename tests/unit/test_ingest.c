/* test_ingest.c: ingest.h on in-memory streams: record lines, blank and bad lines, a
 * pretty-printed OTLP document, a LiteLLM CSV export with a multi-line quoted field, duplicates,
 * both threading modes giving the same ledger; plus the exact helpers of report/economics
 * (half-even means, basis-point shares) and a report over what was ingested. */
#include <stdlib.h>
#include <unistd.h>

#include "infercost/catalog.h"
#include "infercost/economics.h"
#include "infercost/ingest.h"
#include "infercost/report.h"
#include "test.h"

static char dir[] = "/tmp/ic_test_ingest_XXXXXX";
static ic_catalog *cat;

typedef struct rej {
    int n;
    uint64_t line[16];
    char reason[16][200];
} rej;

static void on_reject(void *arg, const char *source, uint64_t line, const char *reason,
                      const char *text, size_t len)
{
    rej *r = arg;
    (void)source;
    (void)text;
    (void)len;
    if (r->n < 16) {
        r->line[r->n] = line;
        snprintf(r->reason[r->n], 200, "%s", reason);
    }
    r->n++;
}

static ic_status run(ic_ledger *l, const char *text, int threads, ic_ingest_stats *st, rej *r)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    ic_ingest_opts o = {.catalog = cat, .now_ms = 0, .batch = 2, .threads = threads,
                        .reject = on_reject, .arg = r};
    ic_error err = {0};
    ic_status s = ic_ingest_stream(l, &o, f, "mem", st, &err);
    if (s != IC_OK)
        fprintf(stderr, "ingest: %s\n", err.msg);
    fclose(f);
    return s;
}

static ic_ledger *fresh(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s.db", dir, name);
    ic_ledger *l = NULL;
    ic_error err = {0};
    if (ic_ledger_open(&l, p, false, &err) != IC_OK)
        fprintf(stderr, "%s\n", err.msg);
    return l;
}

static const char *records =
    "{\"id\":\"a\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T10:00:00Z\","
    "\"usage\":{\"input_tokens\":1000,\"output_tokens\":100},\"customer\":\"acme\"}\n"
    "\n"
    "   \n"
    "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T11:00:00Z\","
    "\"usage\":{\"input_tokens\":2000,\"output_tokens\":0},\"customer\":\"acme\"}\n"
    "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T11:00:00Z\","
    "\"usage\":{\"input_tokens\":1,\"cache_read_tokens\":2}}\n"
    "[1,2\n"
    "{\"id\":\"b\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"timestamp\":\"2026-03-02\","
    "\"usage\":{\"input_tokens\":1000000,\"output_tokens\":1000000},\"task\":\"t1\"}\n";

static void t_records(void)
{
    ic_ledger *l = fresh("rec");
    ic_ingest_stats st = {0};
    rej r = {0};
    CHECK_INT(run(l, records, 1, &st, &r), IC_OK);
    CHECK_INT(st.lines, 7);
    CHECK_INT(st.events, 3);
    CHECK_INT(st.inserted, 3);
    CHECK_INT(st.skipped, 2);
    CHECK_INT(st.rejected, 2);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.line[0], 5); /* cache_read > input */
    CHECK_INT(r.line[1], 6); /* malformed */
    /* 0.0025 + 0.001, 0.005, 0.15 + 0.6 */
    char m[IC_MONEY_STRLEN];
    CHECK_STR(ic_money_format(st.cost, m, sizeof m), "0.7585");
    /* again, with two threads: all duplicates */
    ic_ingest_stats st2 = {0};
    rej r2 = {0};
    CHECK_INT(run(l, records, 2, &st2, &r2), IC_OK);
    CHECK_INT(st2.inserted, 0);
    CHECK_INT(st2.duplicates, 3);
    CHECK_INT(st2.rejected, 2);
    CHECK(st2.cost == 0);
    ic_ledger_close(l);
}

static void t_threads_agree(void)
{
    ic_ledger *a = fresh("t1"), *b = fresh("t2");
    ic_ingest_stats sa = {0}, sb = {0};
    rej ra = {0}, rb = {0};
    CHECK_INT(run(a, records, 1, &sa, &ra), IC_OK);
    CHECK_INT(run(b, records, 2, &sb, &rb), IC_OK);
    ic_ledger_stats x, y;
    ic_error err;
    CHECK_INT(ic_ledger_stats_get(a, &x, &err), IC_OK);
    CHECK_INT(ic_ledger_stats_get(b, &y, &err), IC_OK);
    CHECK_INT(x.events, y.events);
    CHECK(x.cost == y.cost);
    CHECK(sa.cost == sb.cost);
    ic_ledger_close(a);
    ic_ledger_close(b);
}

static const char *otlp_doc =
    "{\n  \"resourceSpans\": [{\n    \"resource\": {\"attributes\": []},\n"
    "    \"scopeSpans\": [{\"spans\": [\n"
    "      {\"traceId\": \"t1\", \"spanId\": \"s1\", \"startTimeUnixNano\": 1772359200000000000,\n"
    "       \"endTimeUnixNano\": \"1772359200250000000\", \"attributes\": [\n"
    "        {\"key\": \"gen_ai.system\", \"value\": {\"stringValue\": \"anthropic\"}},\n"
    "        {\"key\": \"gen_ai.request.model\", \"value\": {\"stringValue\": \"claude-sonnet-4-5\"}},\n"
    "        {\"key\": \"gen_ai.usage.input_tokens\", \"value\": {\"intValue\": 100}},\n"
    "        {\"key\": \"gen_ai.usage.cache_read.input_tokens\", \"value\": {\"intValue\": \"1000\"}},\n"
    "        {\"key\": \"gen_ai.usage.output_tokens\", \"value\": {\"intValue\": \"10\"}}]},\n"
    "      {\"traceId\": \"t1\", \"spanId\": \"s2\", \"attributes\": []},\n"
    "      {\"traceId\": \"t1\", \"spanId\": \"s3\", \"attributes\": [\n"
    "        {\"key\": \"gen_ai.request.model\", \"value\": {\"stringValue\": \"gpt-4o\"}},\n"
    "        {\"key\": \"gen_ai.usage.input_tokens\", \"value\": {\"intValue\": \"-4\"}}]}\n"
    "    ]}]\n  }]\n}\n";

static int grab_event(const ic_event *e, void *arg)
{
    ic_event *out = arg;
    out->input_tokens = e->input_tokens;
    out->cache_read_tokens = e->cache_read_tokens;
    out->latency_ms = e->latency_ms;
    out->cost = e->cost;
    return 0;
}

static void t_otlp_document(void)
{
    ic_ledger *l = fresh("otlp");
    ic_ingest_stats st = {0};
    rej r = {0};
    CHECK_INT(run(l, otlp_doc, 1, &st, &r), IC_OK);
    CHECK_INT(st.inserted, 1);
    CHECK_INT(st.skipped, 1);
    CHECK_INT(st.rejected, 1);
    CHECK(strstr(r.reason[0], "s3") != NULL);
    ic_event e = {0};
    ic_error err;
    CHECK_INT(ic_ledger_scan_events(l, NULL, grab_event, &e, &err), IC_OK);
    /* Anthropic-style exclusive input: 100 + 1000 cache reads = 1100 total */
    CHECK_INT(e.input_tokens, 1100);
    CHECK_INT(e.cache_read_tokens, 1000);
    CHECK_INT(e.latency_ms, 250);
    /* 100 * 3e-6 + 1000 * 0.3e-6 + 10 * 15e-6 = 0.0003 + 0.0003 + 0.00015 */
    char m[IC_MONEY_STRLEN];
    CHECK_STR(ic_money_format(e.cost, m, sizeof m), "0.00075");
    ic_ledger_close(l);
}

/* A JSON document is read as strictly as a JSONL line: a trailing comma, or a NUL (\u0000, which json-c
 * cuts keys at: "input_tokens\u0000junk" would be priced as input_tokens) refuse it; counts out
 * of range (a timestamp past 2^64 ns, 1e300 tokens) are refused, not wrapped or cast */
static void t_strict_documents(void)
{
    static const char *const refused[] = {
        "[{\"id\":\"n1\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T10:00:00Z\","
        "\"usage\":{\"input_tokens\\u0000junk\":5000}}]\n",
        "[{\"id\":\"n2\",\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T10:00:00Z\","
        "\"usage\":{\"input_tokens\":10}},]\n",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"aa\",\"spanId\":\"s1\",\"startTimeUnixNano\":"
        "\"99999999999999999999999\",\"attributes\":[{\"key\":\"gen_ai.provider.name\",\"value\":"
        "{\"stringValue\":\"openai\"}},{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":"
        "\"gpt-4o\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"100\"}}]}]}]}]}\n",
        "[{\"request_id\":\"r9\",\"call_type\":\"acompletion\",\"model\":\"gpt-4o\",\"custom_llm_provider\":"
        "\"openai\",\"prompt_tokens\":1e300,\"completion_tokens\":1,\"startTime\":\"2026-03-01T00:00:00Z\"}]\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char name[32];
        snprintf(name, sizeof name, "strict%zu", i);
        ic_ledger *l = fresh(name);
        ic_ingest_stats st = {0};
        rej r = {0};
        CHECK_INT(run(l, refused[i], 1, &st, &r), IC_OK);
        CHECK_INT(st.inserted, 0);
        CHECK_INT(st.rejected, 1);
        static const char *const why[] = {"NUL character", "malformed JSON document",
                                           "no timestamp", "not a non-negative integer"};
        CHECK(strstr(r.reason[0], why[i]) != NULL);
        ic_ledger_close(l);
    }
}

static const char *litellm_csv =
    "request_id,model,custom_llm_provider,prompt_tokens,completion_tokens,startTime,metadata,"
    "end_user\n"
    "r1,gpt-4o-mini,openai,1000,10,2026-03-01T00:00:00Z,\"{\"\"a\"\":\n\"\"b\"\"}\",acme\n"
    "r2,gpt-4o-mini,openai,abc,10,2026-03-01T00:00:00Z,,acme\n"
    "r3,gpt-4o-mini,openai,1000\n";

static void t_litellm_csv(void)
{
    ic_ledger *l = fresh("csv");
    ic_ingest_stats st = {0};
    rej r = {0};
    CHECK_INT(run(l, litellm_csv, 2, &st, &r), IC_OK);
    CHECK_INT(st.inserted, 1);
    CHECK_INT(st.rejected, 2);
    CHECK_INT(r.line[0], 4); /* the record after the two-line one */
    CHECK(strstr(r.reason[0], "r2") != NULL);
    CHECK_INT(r.line[1], 5);
    CHECK(strstr(r.reason[1], "fields") != NULL);
    ic_ledger_close(l);
}

/* The block reader: a line of 3 MiB (longer than its 1 MiB reads) between good lines, CRLF line
 * ends, and a last line without a newline; line numbers and byte counts stay exact. */
static void t_long_lines(void)
{
    ic_ledger *l = fresh("long");
    const char *good = "{\"id\":\"g%d\",\"provider\":\"openai\",\"model\":\"gpt-4o\","
                       "\"timestamp\":\"2026-03-01T10:00:0%dZ\",\"usage\":{\"input_tokens\":10}}";
    size_t big = 3u << 20, cap = big + 4096, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text + n, cap - n, good, 1, 1);
    n += (size_t)snprintf(text + n, cap - n, "\r\n");
    text[n++] = '{';
    memset(text + n, 'x', big);
    n += big;
    text[n++] = '\n';
    n += (size_t)snprintf(text + n, cap - n, good, 2, 2);
    n += (size_t)snprintf(text + n, cap - n, "\r\n");
    n += (size_t)snprintf(text + n, cap - n, good, 3, 3); /* no newline at the end */
    ic_ingest_stats st = {0};
    rej r = {0};
    CHECK_INT(run(l, text, 2, &st, &r), IC_OK);
    CHECK_INT(st.lines, 4);
    CHECK_INT(st.bytes, n);
    CHECK_INT(st.inserted, 3);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.line[0], 2);
    free(text);
    ic_ledger_close(l);
}

static void t_exact_helpers(void)
{
    CHECK(ic_money_div_round(5, 2) == 2);  /* 2.5 -> 2 */
    CHECK(ic_money_div_round(7, 2) == 4);  /* 3.5 -> 4 */
    CHECK(ic_money_div_round(-7, 2) == -4);
    CHECK(ic_money_div_round(10, 3) == 3);
    CHECK(ic_money_div_round(11, 3) == 4);
    CHECK(ic_money_div_round(1, 0) == 0);
    CHECK_INT(ic_cost_share_bp(1, 8), 1250);
    CHECK_INT(ic_cost_share_bp(-1, 8), -1250);
    CHECK_INT(ic_cost_share_bp(1, 0), INT64_MIN);
    CHECK_INT(ic_cost_share_bp(1, 160000), 0);      /* 0.0625 bp -> 0 */
    CHECK_INT(ic_cost_share_bp(3, 20000), 2);       /* 1.5 bp -> 2 (half-even) */
    CHECK_INT(ic_cost_share_bp(5, 20000), 2);       /* 2.5 bp -> 2 */
    CHECK_INT(ic_dim_parse("week"), IC_DIM_WEEK);
    CHECK_INT(ic_dim_parse("weeks"), -1);
}

static void t_report_weeks(void)
{
    ic_ledger *l = fresh("weeks");
    ic_error err = {0};
    /* 2026-12-31 is a Thursday of ISO week 2026-W53; 2027-01-04 starts 2027-W01 */
    ic_event e[2] = {{.id = "x", .t_ms = 1798675200000, .provider = "p", .model = "m",
                      .cost = 3, .latency_ms = -1},
                     {.id = "y", .t_ms = 1798675200000 + 4 * 86400000LL, .provider = "p",
                      .model = "m", .cost = 4, .latency_ms = -1}};
    CHECK_INT(ic_ledger_append(l, e, 2, NULL, NULL, &err), IC_OK);
    ic_report_opts o = {.ndims = 1, .dims = {IC_DIM_WEEK}};
    ic_report *r = NULL;
    CHECK_INT(ic_report_build(l, &o, &r, &err), IC_OK);
    if (r) {
        CHECK_INT(r->nrows, 2);
        CHECK_STR(r->rows[0].key[0], "2026-W53");
        CHECK_STR(r->rows[1].key[0], "2027-W01");
        CHECK(r->total.cost == 7);
        CHECK_INT(r->nmonths, 2);
    }
    ic_report_free(r);
    ic_ledger_close(l);
}

/* provider keys cut out of text (ic_redact_keys, status.h); fake keys only, and built from pieces
 * so that no key-shaped text stands in the source */
#define F16 "FAKEFAKE" "FAKEFAKE"
static void redact_is(const char *in, const char *want)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", in);
    buf[ic_redact_keys(buf, strlen(buf))] = 0;
    if (strcmp(buf, want)) {
        fprintf(stderr, "redact '%s': got '%s', want '%s'\n", in, buf, want);
        ic_t_bad = 1;
    }
}

static void t_redact(void)
{
    redact_is("a sk-" "proj-" F16 "00 b", "a sk-pro[redacted] b");
    redact_is("AIza" F16 "FAKE,sk-" "ant-api03-" F16, "AIzaFA[redacted],sk-ant[redacted]");
    /* after a JSON escape, as in a refused line or the tags */
    redact_is("note:\\nsk-" "proj-" F16 "00", "note:\\nsk-pro[redacted]");
    redact_is("x\\u000aAIza" F16 "00", "x\\u000aAIzaFA[redacted]");
    /* cut short at the end of the text (a message cut to its buffer): starred */
    redact_is("got sk-proj-FAKEFA", "got sk-***********");
    /* not keys: inside a word, too short in the middle of a text */
    redact_is("task-" F16 "FAKE0", "task-" F16 "FAKE0");
    redact_is("sk-learn is fine", "sk-learn is fine");
    /* part of a key, cut by a precision inside a message: starred */
    redact_is("got \"sk-proj-FAKEFAK\" here", "got \"sk-************\" here");
    /* every library message goes through it, cut or not */
    ic_error e;
    char pad[600];
    memset(pad, 'x', sizeof pad);
    ic_error_set(&e, IC_ERR_INVALID, "%.*s sk-" "proj-" F16 "00", 495, pad);
    CHECK(strstr(e.msg, "FAKEFA") == NULL);
    ic_error_set(&e, IC_ERR_INVALID, "unknown provider \"%s\"", "sk-" "proj-" F16 "00");
    CHECK_STR(e.msg, "unknown provider \"sk-pro[redacted]\"");
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    ic_error err = {0};
    if (ic_catalog_open(&cat, NULL, &err) != IC_OK) {
        fprintf(stderr, "catalog: %s\n", err.msg);
        return 1;
    }
    RUN(t_redact);
    RUN(t_records);
    RUN(t_threads_agree);
    RUN(t_otlp_document);
    RUN(t_strict_documents);
    RUN(t_litellm_csv);
    RUN(t_long_lines);
    RUN(t_exact_helpers);
    RUN(t_report_weeks);
    ic_catalog_free(cat);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
