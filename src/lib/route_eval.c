/* route_eval.c: routing rules measured on prompts with known outcomes (route_eval.h). Loads the
 * evaluation sets (CSV through csvin.h, quoted fields spanning lines; json-c for the JSONL files), scores
 * each prompt by the router, sorts by score and walks the curve of quality against the share of
 * strong calls, ties moving together. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "infercost/route_eval.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "infercost/record.h"
#include "infercost/estimate.h"
#include "infercost/report.h"
#include "infercost/tokenizer.h"
#include "csvin.h"
#include "fileread.h"
#include "strmap.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- CSV: records framed here (a quoted field may span lines), split by csvin.h ---- */

#define CSV_MAXF 256

typedef struct csvp {
    char *p, *end;
    size_t line;        /* line of the record being read */
    char *f[CSV_MAXF];  /* fields of the current record: pointers into the buffer */
    size_t n;
} csvp;

/* 1: a record in c->f; 0: end of input; -1: a malformed record (*why) */
static int csv_next(csvp *c, const char **why)
{
    if (c->p >= c->end)
        return 0;
    char *rec = c->p, *q = c->p;
    bool in = false;
    size_t breaks = 0;
    for (; q < c->end; q++) {
        if (*q == '"')
            in = !in;
        else if (!in && (*q == '\n' || *q == '\r'))
            break;
        else if (*q == '\n')
            breaks++;
    }
    if (in) {
        *why = "a quoted field is not closed";
        return -1;
    }
    size_t len = (size_t)(q - rec);
    if (q < c->end && *q == '\r' && q + 1 < c->end && q[1] == '\n')
        q++;
    c->p = q < c->end ? q + 1 : c->end;
    c->line += breaks;
    int n = ic__csv_split(rec, len, c->f, CSV_MAXF);
    if (n < 0) {
        *why = "text after a quoted field, or more than 256 columns";
        return -1;
    }
    c->n = (size_t)n;
    return 1;
}

/* ---- JSONL: the lines of a buffer read whole (NUL-terminated past its end) ---- */

typedef struct jsonl {
    char *p, *end;
    size_t line; /* of the line last returned */
} jsonl;

/* the next line that is not blank, NUL-terminated in place; NULL at the end */
static char *jsonl_next(jsonl *j)
{
    while (j->p < j->end) {
        char *s = j->p, *nl = memchr(s, '\n', (size_t)(j->end - s));
        if (!nl)
            nl = j->end;
        *nl = 0;
        j->p = nl + 1;
        j->line++;
        if (strspn(s, " \t\r") != strlen(s))
            return s;
    }
    return NULL;
}

/* ---- sets ---- */

void ic_route_set_free(ic_route_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].prompt);
    free(s->items);
    free(s->name);
    free(s->strong_model);
    free(s->weak_model);
    free(s);
}

static ic_route_set *set_new(const char *name, const char *strong, const char *weak, bool binary,
                             ic_error *err)
{
    ic_route_set *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name)) || !(s->strong_model = strdup(strong)) ||
        !(s->weak_model = strdup(weak))) {
        ic_route_set_free(s);
        ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->binary = binary;
    return s;
}

static ic_status add_item(ic_route_set *s, const char *prompt, double strong, double weak,
                          ic_error *err)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        ic_route_item *ni = realloc(s->items, nc * sizeof *ni);
        if (!ni)
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        s->items = ni;
        s->cap = nc;
    }
    char *p = strdup(prompt);
    if (!p)
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    s->items[s->n++] = (ic_route_item){p, strong, weak};
    if ((strong != 0 && strong != 1) || (weak != 0 && weak != 1))
        s->binary = false;
    return IC_OK;
}

/* drop the items from index n on (a file that failed part-way adds nothing) */
static void truncate_items(ic_route_set *s, size_t n)
{
    while (s->n > n)
        free(s->items[--s->n].prompt);
}

/* the "eval_prompt" of every line of a JSONL file, into m */
static ic_status load_exclude(ic_smap *m, const char *path, ic_error *err)
{
    if (!path)
        return IC_OK;
    size_t len;
    char *buf;
    ic_status st = ic__read_file(path, &buf, &len, err);
    if (st != IC_OK)
        return st;
    jsonl j = {buf, buf + len, 0};
    for (char *p; st == IC_OK && (p = jsonl_next(&j));) {
        size_t line = j.line;
        json_object *o = json_tokener_parse(p), *v;
        if (!o || !json_object_object_get_ex(o, "eval_prompt", &v) ||
            !json_object_is_type(v, json_type_string)) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: eval_prompt: expected a JSON object "
                              "with an \"eval_prompt\" string", path, line);
        } else {
            bool fresh;
            if (ic__smap_get(m, json_object_get_string(v), 1, &fresh) == SIZE_MAX)
                st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        }
        json_object_put(o);
    }
    free(buf);
    return st;
}

/* whether load_exclude put prompt in m */
static bool excluded(const ic_smap *m, const char *prompt)
{
    return ic__smap_find(m, prompt) != SIZE_MAX;
}

/* True/False (any case of the first letter), or a plain decimal number ("7", "-0.5", "8.25e1")
 * of magnitude at most IC_ROUTE_OUTCOME_MAX, so that sums over any set stay exact enough */
static bool parse_outcome(const char *s, double *out)
{
    if (!strcmp(s, "True") || !strcmp(s, "true")) {
        *out = 1;
        return true;
    }
    if (!strcmp(s, "False") || !strcmp(s, "false")) {
        *out = 0;
        return true;
    }
    const char *p = s + (*s == '-' || *s == '+');
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q) && !strchr(".eE+-", *q))
            return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || fabs(v) > IC_ROUTE_OUTCOME_MAX)
        return false;
    *out = v;
    return true;
}

/* Append the rows of one CSV file to s, leaving out the prompts in ex; on failure s is as it was. */
static ic_status load_csv_into(ic_route_set *s, const char *path, const char *strong_col,
                               const char *weak_col, const ic_smap *ex, ic_error *err)
{
    if (!strcmp(strong_col, weak_col) || !strcmp(strong_col, "prompt") ||
        !strcmp(weak_col, "prompt"))
        return ic_error_set(err, IC_ERR_INVALID, "%s: the strong and weak columns must be two "
                            "columns other than \"prompt\", not '%s' and '%s'", path, strong_col,
                            weak_col);
    size_t len = 0;
    char *buf = NULL;
    ic_status st = ic__read_file(path, &buf, &len, err);
    if (st != IC_OK)
        return st;
    size_t first = s->n, contaminated = s->contaminated;
    bool binary = s->binary;
    csvp c = {.p = buf, .end = buf + len, .line = 1};
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        c.p += 3; /* a UTF-8 byte order mark (Excel's "CSV UTF-8") */
    const char *nul = memchr(buf, 0, len);
    if (nul) {
        size_t line = 1;
        for (const char *q = buf; q < nul; q++)
            line += *q == '\n';
        st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: a NUL byte", path, line);
    }
    const char *why = NULL;
    int ip = -1, is = -1, iw = -1;
    size_t ncols = 0;
    if (st == IC_OK) {
        int r = csv_next(&c, &why);
        if (r <= 0) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:1: %s", path, r < 0 ? why : "empty file");
        } else {
            ncols = c.n;
            for (size_t i = 0; i < c.n && st == IC_OK; i++) {
                int *slot = !strcmp(c.f[i], "prompt")   ? &ip
                            : !strcmp(c.f[i], strong_col) ? &is
                            : !strcmp(c.f[i], weak_col)   ? &iw
                                                          : NULL;
                if (slot && *slot >= 0)
                    st = ic_error_set(err, IC_ERR_PARSE, "%s:1: the column \"%s\" appears twice",
                                      path, c.f[i]);
                else if (slot)
                    *slot = (int)i;
            }
            if (st == IC_OK && (ip < 0 || is < 0 || iw < 0))
                st = ic_error_set(err, IC_ERR_PARSE, "%s:1: the header has no \"%s\" column",
                                  path, ip < 0 ? "prompt" : is < 0 ? strong_col : weak_col);
        }
    }
    while (st == IC_OK) {
        c.line++;
        size_t line = c.line;
        int r = csv_next(&c, &why);
        if (r == 0)
            break;
        if (r < 0) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: %s", path, line, why);
            break;
        }
        if (c.n == 1 && !c.f[0][0])
            continue; /* a blank line */
        if (c.n != ncols) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: %zu fields, the header has %zu", path,
                              line, c.n, ncols);
            break;
        }
        double sv, wv;
        bool s_ok = parse_outcome(c.f[is], &sv), w_ok = parse_outcome(c.f[iw], &wv);
        if (!s_ok || !w_ok) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: %s: expected True, False or a number "
                              "of at most 1e9, not '%.40s'", path, line,
                              s_ok ? weak_col : strong_col, s_ok ? c.f[iw] : c.f[is]);
            break;
        }
        if (!ic_utf8_valid(c.f[ip], strlen(c.f[ip]))) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: prompt: not valid UTF-8", path, line);
            break;
        }
        if (excluded(ex, c.f[ip]))
            s->contaminated++;
        else
            st = add_item(s, c.f[ip], sv, wv, err);
    }
    free(buf);
    if (st != IC_OK) {
        truncate_items(s, first);
        s->contaminated = contaminated;
        s->binary = binary;
    }
    return st;
}

ic_status ic_route_set_load_csv(ic_route_set **set, const char *name, const char *path,
                                const char *strong_col, const char *weak_col,
                                const char *exclude_path, ic_error *err)
{
    *set = NULL;
    ic_smap ex = {0};
    ic_status st = load_exclude(&ex, exclude_path, err);
    ic_route_set *s = st == IC_OK ? set_new(name, strong_col, weak_col, true, err) : NULL;
    if (st == IC_OK && !s)
        st = IC_ERR_NOMEM;
    if (st == IC_OK)
        st = load_csv_into(s, path, strong_col, weak_col, &ex, err);
    ic__smap_free(&ex);
    if (st != IC_OK) {
        ic_route_set_free(s);
        return st;
    }
    *set = s;
    return IC_OK;
}

ic_status ic_route_set_load_mtbench(ic_route_set **set, const char *questions_path,
                                    const char *judgements_path, const char *strong_model,
                                    const char *weak_model, const char *exclude_path,
                                    ic_error *err)
{
    *set = NULL;
    ic_smap ex = {0}, qids = {0};
    ic_status st = load_exclude(&ex, exclude_path, err);
    size_t qlen = 0, jlen = 0;
    char *qbuf = NULL, *jbuf = NULL;
    if (st == IC_OK)
        st = ic__read_file(questions_path, &qbuf, &qlen, err);
    if (st == IC_OK)
        st = ic__read_file(judgements_path, &jbuf, &jlen, err);
    if (st != IC_OK) {
        free(qbuf);
        ic__smap_free(&ex);
        return st;
    }
    ic_route_set *s = set_new("mt-bench", strong_model, weak_model, false, err);
    if (!s)
        st = IC_ERR_NOMEM;
    /* scores[k][model][turn], k = the item's index */
    double (*sum)[2][2] = NULL;
    int (*cnt)[2][2] = NULL;
    jsonl j = {qbuf, qbuf + qlen, 0};
    for (char *p; st == IC_OK && (p = jsonl_next(&j));) {
        size_t line = j.line;
        json_object *o = json_tokener_parse(p), *id, *turns;
        if (!o || !json_object_object_get_ex(o, "question_id", &id) ||
            !json_object_object_get_ex(o, "turns", &turns) ||
            !json_object_is_type(turns, json_type_array) || json_object_array_length(turns) < 2 ||
            !json_object_is_type(json_object_array_get_idx(turns, 0), json_type_string) ||
            !json_object_is_type(json_object_array_get_idx(turns, 1), json_type_string)) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: expected question_id and two string "
                              "turns", questions_path, line);
        } else {
            const char *t1 = json_object_get_string(json_object_array_get_idx(turns, 0));
            const char *t2 = json_object_get_string(json_object_array_get_idx(turns, 1));
            if (!ic_utf8_valid(t1, strlen(t1)) || !ic_utf8_valid(t2, strlen(t2))) {
                st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: turns: not valid UTF-8",
                                  questions_path, line);
            } else if (excluded(&ex, t1) || excluded(&ex, t2)) {
                s->contaminated++;
            } else {
                bool fresh;
                size_t k = ic__smap_get(&qids, json_object_get_string(id), s->n, &fresh);
                if (k == SIZE_MAX)
                    st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                else if (!fresh)
                    st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: question_id %s twice",
                                      questions_path, line, json_object_get_string(id));
                else
                    st = add_item(s, t1, 0, 0, err);
            }
        }
        json_object_put(o);
    }
    size_t nq = s ? s->n : 0;
    if (st == IC_OK && (!(sum = calloc(nq ? nq : 1, sizeof *sum)) ||
                        !(cnt = calloc(nq ? nq : 1, sizeof *cnt))))
        st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    jsonl jj = {jbuf, jbuf + jlen, 0};
    for (char *p; st == IC_OK && (p = jsonl_next(&jj));) {
        size_t line = jj.line;
        json_object *o = json_tokener_parse(p), *id, *model, *score, *turn;
        if (!o || !json_object_object_get_ex(o, "question_id", &id) ||
            !json_object_object_get_ex(o, "model", &model) ||
            !json_object_object_get_ex(o, "score", &score) ||
            !json_object_object_get_ex(o, "turn", &turn) ||
            !json_object_is_type(model, json_type_string) ||
            !(json_object_is_type(score, json_type_int) ||
              json_object_is_type(score, json_type_double)) ||
            !json_object_is_type(turn, json_type_int)) {
            st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: expected question_id, model, score "
                              "and turn", judgements_path, line);
            json_object_put(o);
            break;
        }
        const char *m = json_object_get_string(model);
        int mi = !strcmp(m, strong_model) ? 0 : !strcmp(m, weak_model) ? 1 : -1;
        int64_t t = json_object_get_int64(turn);
        double sc = json_object_get_double(score);
        bool fresh; /* a question not kept (left out, or not in the questions) gets nq */
        size_t k = mi < 0 ? nq : ic__smap_get(&qids, json_object_get_string(id), nq, &fresh);
        if (k == SIZE_MAX) {
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        } else if (k < nq) {
            if (t < 1 || t > 2 || !(fabs(sc) <= IC_ROUTE_OUTCOME_MAX)) {
                st = ic_error_set(err, IC_ERR_PARSE, "%s:%zu: turn must be 1 or 2 and score a "
                                  "number of at most 1e9", judgements_path, line);
            } else {
                sum[k][mi][t - 1] += sc;
                cnt[k][mi][t - 1]++;
            }
        }
        json_object_put(o);
    }
    /* each question: the mean of each model's two turns (a turn judged twice: their mean) */
    for (size_t k = 0; st == IC_OK && k < nq; k++) {
        for (int mi = 0; mi < 2 && st == IC_OK; mi++) {
            double q = 0;
            for (int t = 0; t < 2; t++) {
                if (!cnt[k][mi][t]) {
                    st = ic_error_set(err, IC_ERR_PARSE, "%s: no score of %s for the question "
                                      "\"%.60s\", turn %d", judgements_path,
                                      mi ? weak_model : strong_model, s->items[k].prompt, t + 1);
                    break;
                }
                q += sum[k][mi][t] / cnt[k][mi][t] / 2;
            }
            if (mi == 0)
                s->items[k].strong = q;
            else
                s->items[k].weak = q;
        }
    }
    free(sum);
    free(cnt);
    free(qbuf);
    free(jbuf);
    ic__smap_free(&ex);
    ic__smap_free(&qids);
    if (st != IC_OK) {
        ic_route_set_free(s);
        return st;
    }
    *set = s;
    return IC_OK;
}

#define STRONG "gpt-4-1106-preview"
#define WEAK "mistralai/Mixtral-8x7B-Instruct-v0.1"

static const char *const mmlu_domains[] = {
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
    "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics",
    "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
    "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations", "security_studies",
    "sociology", "us_foreign_policy", "virology", "world_religions"};

ic_status ic_route_set_load_builtin(ic_route_set **set, const char *dir, const char *name,
                                    ic_error *err)
{
    char a[4096], b[4096], c[4096];
    *set = NULL;
    if (!strcmp(name, "mt-bench")) {
        snprintf(a, sizeof a, "%s/mt_bench_question.jsonl", dir);
        snprintf(b, sizeof b, "%s/mt_bench__judgements.jsonl", dir);
        snprintf(c, sizeof c, "%s/mt_bench__contaminated_prompts.jsonl", dir);
        return ic_route_set_load_mtbench(set, a, b, STRONG, WEAK, c, err);
    }
    if (!strcmp(name, "gsm8k")) {
        snprintf(a, sizeof a, "%s/gsm8k__gsm8k_responses.csv", dir);
        snprintf(c, sizeof c, "%s/gsm8k__contaminated_prompts.jsonl", dir);
        return ic_route_set_load_csv(set, "gsm8k", a, STRONG, WEAK, c, err);
    }
    if (!strcmp(name, "mmlu")) { /* 57 files, one exclusion list */
        snprintf(c, sizeof c, "%s/mmlu__contaminated_prompts.jsonl", dir);
        ic_smap ex = {0};
        ic_status st = load_exclude(&ex, c, err);
        ic_route_set *s = st == IC_OK ? set_new("mmlu", STRONG, WEAK, true, err) : NULL;
        if (st == IC_OK && !s)
            st = IC_ERR_NOMEM;
        for (size_t i = 0; st == IC_OK && i < sizeof mmlu_domains / sizeof mmlu_domains[0]; i++) {
            snprintf(a, sizeof a, "%s/mmlu/mmlu_%s.csv", dir, mmlu_domains[i]);
            st = load_csv_into(s, a, STRONG, WEAK, &ex, err);
        }
        ic__smap_free(&ex);
        if (st != IC_OK) {
            ic_route_set_free(s);
            return st;
        }
        *set = s;
        return IC_OK;
    }
    return ic_error_set(err, IC_ERR_INVALID, "no evaluation set '%s' (mt-bench, gsm8k, mmlu)",
                        name);
}

/* ---- routers and the curve ---- */

typedef struct scored {
    double score;
    size_t i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n)
        return false;
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n))
            return true;
    return false;
}

static ic_status score_items(const ic_route_set *s, const char *router, scored *sc,
                             ic_error *err)
{
    if (!strcmp(router, "random")) {
        for (size_t i = 0; i < s->n; i++)
            sc[i].score = (double)(XXH3_64bits(s->items[i].prompt, strlen(s->items[i].prompt)) >>
                                   11);
    } else if (!strcmp(router, "optimal")) {
        for (size_t i = 0; i < s->n; i++)
            sc[i].score = s->items[i].strong - s->items[i].weak;
    } else if (!strcmp(router, "prompt-tokens") || !strncmp(router, "prompt-tokens:", 14)) {
        /* each prompt as the chat request of one user message that the gateway would count for
         * the model (ic_chat_count_request: exact for OpenAI's encodings, else the family's
         * estimate), so that the threshold printed is the gateway's min_prompt_tokens */
        const char *model = router[13] == ':' ? router + 14 : "gpt-4o";
        size_t mlen = strlen(model), cap = 0;
        char *body = NULL;
        ic_count_cache *cc = ic_count_cache_new(0);
        ic_status st = cc && *model && mlen <= 256 ? IC_OK : IC_ERR_INVALID;
        if (!cc)
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        else if (st != IC_OK)
            st = ic_error_set(err, IC_ERR_INVALID, "router %s: a model of 1 to 256 bytes", router);
        for (size_t i = 0; st == IC_OK && i < s->n; i++) {
            size_t plen = strlen(s->items[i].prompt), need = 6 * plen + 2 * mlen + 128;
            if (need > cap) {
                char *nb = realloc(body, need);
                if (!nb) {
                    st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
                    break;
                }
                body = nb;
                cap = need;
            }
            size_t n = (size_t)snprintf(body, cap, "{\"model\":");
            n += ic_json_quote(model, mlen, body + n, cap - n);
            n += (size_t)snprintf(body + n, cap - n, ",\"messages\":[{\"role\":\"user\",\"content\":");
            n += ic_json_quote(s->items[i].prompt, plen, body + n, cap - n);
            n += (size_t)snprintf(body + n, cap - n, "}]}");
            ic_chat_count cnt;
            st = ic_chat_count_request_in(cc, body, n, NULL, &cnt, err);
            sc[i].score = (double)cnt.prompt_tokens;
        }
        free(body);
        ic_count_cache_free(cc);
        if (st != IC_OK)
            return st;
    } else if (!strncmp(router, "keywords:", 9)) {
        /* the list cut at its commas in a copy; empty parts ("a,,b") are skipped */
        char *list = strdup(router + 9);
        const char **kw = calloc(strlen(router + 9) / 2 + 2, sizeof *kw);
        size_t nk = 0;
        if (!list || !kw) {
            free(list);
            free(kw);
            return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        }
        for (char *k = list, *comma;; k = comma + 1) {
            comma = strchr(k, ',');
            if (comma)
                *comma = 0;
            if (*k)
                kw[nk++] = k;
            if (!comma)
                break;
        }
        for (size_t i = 0; i < s->n; i++) {
            bool any = false;
            for (size_t k = 0; k < nk && !any; k++)
                any = ci_contains(s->items[i].prompt, kw[k]);
            sc[i].score = any;
        }
        free(list);
        free(kw);
        if (!nk)
            return ic_error_set(err, IC_ERR_INVALID, "router %s: no keyword", router);
    } else if (!strncmp(router, "regex:", 6)) {
        int ec;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)(router + 6), PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &ec, &off, NULL);
        if (!re) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(ec, msg, sizeof msg);
            return ic_error_set(err, IC_ERR_INVALID, "router %s: bad regex at offset %zu: %s",
                                router, (size_t)off, (char *)msg);
        }
        if (!getenv("INFERCOST_NO_JIT")) /* as the gateway compiles it (see config.c) */
            pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        pcre2_match_context *mc = pcre2_match_context_create(NULL);
        ic_status st = IC_OK;
        if (!md || !mc)
            st = ic_error_set(err, IC_ERR_NOMEM, "out of memory");
        else
            pcre2_set_match_limit(mc, IC_ROUTE_REGEX_MATCH_LIMIT);
        for (size_t i = 0; st == IC_OK && i < s->n; i++) {
            int rc = pcre2_match(re, (PCRE2_SPTR)s->items[i].prompt, strlen(s->items[i].prompt), 0,
                                 0, md, mc);
            if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
                PCRE2_UCHAR msg[128];
                pcre2_get_error_message(rc, msg, sizeof msg);
                st = ic_error_set(err, IC_ERR_INVALID, "router %s: matching failed on the prompt "
                                  "\"%.60s\" (%s): the gateway would not route it either; "
                                  "simplify the pattern", router, s->items[i].prompt, (char *)msg);
            }
            sc[i].score = rc >= 0;
        }
        pcre2_match_context_free(mc);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        if (st != IC_OK)
            return st;
    } else {
        return ic_error_set(err, IC_ERR_INVALID, "no router '%s' (random, prompt-tokens[:MODEL], "
                            "keywords:A,B, regex:PATTERN, optimal)", router);
    }
    for (size_t i = 0; i < s->n; i++)
        sc[i].i = i;
    return IC_OK;
}

/* the value at share x of the piecewise-linear curve through (xs[k], ys[k]), xs ascending */
static double interp(const double *xs, const double *ys, size_t n, double x)
{
    for (size_t k = 1; k < n; k++) /* xs rises strictly: each point adds a group */
        if (x <= xs[k])
            return ys[k - 1] + (ys[k] - ys[k - 1]) * (x - xs[k - 1]) / (xs[k] - xs[k - 1]);
    return ys[n - 1];
}

/* the first share at which the curve reaches y (at most 1: the curve ends at 1, with every call
 * on the strong model); it starts at 0 */
static double first_reach(const double *xs, const double *ys, size_t n, double y)
{
    for (size_t k = 1; k < n; k++)
        if (ys[k] >= y)
            return xs[k - 1] + (xs[k] - xs[k - 1]) * (y - ys[k - 1]) / (ys[k] - ys[k - 1]);
    return xs[n - 1];
}

static ic_status evaluate(const ic_route_set *s, const char *router, double qs, double qw,
                          ic_route_result *r, ic_error *err)
{
    size_t n = s->n;
    scored *sc = malloc(n * sizeof *sc);
    double *xs = malloc((n + 1) * sizeof *xs), *ys = malloc((n + 1) * sizeof *ys),
           *gs = malloc((n + 1) * sizeof *gs); /* the score of the group each point adds */
    if (!sc || !xs || !ys || !gs || !(r->router = strdup(router))) {
        free(sc);
        free(xs);
        free(ys);
        free(gs);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    ic_status st = score_items(s, router, sc, err);
    if (st == IC_OK) {
        qsort(sc, n, sizeof *sc, cmp_scored);
        /* quality with the first k prompts on the strong model: the weak total plus the gains */
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += s->items[i].weak;
        size_t np = 0;
        xs[np] = 0;
        ys[np++] = 0;
        for (size_t k = 0; k < n;) {
            size_t j = k;
            for (; j < n && sc[j].score == sc[k].score; j++)
                total += s->items[sc[j].i].strong - s->items[sc[j].i].weak;
            gs[np] = sc[k].score;
            k = j;
            xs[np] = (double)k / (double)n;
            ys[np++] = (total / (double)n - qw) / (qs - qw);
        }
        ys[np - 1] = 1; /* all on the strong model: exactly the strong quality */
        size_t half = 1;
        while (ys[half] < 0.5) /* ys[np - 1] is 1 */
            half++;
        r->rule50_score = gs[half];
        r->rule50_share = xs[half];
        r->rule50_pgr = ys[half];
        r->apgr = 0;
        for (size_t k = 1; k < np; k++)
            r->apgr += (xs[k] - xs[k - 1]) * (ys[k] + ys[k - 1]) / 2;
        r->cpt50 = first_reach(xs, ys, np, 0.5);
        r->cpt80 = first_reach(xs, ys, np, 0.8);
        for (int d = 0; d < IC_ROUTE_CURVE_POINTS; d++) {
            r->pgr_at[d] = interp(xs, ys, np, d / 10.0);
            r->quality_at[d] = qw + r->pgr_at[d] * (qs - qw);
        }
    }
    free(sc);
    free(xs);
    free(ys);
    free(gs);
    return st;
}

ic_status ic_route_eval_run(const ic_route_set *set, const char *const *routers, size_t nrouters,
                            ic_route_eval **out, ic_error *err)
{
    *out = NULL;
    if (!set || !set->n)
        return ic_error_set(err, IC_ERR_PARSE, "%s: no prompts to evaluate",
                            set ? set->name : "the evaluation set");
    double qs = 0, qw = 0;
    for (size_t i = 0; i < set->n; i++) {
        qs += set->items[i].strong;
        qw += set->items[i].weak;
    }
    qs /= (double)set->n;
    qw /= (double)set->n;
    if (!(qs > qw))
        return ic_error_set(err, IC_ERR_INVALID, "%s: %s (%.4g) does no better than %s (%.4g): "
                            "no gap for a router to recover", set->name, set->strong_model, qs,
                            set->weak_model, qw);
    ic_route_eval *e = calloc(1, sizeof *e);
    if (!e || !(e->results = calloc(nrouters ? nrouters : 1, sizeof *e->results))) {
        free(e);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory");
    }
    e->set = set;
    e->strong_quality = qs;
    e->weak_quality = qw;
    for (size_t i = 0; i < nrouters; i++) {
        ic_status st = evaluate(set, routers[i], qs, qw, &e->results[i], err);
        e->nresults = i + 1;
        if (st != IC_OK) {
            ic_route_eval_free(e);
            return st;
        }
    }
    *out = e;
    return IC_OK;
}

void ic_route_eval_free(ic_route_eval *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nresults; i++)
        free(e->results[i].router);
    free(e->results);
    free(e);
}

/* ---- writing ---- */

static void pct(char *buf, size_t cap, double share)
{
    snprintf(buf, cap, "%.1f%%", share * 100);
}

ic_status ic_route_eval_write(const ic_route_eval *const *evals, size_t n, ic_report_format fmt,
                              FILE *f, ic_error *err)
{
    if (fmt == IC_FMT_CSV)
        return ic_error_set(err, IC_ERR_INVALID, "route-eval writes a table, JSON or Markdown");
    if (fmt == IC_FMT_JSON) {
        fputs("{\"sets\":[", f);
        for (size_t i = 0; i < n; i++) {
            const ic_route_eval *e = evals[i];
            fputs(i ? ",{\"set\":" : "{\"set\":", f);
            (void)ic_json_fputs(e->set->name, f);
            fputs(",\"strong_model\":", f);
            (void)ic_json_fputs(e->set->strong_model, f);
            fputs(",\"weak_model\":", f);
            (void)ic_json_fputs(e->set->weak_model, f);
            fprintf(f, ",\"prompts\":%zu,\"contaminated_left_out\":%zu,\"strong_quality\":%.6g,"
                       "\"weak_quality\":%.6g,\"routers\":[",
                    e->set->n, e->set->contaminated, e->strong_quality, e->weak_quality);
            for (size_t j = 0; j < e->nresults; j++) {
                const ic_route_result *r = &e->results[j];
                fputs(j ? ",{\"router\":" : "{\"router\":", f);
                (void)ic_json_fputs(r->router, f);
                fprintf(f, ",\"apgr\":%.4f,\"cpt50\":%.4f,\"cpt80\":%.4f,\"rule50\":{"
                           "\"min_score\":%.17g,\"strong_share\":%.4f,\"pgr\":%.4f}",
                        r->apgr, r->cpt50, r->cpt80, r->rule50_score, r->rule50_share,
                        r->rule50_pgr);
                fputs(",\"curve\":[", f);
                for (int d = 0; d < IC_ROUTE_CURVE_POINTS; d++)
                    fprintf(f, "%s{\"strong_share\":%.1f,\"pgr\":%.4f,\"quality\":%.6g}",
                            d ? "," : "", d / 10.0, r->pgr_at[d], r->quality_at[d]);
                fputs("]}", f);
            }
            fputs("]}", f);
        }
        fputs("]}\n", f);
        return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
    }
    bool md = fmt == IC_FMT_MD;
    for (size_t i = 0; i < n; i++) {
        const ic_route_eval *e = evals[i];
        bool binary = e->set->binary;
        fprintf(f, md ? "%s### %s: %zu prompts (%zu left out as contaminated)\n\n"
                      : "%s%s: %zu prompts (%zu left out as contaminated)\n",
                i ? "\n" : "", e->set->name, e->set->n, e->set->contaminated);
        if (binary)
            fprintf(f, "%s%s %.1f%%, %s %.1f%% correct\n%s", md ? "" : "  ", e->set->strong_model,
                    e->strong_quality * 100, e->set->weak_model, e->weak_quality * 100,
                    md ? "\n" : "");
        else
            fprintf(f, "%s%s %.3f, %s %.3f mean score\n%s", md ? "" : "  ", e->set->strong_model,
                    e->strong_quality, e->set->weak_model, e->weak_quality, md ? "\n" : "");
        int w = 6;
        for (size_t j = 0; j < e->nresults; j++)
            if ((int)strlen(e->results[j].router) > w)
                w = (int)strlen(e->results[j].router);
        if (md)
            fputs("| router | APGR | CPT(50%) | CPT(80%) | PGR at 20% | at 50% |\n"
                  "|---|---:|---:|---:|---:|---:|\n", f);
        else
            fprintf(f, "  %-*s %6s %9s %9s %10s %6s\n", w, "router", "APGR", "CPT(50%)",
                    "CPT(80%)", "PGR at 20%", "at 50%");
        for (size_t j = 0; j < e->nresults; j++) {
            const ic_route_result *r = &e->results[j];
            char a[32], b[32];
            pct(a, sizeof a, r->cpt50);
            pct(b, sizeof b, r->cpt80);
            if (md)
                fprintf(f, "| %s | %.3f | %s | %s | %.3f | %.3f |\n", r->router, r->apgr, a, b,
                        r->pgr_at[2], r->pgr_at[5]);
            else
                fprintf(f, "  %-*s %6.3f %9s %9s %10.3f %6.3f\n", w, r->router, r->apgr, a, b,
                        r->pgr_at[2], r->pgr_at[5]);
        }
        for (size_t j = 0; j < e->nresults; j++) {
            const ic_route_result *r = &e->results[j];
            if (strncmp(r->router, "prompt-tokens", 13) || (r->router[13] && r->router[13] != ':'))
                continue;
            fprintf(f, "%sthe gateway rule for half the gap (%s): \"min_prompt_tokens\": %.0f "
                       "sends %.1f%% of the calls to %s (PGR %.3f)\n",
                    md ? "\n" : "  ", r->router[13] ? r->router + 14 : "gpt-4o", r->rule50_score,
                    r->rule50_share * 100, e->set->strong_model, r->rule50_pgr);
        }
    }
    return ferror(f) ? ic_error_set(err, IC_ERR_IO, "write error") : IC_OK;
}
