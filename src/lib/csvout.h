/* csvout.h: one CSV field out (RFC 4180), shared by the report writers (report.c, economics.c,
 * focus.c): quoted when it holds a comma, a quote or a line break, its quotes doubled. */
#ifndef IC_CSVOUT_H
#define IC_CSVOUT_H

#include <stdio.h>

void ic__csv_field(FILE *f, const char *s);

#endif
