/* focus.h: the ledger as a FinOps FOCUS 1.2 cost-and-usage CSV. One row per UTC day, provider,
 * model, customer and feature, and per direction (input tokens, output tokens), from the daily
 * rollups; costs are the exact ledger amounts at list price (BilledCost = EffectiveCost = ListCost
 * = ContractedCost: infercost knows no negotiated discounts). All FOCUS 1.2 mandatory columns, the
 * FOCUS 1.0 names Provider/Publisher/InvoiceIssuer for older readers, and x_ columns for the
 * ledger's own dimensions. Never prints on its own. */
#ifndef INFERCOST_FOCUS_H
#define INFERCOST_FOCUS_H

#include <stdint.h>
#include <stdio.h>

#include "infercost/ledger.h"

typedef struct ic_focus_opts {
    ic_ledger_filter filter;
    const char *billing_account_id;   /* default "infercost" */
    const char *billing_account_name; /* default "infercost ledger" */
} ic_focus_opts;

ic_status ic_focus_export(ic_ledger *l, const ic_focus_opts *o, FILE *out, uint64_t *rows,
                          ic_error *err);

#endif
