/* test_money.c: exact decimals and pico-dollar amounts: parsing the feed's number text, the
 * half-even rounding rule, canonical formatting, and overflow refusals. */
#include "infercost/money.h"
#include "test.h"

static const char *fmt_dec(const char *s)
{
    static char buf[64];
    ic_decimal d;
    if (ic_decimal_parse(s, strlen(s), &d) != IC_OK)
        return "ERR";
    return ic_decimal_format(d, buf, sizeof buf);
}

static void decimal_keeps_every_digit(void)
{
    CHECK_STR(fmt_dec("0.08333333333333334"), "0.08333333333333334");
    CHECK_STR(fmt_dec("0.18000000000000002"), "0.18000000000000002");
    CHECK_STR(fmt_dec("3"), "3");
    CHECK_STR(fmt_dec("3.750"), "3.75");
    CHECK_STR(fmt_dec("3e-06"), "0.000003");
    CHECK_STR(fmt_dec("2.5E-7"), "0.00000025");
    CHECK_STR(fmt_dec("1.5e3"), "1500");
    CHECK_STR(fmt_dec("0"), "0");
    CHECK_STR(fmt_dec("-0"), "0");
    CHECK_STR(fmt_dec("0.000"), "0");
    CHECK_STR(fmt_dec("1.00000000000000000000"), "1"); /* trailing fraction zeros are free */
    CHECK_STR(fmt_dec("10000000000000000000"), "10000000000000000000"); /* 20 digits, fits */
    ic_decimal a, b;
    ic_decimal_parse("1e-30", 5, &a);
    ic_decimal_parse("18446744073709551615", 20, &b);
    CHECK(ic_decimal_cmp(a, b) < 0 && ic_decimal_cmp(b, a) > 0); /* no overflow at the extremes */
}

static void decimal_refusals(void)
{
    ic_decimal d;
    CHECK_INT(ic_decimal_parse("-1", 2, &d), IC_ERR_INVALID);
    CHECK_INT(ic_decimal_parse("abc", 3, &d), IC_ERR_PARSE);
    CHECK_INT(ic_decimal_parse("1.", 2, &d), IC_OK); /* digits then dot: JSON forbids it, we read 1 */
    CHECK_INT(ic_decimal_parse("", 0, &d), IC_ERR_PARSE);
    CHECK_INT(ic_decimal_parse("1e", 2, &d), IC_ERR_PARSE);
    CHECK_INT(ic_decimal_parse("12345678901234567890123", 23, &d), IC_ERR_RANGE);
    CHECK_INT(ic_decimal_parse("1e-40", 5, &d), IC_ERR_RANGE);
    CHECK_INT(ic_decimal_parse("1e30", 4, &d), IC_ERR_RANGE);
    uint64_t v;
    CHECK(ic_decimal_parse("1e3", 3, &d) == IC_OK && ic_decimal_to_u64(d, &v) && v == 1000);
    CHECK(ic_decimal_parse("1.0", 3, &d) == IC_OK && ic_decimal_to_u64(d, &v) && v == 1);
    CHECK(ic_decimal_parse("1.5", 3, &d) == IC_OK && !ic_decimal_to_u64(d, &v));
}

static const char *amount(uint64_t q, const char *price, uint64_t per)
{
    static char buf[IC_MONEY_STRLEN];
    ic_decimal d;
    ic_money m;
    if (ic_decimal_parse(price, strlen(price), &d) != IC_OK || ic_money_of(q, d, per, &m) != IC_OK)
        return "ERR";
    return ic_money_format(m, buf, sizeof buf);
}

static void half_even_once(void)
{
    CHECK_STR(amount(4735, "3.75", 1000000), "0.01775625");
    CHECK_STR(amount(5, "3", 1000000), "0.000015");
    /* 1 token at $0.0000005/M = 5e-13 USD: exactly half a pico-dollar -> rounds to even (0) */
    CHECK_STR(amount(1, "0.0000005", 1000000), "0");
    /* 3 tokens: 1.5e-12 -> 2e-12 (half to even: 1 is odd, rounds up) */
    CHECK_STR(amount(3, "0.0000005", 1000000), "0.000000000002");
    /* 5 tokens: 2.5e-12 -> 2e-12 (2 is even, stays) */
    CHECK_STR(amount(5, "0.0000005", 1000000), "0.000000000002");
    /* just above half rounds up */
    CHECK_STR(amount(1, "0.00000051", 1000000), "0.000000000001");
    /* the feed's thirds: 1e6 tokens at 0.08333333333333334 = 0.08333333333333334 exactly,
     * rounded to 12 places */
    CHECK_STR(amount(1000000, "0.08333333333333334", 1000000), "0.083333333333");
    CHECK_STR(amount(1, "2.5", 1000), "0.0025");   /* per thousand */
    CHECK_STR(amount(90, "0.111", 3600), "0.002775"); /* per hour of seconds */
    CHECK_STR(amount(0, "5", 1000000), "0");
}

static void large_values(void)
{
    /* 1e15 tokens at $1e6 per token-million: exact, no overflow */
    CHECK_STR(amount(1000000000000000ULL, "1000000", 1000000), "1000000000000000");
    /* a sum over billions of events does not overflow 128 bits */
    ic_money total = 0, one;
    ic_decimal d;
    ic_decimal_parse("75", 2, &d);
    CHECK(ic_money_of(1000000, d, 1000000, &one) == IC_OK); /* $75 */
    for (int i = 0; i < 1000; i++)
        total += one * 10000000; /* 1e10 events of $75 in all */
    char buf[IC_MONEY_STRLEN];
    CHECK_STR(ic_money_format(total, buf, sizeof buf), "750000000000");
    CHECK_STR(ic_money_format(-one, buf, sizeof buf), "-75");
}

static void money_parse(void)
{
    ic_money m;
    char buf[IC_MONEY_STRLEN];
    CHECK(ic_money_parse("12.5", 4, &m) == IC_OK);
    CHECK_STR(ic_money_format(m, buf, sizeof buf), "12.5");
    CHECK(ic_money_parse("-0.000001", 9, &m) == IC_OK);
    CHECK_STR(ic_money_format(m, buf, sizeof buf), "-0.000001");
    CHECK_INT(ic_money_parse("0.0000000000001", 15, &m), IC_ERR_RANGE);
    CHECK_INT(ic_money_parse("1.2.3", 5, &m), IC_ERR_PARSE);
    CHECK_INT(ic_money_parse("", 0, &m), IC_ERR_PARSE);
}

int main(void)
{
    RUN(decimal_keeps_every_digit);
    RUN(decimal_refusals);
    RUN(half_even_once);
    RUN(large_values);
    RUN(money_parse);
    TEST_END();
}
