#!/usr/bin/env bash
# tests/e2e/dashboard.sh: `infercost dashboard` on a synthetic product with revenue: a page with
# balanced tags, no script and no external reference; its headline, customer and model figures
# are the report's and margin's, rounded half-even by the documented tiers (cents from $1,
# $0.0001 below, $0.000001 below that) with the exact amount as the tooltip; names from the
# ledger escaped; an empty period, --months 0, --out onto the ledger, a bad option.
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
L="$T/l.db"
"$IC" generate-workload --events 20000 --days 75 --seed 3 --out "$T/w.jsonl" --revenue "$T/rev.csv" >/dev/null
# a customer whose name is markup, and one that has no revenue
printf '%s\n' '{"id":"x1","timestamp":"2026-07-02T10:00:00Z","provider":"openai","model":"gpt-4o","customer":"<script>alert(1)</script>&\"'"'"'","feature":"f<b>","usage":{"input_tokens":1000,"output_tokens":100}}' >>"$T/w.jsonl"
"$IC" ingest -q --ledger "$L" "$T/w.jsonl"
"$IC" revenue import --ledger "$L" "$T/rev.csv" >/dev/null
out=$("$IC" dashboard --ledger "$L" --out "$T/d.html" 2>&1); rc=$?
expect_eq "dashboard exit" "$rc" 0
expect_has "dashboard says what it wrote" "$out" "wrote the dashboard of 20001 calls to $T/d.html"
"$IC" report --ledger "$L" --format json >"$T/r.json"
"$IC" report --ledger "$L" --by model --format json >"$T/m.json"
"$IC" margin --ledger "$L" --format json >"$T/g.json" 2>/dev/null

# the page's structure, and the figures against the commands' JSON (node: no extra package)
node - "$T/d.html" "$T/r.json" "$T/m.json" "$T/g.json" >"$T/check" 2>&1 <<'JS'
const fs = require('fs');
const [html, r, m, g] = process.argv.slice(2).map((f, i) => i ? JSON.parse(fs.readFileSync(f, 'utf8')) : fs.readFileSync(f, 'utf8'));
let pass = 0, fail = 0;
const ok = (c, what) => { if (c) pass++; else { fail++; console.log('FAIL: ' + what); } };
// balanced tags (void elements aside), no script element, nothing loaded from elsewhere
const voids = new Set(['meta', 'br', 'img', 'input', 'link', 'hr', 'line', 'rect', 'polyline']);
const stack = []; let balanced = true;
const body = html.replace(/<style>[\s\S]*?<\/style>/, '').replace(/<title>[^<]*<\/title>/g, '');
for (const t of body.matchAll(/<(\/?)([a-zA-Z0-9]+)([^>]*)>/g)) {
  const [, close, name0, rest] = t; const name = name0.toLowerCase();
  if (name === '!doctype' || voids.has(name) || rest.endsWith('/')) continue;
  if (!close) stack.push(name); else if (stack.pop() !== name) { balanced = false; break; }
}
ok(balanced && stack.length === 0, 'tags balanced (left open: ' + stack.join(',') + ')');
ok(!/<script/i.test(html), 'no script element');
ok(!/(src|href)=/i.test(html), 'no external reference');
// the documented rounding: half-even, by tiers
const pico = s => { const [i, f = ''] = s.replace('-', '').split('.'); const v = BigInt(i) * 10n ** 12n + BigInt((f + '0'.repeat(12)).slice(0, 12)); return s.startsWith('-') ? -v : v; };
const round = (v, unit) => { const q = v / unit, rm = v % unit; return 2n * rm > unit || (2n * rm === unit && q % 2n === 1n) ? q + 1n : q; };
const group = s => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const usd = s => { // by size: cents from $1, $0.0001 from $0.0001, micro-dollars below
  let v = pico(s); const neg = v < 0n; if (neg) v = -v;
  // the tier by size once rounded: $0.99995 is $1.00, not $1.0000
  const [unit, d] = v >= 10n ** 12n || v === 0n || round(v, 10n ** 8n) >= 10000n ? [10n ** 10n, 2] : v >= 10n ** 8n ? [10n ** 8n, 4] : [10n ** 6n, 6];
  const q = round(v, unit), one = 10n ** BigInt(d);
  if (q === 0n && v !== 0n) return (neg ? '-' : '') + '&lt;$0.000001';
  return (neg ? '-' : '') + '$' + group(String(q / one)) + '.' + String(q % one).padStart(d, '0');
};
const cell = s => 'title="$' + s + '">' + usd(s) + '<';
ok(html.includes('<b title="$' + r.total.cost_usd + '">' + usd(r.total.cost_usd) + '</b><span>spend'), 'headline spend ' + usd(r.total.cost_usd));
ok(html.includes('<b>' + group(String(r.total.requests)) + '</b><span>calls'), 'headline calls');
ok(html.includes(cell(r.total.cost_per_request_usd)), 'headline per call ' + r.total.cost_per_request_usd);
for (const row of m.rows) ok(html.includes(cell(row.cost_usd)), 'model ' + row.model + ' cost ' + row.cost_usd);
const gl = g.customers || g.rows || [];
ok(gl.length > 0, 'margin has customers');
for (const c of gl) {
  if (!c.customer || c.customer.includes('<')) continue;
  ok(html.includes('<td>' + c.customer + '</td>'), 'customer ' + c.customer);
  ok(html.includes(cell(c.cost_usd)), 'customer ' + c.customer + ' cost');
}
ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;'), 'customer name escaped');
ok(html.includes('f&lt;b&gt;'), 'feature name escaped');
ok(html.includes('no revenue'), 'a customer without revenue says so');
ok(html.includes('<h2>Forecast'), 'forecast section');
// the rounding itself on set values (the tiers' edges)
for (const [s, want] of [['1234.565', '$1,234.56'], ['1234.575', '$1,234.58'], ['0.99995', '$1.00'], ['0.99994', '$0.9999'],
                         ['0.5', '$0.5000'], ['0.00005', '$0.000050'], ['0.0000525', '$0.000052'], ['0.0000975', '$0.000098'],
                         ['0.0001', '$0.0001'], ['0.0000004', '&lt;$0.000001'], ['0', '$0.00'], ['-0.25', '-$0.2500']])
  ok(usd(s) === want, 'reference rounding ' + s + ' -> ' + usd(s));
console.log(pass + ' passed, ' + fail + ' failed');
JS
sed -n '$p' "$T/check" | grep -q '^[0-9]* passed, 0 failed$' && ok || { bad "page checks"; cat "$T/check"; }
n=$(sed -n "s/^\([0-9]*\) passed.*/\1/p" "$T/check" | tail -n 1); pass=$((pass + ${n:-0}))

# set amounts through the page: one call each in its own ledger, priced by the catalog
one() { # label, input tokens of gpt-4o ($2.50/M), expected display
    rm -f "$T"/one.db*
    printf '{"id":"o","timestamp":"2026-07-01T00:00:00Z","provider":"openai","model":"gpt-4o","usage":{"input_tokens":%s,"output_tokens":0}}\n' "$2" >"$T/one.jsonl"
    "$IC" ingest -q --ledger "$T/one.db" "$T/one.jsonl"
    expect_has "$1" "$("$IC" dashboard --ledger "$T/one.db" --months 0 2>/dev/null)" ">$3</b><span>spend"
}
one "half-even to the cent (1234.565 -> .56)" 493826000 '$1,234.56'
one "a cent from one dollar up" 400000 '$1.00'
one "below a dollar: four decimals" 200000 '$0.5000'
one "just under a dollar, rounded to one: cents" 399980 '$1.00'
one "just under a dollar: four decimals" 399976 '$0.9999'
one "below 1/10,000 of a dollar: six decimals" 16 '$0.000040'
one "below 1/10,000 of a dollar, half-even" 21 '$0.000052'

# the forecast's verdicts are forecast's own, also when the cost is already above the target
"$IC" forecast --ledger "$L" --target 3 >"$T/f3.txt"
"$IC" dashboard --ledger "$L" --target 3 >"$T/d3.html" 2>/dev/null
expect_has "above the target now" "$(cat "$T/d3.html")" "above it now"
n=0
while IFS= read -r line; do
    name=$(echo "$line" | sed -E 's/^  (.*[^ ]) +(falls back under|stays above|crosses|stays under).*/\1/')
    rest=$(echo "$line" | sed -E 's/^  .*[^ ] +((falls back under|stays above|crosses|stays under).*)/\1/')
    expect_has "verdict: $name" "$(cat "$T/d3.html")" "$name: $rest"
    n=$((n + 1))
done < <(sed -n '/^target:/,$p' "$T/f3.txt" | grep '^  ')
[ "$n" -ge 3 ] && ok || bad "forecast verdicts read: $n"
# revenue of zero or below is revenue: the margin shows, red
printf 'customer,period,revenue\nacme-corp,2026-07,0\nacme-corp,2026-08,-5\nacme-corp,2026-09,0\n' >"$T/zero.csv"
cp "$L" "$T/z.db"
"$IC" revenue import --ledger "$T/z.db" "$T/zero.csv" >/dev/null
"$IC" dashboard --ledger "$T/z.db" --month 2026-08 >"$T/z.html" 2>/dev/null
expect_has "refund: the customer's margin, red" "$(grep -A0 '<td>acme-corp</td>' "$T/z.html")" 'title="-$5"'
case "$(grep '<td>acme-corp</td>' "$T/z.html")" in *"no revenue"*) bad "refund shown as no revenue" ;; *) ok ;; esac
# months the ledger covers in part are marked, and a period cutting a month is noted
expect_has "partial month marked" "$(cat "$T/d.html")" "of 31 days)"
out=$("$IC" dashboard --ledger "$L" --from 2026-07-10 --to 2026-07-20 2>"$T/err")
expect_has "cut month: on the page" "$out" "The period starts within a month"
expect_has "cut month: the period asked for" "$out" "Period asked for: 2026-07-10 to 2026-07-20."
# too little history: the page says the growth is not fitted
rm -f "$T"/one.db*
printf '{"id":"o","timestamp":"2026-07-01T00:00:00Z","provider":"openai","model":"gpt-4o","usage":{"input_tokens":1000,"output_tokens":0}}\n' >"$T/one.jsonl"
"$IC" ingest -q --ledger "$T/one.db" "$T/one.jsonl"
expect_has "growth not fitted" "$("$IC" dashboard --ledger "$T/one.db" 2>/dev/null)" "Usage growth not fitted"

# an empty period: a page that says so, and a note
out=$("$IC" dashboard --ledger "$L" --month 2020-01 2>"$T/err"); rc=$?
expect_eq "empty period: exit" "$rc" 0
expect_has "empty period: the page says so" "$out" "No calls in this period"
expect_has "empty period: a note" "$(cat "$T/err")" "no calls in this period"
grep -Eq '(No catalog-trend scenario|Catalog trend): [^<]*models \([0-9.]+% of spend\)' "$T/d.html" && ok || bad "the catalog-trend scenario explained"
# --months 0: no forecast
expect_eq "--months 0: no forecast" "$("$IC" dashboard --ledger "$L" --months 0 2>/dev/null | grep -c '<h2>Forecast')" 0
# the ledger is never overwritten; bad options are refused
"$IC" dashboard --ledger "$L" --out "$L" >/dev/null 2>"$T/err"
expect_eq "--out the ledger: refused" "$?" 2
expect_has "--out the ledger: says so" "$(cat "$T/err")" "is the ledger"
"$IC" dashboard --ledger "$L" --months 500 >/dev/null 2>&1
expect_eq "--months out of range" "$?" 2
"$IC" dashboard --ledger "$L" --bogus >/dev/null 2>&1
expect_eq "unknown option" "$?" 2
"$IC" dashboard --ledger "$L" > /dev/full 2>/dev/null
expect_eq "a full disk is an error" "$?" 2
finish
