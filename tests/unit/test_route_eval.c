/* test_route_eval.c: routing evaluation on sets small enough to work out by hand, the CSV and
 * MT-Bench readers on their edge cases, and the shipped sets' sizes and model qualities.
 *
 * The hand set (prompt, strong, weak): "one" 1/0, "one two" 1/0, "one two three" 1/1,
 * "one two three four" 0/0: strong 0.75, weak 0.25, gap 0.5.
 *   optimal (gain first): PGR 0 -> 1 at 50% -> 1: APGR 0.25 + 0.5 = 0.75, CPT(50%) 25%,
 *     CPT(80%) 40%
 *   prompt-tokens (4, 3, 2, 1 tokens, + 7 as gpt-4o chat requests: longest first): PGR 0, 0, 0, 0.5,
 *     1 at 0..100%: APGR 0.0625 + 0.1875 = 0.25, CPT(50%) 75%, CPT(80%) 90%; the gateway rule
 *     for half the gap: min_prompt_tokens 9
 *   regex:two (the last three, one tie group): PGR 0, 0.5 at 75%, 1: APGR 0.375
 *   keywords:FOUR (the last only): PGR 0, 0 at 25%, 1: APGR 0.375, CPT(50%) 62.5% */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "infercost/estimate.h"
#include "infercost/route_eval.h"
#include "test.h"

static char dir[] = "/tmp/ic_test_route_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[64][256]; /* a path stays valid for the next 63 calls */
    static int k;
    char *p = path[k++ % 64];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void t_hand_set(void)
{
    const char *p = write_file("hand.csv", "prompt,S,W\n"
                                           "one,True,False\n"
                                           "one two,1,0\n"
                                           "one two three,true,1\n"
                                           "one two three four,False,false\n");
    ic_route_set *s = NULL;
    ic_error err = {0};
    CHECK_INT(ic_route_set_load_csv(&s, "hand", p, "S", "W", NULL, &err), IC_OK);
    if (!s)
        return;
    CHECK_INT(s->n, 4);
    CHECK(s->binary);
    const char *routers[] = {"optimal", "prompt-tokens", "regex:two", "keywords:FOUR", "random"};
    ic_route_eval *e = NULL;
    CHECK_INT(ic_route_eval_run(s, routers, 5, &e, &err), IC_OK);
    if (e) {
        CHECK(NEAR(e->strong_quality, 0.75) && NEAR(e->weak_quality, 0.25));
        const ic_route_result *o = &e->results[0], *t = &e->results[1], *r = &e->results[2],
                              *k = &e->results[3];
        CHECK(NEAR(o->apgr, 0.75));
        CHECK(NEAR(o->cpt50, 0.25) && NEAR(o->cpt80, 0.4));
        CHECK(NEAR(t->apgr, 0.25));
        CHECK(NEAR(t->cpt50, 0.75) && NEAR(t->cpt80, 0.9));
        CHECK(NEAR(t->pgr_at[5], 0) && NEAR(t->pgr_at[10], 1));
        /* half the gap without splitting a tie: prompts of 2+ tokens, 75% of the calls */
        CHECK(NEAR(t->rule50_score, 2 + 7) && NEAR(t->rule50_share, 0.75) &&
              NEAR(t->rule50_pgr, 0.5));
        CHECK(NEAR(o->rule50_score, 1) && NEAR(o->rule50_share, 0.5) && NEAR(o->rule50_pgr, 1));
        CHECK(NEAR(t->quality_at[10], 0.75) && NEAR(t->quality_at[0], 0.25));
        CHECK(NEAR(r->apgr, 0.375) && NEAR(r->cpt50, 0.75));
        CHECK(NEAR(k->apgr, 0.375) && NEAR(k->cpt50, 0.625));
        CHECK(e->results[4].apgr >= 0 && e->results[4].apgr <= 1);
        char buf[8192];
        FILE *f = fmemopen(buf, sizeof buf, "w");
        const ic_route_eval *one[] = {e};
        CHECK_INT(ic_route_eval_write(one, 1, IC_FMT_JSON, f, &err), IC_OK);
        fclose(f);
        CHECK(strstr(buf, "\"router\":\"optimal\",\"apgr\":0.7500,\"cpt50\":0.2500,\"cpt80\":0.4000")
              != NULL);
        CHECK(strstr(buf, "\"prompts\":4,\"contaminated_left_out\":0") != NULL);
        f = fmemopen(buf, sizeof buf, "w");
        CHECK_INT(ic_route_eval_write(one, 1, IC_FMT_TABLE, f, &err), IC_OK);
        fclose(f);
        CHECK(strstr(buf, "S 75.0%, W 25.0% correct") != NULL);
        f = fmemopen(buf, sizeof buf, "w");
        CHECK_INT(ic_route_eval_write(one, 1, IC_FMT_CSV, f, &err), IC_ERR_INVALID);
        fclose(f);
    }
    ic_route_eval_free(e);
    /* prompt-tokens for another model counts as the gateway would for it: for Claude, the
     * family's estimate; "one two" as a request of one message */
    const char *pc[] = {"prompt-tokens:claude-sonnet-4-5"};
    CHECK_INT(ic_route_eval_run(s, pc, 1, &e, &err), IC_OK);
    if (e) {
        const char *body = "{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\","
                           "\"content\":\"one two\"}]}";
        ic_chat_count cnt;
        CHECK_INT(ic_chat_count_request(body, strlen(body), NULL, &cnt, &err), IC_OK);
        CHECK(cnt.method == IC_COUNT_RATIO);
        CHECK(NEAR(e->results[0].rule50_score, (double)cnt.prompt_tokens));
    }
    ic_route_eval_free(e);
    const char *pbad[] = {"prompt-tokens:"};
    CHECK_INT(ic_route_eval_run(s, pbad, 1, &e, &err), IC_ERR_INVALID);
    /* empty parts of a keyword list are skipped, not glued to the next keyword */
    const char *kws[] = {"keywords:FOUR", "keywords:,FOUR", "keywords:four,,", "keywords:x,,four"};
    CHECK_INT(ic_route_eval_run(s, kws, 4, &e, &err), IC_OK);
    for (size_t i = 0; e && i < 4; i++)
        CHECK(NEAR(e->results[i].apgr, 0.375));
    ic_route_eval_free(e);
    /* a regex that backtracks catastrophically on a prompt fails at the match limit, and says
     * so, instead of counting the prompt as not matched */
    ic_route_set *ls = NULL;
    char *big = malloc(200000);
    if (big) {
        size_t n = (size_t)snprintf(big, 200000, "prompt,S,W\n");
        for (int k = 0; k < 40; k++)
            big[n++] = 'a';
        n += (size_t)snprintf(big + n, 200000 - n, "b,1,0\nshort,0,0\n");
        p = write_file("redos.csv", big);
        free(big);
        CHECK_INT(ic_route_set_load_csv(&ls, "redos", p, "S", "W", NULL, &err), IC_OK);
        const char *redos[] = {"regex:(a+)+$|zzz"};
        CHECK_INT(ic_route_eval_run(ls, redos, 1, &e, &err), IC_ERR_INVALID);
        CHECK(strstr(err.msg, "matching failed on the prompt") != NULL);
        ic_route_set_free(ls);
    }
    /* errors: an unknown router, a bad regex, an empty keyword list */
    const char *bad[] = {"smart"}, *badre[] = {"regex:(unclosed"}, *nokw[] = {"keywords:,,"};
    CHECK_INT(ic_route_eval_run(s, bad, 1, &e, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "no router 'smart'") != NULL);
    CHECK_INT(ic_route_eval_run(s, badre, 1, &e, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "bad regex") != NULL);
    CHECK_INT(ic_route_eval_run(s, nokw, 1, &e, &err), IC_ERR_INVALID);
    CHECK(e == NULL);
    ic_route_set_free(s);
}

static void t_csv_reader(void)
{
    /* quoted fields with commas, line breaks and doubled quotes; CRLF; a blank line; an
     * excluded prompt; extra columns */
    const char *p = write_file("q.csv", "x,prompt,W,S\r\n"
                                        "a,\"He said \"\"hi\"\", then,\nleft\",0,1\r\n"
                                        "\r\n"
                                        "b,plain,0.5,2.5\n"
                                        "c,\"gone\",1,0\n");
    const char *ex = write_file("ex.jsonl", "{\"eval_prompt\":\"gone\",\"train_prompt\":\"x\"}\n");
    ic_route_set *s = NULL;
    ic_error err = {0};
    CHECK_INT(ic_route_set_load_csv(&s, "q", p, "S", "W", ex, &err), IC_OK);
    if (s) {
        CHECK_INT(s->n, 2);
        CHECK_INT(s->contaminated, 1);
        CHECK(!s->binary); /* 2.5 and 0.5 are scores */
        CHECK_STR(s->items[0].prompt, "He said \"hi\", then,\nleft");
        CHECK(s->items[0].strong == 1 && s->items[0].weak == 0);
        CHECK(s->items[1].strong == 2.5 && s->items[1].weak == 0.5);
    }
    ic_route_set_free(s);
    s = NULL;
    /* errors name the file, the line (of the record's start) and the field */
    p = write_file("bad1.csv", "prompt,S,W\n\"two\nlines\",1,0\nthird,yes,0\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bad1.csv:4: S: expected True, False or a number of at most 1e9, not "
                          "'yes'") != NULL);
    CHECK(s == NULL);
    p = write_file("bad2.csv", "prompt,S\nx,1\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bad2.csv:1: the header has no \"W\" column") != NULL);
    p = write_file("bad3.csv", "prompt,S,W\n\"open,1,0\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bad3.csv:2: a quoted field is not closed") != NULL);
    p = write_file("bad4.csv", "prompt,S,W\nx,1\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bad4.csv:2: 2 fields, the header has 3") != NULL);
    p = write_file("bad5.csv", "prompt,S,W\n\"x\"y,1,0\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "text after a quoted field") != NULL);
    p = write_file("bad6.csv", "prompt,S,W\n\xff\xfe,1,0\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "prompt: not valid UTF-8") != NULL);
    CHECK_INT(ic_route_set_load_csv(&s, "b", "/nonexistent/x.csv", "S", "W", NULL, &err), IC_ERR_IO);
    /* numbers: plain decimals of at most 1e9; no hex, no spaces, no overflow */
    const char *nums[] = {"0x1p3", " 1", "1e308", "-2e9", "inf", "nan", "1,5"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "prompt,S,W\nx,\"%s\",0\n", nums[i]);
        p = write_file("num.csv", text);
        CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    }
    p = write_file("num2.csv", "prompt,S,W\nx,-1e9,+.5\ny,8.25e1,1E2\n");
    CHECK_INT(ic_route_set_load_csv(&s, "n", p, "S", "W", NULL, &err), IC_OK);
    if (s)
        CHECK(s->items[0].strong == -1e9 && s->items[0].weak == 0.5 && s->items[1].weak == 100);
    ic_route_set_free(s);
    s = NULL;
    /* a byte order mark is skipped; a NUL byte, the same column twice and two columns that are
     * one are refused */
    p = write_file("bom.csv", "\xEF\xBB\xBFprompt,S,W\nx,1,0\n");
    CHECK_INT(ic_route_set_load_csv(&s, "bom", p, "S", "W", NULL, &err), IC_OK);
    if (s)
        CHECK_STR(s->items[0].prompt, "x");
    ic_route_set_free(s);
    s = NULL;
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite("prompt,S,W\nx,1,0\ny,1\0junk,0\n", 1, 29, f);
        fclose(f);
    }
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bom.csv:3: a NUL byte") != NULL);
    p = write_file("dup.csv", "prompt,S,W,prompt\nx,1,0,y\n");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "dup.csv:1: the column \"prompt\" appears twice") != NULL);
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "S", NULL, &err), IC_ERR_INVALID);
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "prompt", "W", NULL, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "two columns other than \"prompt\"") != NULL);
    CHECK(s == NULL);
    /* an empty file; a header without rows loads, but has nothing to evaluate */
    p = write_file("empty.csv", "");
    CHECK_INT(ic_route_set_load_csv(&s, "b", p, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "empty.csv:1: empty file") != NULL);
    p = write_file("head.csv", "prompt,S,W\n");
    CHECK_INT(ic_route_set_load_csv(&s, "head", p, "S", "W", NULL, &err), IC_OK);
    {
        ic_route_eval *none = NULL;
        const char *r0[] = {"random"};
        CHECK_INT(ic_route_eval_run(s, r0, 1, &none, &err), IC_ERR_PARSE);
        CHECK(strstr(err.msg, "head: no prompts to evaluate") != NULL);
    }
    ic_route_set_free(s);
    s = NULL;
    /* no gap: the strong model is not better */
    p = write_file("flat.csv", "prompt,S,W\nx,1,1\n");
    CHECK_INT(ic_route_set_load_csv(&s, "flat", p, "S", "W", NULL, &err), IC_OK);
    ic_route_eval *e = NULL;
    const char *r[] = {"random"};
    CHECK_INT(ic_route_eval_run(s, r, 1, &e, &err), IC_ERR_INVALID);
    CHECK(strstr(err.msg, "no gap") != NULL);
    ic_route_set_free(s);
}

static void t_mtbench(void)
{
    /* q1: strong 10 and 8 (mean 9), weak 6 and 6; q2: strong 7, 7, weak 8, 8; q3 left out
     * (its second turn is contaminated); another model's scores are ignored */
    const char *q = write_file("q.jsonl",
                               "{\"question_id\":1,\"turns\":[\"first one\",\"second one\"]}\n"
                               "{\"question_id\":2,\"turns\":[\"first two\",\"second two\"]}\n"
                               "{\"question_id\":3,\"turns\":[\"first three\",\"bad\"]}\n");
    const char *j = write_file("j.jsonl",
                               "{\"question_id\":1,\"model\":\"S\",\"score\":10,\"turn\":1}\n"
                               "{\"question_id\":1,\"model\":\"S\",\"score\":8,\"turn\":2}\n"
                               "{\"question_id\":1,\"model\":\"W\",\"score\":6,\"turn\":1}\n"
                               "{\"question_id\":1,\"model\":\"W\",\"score\":6.0,\"turn\":2}\n"
                               "{\"question_id\":2,\"model\":\"S\",\"score\":7,\"turn\":1}\n"
                               "{\"question_id\":2,\"model\":\"S\",\"score\":7,\"turn\":2}\n"
                               "{\"question_id\":2,\"model\":\"W\",\"score\":8,\"turn\":1}\n"
                               "{\"question_id\":2,\"model\":\"W\",\"score\":8,\"turn\":2}\n"
                               "{\"question_id\":2,\"model\":\"X\",\"score\":1,\"turn\":2}\n"
                               "{\"question_id\":3,\"model\":\"S\",\"score\":1,\"turn\":1}\n");
    const char *ex = write_file("mex.jsonl", "{\"eval_prompt\":\"bad\"}\n");
    ic_route_set *s = NULL;
    ic_error err = {0};
    CHECK_INT(ic_route_set_load_mtbench(&s, q, j, "S", "W", ex, &err), IC_OK);
    if (s) {
        CHECK_INT(s->n, 2);
        CHECK_INT(s->contaminated, 1);
        CHECK_STR(s->items[0].prompt, "first one");
        CHECK(NEAR(s->items[0].strong, 9) && NEAR(s->items[0].weak, 6));
        CHECK(NEAR(s->items[1].strong, 7) && NEAR(s->items[1].weak, 8));
    }
    ic_route_set_free(s);
    s = NULL;
    /* Markdown, with the gateway rule under the table */
    CHECK_INT(ic_route_set_load_mtbench(&s, q, j, "S", "W", ex, &err), IC_OK);
    if (s) {
        const char *r2[] = {"prompt-tokens"};
        ic_route_eval *e = NULL;
        CHECK_INT(ic_route_eval_run(s, r2, 1, &e, &err), IC_OK);
        char buf[4096];
        FILE *f = fmemopen(buf, sizeof buf, "w");
        const ic_route_eval *one[] = {e};
        CHECK_INT(ic_route_eval_write(one, 1, IC_FMT_MD, f, &err), IC_OK);
        fclose(f);
        CHECK(strstr(buf, "### mt-bench: 2 prompts (1 left out as contaminated)") != NULL);
        CHECK(strstr(buf, "S 8.000, W 7.000 mean score") != NULL);
        CHECK(strstr(buf, "| prompt-tokens |") != NULL);
        /* both first turns are 2 tokens: one tie group, all calls */
        CHECK(strstr(buf, "\"min_prompt_tokens\": 9 sends 100.0% of the calls to S") != NULL);
        ic_route_eval_free(e);
    }
    ic_route_set_free(s);
    s = NULL;
    /* bad lines in either file, and a question twice, are named */
    const char *bq = write_file("bq.jsonl", "{\"question_id\":1,\"turns\":[\"only one\"]}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, bq, j, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bq.jsonl:1: expected question_id and two string turns") != NULL);
    const char *dq = write_file("dq.jsonl", "{\"question_id\":1,\"turns\":[\"a\",\"b\"]}\n\n"
                                            "{\"question_id\":1,\"turns\":[\"c\",\"d\"]}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, dq, j, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "dq.jsonl:3: question_id 1 twice") != NULL);
    const char *bj = write_file("bj.jsonl", "{\"question_id\":1,\"model\":\"S\",\"score\":\"ten\",\"turn\":1}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, q, bj, "S", "W", ex, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bj.jsonl:1: expected question_id, model, score and turn") != NULL);
    const char *tj = write_file("tj.jsonl", "{\"question_id\":1,\"model\":\"S\",\"score\":1,\"turn\":3}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, q, tj, "S", "W", ex, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "tj.jsonl:1: turn must be 1 or 2") != NULL);
    const char *hj = write_file("hj.jsonl", "{\"question_id\":1,\"model\":\"S\",\"score\":1.7e308,\"turn\":1}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, q, hj, "S", "W", ex, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "hj.jsonl:1: turn must be 1 or 2 and score a number of at most 1e9") != NULL);
    const char *uq = write_file("uq.jsonl", "{\"question_id\":1,\"turns\":[\"\xff\",\"b\"]}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, uq, j, "S", "W", NULL, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "uq.jsonl:1: turns: not valid UTF-8") != NULL);
    const char *bx = write_file("bx.jsonl", "{\"train_prompt\":\"x\"}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, q, j, "S", "W", bx, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "bx.jsonl:1: eval_prompt: expected") != NULL);
    CHECK(s == NULL);
    /* a missing score is named */
    const char *j2 = write_file("j2.jsonl",
                                "{\"question_id\":1,\"model\":\"S\",\"score\":10,\"turn\":1}\n");
    CHECK_INT(ic_route_set_load_mtbench(&s, q, j2, "S", "W", ex, &err), IC_ERR_PARSE);
    CHECK(strstr(err.msg, "no score of S for the question \"first one\", turn 2") != NULL);
    CHECK(s == NULL);
}

static void t_shipped(void)
{
    /* the RouteLLM sets as shipped: their sizes after decontamination and the two models'
     * qualities as RouteLLM reports them */
    const char *d = "data/routellm";
    if (access(d, R_OK) != 0) {
        fprintf(stderr, "%s not found (run from the repository)\n", d);
        CHECK(0);
        return;
    }
    ic_route_set *s = NULL;
    ic_error err = {0};
    CHECK_INT(ic_route_set_load_builtin(&s, d, "gsm8k", &err), IC_OK);
    if (s) {
        CHECK_INT(s->n, 1307);
        CHECK_INT(s->contaminated, 12);
    }
    ic_route_set_free(s);
    CHECK_INT(ic_route_set_load_builtin(&s, d, "mmlu", &err), IC_OK);
    if (s) {
        CHECK_INT(s->n, 14037);
        CHECK_INT(s->contaminated, 5);
        const char *r[] = {"optimal"};
        ic_route_eval *e = NULL;
        CHECK_INT(ic_route_eval_run(s, r, 1, &e, &err), IC_OK);
        /* GPT-4 11,318 of 14,037 right (80.6%), Mixtral 9,563 (68.1%) */
        if (e)
            CHECK(fabs(e->strong_quality - 0.806) < 0.0005 && fabs(e->weak_quality - 0.681) < 0.0005);
        ic_route_eval_free(e);
    }
    ic_route_set_free(s);
    CHECK_INT(ic_route_set_load_builtin(&s, d, "mt-bench", &err), IC_OK);
    if (s)
        CHECK_INT(s->n, 72);
    ic_route_set_free(s);
    CHECK_INT(ic_route_set_load_builtin(&s, d, "arena", &err), IC_ERR_INVALID);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    RUN(t_hand_set);
    RUN(t_csv_reader);
    RUN(t_mtbench);
    RUN(t_shipped);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_END();
}
