/* money.h: exact money. No binary floating point touches a price or an amount.
 *
 * A price is an ic_decimal: the feed's decimal text kept digit for digit (0.08333333333333334
 * is 8333333333333334 * 10^-17). An amount is an ic_money: a signed 128-bit count of pico-dollars
 * (1e-12 USD). The one rounding rule: an item's amount, quantity * price / per, is computed
 * exactly in 128-bit integers and rounded ONCE, half to even, to the pico-dollar. Totals are exact
 * sums of rounded items; 128 bits hold sums over billions of events without overflow.
 * Amounts print as canonical decimals: no exponent, trailing zeros trimmed ("0.02159625", "3", "0"). */
#ifndef INFERCOST_MONEY_H
#define INFERCOST_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infercost/status.h"

__extension__ typedef __int128 ic_money;            /* pico-USD */
__extension__ typedef unsigned __int128 ic_u128;

#define IC_PICO_PER_USD ((ic_money)1000000000000LL)
#define IC_DECIMAL_MAX_SCALE 30
#define IC_MONEY_STRLEN 48 /* enough for any ic_money as text, with sign and NUL */

typedef struct ic_decimal {
    uint64_t mant;  /* value = mant / 10^scale, trailing zeros removed */
    uint8_t scale;
} ic_decimal;

/* Parse a non-negative decimal number as JSON writes it: "3", "0.075", "3e-06", "1.5E+3".
 * Fails with IC_ERR_PARSE (not a number), IC_ERR_INVALID (negative) or IC_ERR_RANGE
 * (more than 19 significant digits, or a scale beyond IC_DECIMAL_MAX_SCALE). */
ic_status ic_decimal_parse(const char *s, size_t len, ic_decimal *out);

/* Canonical text of a decimal ("0.08333333333333334", "3"); buf needs 48 bytes. */
char *ic_decimal_format(ic_decimal d, char *buf, size_t cap);

/* The same value as an integer if it is one (1.0, 1e3 are; 1.5 is not). */
bool ic_decimal_to_u64(ic_decimal d, uint64_t *out);

int ic_decimal_cmp(ic_decimal a, ic_decimal b);

/* quantity * price / per, rounded half-even to the pico-dollar. IC_ERR_RANGE if it cannot be
 * represented (it never silently wraps). */
ic_status ic_money_of(uint64_t quantity, ic_decimal price, uint64_t per, ic_money *out);

/* The pico-dollars one unit costs at price per `per` units, when that is a whole number that fits
 * 64 bits (3 USD per million tokens: 3,000,000); 0 otherwise. q units then cost exactly q times
 * it, the same amount ic_money_of gives, with nothing to round. */
uint64_t ic_money_unit_pico(ic_decimal price, uint64_t per);

/* Canonical decimal text of an amount in USD. Returns buf. */
char *ic_money_format(ic_money m, char *buf, size_t cap);

/* Parse "12.5", "-0.000001": at most 12 fractional digits, or IC_ERR_RANGE. */
ic_status ic_money_parse(const char *s, size_t len, ic_money *out);

/* USD as a double, for ratios and charts only: never for anything summed or stored. */
double ic_money_to_double(ic_money m);

#endif
