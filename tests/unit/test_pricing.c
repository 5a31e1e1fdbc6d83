/* test_pricing.c: the pricing core against hand-computed expectations: catalog resolution as the
 * reference does it, price choice over time, tier cliffs, unit nesting and its errors, overlays
 * (genai-prices schema and LiteLLM) and their failure atomicity, extraction from bodies and
 * streams, and the record parser's two paths agreeing. */
#include <json-c/json.h>
#include <stdlib.h>

#include "catalog_internal.h"
#include "usage_internal.h" /* ic__usage_extract_small, ic__usage_extract_json */
#include "units_internal.h" /* ic__unit_find_n: the scanner's in-place lookup */ /* the price set's precomputed exact factors */
#include "infercost/catalog.h"
#include "infercost/pricing.h"
#include "infercost/record.h"
#include "infercost/timeutil.h"
#include "infercost/units.h"
#include "infercost/usage.h"
#include "test.h"

static ic_catalog *cat;

static int64_t T(const char *s)
{
    int64_t ms = 0;
    CHECK(ic_time_parse(s, strlen(s), &ms) == IC_OK);
    return ms;
}

static ic_usage U(const char *json) /* {"k":v,...} flat */
{
    ic_usage u;
    ic_usage_clear(&u);
    char line[1024];
    snprintf(line, sizeof line, "{\"model\":\"x\",\"usage\":%s}", json);
    ic_record r;
    ic_error err;
    if (ic_record_parse(cat, line, strlen(line), &r, &err) != IC_OK)
        fprintf(stderr, "usage parse: %s\n", err.msg);
    return r.usage;
}

/* price and return the total as text, or "ERR: message" */
static const char *price(const char *provider, const char *model, const char *usage, const char *at)
{
    static char buf[600];
    ic_usage u = U(usage);
    ic_cost c;
    ic_error err;
    if (ic_price_call(cat, provider, model, &u, T(at), &c, &err) != IC_OK) {
        snprintf(buf, sizeof buf, "ERR: %s", err.msg);
        return buf;
    }
    return ic_money_format(c.total, buf, sizeof buf);
}

static void resolves_like_the_reference(void)
{
    const ic_provider *p;
    const ic_model *m;
    ic_error err;
    /* provider id, any case and padding */
    CHECK(ic_catalog_resolve(cat, " Anthropic ", "Claude-Sonnet-4-5", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_provider_id(p), "anthropic");
    CHECK_STR(ic_model_id(m), "claude-sonnet-4-5");
    /* no provider: the first provider whose model_match matches */
    CHECK(ic_catalog_resolve(cat, NULL, "gpt-4o", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_provider_id(p), "openai");
    /* provider_match: "google-vertex" contains "google" */
    CHECK(ic_catalog_resolve(cat, "google-vertex", "gemini-2.5-pro", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_provider_id(p), "google");
    /* date suffix retried as -YYYY-MM-DD when the compact form has no match */
    CHECK(ic_catalog_resolve(cat, "openai", "gpt-4o-20240806", &p, &m, &err) == IC_OK);
    /* litellm provider/model ids */
    CHECK(ic_catalog_resolve(cat, "litellm", "anthropic/claude-sonnet-4-5", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_provider_id(p), "anthropic");
    /* azure falls back to openai's models */
    CHECK(ic_catalog_resolve(cat, "azure", "gpt-4o", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_provider_id(p), "azure");
    /* errors name the problem and suggest */
    CHECK(ic_catalog_resolve(cat, "anthropic", "claude-sonet-4-5", &p, &m, &err) == IC_ERR_UNKNOWN_MODEL);
    CHECK(strstr(err.msg, "nearest: claude-sonnet-4-5") != NULL);
    CHECK(ic_catalog_resolve(cat, "nosuch", "gpt-4o", &p, &m, &err) == IC_ERR_UNKNOWN_PROVIDER);
    CHECK(strstr(err.msg, "unknown provider \"nosuch\"") != NULL);
    /* cached answers are the same answers, errors included */
    CHECK(ic_catalog_resolve(cat, "nosuch", "gpt-4o", &p, &m, &err) == IC_ERR_UNKNOWN_PROVIDER);
    CHECK(ic_catalog_resolve(cat, NULL, "gpt-4o", &p, &m, &err) == IC_OK);
    CHECK_STR(ic_model_id(m), "gpt-4o");
}

/* The packed record: values stay in unit order whatever order they are set in, a set overwrites,
 * adds accumulate, and the (IC_USAGE_MAX_UNITS + 1)-th distinct unit is refused, not dropped. */
static void packed_usage_record(void)
{
    ic_usage u;
    ic_error err;
    ic_usage_clear(&u);
    int in = ic_unit_find("input_tokens"), out = ic_unit_find("output_tokens"),
        cr = ic_unit_find("cache_read_tokens"), rs = ic_unit_find("output_reasoning_tokens");
    CHECK(ic_usage_set(&u, rs, 40, &err) == IC_OK);
    CHECK(ic_usage_set(&u, in, 1000, &err) == IC_OK);
    CHECK(ic_usage_set(&u, out, 90, &err) == IC_OK);
    CHECK(ic_usage_set(&u, cr, 600, &err) == IC_OK);
    CHECK(ic_usage_add(&u, out, 10, &err) == IC_OK);
    CHECK(ic_usage_set(&u, in, 2000, &err) == IC_OK);
    CHECK_INT(ic_usage_get(&u, in), 2000);
    CHECK_INT(ic_usage_get(&u, out), 100);
    CHECK_INT(ic_usage_get(&u, cr), 600);
    CHECK_INT(ic_usage_get(&u, rs), 40);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("cache_write_tokens")), 0);
    char js[256];
    CHECK(ic_usage_to_json(&u, js, sizeof js) > 0);
    CHECK_STR(js, "{\"input_tokens\":2000,\"output_tokens\":100,\"cache_read_tokens\":600,"
                  "\"output_reasoning_tokens\":40}");
    CHECK(ic_usage_validate(&u, &err) == IC_OK);
    CHECK(ic_usage_set(&u, cr, 2001, &err) == IC_OK);
    CHECK(ic_usage_validate(&u, &err) == IC_ERR_INVALID);
    CHECK(strstr(err.msg, "cache_read_tokens (2001) cannot exceed input_tokens (2000)") != NULL);
    /* one slot per distinct unit: the units after the limit are refused with a message */
    ic_usage_clear(&u);
    int set = 0, refused = 0;
    for (int k = ic_unit_count() - 1; k >= 0; k--) {
        ic_status st = ic_usage_set(&u, k, (uint64_t)k + 1, &err);
        set += st == IC_OK;
        refused += st == IC_ERR_RANGE;
    }
    CHECK_INT(set, IC_USAGE_MAX_UNITS);
    CHECK_INT(refused, ic_unit_count() - IC_USAGE_MAX_UNITS);
    CHECK(strstr(err.msg, "too many usage units") != NULL);
    for (int k = ic_unit_count() - IC_USAGE_MAX_UNITS; k < ic_unit_count(); k++)
        CHECK_INT(ic_usage_get(&u, k), k + 1);
}

static void issue_example(void)
{
    CHECK_STR(price("anthropic", "claude-sonnet-4-5",
                    "{\"input_tokens\":4740,\"cache_write_tokens\":4735,\"output_tokens\":255}",
                    "2026-03-01T10:00:00Z"), "0.02159625");
}

static void tier_cliff_on_total_input(void)
{
    /* claude-sonnet-4-5: input 3 -> 6 above 200k total input (strictly greater), output 15 -> 22.5 */
    CHECK_STR(price("anthropic", "claude-sonnet-4-5", "{\"input_tokens\":200000,\"output_tokens\":1000}",
                    "2026-03-01T00:00:00Z"), "0.615"); /* 0.6 + 0.015 */
    CHECK_STR(price("anthropic", "claude-sonnet-4-5", "{\"input_tokens\":200001,\"output_tokens\":1000}",
                    "2026-03-01T00:00:00Z"), "1.222506"); /* 1.200006 + 0.0225 */
    /* the cliff counts cache reads in the total, and then applies to the cache reads too */
    CHECK_STR(price("anthropic", "claude-sonnet-4-5",
                    "{\"input_tokens\":250000,\"cache_read_tokens\":200000,\"output_tokens\":0}",
                    "2026-03-01T00:00:00Z"), "0.42"); /* 50000*6/1e6 + 200000*0.6/1e6 */
}

/* Timestamps in the two forms logs write take a shortcut in ic_time_parse; the same instants
 * written with "+00:00" go the general way. Both must agree on every value, and refuse alike. */
static void timestamp_forms_agree(void)
{
    uint64_t x = 88172645463325252ULL;
    static const char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int y = 1970 + (int)(x % 130), mo = 1 + (int)((x >> 8) % 12), d = 1 + (int)((x >> 16) % 31),
            h = (int)((x >> 24) % 25), mi = (int)((x >> 32) % 61), se = (int)((x >> 40) % 62),
            ms = (int)((x >> 48) % 1000);
        if (i % 7 == 0)
            d = mdays[mo - 1]; /* month ends, Feb 29 in leap and other years */
        char a[64], b[64];
        if (i & 1) {
            snprintf(a, sizeof a, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, se, ms);
            snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", y, mo, d, h, mi, se, ms);
        } else {
            snprintf(a, sizeof a, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, se);
            snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", y, mo, d, h, mi, se);
        }
        if (i % 11 == 0) /* a stray byte in a digit position */
            a[(x >> 56) % 19] = b[(x >> 56) % 19] = "x/:9 \xb0"[(x >> 3) % 6];
        int64_t ta = -1, tb = -2;
        ic_status sa = ic_time_parse(a, strlen(a), &ta), sb = ic_time_parse(b, strlen(b), &tb);
        CHECK_INT(sa, sb);
        if (sa == IC_OK)
            CHECK(ta == tb);
        if (sa != sb || (sa == IC_OK && ta != tb))
            fprintf(stderr, "%s vs %s\n", a, b);
    }
    int64_t t;
    CHECK(ic_time_parse("2024-02-29T23:59:60Z", 20, &t) == IC_OK && t == T("2024-03-01T00:00:00Z"));
    CHECK(ic_time_parse("2023-02-29T00:00:00Z", 20, &t) != IC_OK);
    CHECK(ic_time_parse("2026-03-01T10:00:00.5Z", 22, &t) == IC_OK && t % 1000 == 500);
}

static void time_of_day_and_dates(void)
{
    /* deepseek-chat: 0.27 in 00:30-16:30 UTC, 0.135 otherwise (start inclusive, end exclusive) */
    const char *u = "{\"input_tokens\":1000000}";
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T00:30:00Z"), "0.27");
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T00:29:59Z"), "0.135");
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T16:29:59.999Z"), "0.27");
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T16:30:00Z"), "0.135");
    /* an offset is converted to UTC first */
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T03:00:00+02:00"), "0.27");
    CHECK_STR(price("deepseek", "deepseek-chat", u, "2026-03-01T02:00:00+02:00"), "0.135");
    /* gpt-5.6-luna: a new price from 2026-07-30 (UTC midnight, inclusive) */
    u = "{\"input_tokens\":100000}"; /* below its 272k tier */
    CHECK_STR(price("openai", "gpt-5.6-luna", u, "2026-07-29T23:59:59Z"), "0.1");
    CHECK_STR(price("openai", "gpt-5.6-luna", u, "2026-07-30T00:00:00Z"), "0.02");
}

static const char overlay_json[] =
    "[{\"id\":\"selfhost\",\"name\":\"Our GPUs\",\"api_pattern\":\"https://llm\\\\.internal\","
    "  \"model_match\":{\"starts_with\":\"llama\"},"
    "  \"models\":[{\"id\":\"llama-3.3-70b\",\"match\":{\"equals\":\"llama-3.3-70b\"},"
    "    \"prices\":[{\"prices\":{\"input_mtok\":0.1,\"output_mtok\":0.3}},"
    "                {\"constraint\":{\"start_time\":\"22:00:00Z\",\"end_time\":\"06:00:00Z\"},"
    "                 \"prices\":{\"input_mtok\":0.05,\"output_mtok\":0.15}}]}]},"
    " {\"id\":\"openai\",\"models\":[{\"id\":\"gpt-4o\",\"match\":{\"equals\":\"gpt-4o\"},"
    "    \"prices\":{\"input_mtok\":2,\"output_mtok\":8}}]}]";

static void overlays_add_and_override(void)
{
    ic_catalog *c2;
    ic_error err;
    CHECK(ic_catalog_open(&c2, NULL, &err) == IC_OK);
    ic_catalog *save = cat;
    cat = c2;
    CHECK_STR(price("openai", "gpt-4o", "{\"input_tokens\":1000000}", "2026-03-01T00:00:00Z"), "2.5");
    CHECK(ic_catalog_overlay_text(c2, overlay_json, strlen(overlay_json), "overlay.json", &err) == IC_OK);
    /* a negotiated price overrides; the feed's other models still price */
    CHECK_STR(price("openai", "gpt-4o", "{\"input_tokens\":1000000}", "2026-03-01T00:00:00Z"), "2");
    CHECK_STR(price("openai", "gpt-4o-mini", "{\"input_tokens\":1000000}", "2026-03-01T00:00:00Z"), "0.15");
    /* a self-hosted model, found without a provider, with an off-peak window wrapping midnight */
    CHECK_STR(price(NULL, "llama-3.3-70b", "{\"input_tokens\":1000000}", "2026-03-01T12:00:00Z"), "0.1");
    CHECK_STR(price(NULL, "llama-3.3-70b", "{\"input_tokens\":1000000}", "2026-03-01T23:00:00Z"), "0.05");
    CHECK_STR(price(NULL, "llama-3.3-70b", "{\"input_tokens\":1000000}", "2026-03-01T05:59:59Z"), "0.05");
    CHECK(ic_catalog_find_provider_by_url(c2, "https://llm.internal/v1/chat") != NULL);
    /* a bad overlay changes nothing and says where */
    const char *bad = "[{\"id\":\"openai\",\"models\":[{\"id\":\"gpt-4o\",\"match\":{\"equals\":\"gpt-4o\"},"
                      "\"prices\":{\"input_mtok\":\"cheap\"}}]}]";
    CHECK(ic_catalog_overlay_text(c2, bad, strlen(bad), "bad.json", &err) == IC_ERR_CATALOG);
    CHECK(strstr(err.msg, "bad.json: provider openai: model gpt-4o: input_mtok") != NULL);
    CHECK(ic_catalog_overlay_text(c2, "[{", 2, "trunc.json", &err) == IC_ERR_PARSE);
    CHECK(strstr(err.msg, "trunc.json:1: invalid JSON") != NULL);
    CHECK_STR(price("openai", "gpt-4o", "{\"input_tokens\":1000000}", "2026-03-01T00:00:00Z"), "2");
    cat = save;
    ic_catalog_free(c2);
}

static void litellm_import(void)
{
    const char *ll =
        "{\"sample_spec\":{\"input_cost_per_token\":0},"
        " \"my-finetune\":{\"litellm_provider\":\"openai\",\"input_cost_per_token\":3e-06,"
        "   \"output_cost_per_token\":1.2e-05,\"cache_read_input_token_cost\":7.5e-07,"
        "   \"input_cost_per_token_above_200k_tokens\":6e-06,\"max_input_tokens\":128000},"
        " \"deepinfra/some-model\":{\"litellm_provider\":\"deepinfra\",\"input_cost_per_token\":1e-07,"
        "   \"output_cost_per_token\":2e-07}}";
    ic_catalog *c2;
    ic_error err;
    CHECK(ic_catalog_open(&c2, NULL, &err) == IC_OK);
    CHECK(ic_catalog_overlay_text(c2, ll, strlen(ll), "litellm.json", &err) == IC_OK);
    ic_catalog *save = cat;
    cat = c2;
    CHECK_STR(price("openai", "my-finetune", "{\"input_tokens\":1000,\"cache_read_tokens\":400,\"output_tokens\":100}",
                    "2026-03-01T00:00:00Z"), "0.0033"); /* 600*3e-6 + 400*7.5e-7 + 100*1.2e-5 */
    CHECK_STR(price("openai", "my-finetune", "{\"input_tokens\":300000}", "2026-03-01T00:00:00Z"), "1.8");
    CHECK_STR(price("deepinfra", "some-model", "{\"input_tokens\":1000000}", "2026-03-01T00:00:00Z"), "0.1");
    const ic_provider *p;
    const ic_model *m;
    CHECK(ic_catalog_resolve(c2, "openai", "my-finetune", &p, &m, &err) == IC_OK);
    CHECK_INT(ic_model_context_window(m), 128000);
    const char *bad = "{\"x\":{\"litellm_provider\":\"openai\",\"input_cost_per_token\":-1}}";
    CHECK(ic_catalog_overlay_text(c2, bad, strlen(bad), "ll.json", &err) != IC_OK);
    CHECK(strstr(err.msg, "ll.json: model \"x\": field input_cost_per_token: negative price") != NULL);
    cat = save;
    ic_catalog_free(c2);
}

static void nesting_and_usage_errors(void)
{
    const char *at = "2026-03-01T00:00:00Z";
    /* audio tokens on a model that does not price audio are charged as input */
    CHECK_STR(price("openai", "gpt-4o", "{\"input_tokens\":1000000,\"input_audio_tokens\":500000}", at), "2.5");
    /* a descendant without its ancestor: refused, not charged as zero */
    CHECK(strstr(price("openai", "gpt-4o", "{\"cache_read_tokens\":10,\"output_tokens\":5}", at),
                 "missing usage value for input_tokens with positive reported descendant cache_read_tokens"));
    CHECK(strstr(price("openai", "gpt-4o", "{\"input_tokens\":10,\"cache_read_tokens\":11}", at),
                 "cache_read_tokens (11) cannot exceed input_tokens (10)"));
    /* usage the model prices nowhere is shown, not hidden; all-unpriced usage is refused */
    {
        ic_usage u2 = U("{\"input_tokens\":1000000,\"input_audio_seconds\":30}");
        ic_cost c2;
        ic_error e2;
        CHECK(ic_price_call(cat, "openai", "gpt-4o", &u2, T(at), &c2, &e2) == IC_OK);
        CHECK(c2.unpriced == 1ULL << ic_unit_find("input_audio_seconds"));
    }
    CHECK(strstr(price("openai", "text-embedding-3-small", "{\"output_tokens\":30}", at),
                 "ERR: text-embedding-3-small has no price for output_tokens (30 reported)"));
    /* a model the feed lists with no prices is free: $0 is its price, not a guess */
    CHECK_STR(price("openrouter", "deepseek/deepseek-r1:free", "{\"input_tokens\":1000,\"output_tokens\":10}", at), "0");
    /* a model that prices requests charges one per call */
    const ic_provider *p;
    const ic_model *m;
    ic_error err;
    int req = ic_unit_find("requests");
    bool found = false;
    for (size_t i = 0; i < ic_catalog_provider_count(cat) && !found; i++) {
        p = ic_catalog_provider(cat, i);
        for (size_t k = 0; k < ic_provider_model_count(p) && !found; k++) {
            m = ic_provider_model(p, k);
            const ic_unit_price *up = ic_price_set_find(ic_model_prices_at(m, T(at)), req);
            if (!up)
                continue;
            found = true;
            ic_usage u = U("{\"input_tokens\":0,\"output_tokens\":0}");
            ic_cost c;
            if (ic_price_usage(m, &u, T(at), &c, &err) == IC_OK) {
                ic_money one;
                CHECK(ic_money_of(1, up->base, 1000, &one) == IC_OK);
                CHECK(c.total == one);
            }
        }
    }
    CHECK(found);
    (void)ic_catalog_resolve;
}

static void extraction_bodies_and_streams(void)
{
    const ic_provider *oa = ic_catalog_find_provider(cat, "openai");
    const ic_provider *an = ic_catalog_find_provider(cat, "anthropic");
    const ic_provider *go = ic_catalog_find_provider(cat, "google");
    ic_usage u;
    char model[128];
    ic_error err;
    const char *chat = "{\"model\":\"gpt-4o-2024-08-06\",\"usage\":{\"prompt_tokens\":1200,"
                       "\"completion_tokens\":300,\"prompt_tokens_details\":{\"cached_tokens\":1000},"
                       "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}";
    CHECK(ic_usage_extract(oa, "chat", chat, strlen(chat), &u, model, sizeof model, &err) == IC_OK);
    CHECK_STR(model, "gpt-4o-2024-08-06");
    CHECK_INT(ic_usage_get(&u, ic_unit_find("input_tokens")), 1200); /* OpenAI: includes cached */
    CHECK_INT(ic_usage_get(&u, ic_unit_find("cache_read_tokens")), 1000);
    /* Anthropic: input_tokens excludes cache reads and writes; the extractor adds them back */
    const char *msg = "{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":5,"
                      "\"cache_creation_input_tokens\":4735,\"cache_read_input_tokens\":100,\"output_tokens\":255}}";
    CHECK(ic_usage_extract(an, NULL, msg, strlen(msg), &u, model, sizeof model, &err) == IC_OK);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("input_tokens")), 4840);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("cache_write_tokens")), 4735);
    /* Anthropic stream: message_start usage, then cumulative output in message_delta */
    const char *sse =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":"
        "{\"input_tokens\":5,\"cache_creation_input_tokens\":4735,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":255}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    CHECK(ic_usage_extract_stream(an, NULL, sse, strlen(sse), &u, model, sizeof model, &err) == IC_OK);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("output_tokens")), 255);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("input_tokens")), 4740);
    /* the same stream with its message_delta cut: an error, not 1 output token priced as if the
     * stream were whole */
    const char *cut =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":"
        "{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":500}\n\n";
    CHECK(ic_usage_extract_stream(an, NULL, cut, strlen(cut), &u, model, sizeof model, &err) == IC_ERR_INVALID);
    CHECK(strstr(err.msg, "1 of 2 events are not JSON") != NULL);
    /* OpenAI chat stream with include_usage (CRLF line ends too) */
    const char *oas =
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\r\n\r\n"
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"total_tokens\":12}}\r\n\r\n"
        "data: [DONE]\r\n\r\n";
    CHECK(ic_usage_extract_stream(oa, "chat", oas, strlen(oas), &u, model, sizeof model, &err) == IC_OK);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("output_tokens")), 2);
    /* without include_usage: a clear error, not $0 */
    const char *nousage = "data: {\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o\",\"choices\":[]}\n\ndata: [DONE]\n\n";
    CHECK(ic_usage_extract_stream(oa, "chat", nousage, strlen(nousage), &u, model, sizeof model, &err) == IC_ERR_INVALID);
    CHECK(strstr(err.msg, "include_usage") != NULL);
    /* Gemini: cumulative usageMetadata, last chunk wins */
    const char *gem =
        "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":100,\"candidatesTokenCount\":1,\"totalTokenCount\":101},\"modelVersion\":\"gemini-2.5-flash\"}\n\n"
        "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":100,\"candidatesTokenCount\":40,\"totalTokenCount\":140},\"modelVersion\":\"gemini-2.5-flash\"}\n\n";
    CHECK(ic_usage_extract_stream(go, NULL, gem, strlen(gem), &u, model, sizeof model, &err) == IC_OK);
    CHECK_STR(model, "gemini-2.5-flash");
    CHECK_INT(ic_usage_get(&u, ic_unit_find("output_tokens")), 40);
    /* a bare CR ends a line too (SSE allows LF, CRLF and CR) */
    const char *gem_cr =
        "data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":3},\"modelVersion\":\"gemini-2.5-flash\"}\r\r";
    CHECK(ic_usage_extract_stream(go, NULL, gem_cr, strlen(gem_cr), &u, model, sizeof model, &err) == IC_OK);
    CHECK_INT(ic_usage_get(&u, ic_unit_find("output_tokens")), 3);
    /* unknown flavour names the allowed ones */
    CHECK(ic_usage_extract(oa, "nope", chat, strlen(chat), &u, model, sizeof model, &err) == IC_ERR_INVALID);
    CHECK(strstr(err.msg, "allowed: ") != NULL);
}

static void two_parsers_agree(void)
{
    static const char *lines[] = {
        "{\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"timestamp\":\"2026-03-01T10:00:00Z\","
        "\"usage\":{\"input_tokens\":4740,\"cache_write_tokens\":4735,\"output_tokens\":255},"
        "\"customer\":\"acme\",\"feature\":\"chat\",\"task\":\"t1\",\"latency_ms\":812,\"cache_hit\":false,"
        "\"batch\":true,\"tags\":{\"env\":\"prod\",\"n\":[1,2]}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":-1}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1.5}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"nope\":1}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1},\"unknown\":true}",
        "{\"model\":\"gpt-4o\",\"timestamp\":\"bad\",\"usage\":{\"input_tokens\":1}}",
        "{\"model\":\"gpt-4o\"}",
        "{\"usage\":{\"input_tokens\":1}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1},\"response\":{}}",
        /* the gateway's mark, at the top of the tags only, and only when true */
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1},\"tags\":{\"usage_incomplete\":true,\"a\":1}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1},\"tags\":{\"a\":{\"usage_incomplete\":true}}}",
        "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":1},\"tags\":{\"usage_incomplete\":\"true\"}}",
    };
    /* usage keys out of unit order, a key repeated after a refused value (json-c keeps the last,
     * so the scanner must hand such lines over), 24 and 25 distinct units in reverse unit order */
    static char gen[4][4096];
    snprintf(gen[0], sizeof gen[0], "%s", "{\"model\":\"gpt-4o\",\"usage\":{\"output_tokens\":3,"
             "\"input_tokens\":10,\"cache_read_tokens\":4}}");
    snprintf(gen[1], sizeof gen[1], "%s", "{\"model\":\"gpt-4o\",\"usage\":{\"input_tokens\":-1,\"input_tokens\":5}}");
    for (int g = 2; g < 4; g++) {
        int want = g == 2 ? IC_USAGE_MAX_UNITS : IC_USAGE_MAX_UNITS + 1, n = 0;
        size_t o = (size_t)snprintf(gen[g], sizeof gen[g], "{\"model\":\"gpt-4o\",\"usage\":{");
        for (int k = ic_unit_count() - 1; k >= 0 && n < want; k--)
            if (ic_unit_is_reported(k))
                o += (size_t)snprintf(gen[g] + o, sizeof gen[g] - o, "%s\"%s\":1", n++ ? "," : "", ic_unit_name(k));
        snprintf(gen[g] + o, sizeof gen[g] - o, "}}");
    }
    size_t nlines = sizeof lines / sizeof lines[0];
    for (size_t i = 0; i < nlines + 4; i++) {
        const char *line = i < nlines ? lines[i] : gen[i - nlines];
        ic_record a, b;
        ic_error ea = {0}, eb = {0};
        ic_record_set_fast_path(true);
        ic_status sa = ic_record_parse(cat, line, strlen(line), &a, &ea);
        ic_record_set_fast_path(false);
        ic_status sb = ic_record_parse(cat, line, strlen(line), &b, &eb);
        ic_record_set_fast_path(true);
        CHECK_INT(sa, sb);
        if (i == nlines + 1)
            CHECK(sa == IC_OK && ic_usage_get(&a.usage, ic_unit_find("input_tokens")) == 5);
        if (i == nlines + 2)
            CHECK(sa == IC_OK && ic_popcount64(a.usage.present) == IC_USAGE_MAX_UNITS);
        if (i == nlines + 3)
            CHECK(sa == IC_ERR_RANGE && strstr(ea.msg, "too many usage units"));
        if (sa != IC_OK) {
            CHECK_STR(ea.msg, eb.msg);
            continue;
        }
        CHECK_STR(a.model, b.model);
        CHECK_STR(a.customer, b.customer);
        CHECK(a.t_ms == b.t_ms && a.latency_ms == b.latency_ms && a.batch == b.batch);
        CHECK(a.usage.present == b.usage.present);
        for (int k = 0; k < ic_unit_count(); k++)
            CHECK(ic_usage_get(&a.usage, k) == ic_usage_get(&b.usage, k));
        CHECK_STR(a.tags, b.tags);
        CHECK(a.usage_incomplete == b.usage_incomplete);
        CHECK(a.usage_incomplete == (strstr(line, "\"tags\":{\"usage_incomplete\":true") != NULL));
    }
}

static void output_line(void)
{
    const char *line = "{\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"timestamp\":\"2026-03-01T10:00:00Z\","
                       "\"usage\":{\"input_tokens\":4740,\"cache_write_tokens\":4735,\"output_tokens\":255}}";
    ic_record r;
    ic_cost c;
    ic_error err;
    char buf[4096];
    CHECK(ic_record_parse(cat, line, strlen(line), &r, &err) == IC_OK);
    CHECK(ic_record_price(cat, &r, 0, &c, &err) == IC_OK);
    CHECK(ic_cost_to_json(&r, &c, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"provider\":\"anthropic\",\"model\":\"claude-sonnet-4-5\",\"total_usd\":\"0.02159625\","
                   "\"items\":[{\"unit\":\"input_tokens\",\"charged\":5,\"price_per\":\"3\",\"per\":1000000,\"usd\":\"0.000015\"},"
                   "{\"unit\":\"cache_write_tokens\",\"charged\":4735,\"price_per\":\"3.75\",\"per\":1000000,\"usd\":\"0.01775625\"},"
                   "{\"unit\":\"output_tokens\",\"charged\":255,\"price_per\":\"15\",\"per\":1000000,\"usd\":\"0.003825\"}]}");
    CHECK_INT(ic_cost_to_json(&r, &c, buf, 40), 0); /* too small: refused, not truncated */
    ic_money saved;
    const char *cached = "{\"input_tokens\":100000,\"cache_read_tokens\":100000}";
    ic_usage u = U(cached);
    CHECK(ic_price_cache_saving(c.model, &u, T("2026-03-01T00:00:00Z"), &saved, &err) == IC_OK);
    CHECK_STR(ic_money_format(saved, buf, sizeof buf), "0.27"); /* 0.3 - 0.03 */
}

/* Every untiered catalog price that pricing multiplies by a precomputed pico-dollar factor gives
 * what ic_money_of's exact division and rounding gives, for quantities small, large and random. */
static void exact_factors_agree(void)
{
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    size_t checked = 0, fast = 0;
    for (size_t i = 0; i < ic_catalog_provider_count(cat); i++) {
        const ic_provider *p = ic_catalog_provider(cat, i);
        for (size_t j = 0; j < ic_provider_model_count(p); j++) {
            const ic_model *m = ic_provider_model(p, j);
            for (size_t e = 0; e < ic_model_price_count(m); e++) {
                const ic_price_set *ps = ic_model_price_entry(m, e)->prices;
                for (size_t k = 0; k < ps->n; k++) {
                    const ic_unit_price *up = &ps->items[k];
                    fast += ps->pico[k] != 0;
                    for (int t = 0; t < 8; t++) {
                        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                        uint64_t q = t == 0 ? 1 : t == 1 ? 999999 : t == 2 ? (1ULL << 40) + 7 : seed >> (t * 6);
                        ic_money slow, quick;
                        ic_status st = ic_money_of(q, up->base, ps->per[k], &slow);
                        uint64_t v;
                        if (!ps->pico[k] || __builtin_mul_overflow(q, ps->pico[k], &v))
                            continue;
                        quick = (ic_money)v;
                        CHECK_INT(st, IC_OK);
                        if (quick != slow) {
                            char a[IC_MONEY_STRLEN], b[IC_MONEY_STRLEN];
                            fprintf(stderr, "%s %s: q=%llu fast %s slow %s\n", ic_model_id(m),
                                    ic_unit_name(up->unit), (unsigned long long)q,
                                    ic_money_format(quick, a, sizeof a), ic_money_format(slow, b, sizeof b));
                            CHECK(0);
                        }
                        checked++;
                    }
                }
            }
        }
    }
    CHECK(fast > 1000); /* the fast path is the usual case (most prices are whole micro-dollars per token) */
    CHECK(checked > 5000);
    /* prices that are not whole pico-dollars per unit keep the rounding path: 0.1234567 USD/Mtok
     * is 123456.7 pico a token (3 tokens: 370370.1, rounded to 370370), and 0.08333333333333334 */
    const char *t = "[{\"id\":\"p\",\"models\":[{\"id\":\"m\",\"match\":{\"equals\":\"m\"},"
                    "\"prices\":{\"input_mtok\":0.1234567,\"output_mtok\":2,\"cache_read_mtok\":0.08333333333333334}}]}]";
    ic_catalog *c2 = NULL;
    ic_error err;
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_OK);
    const ic_price_set *ps = ic_model_price_entry(ic_provider_model(ic_catalog_provider(c2, 0), 0), 0)->prices;
    CHECK(ps->n == 3 && ps->pico[0] == 0 && ps->pico[1] == 2000000 && ps->pico[2] == 0);
    ic_usage u;
    ic_usage_clear(&u);
    ic_cost c;
    CHECK(ic_usage_set(&u, ic_unit_find("input_tokens"), 3, &err) == IC_OK);
    CHECK(ic_usage_set(&u, ic_unit_find("output_tokens"), 5, &err) == IC_OK);
    CHECK(ic_price_call(c2, "p", "m", &u, 0, &c, &err) == IC_OK);
    CHECK(c.nitems == 2 && c.items[0].usd == 370370 && c.items[1].usd == 10000000);
    ic_catalog_free(c2);
}

/* The output line's money text (its own digit writer) is ic_money_format's, on amounts with zeros
 * in either half of the 12 fraction digits, whole dollars, and above 2^64 pico-dollars. */
static void output_money_text(void)
{
    const ic_money cases[] = {0, 1, 10, 999999, 1000000, 1000001, 100000000000LL, 120000000001LL,
                              999999999999LL, 1000000000000LL, 1000000000001LL, 1234567890123456789LL,
                              (ic_money)UINT64_MAX, (ic_money)UINT64_MAX + 1, (ic_money)1 << 100};
    const char *line = "{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"timestamp\":\"2026-03-01T10:00:00Z\","
                       "\"usage\":{\"input_tokens\":1}}";
    ic_record r;
    ic_cost c;
    ic_error err;
    CHECK(ic_record_parse(cat, line, strlen(line), &r, &err) == IC_OK);
    CHECK(ic_record_price(cat, &r, 0, &c, &err) == IC_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[4096], want[IC_MONEY_STRLEN + 40], m[IC_MONEY_STRLEN];
        c.total = c.items[0].usd = cases[i];
        CHECK(ic_cost_to_json(&r, &c, buf, sizeof buf) > 0);
        snprintf(want, sizeof want, "\"total_usd\":\"%s\"", ic_money_format(cases[i], m, sizeof m));
        CHECK(strstr(buf, want) != NULL);
        snprintf(want, sizeof want, "\"usd\":\"%s\"}", m);
        CHECK(strstr(buf, want) != NULL);
        if (!strstr(buf, want))
            fprintf(stderr, "money %zu: %s\n", i, buf);
    }
}

/* Every unit by its name and its price key, from a buffer with other bytes around it (the record
 * scanner looks keys up in place); near misses are not found. */
static void unit_names_found(void)
{
    for (int u = 0; u < ic_unit_count(); u++) {
        const char *names[2] = {ic_unit_name(u), ic_unit_price_key(u)};
        for (int k = 0; k < 2; k++) {
            char buf[128];
            size_t n = strlen(names[k]);
            snprintf(buf, sizeof buf, "%s\":12}", names[k]);
            CHECK_INT(k ? ic_unit_find_price_key(names[k]) : ic__unit_find_n(buf, n), u);
            CHECK(ic__unit_find_n(buf, n - 1) != u);  /* a prefix */
            CHECK(ic__unit_find_n(buf + 1, n - 1) != u); /* a suffix */
            buf[n / 2] ^= 0x20;
            CHECK(ic__unit_find_n(buf, n) != u || k); /* one byte off */
        }
    }
    CHECK_INT(ic_unit_find("input_tokens_x"), -1);
    CHECK_INT(ic_unit_find(""), -1);
}

static void catalog_errors(void)
{
    ic_catalog *c2 = NULL;
    ic_error err;
    CHECK(ic_catalog_open(&c2, "/nonexistent/data.json", &err) == IC_ERR_IO);
    CHECK(strstr(err.msg, "/nonexistent/data.json") != NULL);
    const char *t = "[{\"id\":\"p\",\"models\":[{\"id\":\"m\",\"match\":{\"regex\":\"(\"},\"prices\":{}}]}]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_ERR_CATALOG);
    CHECK(strstr(err.msg, "bad regex") != NULL);
    /* a price key outside units.yml: the model loads but refuses to price */
    t = "[{\"id\":\"p\",\"models\":[{\"id\":\"m\",\"match\":{\"equals\":\"m\"},\"prices\":{\"input_mtok\":1,\"teleport_kcount\":5}}]}]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_OK);
    ic_usage u;
    ic_usage_clear(&u);
    ic_usage_set(&u, ic_unit_find("input_tokens"), 5, &err);
    ic_cost c;
    CHECK(ic_price_call(c2, "p", "m", &u, 0, &c, &err) == IC_ERR_NO_PRICE);
    CHECK(strstr(err.msg, "teleport_kcount") != NULL);
    ic_catalog_free(c2);
    /* an id with capitals is still found; deprecated must be a boolean; nothing after the JSON */
    t = "[{\"id\":\"MyCloud\",\"models\":[{\"id\":\"m\",\"match\":{\"equals\":\"m\"},\"prices\":{\"input_mtok\":1}}]}]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_OK);
    CHECK(ic_price_call(c2, "mycloud", "m", &u, 0, &c, &err) == IC_OK);
    ic_catalog_free(c2);
    t = "[{\"id\":\"p\",\"models\":[{\"id\":\"m\",\"deprecated\":\"false\",\"match\":{\"equals\":\"m\"},\"prices\":{}}]}]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_ERR_CATALOG);
    CHECK(strstr(err.msg, "deprecated must be true or false") != NULL);
    /* a start_date that is not a string is named as written (it was passed to %s as NULL) */
    t = "[{\"id\":\"p\",\"models\":[{\"id\":\"m\",\"match\":{\"equals\":\"m\"},\"prices\":[{\"constraint\":"
        "{\"start_date\":null},\"prices\":{\"input_mtok\":1}}]}]}]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_ERR_CATALOG);
    CHECK(strstr(err.msg, "bad start_date null") != NULL);
    t = "[]\n[]";
    CHECK(ic_catalog_open_text(&c2, t, strlen(t), "x.json", &err) == IC_ERR_PARSE);
    CHECK(strstr(err.msg, "x.json:2: invalid JSON: text after the end") != NULL);
}

/* ---- the small-body fast path of ic_usage_extract against json-c's path ---- */

/* obj[path] = v, creating the mappings on the way; false for array-match steps */
static bool put_path(json_object *obj, const ic_path *path, json_object *v)
{
    for (size_t i = 0; i < path->n; i++) {
        if (!path->steps[i].key) {
            json_object_put(v);
            return false;
        }
        if (i + 1 == path->n) {
            json_object_object_add(obj, path->steps[i].key, v);
            return true;
        }
        json_object *next;
        if (!json_object_object_get_ex(obj, path->steps[i].key, &next) ||
            !json_object_is_type(next, json_type_object)) {
            next = json_object_new_object();
            json_object_object_add(obj, path->steps[i].key, next);
        }
        obj = next;
    }
    json_object_put(v);
    return true;
}

static int fast_taken, fast_bodies;

/* one body through both paths: where the fast path answers, json-c's path must answer the same */
static void same_answer(const ic_provider *p, const char *flavor, const char *text, bool expect_fast)
{
    ic_usage a, b;
    char ma[64], mb[64];
    ic_error ea = {0}, eb = {0};
    fast_bodies++;
    bool fast = ic__usage_extract_small(p, flavor, text, strlen(text), &a, ma, sizeof ma, &ea);
    if (expect_fast && !fast)
        fprintf(stderr, "fast path not taken (%s %s): %.300s\n", p->id, flavor, text);
    if (expect_fast)
        CHECK(fast);
    if (!fast)
        return;
    fast_taken++;
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
    bool parsed = o && json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    CHECK(parsed);
    if (!parsed) {
        json_object_put(o);
        return;
    }
    ic_status sb = ic__usage_extract_json(p, flavor, o, &b, mb, sizeof mb, &eb);
    json_object_put(o);
    if (sb != IC_OK || a.present != b.present || strcmp(ma, mb))
        fprintf(stderr, "fast path differs (%s %s): json-c %d %s; %.300s\n", p->id, flavor, sb, eb.msg, text);
    CHECK_INT(sb, IC_OK);
    CHECK(a.present == b.present);
    CHECK_STR(ma, mb);
    for (int u = 0; u < ic_unit_count(); u++)
        CHECK(ic_usage_get(&a, u) == ic_usage_get(&b, u));
}

static void extraction_fast_path_agrees(void)
{
    unsigned seed = 20261128;
    for (size_t pi = 0; pi < ic_catalog_provider_count(cat); pi++) {
        const ic_provider *p = ic_catalog_provider(cat, pi);
        for (size_t xi = 0; xi < p->nextractors; xi++) {
            const ic_extractor *x = &p->extractors[xi];
            for (int variant = 0; variant < 14; variant++) {
                json_object *body = json_object_new_object(), *root = body;
                bool plain = true;
                if (x->has_model_path)
                    plain &= put_path(body, &x->model_path, json_object_new_string("model-\xc3\xa9-1"));
                if (x->root.n) {
                    root = json_object_new_object();
                    plain &= put_path(body, &x->root, root);
                }
                size_t mapped = 0;
                for (size_t i = 0; i < x->nmaps; i++) {
                    const ic_mapping *mp = &x->maps[i];
                    seed = seed * 1103515245u + 12345u;
                    /* variant 1 leaves out the optional values, 2 to 9 spoil one of them */
                    if (variant == 1 && !mp->required)
                        continue;
                    json_object *v = json_object_new_int64((int64_t)(seed >> 8) % 100000);
                    if (variant >= 2 && variant <= 9 && mapped == 0 && !mp->required) {
                        static const char *const spoilt[] = {"null", "\"12\"", "1.5", "-3", "true", "{}",
                                                             "12345678901234567", "[]"};
                        json_object_put(v);
                        v = json_tokener_parse(spoilt[variant - 2]);
                        if (!v)
                            v = json_object_new_null();
                    }
                    plain &= put_path(root, &mp->path, v);
                    mapped++;
                }
                if (!plain) { /* array-match steps: not the fast path's */
                    json_object_put(body);
                    continue;
                }
                json_object_object_add(body, "id", json_object_new_string("resp_1"));
                const char *t = json_object_to_json_string_ext(
                    body, variant == 10 ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                char text[8192];
                size_t tl = strlen(t);
                if (tl + 64 >= sizeof text) {
                    json_object_put(body);
                    continue;
                }
                bool fast = variant <= 2 || variant == 10; /* plain bodies: the fast path answers */
                if (variant == 11) { /* a duplicated key: the last one counts */
                    snprintf(text, sizeof text, "{\"id\":\"x\",%s", t + 1);
                    fast = true;
                } else if (variant == 12) { /* an escape: json-c's */
                    snprintf(text, sizeof text, "{\"note\":\"a\\\"b\",%s", t + 1);
                    fast = false;
                } else if (variant == 13) { /* trailing bytes: json-c's */
                    snprintf(text, sizeof text, "%s x", t);
                    fast = false;
                } else {
                    snprintf(text, sizeof text, "%s", t);
                }
                if (variant >= 3 && variant <= 9 && mapped)
                    fast = variant == 2 || variant == 3 || variant == 6 || variant == 7; /* null "12" true {}: skipped, as walk() does */
                same_answer(p, x->flavor, text, fast && mapped > 0);
                json_object_put(body);
            }
        }
    }
    CHECK(fast_taken > 100);
    printf("  fast path: %d of %d bodies answered without json-c, every one as json-c's path\n", fast_taken,
           fast_bodies);
}

/* no body, or an empty one: the fast path declines, the json-c path says the response is not
 * JSON (no crash, no empty message) */
static void extraction_without_a_body(void)
{
    const ic_provider *p = ic_catalog_find_provider(cat, "openai");
    CHECK(p != NULL);
    if (!p)
        return;
    ic_usage u;
    char model[64];
    ic_error err = {0};
    CHECK(!ic__usage_extract_small(p, "chat", NULL, 0, &u, model, sizeof model, &err));
    CHECK(!ic__usage_extract_small(p, "chat", "", 0, &u, model, sizeof model, &err));
    const char *const bodies[] = {NULL, ""};
    for (int i = 0; i < 2; i++) {
        err = (ic_error){0};
        CHECK(ic_usage_extract(p, "chat", bodies[i], 0, &u, model, sizeof model, &err) == IC_ERR_PARSE);
        CHECK(strstr(err.msg, "not valid JSON") != NULL);
    }
}

/* JSON strings out: escapes, valid UTF-8 as it is, each ill-formed subpart as \ufffd */
static void json_quote_any_bytes(void)
{
    char buf[128];
    static const struct { const char *in, *out; } cases[] = {
        {"a\"b\\c\n\x01", "\"a\\\"b\\\\c\\n\\u0001\""},
        {"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80", "\"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80\""},
        {"a\xFF" "b", "\"a\\ufffdb\""},
        {"\xE2\x82x", "\"\\ufffdx\""},             /* a cut 3-byte character: one */
        {"\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* a surrogate: three */
        {"\xC3", "\"\\ufffd\""},                    /* cut at the end */
        {"\xC0\xAF", "\"\\ufffd\\ufffd\""},           /* overlong */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = ic_json_quote(cases[i].in, strlen(cases[i].in), buf, sizeof buf);
        CHECK(n == strlen(cases[i].out));
        CHECK_STR(buf, cases[i].out);
    }
}

int main(void)
{
    ic_error err;
    if (ic_catalog_open(&cat, NULL, &err) != IC_OK) {
        fprintf(stderr, "catalog: %s\n", err.msg);
        return 1;
    }
    RUN(resolves_like_the_reference);
    RUN(packed_usage_record);
    RUN(issue_example);
    RUN(tier_cliff_on_total_input);
    RUN(timestamp_forms_agree);
    RUN(time_of_day_and_dates);
    RUN(overlays_add_and_override);
    RUN(litellm_import);
    RUN(nesting_and_usage_errors);
    RUN(extraction_bodies_and_streams);
    RUN(extraction_fast_path_agrees);
    RUN(extraction_without_a_body);
    RUN(two_parsers_agree);
    RUN(output_line);
    RUN(json_quote_any_bytes);
    RUN(output_money_text);
    RUN(exact_factors_agree);
    RUN(unit_names_found);
    RUN(catalog_errors);
    ic_catalog_free(cat);
    TEST_END();
}
