/* csvin.h: internal. Reading CSV (RFC 4180): one record split into its fields, and where a record
 * ends when quoted fields span lines. For the LiteLLM spend-log export (ingest.c), the revenue
 * file (economics.c) and routing evaluation sets (route_eval.c). */
#ifndef IC_CSVIN_H
#define IC_CSVIN_H

#include <stdbool.h>
#include <stddef.h>

/* Split the record s[0..len) (no line break after it) into at most maxf fields, in place: f[i]
 * points at field i, NUL-terminated, quotes removed and doubled quotes made single. Returns the
 * number of fields, or -1 when a quote is not closed, text follows a closing quote, or there
 * are more than maxf fields. */
int ic__csv_split(char *s, size_t len, char **f, int maxf);

/* Whether s[0..len) ends inside a quoted field (the record goes on past a line break). */
bool ic__csv_quotes_open(const char *s, size_t len);

#endif
