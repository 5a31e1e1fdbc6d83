/* economics_internal.h: internal. What the rest of the library takes from economics.c beyond its
 * public header. */
#ifndef IC_ECONOMICS_INTERNAL_H
#define IC_ECONOMICS_INTERNAL_H

#include "infercost/economics.h"

/* The revenue per customer (rows' revenue and has_revenue) and in total for the months that
 * overlap the period, as the margin counts them, without reading the events: costs, requests
 * and tasks are left at zero. For what-if's cost shares. */
ic_status ic__margin_revenue(ic_ledger *l, const ic_ledger_filter *period, ic_margin **out,
                             ic_error *err);

#endif
