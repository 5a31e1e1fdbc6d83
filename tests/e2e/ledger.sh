#!/usr/bin/env bash
# tests/e2e/ledger.sh: ingest (cost JSONL, OTLP/JSON spans, LiteLLM JSON and CSV), idempotence,
# rejects, report, revenue import, margin, what-if, forecast and FOCUS export against hand-computed
# expectations. Prices used (embedded genai-prices snapshot, USD per million tokens):
#   gpt-4o: input 2.5, cache read 1.25, output 10     gpt-4o-mini: input 0.15, output 0.6
#   claude-sonnet-4-5: input 3, cache write 3.75, output 15
# The five fixture calls:
#   c1 gpt-4o 1000 in / 100 out                          0.0025 + 0.001            = 0.0035
#   claude 4740 in (4735 cache write) / 255 out         5*3e-6 + 4735*3.75e-6 + 255*15e-6
#                                                      = 0.000015+0.01775625+0.003825 = 0.02159625
#   span gpt-4o 2000 in (1000 cache read) / 500 out     0.0025 + 0.00125 + 0.005  = 0.00875
#   LiteLLM JSON gpt-4o-mini 10000 / 1000               0.0015 + 0.0006           = 0.0021
#   LiteLLM CSV  gpt-4o-mini 20000 / 2000               0.003 + 0.0012            = 0.0042
#   total                                                                         = 0.04014625
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
FX="$(cd "$(dirname "$0")" && pwd)/ledger-fixtures"
L="$T/l.db"
jget() { # json file, JS expression on `d`
    node -e "const d=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); console.log($2)" "$1"
}

# --- ingest every form
for f in calls.jsonl spans.otlp.json litellm.json litellm.csv; do
    "$IC" ingest --ledger "$L" "$FX/$f" >"$T/out" 2>"$T/err"
    expect_eq "ingest $f exit" $? 0
done
"$IC" report --ledger "$L" --by customer --format json >"$T/r.json"
expect_eq "total cost" "$(jget "$T/r.json" d.total.cost_usd)" "0.04014625"
expect_eq "total requests" "$(jget "$T/r.json" d.total.requests)" "5"
expect_eq "acme cost" "$(jget "$T/r.json" "d.rows.find(r=>r.customer==='acme').cost_usd")" "0.01645"
expect_eq "beta cost" "$(jget "$T/r.json" "d.rows.find(r=>r.customer==='beta').cost_usd")" "0.02369625"
expect_eq "cache read tokens" "$(jget "$T/r.json" d.total.cache_read_tokens)" "1000"
expect_eq "cache write tokens" "$(jget "$T/r.json" d.total.cache_write_tokens)" "4735"
# the OTel span: trace id is the task, service.name the feature, response model the served one
"$IC" report --ledger "$L" --by task,feature --format csv >"$T/t.csv"
expect_has "span task" "$(cat "$T/t.csv")" "5b8efff798038103d269b633813fc60c,search,1,"
"$IC" report --ledger "$L" --by model --format csv >"$T/m.csv"
expect_has "served model" "$(cat "$T/m.csv")" "gpt-4o-2024-08-06,1,2000,1000,0,500,0,50.0,0.00875"
# a raw provider key in an export never reaches the ledger
if grep -qa "sk-fake-raw-key" "$L" "$L-wal" 2>/dev/null; then bad "raw key stored"; else ok; fi

# --- provider keys (obviously fake) anywhere in a line reach neither the ledger, nor the rejects
# file, nor a message: values an error quotes are redacted, metadata holding one is refused
F5=$(printf "FAKE%.0s" 1 2 3 4 5); KF="sk-""proj-${F5}0000"; KG="AIza""${F5}00" # no key-shaped text in the source
cat >"$T/keys.jsonl" <<EOF
{"id":"k1","provider":"$KF","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1}}
{"id":"k2","provider":"openai","model":"$KG","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1}}
{"id":"k3","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"$KF":1}}
{"id":"k4","provider":"openai","model":"gpt-4o","timestamp":"$KF","usage":{"input_tokens":1}}
{"id":"k5","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1},"customer":"$KF"}
{"id":"k6","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1},"key_id":"team-$KG"}
{"id":"k7","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1},"tags":{"note":"$KF"}}
{"id":"k8","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1},"customer":"acme"}
{"id":"k9","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":1},"tags":{"note":"key:\\n$KF"}}
{"id":"k10","provider":"openai","model":"gpt-4o","timestamp":"2026-06-01T00:00:00Z","usage":{"input_tokens":"x"},"note":"key:\\n$KG"}
EOF
"$IC" ingest --ledger "$T/keys.db" --rejects "$T/keys-rej.jsonl" "$T/keys.jsonl" >"$T/keys-out" 2>"$T/keys-err"
expect_eq "keys: exit" $? 1
expect_has "keys: the clean line is kept" "$(cat "$T/keys-out")" "1 new, 0 already in the ledger, 9 refused"
expect_has "keys: the field is named" "$(cat "$T/keys-err")" "keys.jsonl:5: customer: holds what looks like a provider key"
expect_has "keys: a quoted value is redacted" "$(cat "$T/keys-err")" 'unknown provider "sk-pro[redacted]"'
"$IC" cost "$T/keys.jsonl" >"$T/keys-cost" 2>&1
for f in "$T/keys-err" "$T/keys-rej.jsonl" "$T/keys-cost" "$T/keys.db" "$T/keys.db-wal"; do
    if grep -qa "FAKEFAKEFAKEFAKE" "$f" 2>/dev/null; then bad "a key in $(basename "$f")"; else ok; fi
done

# --- idempotence: the same files again change nothing
for f in calls.jsonl spans.otlp.json litellm.json litellm.csv; do
    "$IC" ingest --ledger "$L" "$FX/$f" >"$T/out" 2>&1
    expect_has "re-ingest $f" "$(cat "$T/out")" " 0 new"
done
"$IC" report --ledger "$L" --format json >"$T/r2.json"
expect_eq "total after re-ingest" "$(jget "$T/r2.json" d.total.cost_usd)" "0.04014625"
# the raw scan agrees with the rollups to the pico-dollar
"$IC" report --ledger "$L" --raw --format json >"$T/r3.json"
expect_eq "raw total" "$(jget "$T/r3.json" d.total.cost_usd)" "0.04014625"

# --- bad lines: reported with file:line, written to the rejects file, the rest kept
"$IC" ingest --ledger "$L" --rejects "$T/rej.jsonl" "$FX/bad.jsonl" >"$T/out" 2>"$T/err"
expect_eq "bad file exit" $? 1
expect_has "stderr names line 2" "$(cat "$T/err")" "bad.jsonl:2: unknown model"
expect_has "stderr names line 3" "$(cat "$T/err")" "bad.jsonl:3: no timestamp"
expect_has "stderr names line 6" "$(cat "$T/err")" "bad.jsonl:6:"
expect_eq "rejects file lines" "$(wc -l <"$T/rej.jsonl" | tr -d ' ')" "4"
expect_has "summary" "$(cat "$T/out")" "1 new, 1 already in the ledger, 4 refused"
expect_eq "rejects keep the line" "$(node -e "const l=require('fs').readFileSync(process.argv[1],'utf8').split('\n')[2]; console.log(JSON.parse(l).line)" "$T/rej.jsonl")" "this is not json"
"$IC" report --ledger "$L" --format json >"$T/r4.json"
expect_eq "total with c9" "$(jget "$T/r4.json" d.total.cost_usd)" "0.05014625" # + 4000 * 2.5e-6

# --- report shapes
"$IC" report --ledger "$L" --by provider --format md >"$T/md"
expect_has "markdown" "$(cat "$T/md")" "| provider"
"$IC" report --ledger "$L" --by day --from 2026-03-02 --to 2026-03-03 --format csv >"$T/d.csv"
expect_eq "day rows" "$(sed -n 2,9p "$T/d.csv" | cut -d, -f1 | tr '\n' ' ')" "2026-03-02 2026-03-03 "
"$IC" report --ledger "$L" --by customer --percentiles --format json >"$T/p.json"
# beta's tasks: t-1 (the claude call, 0.02159625) and LiteLLM session s-9 (0.0021): mean 0.011848125
expect_eq "beta task cost" "$(jget "$T/p.json" "d.rows.find(r=>r.customer==='beta').cost_per_task_usd")" "0.011848125"
expect_eq "p99 per request" "$(jget "$T/p.json" d.total.request_p99_usd)" "0.02159625"
expect_eq "p50 per request" "$(jget "$T/p.json" d.total.request_p50_usd)" "0.0042"
"$IC" report --ledger "$L" --by nonsense >/dev/null 2>"$T/err"
expect_eq "bad dimension exit" $? 2

# --- what-if before any revenue is imported: no cost shares, no error
"$IC" whatif --ledger "$L" --batch --by customer >"$T/out" 2>"$T/err"
expect_eq "whatif without revenue exit" $? 0
expect_has "whatif without revenue" "$(cat "$T/out")" "the period: \$0.05014625 -> \$0.025073125"
"$IC" whatif --ledger "$L" --batch --month 2020-01 >"$T/out" 2>"$T/err"
expect_eq "whatif empty period exit" $? 0

# --- revenue and margin
printf 'customer,period,revenue\nacme,2026-03,0.05\nbeta,2026-03,$0.02\n' >"$T/rev.csv"
"$IC" revenue import --ledger "$L" "$T/rev.csv" >"$T/out"
expect_eq "revenue import exit" $? 0
"$IC" margin --ledger "$L" --format json >"$T/mg.json"
expect_eq "margin exit (beta under water)" $? 1
# acme: 0.01645 of 0.05 = 32.90%; beta: 0.02369625 of 0.02 = 118.48% (118.48125 half-even)
expect_eq "acme share" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='acme').cost_share_pct")" "32.90"
expect_eq "beta status" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='beta').status")" "UNDER WATER"
expect_eq "beta margin" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='beta').margin_usd")" "-0.00369625"
expect_eq "gamma no revenue" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='gamma').status")" "NO REVENUE"
# price per task at 25%: beta's mean task 0.011848125 / 0.25; one of its two tasks costs more
expect_eq "task price" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='beta').task_price_for_target_usd")" "0.0473925"
expect_eq "tasks over target" "$(jget "$T/mg.json" "d.customers.find(c=>c.customer==='beta').tasks_over_target")" "1"
# rounded once: the three tasks' 0.03244625 / 3 / 0.25 = 0.0432616666...67 (the rounded mean
# 0.010815416667 / 0.25 would give ...668)
expect_eq "task price, total" "$(jget "$T/mg.json" "d.total.task_price_for_target_usd")" "0.043261666667"
"$IC" margin --ledger "$L" --target 40 --format csv >"$T/mg.csv"
expect_has "acme ok at 40%" "$(cat "$T/mg.csv")" "acme,0.05,0.01645,32.90,0.03355,67.10,ok"
# --- what-if: the calls priced again under a scenario
# gpt-4o -> gpt-4o-mini: c1 1000/100 = 0.00015 + 0.00006 = 0.00021 (from 0.0035); c9 4000 in =
# 0.0006 (from 0.01); the span's gpt-4o-2024-08-06 is another model and stays
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --by customer --format json >"$T/w.json"
expect_eq "whatif exit" $? 0
expect_eq "whatif saving" "$(jget "$T/w.json" d.total.saving_usd)" "0.01269"
expect_eq "whatif moved" "$(jget "$T/w.json" d.total.moved)" "2"
expect_eq "whatif acme after" "$(jget "$T/w.json" "d.rows.find(r=>r.key==='acme').whatif_usd")" "0.01316"
# acme's cost share: 0.01316 of 0.05 = 26.32%
expect_eq "whatif acme share" "$(jget "$T/w.json" "d.rows.find(r=>r.key==='acme').whatif_cost_share_pct")" "26.32"
expect_eq "whatif period" "$(jget "$T/w.json" d.total.period_whatif_usd)" "0.03745625"
# prompts half as long: the uncached input halved (rounded down), cache reads and writes kept:
# c1 500 of 1000 x 2.5e-6 = 0.00125; the span 500 of its 1000 uncached = 0.00125; claude 2 of its
# 5 uncached x 3e-6 = 0.000006; LiteLLM 5000 and 10000 x 0.15e-6 = 0.00075 + 0.0015; c9 2000 of
# 4000 x 2.5e-6 = 0.005
expect_eq "whatif trim-input" "$("$IC" whatif --ledger "$L" --trim-input 50 --format json | jq -r .total.saving_usd)" 0.009756
# the batch API: every call at half price, the claude call 0.02159625 / 2 = 0.010798125
"$IC" whatif --ledger "$L" --batch --by provider --format csv >"$T/w.csv"
expect_has "whatif batch anthropic" "$(cat "$T/w.csv")" "anthropic,1,0,1,0,0.02159625,0.010798125,0.010798125,50.00"
# only the calls of one customer, half of them moved: each call moves whole (0.0035 or 0.0094
# saved), and the same ones every run
"$IC" whatif --ledger "$L" --swap '*=gpt-4o-mini' --customer gamma --format json >"$T/w2.json"
expect_eq "whatif one customer" "$(jget "$T/w2.json" d.total.calls)" "1"
expect_eq "whatif rest of period kept" "$(jget "$T/w2.json" d.total.period_whatif_usd)" "0.04074625"
a=$("$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --share 50 --format csv)
expect_eq "whatif share reproducible" "$("$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --share 50 --format csv)" "$a"
# by size: of gpt-4o's two calls (1000 and 4000 input tokens) half moves, the smaller: c1
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --share 50 --share-by input-tokens --format json >"$T/w3.json"
expect_eq "whatif share by size" "$(jget "$T/w3.json" d.total.saving_usd)" "0.00329"
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --share-by size >/dev/null 2>"$T/err"
expect_has "whatif share-by bad" "$(cat "$T/err")" "--share-by wants id or input-tokens"
# half of each input from the prompt cache: c1 500 tokens x (2.5 - 1.25) = 0.000625, c9 2000 x
# 1.25 = 0.0025, the LiteLLM calls 5000 and 10000 x 0.075 = 0.000375 + 0.00075; the claude call
# wrote 4735 of its 4740 to the cache, so 5 more read x 2.7 = 0.0000135; the span is at 50%
"$IC" whatif --ledger "$L" --cache-read 50 --format json >"$T/w4.json"
expect_eq "whatif cache reads" "$(jget "$T/w4.json" d.total.saving_usd)" "0.0042635"
# Markdown by month; a provider without a batch discount; calls the other model cannot price
out=$("$IC" whatif --ledger "$L" --swap '*=deepseek:deepseek-chat' --batch --by month --format md)
expect_has "whatif md" "$out" "### What if: every model -> deepseek:deepseek-chat; batch API at each provider's discount"
expect_has "whatif md month" "$out" "| 2026-03 |     6 |     6 |       0 |        0 | 0.05014625 |"
expect_has "whatif no batch discount" "$out" "6 calls left at full price: their provider publishes no batch discount"
# an embeddings model prices no output: the five calls with output stay, c9 (4000 in, none out)
# moves: 4000 x 0.02 per M = 0.00008 instead of 0.01
out=$("$IC" whatif --ledger "$L" --swap '*=openai:text-embedding-3-small')
expect_has "whatif kept" "$out" "5 calls kept at their recorded cost: the scenario could not price them (first: event"
expect_has "whatif kept why" "$out" "text-embedding-3-small has no price for output_tokens"
expect_has "whatif embedding move" "$out" "the period: \$0.05014625 -> \$0.04022625"
# a swap that an earlier one shadows, and one whose calls are all outside the filter, say so
"$IC" whatif --ledger "$L" --swap '*=gpt-4o-mini' --swap gpt-4o=gpt-4.1 >/dev/null 2>"$T/err"
expect_has "whatif shadowed swap" "$(cat "$T/err")" "--swap gpt-4o=gpt-4.1: moved nothing: the first --swap that matches a call applies, and --swap *=gpt-4o-mini comes before it"
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4.1 --customer beta >/dev/null 2>"$T/err"
expect_has "whatif swap outside filter" "$(cat "$T/err")" "the period's 2 calls served by gpt-4o are outside the filters"
# a model id with a colon, given with its provider; a bad one names both readings
"$IC" whatif --ledger "$L" --swap gpt-4o=aws:amazon.nova-lite-v1:0 >"$T/out" 2>"$T/err"
expect_has "whatif colon id" "$(cat "$T/out")" "gpt-4o -> aws:amazon.nova-lite-v1:0"
"$IC" whatif --ledger "$L" --swap gpt-4o=amazon.nova-lite-v1:0 >/dev/null 2>"$T/err"
expect_has "whatif colon id without provider" "$(cat "$T/err")" "as a model: model \"amazon.nova-lite-v1:0\" needs a provider"
"$IC" whatif --ledger "$L" --batch --share 50 >/dev/null 2>"$T/err"
expect_has "whatif share without swap" "$(cat "$T/err")" "give a --swap"
"$IC" whatif --ledger "$L" --at 1970-01-01 >/dev/null 2>"$T/err"
expect_eq "whatif at 1970 accepted" $? 0
# scenario errors: named, exit 2, nothing printed on stdout
"$IC" whatif --ledger "$L" >"$T/out" 2>"$T/err"
expect_eq "whatif no scenario exit" $? 2
expect_has "whatif no scenario" "$(cat "$T/err")" "give a scenario"
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4oo-mini >"$T/out" 2>"$T/err"
expect_eq "whatif unknown model exit" $? 2
expect_has "whatif unknown model" "$(cat "$T/err")" "--swap gpt-4o=gpt-4oo-mini:"
expect_eq "whatif unknown model stdout" "$(cat "$T/out")" ""
"$IC" whatif --ledger "$L" --swap gpt-4o >/dev/null 2>"$T/err"
expect_has "whatif swap syntax" "$(cat "$T/err")" "--swap wants FROM=TO"
"$IC" whatif --ledger "$L" --swap gpt-4o=gpt-4o-mini --share 0 >/dev/null 2>"$T/err"
expect_has "whatif share 0" "$(cat "$T/err")" "--share wants a percentage"
"$IC" whatif --ledger "$L" --batch --by task >/dev/null 2>"$T/err"
expect_eq "whatif by task exit" $? 2
"$IC" whatif --ledger "$L" --swap gpt-5=gpt-4o-mini >"$T/out" 2>"$T/err"
expect_has "whatif swap matches nothing" "$(cat "$T/err")" "no call in the period is served by gpt-5"
"$IC" whatif --ledger "$L" --at 2026-13-01 >/dev/null 2>"$T/err"
expect_has "whatif bad date" "$(cat "$T/err")" "--at: '2026-13-01' is not a date"

# a bad revenue file imports nothing and names the line
printf 'customer,period,revenue\nacme,2026-04,1\nbeta,2026-4,2\n' >"$T/bad.csv"
"$IC" revenue import --ledger "$L" "$T/bad.csv" >/dev/null 2>"$T/err"
expect_eq "bad revenue exit" $? 1
expect_has "bad revenue line" "$(cat "$T/err")" "bad.csv:3: period '2026-4'"
expect_eq "nothing imported" "$("$IC" revenue list --ledger "$L" | grep -c 2026-04)" "0"

# --- FOCUS export: every mandatory column, the exact total
"$IC" export --format focus --ledger "$L" --out "$T/focus.csv" 2>/dev/null
expect_eq "export exit" $? 0
head -1 "$T/focus.csv" >"$T/head"
for c in BilledCost EffectiveCost ListCost ContractedCost ChargePeriodStart ChargePeriodEnd \
    BillingPeriodStart BillingPeriodEnd ChargeCategory ChargeClass ChargeDescription \
    PricingQuantity PricingUnit ServiceName ServiceCategory ServiceSubcategory ProviderName \
    PublisherName InvoiceIssuerName BillingAccountId \
    BillingAccountName BillingCurrency; do
    if tr ',' '\n' <"$T/head" | grep -qx "$c"; then ok; else bad "FOCUS column $c missing"; fi
done
# FOCUS: a column outside the specification carries the x_ prefix
expect_eq "FOCUS: no unprefixed custom column" "$(tr ',' '\n' <"$T/head" | grep -cxE 'Provider|Publisher|InvoiceIssuer')" 0
sum=$(node -e "
const lines=require('fs').readFileSync(process.argv[1],'utf8').trim().split('\n');
const h=lines[0].split(','); const i=h.indexOf('BilledCost'); let s=0n;
for (const l of lines.slice(1)) { const v=l.split(',')[i]; const [a,b='']=v.split('.');
  s += BigInt(a)*10n**12n + BigInt((b+'000000000000').slice(0,12)); }
const w=s/10n**12n, f=(s%10n**12n).toString().padStart(12,'0').replace(/0+$/,'');
console.log(f ? w+'.'+f : String(w));" "$T/focus.csv")
expect_eq "FOCUS total" "$sum" "0.05014625"
expect_has "FOCUS category" "$(sed -n 2p "$T/focus.csv")" "AI and Machine Learning"

# --- forecast on a generated 90-day workload with revenue
"$IC" generate-workload --days 75 --events 20000 --seed 7 --out "$T/wl.jsonl" --revenue "$T/wrev.csv"
W="$T/odd.db"
"$IC" ingest -q --ledger "$W" "$T/wl.jsonl"
"$IC" revenue import --ledger "$W" "$T/wrev.csv" >/dev/null
# a report spanning months is valid JSON with the month-over-month change and movers
"$IC" report --ledger "$W" --by customer --format json >"$T/wr.json"
expect_eq "multi-month json" "$(jget "$T/wr.json" "d.months.length > 1 && typeof d.months[1].change_pct === 'number' && d.movers.length > 0")" "true"
"$IC" forecast --ledger "$W" --months 6 >"$T/fc"
expect_eq "forecast exit" $? 0
expect_has "forecast scenarios" "$(cat "$T/fc")" "10x cheaper/12mo"
expect_has "forecast target line" "$(cat "$T/fc")" "target: cost <= 25.00% of revenue"
"$IC" forecast --ledger "$W" --months 6 --format csv >"$T/fc.csv"
expect_eq "forecast csv rows" "$(grep -c projected "$T/fc.csv")" "6"
# the workload starts on June 1 and covers 75 days: August is partial, as the table says
expect_eq "forecast csv: a partial month" "$(grep -c ',partial,' "$T/fc.csv")" "1"
# 75 days from 2026-06-01: June and July whole (actual), August's 14 days a partial month
expect_has "forecast: a whole month is actual" "$(cat "$T/fc")" "2026-07   actual"
expect_has "forecast: a partial month says its days" "$(cat "$T/fc")" "2026-08   14 days"
"$IC" forecast --ledger "$W" --months 1 --format json >"$T/fc.json"
expect_eq "forecast json: days of the partial month" "$(jget "$T/fc.json" "d.months.filter((m) => m.actual).map((m) => m.days + '/' + m.month_days).join(' ')")" "30/30 31/31 14/31"
# three days of history: no growth is fitted, and the forecast says so rather than "+0.0%"
"$IC" generate-workload --days 3 --seed 7 --out "$T/wl3.jsonl"
"$IC" ingest -q --ledger "$T/w3.db" "$T/wl3.jsonl"
expect_has "forecast on 3 days" "$("$IC" forecast --ledger "$T/w3.db" --months 2)" "usage growth: not fitted (0 months with 7 days or more of data; 2 needed): usage held flat"
# determinism of the generator
"$IC" generate-workload --days 75 --events 20000 --seed 7 --out "$T/wl2.jsonl"
if cmp -s "$T/wl.jsonl" "$T/wl2.jsonl"; then ok; else bad "generator not deterministic"; fi
# two ingests writing one ledger at the same time (new names in both): the same as one after the other
"$IC" generate-workload --events 6000 --seed 8 --out "$T/c1.jsonl"
"$IC" generate-workload --events 6000 --seed 9 --out "$T/c2.jsonl"
"$IC" ingest -q --batch 200 --ledger "$T/cc.db" "$T/c1.jsonl" &
cpid=$!
"$IC" ingest -q --batch 200 --ledger "$T/cc.db" "$T/c2.jsonl"
expect_eq "concurrent ingest B" $? 0
wait "$cpid"
expect_eq "concurrent ingest A" $? 0
"$IC" ingest -q --ledger "$T/seq.db" "$T/c1.jsonl" "$T/c2.jsonl"
"$IC" report --ledger "$T/cc.db" --by customer,model --format csv >"$T/cc.csv"
"$IC" report --ledger "$T/seq.db" --by customer,model --format csv >"$T/seq.csv"
if cmp -s "$T/cc.csv" "$T/seq.csv"; then ok; else bad "concurrent ingest differs from sequential"; fi
# an empty ledger is an error, not a made-up forecast
"$IC" ingest -q --ledger "$T/empty.db" /dev/null
"$IC" forecast --ledger "$T/empty.db" >/dev/null 2>"$T/err"
expect_eq "empty forecast exit" $? 2
# a UTF-8 byte-order mark (spreadsheets write one) before the first line is not part of it
B=$'\xef\xbb\xbf'
printf '%s{"id":"bom1","provider":"openai","model":"gpt-4o","timestamp":"2026-06-02T00:00:00Z","usage":{"input_tokens":1000}}\n' "$B" >"$T/bom.jsonl"
"$IC" ingest --quiet --ledger "$T/bom.db" "$T/bom.jsonl"; expect_eq "BOM: JSONL ingested" $? 0
{ printf '%s' "$B"; cat "$FX/litellm.csv"; } >"$T/bom.csv"
"$IC" ingest --ledger "$T/bom.db" "$T/bom.csv" >"$T/out" 2>&1; expect_eq "BOM: LiteLLM CSV ingested" $? 0
expect_has "BOM: LiteLLM CSV rows" "$(cat "$T/out")" "1 new, 0 already in the ledger, 0 refused"
printf '%scustomer,period,revenue\nacme,2026-06,10\n' "$B" >"$T/bomrev.csv"
"$IC" revenue import --ledger "$T/bom.db" "$T/bomrev.csv" >/dev/null; expect_eq "BOM: revenue CSV" $? 0
printf '%s{"id":"bom2","provider":"openai","model":"gpt-4o","timestamp":"2026-06-02T00:00:00Z","usage":{"input_tokens":1000}}\n' "$B" >"$T/bom2.jsonl"
expect_has "BOM: cost" "$("$IC" cost "$T/bom2.jsonl")" '"total_usd":"0.0025"'

# a call that would cost more than the ledger takes for one ($1,000,000: absurd token counts) is
# refused alone, naming its line; the rest of its file is kept
printf '%s\n' '{"id":"huge","provider":"openai","model":"o1-pro","timestamp":"2026-06-02T00:00:00Z","usage":{"input_tokens":1000000000000000,"output_tokens":1000000000000000}}' \
    '{"id":"fine","provider":"openai","model":"gpt-4o","timestamp":"2026-06-02T00:00:00Z","usage":{"input_tokens":1000}}' >"$T/huge.jsonl"
"$IC" ingest --ledger "$T/huge.db" "$T/huge.jsonl" >"$T/out" 2>"$T/err"; expect_eq "huge: exit" $? 1
expect_has "huge: the line and the amount" "$(cat "$T/err")" 'huge.jsonl:1: usage: this call would cost $750000000000, more than the $1,000,000'
expect_has "huge: the rest kept" "$(cat "$T/out")" "1 new, 0 already in the ledger, 1 refused"

# a filter that matches no call says so (names match exactly), and the command still answers
"$IC" report --ledger "$L" --customer nobody --provider OpenAI >/dev/null 2>"$T/err"; expect_eq "no match: report exit" $? 0
expect_has "no match: report says so" "$(cat "$T/err")" "no call in the period matches --provider 'OpenAI' --customer 'nobody'"
"$IC" whatif --ledger "$L" --batch --feature nope >/dev/null 2>"$T/err"
expect_has "no match: whatif says so" "$(cat "$T/err")" "no call in the period matches --feature 'nope'"
"$IC" report --ledger "$L" --customer acme >/dev/null 2>"$T/err"
expect_eq "a filter that matches: nothing on stderr" "$(cat "$T/err")" ""

# LiteLLM rows: a bad count names its column; metadata that is not JSON is refused, not dropped
head -1 "$FX/litellm.csv" >"$T/lbad.csv"
echo 'chatcmpl-335,acompletion,,0.0042,22000,-5,2000,2026-03-04T08:00:00Z,2026-03-04T08:00:01Z,gpt-4o-mini,openai,acme,,False,success' >>"$T/lbad.csv"
echo 'chatcmpl-336,acompletion,,0.0042,22000,20000,2000,2026-03-04T08:00:00Z,2026-03-04T08:00:01Z,gpt-4o-mini,openai,acme,"{",False,success' >>"$T/lbad.csv"
"$IC" ingest --ledger "$T/lbad.db" "$T/lbad.csv" >/dev/null 2>"$T/err"
expect_has "LiteLLM: the bad count's column" "$(cat "$T/err")" "lbad.csv:2: LiteLLM row chatcmpl-335: prompt_tokens: not a non-negative integer"
expect_has "LiteLLM: metadata not JSON" "$(cat "$T/err")" "lbad.csv:3: LiteLLM row chatcmpl-336: metadata: not a JSON object"

# an OTLP document's refused spans go to the rejects file one span each, not the document again
# for every span (a big export of bad spans would grow the rejects file quadratically)
SP='{"traceId":"t1","spanId":"sNN","attributes":[{"key":"gen_ai.system","value":{"stringValue":"openai"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"5"}}]}'
printf '{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[%s,%s,%s]}]}]}\n' \
    "${SP/NN/01}" "${SP/NN/02}" "${SP/NN/03}" >"$T/otlp-bad.json"
"$IC" ingest --ledger "$T/otlp.db" --rejects "$T/otlp-rej.jsonl" "$T/otlp-bad.json" >/dev/null 2>"$T/err"
expect_eq "OTLP: one reject per span" "$(wc -l <"$T/otlp-rej.jsonl" | tr -d ' ')" 3
expect_eq "OTLP: each reject holds its span only" "$(jq -r '.line' "$T/otlp-rej.jsonl" | grep -c resourceSpans)" 0
expect_has "OTLP: the span is named" "$(cat "$T/err")" "span s02: no gen_ai.request.model"

# revenue may be negative (a refund), as -5, -$5 or $-5; a margin over part of a month says that
# revenue counts whole months
printf 'customer,period,revenue\nrefunded,2026-03,-$5\nrefunded2,2026-03,$-2.5\n' >"$T/negrev.csv"
"$IC" revenue import --ledger "$T/neg.db" "$T/negrev.csv" >/dev/null; expect_eq "negative revenue: imported" $? 0
expect_has "negative revenue: stored" "$("$IC" revenue list --ledger "$T/neg.db")" "refunded,2026-03,-5"
# revenue list is CSV that revenue import reads back: a name with a comma or a quote is quoted
printf 'customer,period,revenue\n"q,uo""te",2026-03,2\n' >"$T/q.csv"
"$IC" revenue import --ledger "$T/q.db" "$T/q.csv" >/dev/null
"$IC" revenue list --ledger "$T/q.db" >"$T/q2.csv"
expect_has "revenue list quotes" "$(cat "$T/q2.csv")" '"q,uo""te",2026-03,2'
"$IC" revenue import --ledger "$T/q3.db" "$T/q2.csv" >/dev/null
expect_eq "revenue list round trip" "$("$IC" revenue list --ledger "$T/q3.db")" "$(cat "$T/q2.csv")"
"$IC" margin --ledger "$L" --from 2026-03-02 --to 2026-03-20 >/dev/null 2>"$T/err"
expect_has "margin over part of a month: a note" "$(cat "$T/err")" "the period starts within a month: revenue counts whole months"
"$IC" margin --ledger "$L" --month 2026-03 >/dev/null 2>"$T/err"
if grep -q "within a month" "$T/err"; then bad "margin over a whole month: no note"; else ok; fi

# --- spend by virtual key and by tag (the events are read: neither is in the rollups)
# gpt-4o-mini input at $0.15 per million: k1 0.15, k2 0.30, k3 0.60, k4 1.20
K="$T/k.db"
kl() { # id, million input tokens, extra fields
    printf '{"id":"%s","provider":"openai","model":"gpt-4o-mini","timestamp":"2026-03-05T10:00:00Z","usage":{"input_tokens":%d000000}%s}\n' "$1" "$2" "$3"
}
{ kl k1 1 ',"key_id":"team-a","tags":{"team":"search","env":"prod"}'
  kl k2 2 ',"key_id":"team-a","tags":{"env":"dev","team":"search"}'
  kl k3 4 ',"key_id":"team-b","tags":{"team":"ads","env":"prod","n":3,"b":true}'
  kl k4 8 ''; } | "$IC" ingest --quiet --ledger "$K" -
kr() { "$IC" report --ledger "$K" --format json "$@"; }
expect_eq "by key" "$(kr --by key | jq -c '[.source, (.rows[] | [.key, .cost_usd])]')" \
    '["events",["","1.2"],["team-b","0.6"],["team-a","0.45"]]'
expect_eq "by tag" "$(kr --by tag:team | jq -c '[.group_by, (.rows[] | [.["tag:team"], .cost_usd])]')" \
    '[["tag:team"],["","1.2"],["ads","0.6"],["search","0.45"]]'
expect_eq "by tag, one env" "$(kr --by tag:team --tag env=prod | jq -c '[(.rows[] | [.["tag:team"], .cost_usd]), .total.cost_usd]')" \
    '[["ads","0.6"],["search","0.15"],"0.75"]'
expect_eq "two tags must both hold" "$(kr --tag env=prod --tag team=search | jq -r .total.cost_usd)" 0.15
expect_eq "NAME= selects the calls without the tag" "$(kr --tag env= | jq -r '[.total.requests, .total.cost_usd] | join(" ")')" "1 1.2"
expect_eq "a number and a boolean by their JSON text" "$(kr --tag n=3 --tag b=true | jq -r .total.cost_usd)" 0.6
expect_eq "one key, by day" "$(kr --key team-a --by day | jq -c '[.rows[] | [.day, .cost_usd]]')" '[["2026-03-05","0.45"]]'
expect_eq "key and tag, CSV header" "$("$IC" report --ledger "$K" --by key,tag:env --format csv | head -1 | cut -d, -f1-3)" "key,tag:env,requests"
expect_has "table: a call without the tag" "$("$IC" report --ledger "$K" --by tag:env)" "(none)"
expect_eq "by customer: still the rollups" "$(kr --by customer | jq -r .source)" rollups
# values that could break the rows: U+001F (the group key's separator), 1,200-byte values that
# differ only at the end, a '|' in a tag's name in Markdown
long=$(printf 'p%.0s' $(seq 1200))
{ kl w1 1 ",\"key_id\":\"kk\",\"tags\":{\"a|b\":\"x\\u001fy\",\"env\":\"prod\"}"
  kl w2 1 ",\"tags\":{\"long\":\"${long}A\"}"; kl w3 2 ",\"tags\":{\"long\":\"${long}B\"}"; } | "$IC" ingest --quiet --ledger "$T/odd.db" -
expect_eq "U+001F in a value: the columns stay" "$("$IC" report --ledger "$T/odd.db" --by 'tag:a|b,tag:env,key' --format csv | grep ',kk,' | cut -d, -f1-3)" "x�y,prod,kk"
expect_eq "long values: a row each" "$("$IC" report --ledger "$T/odd.db" --by tag:long --format json | jq -r '[.rows[] | .["tag:long"] | .[-1:]] | sort | join(",")')" ",A,B"
expect_eq "Markdown: a '|' in a header escaped" "$("$IC" report --ledger "$T/odd.db" --by 'tag:a|b' --format md | sed -n 3p | sed 's/\\|//g' | tr -cd '|' | wc -c)" \
    "$("$IC" report --ledger "$T/odd.db" --by 'tag:a|b' --format md | sed -n 5p | sed 's/\\|//g' | tr -cd '|' | wc -c)"
out=$("$IC" report --ledger "$K" --key nobody 2>&1 >/dev/null); rc=$?
expect_eq "no such key: exit" "$rc" 0
expect_has "no such key: said" "$out" "no call in the period has that --key"
for bad in "--by tag" "--by tag:" "--tag env" "--tag =x" "--by tag:$(printf 'x%.0s' $(seq 128))"; do
    # shellcheck disable=SC2086
    out=$("$IC" report --ledger "$K" $bad 2>&1); rc=$?
    expect_eq "refused: $bad: exit" "$rc" 2
done
expect_has "the --tag message" "$("$IC" report --ledger "$K" --tag env 2>&1)" "--tag wants NAME=VALUE"
out=$("$IC" report --ledger "$K" --tag a=1 --tag b=2 --tag c=3 --tag d=4 --tag e=5 2>&1); rc=$?
expect_eq "five --tag: exit" "$rc" 2
expect_has "five --tag: said" "$out" "at most 4"

# --- what routing saved: whatif --unroute prices each routed call on the model asked for
# r1 gpt-4o asked, gpt-4o-mini served, 1M in: 0.15, on gpt-4o 2.5; r2 not routed (2.5); r3 from
# "auto", which the catalog does not price (0.15, kept); r4 escalated from gpt-4o-mini to gpt-4o,
# 2M in: 5.0, on gpt-4o-mini 0.30
U="$T/u.db"
ul() { # id, customer, asked, served, million input tokens
    printf '{"id":"%s","customer":"%s","provider":"openai","routed_from":"%s","model":"%s","timestamp":"2026-03-06T10:00:00Z","usage":{"input_tokens":%d000000}}\n' "$@"
}
{ ul r1 a gpt-4o gpt-4o-mini 1; ul r2 b gpt-4o gpt-4o 1; ul r3 b auto gpt-4o-mini 1
  ul r4 b gpt-4o-mini gpt-4o 2; } | "$IC" ingest --quiet --ledger "$U" -
"$IC" whatif --ledger "$U" --unroute --format json >"$T/u.json"
expect_eq "unroute: moved, kept, costs" "$(jq -c '.total | [.moved, .unpriced, .cost_usd, .whatif_usd, .saving_usd]' "$T/u.json")" \
    '[2,1,"7.8","5.45","2.35"]'
expect_has "unroute: why a call was kept" "$(jq -r .total.first_unpriced "$T/u.json")" "event r3: routed from 'auto', which the catalog does not price"
out=$("$IC" whatif --ledger "$U" --unroute --customer a)
expect_has "unroute: what routing saved" "$out" 'routing saved $2.35: the 1 call it moved would have cost that much more'
expect_has "unroute: what routing cost" "$("$IC" whatif --ledger "$U" --unroute --customer b)" 'routing cost $4.7 more than the models asked for would have, on the 1 call it moved'
expect_has "unroute: nothing routed" "$("$IC" whatif --ledger "$L" --unroute)" "none of the calls selected was routed"
for other in "--swap gpt-4o=gpt-4o-mini" --batch "--at now" "--cache-read 50" "--response-cache 1h"; do
    # shellcheck disable=SC2086
    "$IC" whatif --ledger "$U" --unroute $other >/dev/null 2>&1
    expect_eq "unroute with $other: refused" $? 2
done
# a call a fallback target served, and a failed one: not routing decisions
{ ul f1 c gpt-4o gpt-4o-mini 1 | sed 's/}$/,"fallback":true}/'
  ul f2 c gpt-4o gpt-4o-mini 1 | sed 's/}$/,"status":"503"}/'; } | "$IC" ingest --quiet --ledger "$U" -
out=$("$IC" whatif --ledger "$U" --unroute --customer c)
expect_has "unroute: a fallback is not routing" "$out" "1 call was answered by a fallback (the target chosen first failed)"
expect_has "unroute: nor a failed call" "$out" "none of the calls selected was routed"
expect_eq "unroute: the fallbacks in JSON" "$("$IC" whatif --ledger "$U" --unroute --format json | jq -c '.total | [.moved, .by_fallback]')" '[2,1]'
# ingested at a negotiated price (an overlay): the routing saving is the models' difference by
# today's catalog, not the discount
printf '[{"id":"openai","models":[{"id":"gpt-4o-mini","match":{"equals":"gpt-4o-mini"},"prices":{"input_mtok":0.075}}]}]\n' >"$T/ov.json"
ul o1 d gpt-4o gpt-4o-mini 1 | "$IC" ingest --quiet --overlay "$T/ov.json" --ledger "$T/ov.db" -
expect_eq "unroute: an overlay's discount is not routing's saving" "$("$IC" whatif --ledger "$T/ov.db" --unroute --format json | jq -c '.total | [.cost_usd, .saving_usd, .whatif_usd]')" '["0.075","-2.35","2.425"]'

finish
