#!/usr/bin/env bash
# tests/e2e/ledger_pg.sh: the PostgreSQL ledger against the SQLite one. The same calls (every
# ingest form, and a synthetic product's 30,000 calls with revenue) go into both; every reading
# command (report in each grouping, raw and with percentiles, filters, margin, what-if, forecast,
# the FOCUS export) must print the same bytes. Then: idempotence, two ingests of overlapping
# files at once (each event once, the rollups exact), the ledger queried with SQL, a read-only
# command on a database without a ledger (refused, nothing created), a newer schema refused, a
# schema-2 ledger read as it is and upgraded by a writer, and a connection string's password kept
# out of every message. The server is a throwaway one
# (tests/pg_server.bash).
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
. "$(dirname "${BASH_SOURCE[0]}")/../pg_server.bash"
FX="$(cd "$(dirname "$0")" && pwd)/ledger-fixtures"
trap 'pg_stop; rm -rf "$T"' EXIT
pg_start_or_fail "$T/pg"
P=$IC_PG_URL S="$T/l.db"

# --- the same input into both
"$IC" generate-workload --events 30000 --days 120 --seed 7 --out "$T/w.jsonl" --revenue "$T/rev.csv" >/dev/null
ingest_both() { # files...
    local a b
    a=$("$IC" ingest --ledger "$S" "$@" 2>&1 | sed 's/ in [0-9.]*s ([0-9]* events\/s)//')
    b=$("$IC" ingest --ledger "$P" "$@" 2>&1 | sed 's/ in [0-9.]*s ([0-9]* events\/s)//')
    expect_eq "ingest $(basename "$1"): same outcome" "$b" "$a"
}
for f in calls.jsonl spans.otlp.json litellm.json litellm.csv; do ingest_both "$FX/$f"; done
# keys and tags, which the ledger keeps in the packed body and the key_id column
printf '{"id":"kt%d","provider":"openai","model":"gpt-4o-mini","timestamp":"2026-03-05T10:00:0%dZ","usage":{"input_tokens":%d},"key_id":"team-%d","tags":{"team":"t%d","n":%d}}\n' \
    1 1 100 1 1 1  2 2 200 1 2 2  3 3 300 2 2 3 >"$T/kt.jsonl"
ingest_both "$T/kt.jsonl"
ingest_both "$T/w.jsonl"
expect_eq "postgres took the workload" "$("$IC" report --ledger "$P" --format json | jq -r .total.requests)" 30008
for L in "$S" "$P"; do "$IC" revenue import --ledger "$L" "$T/rev.csv" >/dev/null; done

same() { # label, command args (the ledger is added): identical stdout and exit status
    local label=$1; shift
    local a b ra rb
    a=$("$IC" "$@" --ledger "$S" 2>&1); ra=$?
    b=$("$IC" "$@" --ledger "$P" 2>&1); rb=$?
    expect_eq "$label: exit" "$rb" "$ra"
    [ "$ra" != 2 ] || bad "$label: a usage or setup error: $a"
    if [ "$a" == "$b" ]; then ok; else bad "$label: output differs"; diff <(echo "$a") <(echo "$b") | head -n 10; fi
    [ -n "$a" ] || bad "$label: no output"
}
same "report" report
same "report by customer,feature" report --by customer,feature
same "report by day, csv" report --by day --format csv
same "report by month, json" report --by month --format json
same "report raw by task" report --raw --by task --top 20
same "report percentiles" report --percentiles --by feature
same "report filtered" report --customer acme-corp --feature search --by model
same "report model filter" report --model gpt-4o-mini --by customer
same "report period" report --from 2026-07-01 --to 2026-07-31 --by customer
same "report nothing matches" report --customer nobody
same "report by key and tag" report --by key,tag:team --format json
same "report one key, one tag value" report --key team-1 --tag n=2 --by tag:team
same "revenue list" revenue list
same "margin" margin
same "margin json" margin --format json
same "whatif swap" whatif --swap '*=openai:gpt-4o-mini'
same "whatif response cache" whatif --response-cache 1d --feature search
same "whatif batch" whatif --batch
same "forecast" forecast
same "export" export --format focus
# the dashboard: the same page but for the line naming its source and time
dash() { "$IC" dashboard --ledger "$1" | grep -v '^<p class="sub">'; }
if [ "$(dash "$S")" == "$(dash "$P")" ]; then ok; else bad "dashboard differs"; diff <(dash "$S") <(dash "$P") | head; fi

# --- refused lines go to ./infercost.rejects.jsonl (a URL names no directory)
printf '%s\n' '{"id":"r1","timestamp":"2026-07-01T00:00:00Z","model":"no-such-model","usage":{"input_tokens":1}}' >"$T/bad.jsonl"
ic_abs=$(realpath "$IC")
out=$(cd "$T" && "$ic_abs" ingest --ledger "$P" bad.jsonl 2>&1)
expect_has "refused line reported" "$out" "1 refused"
expect_eq "rejects file in the working directory" "$(jq -r .line "$T/infercost.rejects.jsonl" 2>/dev/null | jq -r .id)" r1

# --- a file name that is not UTF-8 (PostgreSQL's text is): stored with its bad bytes as \xNN
bn="$T/$(printf 'bad\xffname').jsonl"
head -n 2 "$FX/calls.jsonl" | sed 's/"id":"/"id":"nf-/' >"$bn"
ingest_both "$bn"
expect_has "non-UTF-8 file name: the source kept" "$(pg_psql -c "SELECT DISTINCT source_file FROM infercost_events WHERE id LIKE 'nf-%'")" 'bad\xFFname.jsonl'
# a filter value that is not UTF-8 matches nothing, on both
same "filter not UTF-8" report --customer "$(printf 'a\xff')"

# --- idempotence
out=$("$IC" ingest --ledger "$P" "$T/w.jsonl" 2>&1)
expect_has "re-ingest adds nothing" "$out" "0 new, 30000 already in the ledger"
same "report after re-ingest" report --raw

# --- the ledger in SQL: the events' and the rollups' sums are the report's
total=$("$IC" report --ledger "$S" --format json | jq -r .total.cost_usd)
pico=$(pg_psql -c "SELECT sum(cost_pico) FROM infercost_events")
expect_eq "SQL: events' cost" "$(node -e "const p=BigInt('$pico');console.log((p/10n**12n)+'.'+String(p%10n**12n).padStart(12,'0').replace(/0+\$/,''))")" "$total"
expect_eq "SQL: rollups' requests" "$(pg_psql -c "SELECT sum(requests) FROM infercost_rollup")" "$("$IC" report --ledger "$S" --format json | jq -r .total.requests)"

# --- two ingests at once, overlapping, into a fresh ledger: each event once, rollups exact
pg_fresh
head -n 20000 "$T/w.jsonl" >"$T/a.jsonl"
tail -n 20000 "$T/w.jsonl" >"$T/b.jsonl"
"$IC" ingest --ledger "$P" --batch 500 "$T/a.jsonl" >"$T/ia" 2>&1 & pa=$!
"$IC" ingest --ledger "$P" --batch 500 "$T/b.jsonl" >"$T/ib" 2>&1 & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
expect_eq "concurrent ingests: exit" "$ra$rb" "00"
na=$(sed -n 's/.*: \([0-9]*\) new.*/\1/p' "$T/ia") nb=$(sed -n 's/.*: \([0-9]*\) new.*/\1/p' "$T/ib")
expect_eq "concurrent ingests: new events add up" "$((na + nb))" "30000"
expect_eq "concurrent ingests: events stored" "$(pg_psql -c "SELECT count(*) FROM infercost_events")" "30000"
rm -f "$S"*
"$IC" ingest --ledger "$S" "$T/w.jsonl" >/dev/null 2>&1
same "concurrent ingests: rollups" report --by day,customer,feature --format csv
same "concurrent ingests: events" report --raw --by day,customer --format csv

# --- a user with SELECT alone reads every report; its ingest stops, and says so
pg_psql -c "CREATE ROLE icro LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO icro" >/dev/null
RO="postgresql://icro@/infercost?host=$T/pg&port=$PG_PORT"
expect_eq "SELECT-only: report" "$("$IC" report --ledger "$RO" --format json | jq -r .total.requests)" \
    "$("$IC" report --ledger "$S" --format json | jq -r .total.requests)"
out=$("$IC" ingest --ledger "$RO" "$T/b.jsonl" 2>&1); rc=$?
expect_eq "SELECT-only: ingest exit" "$rc" 2
expect_has "SELECT-only: the reason" "$out" "permission denied"
expect_has "SELECT-only: the summary says it stopped" "$out" "stopped by the error above"

# --- a read-only command on a database without a ledger: refused, nothing created
pg_fresh
out=$("$IC" report --ledger "$P" 2>&1); rc=$?
expect_eq "no ledger: exit" "$rc" 2
expect_has "no ledger: message" "$out" "no infercost ledger in this database"
expect_eq "no ledger: nothing created" "$(pg_psql -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'infercost%'")" "0"

# --- a newer schema is refused
"$IC" ingest --ledger "$P" "$FX/calls.jsonl" >/dev/null 2>&1
pg_psql -c "UPDATE infercost_meta SET value = '99' WHERE key = 'schema_version'" >/dev/null
out=$("$IC" report --ledger "$P" 2>&1); rc=$?
expect_eq "newer schema: exit" "$rc" 2
expect_has "newer schema: message" "$out" "schema version 99 is newer"
pg_psql -c "UPDATE infercost_meta SET value = 'abc' WHERE key = 'schema_version'" >/dev/null
out=$("$IC" ingest --ledger "$P" "$FX/calls.jsonl" 2>&1); rc=$?
expect_eq "unreadable schema version: exit" "$rc" 2
expect_has "unreadable schema version: message" "$out" 'schema version is "abc"'
expect_eq "unreadable schema version: left alone" "$(pg_psql -c "SELECT value FROM infercost_meta")" abc

# --- a schema-2 ledger (rollups without the cache saving): read as it is, upgraded by a writer
pg_fresh
hit() { printf '{"id":"%s","provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","cache_hit":true,"usage":{"input_tokens":1000000}}\n' "$1"; }
hit h1 | "$IC" ingest --quiet --ledger "$P" -
expect_eq "cache saving summed" "$("$IC" report --ledger "$P" --format json | jq -r .total.cache_saved_usd)" 2.5
pg_psql -c "ALTER TABLE infercost_rollup DROP COLUMN cache_saved_pico; UPDATE infercost_meta SET value = '2'" >/dev/null
out=$("$IC" report --ledger "$P" --format json); rc=$?
expect_eq "schema 2, read-only: exit" "$rc" 0
expect_eq "schema 2, read-only: the calls, no saving" "$(jq -r '[.total.requests, .total.cache_saved_usd] | join(" ")' <<<"$out")" "1 0"
expect_eq "schema 2, read-only: left as it is" "$(pg_psql -c "SELECT value FROM infercost_meta")" 2
# a role that may write rows but not alter the table: told to have the owner write once
pg_psql -c "CREATE ROLE icrw LOGIN; GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO icrw; GRANT TEMP ON DATABASE infercost TO icrw" >/dev/null
RW="postgresql://icrw@/infercost?host=$T/pg&port=$PG_PORT"
out=$(hit h2 | "$IC" ingest --ledger "$RW" - 2>&1); rc=$?
expect_eq "schema 2, a role that may not upgrade it: exit" "$rc" 2
expect_has "schema 2, a role that may not upgrade it: what to do" "$out" "write to it once as the owner"
"$IC" ingest --quiet --ledger "$P" /dev/null
expect_eq "schema 2: the owner's empty ingest upgrades it" "$(pg_psql -c "SELECT value FROM infercost_meta")" 3
hit h2 | "$IC" ingest --quiet --ledger "$RW" -
expect_eq "schema 3: the role writes again" "$("$IC" report --ledger "$P" --format json | jq -r .total.requests)" 2
expect_eq "schema 2: the new hit's saving" "$("$IC" report --ledger "$P" --format json | jq -r '[.total.requests, .total.cache_saved_usd] | join(" ")')" "2 2.5"

# --- a password in the connection string never shows
pw="pw$RANDOM$RANDOM"
for url in "postgresql://postgres:$pw@/nodb?host=$T/pg&port=$PG_PORT" \
           "postgresql://postgres@/nodb?host=$T/pg&port=$PG_PORT&password=$pw"; do
    out=$("$IC" report --ledger "$url" 2>&1); rc=$?
    expect_eq "bad database: exit" "$rc" 2
    expect_has "bad database: says so" "$out" "nodb"
    case "$out" in *"$pw"*) bad "password shown: $out" ;; *) ok ;; esac
done
# libpq quotes a URI it cannot parse, and a bad percent-escape: neither shows the password
for url in "postgresql://app:50%of$pw@/x?host=$T/pg" "postgresql://u:$pw@[::1/db" \
           "postgresql://u@/x?host=$T/pg&%70assword=$pw" "postgresql://u@/x?host=$T/pg&password=%zz$pw"; do
    out=$("$IC" report --ledger "$url" 2>&1); rc=$?
    expect_eq "malformed URI: exit" "$rc" 2
    case "$out" in *"$pw"*) bad "password shown: $out" ;; *) ok ;; esac
done
# a one-letter password that recurs all over a long libpq message (eight refused hosts): cut
# everywhere, within the message's buffer
hosts=$(for i in 1 2 3 4 5 6 7 8; do printf '127.0.0.%d:1,' $i; done)
out=$("$IC" report --ledger "postgres://u:o@${hosts%,}/db" 2>&1); rc=$?
expect_eq "short password, long message: exit" "$rc" 2
expect_has "short password, long message: cut in libpq's text" "$out" 'C***nnecti***n refused' 
# a server that accepts and never answers: an error when the URI's connect_timeout runs out
node -e 'require("net").createServer(() => {}).listen(0, "127.0.0.1", function () { console.log(this.address().port); })' >"$T/port" &
np=$!
for _ in $(seq 1 50); do [ -s "$T/port" ] && break; sleep 0.1; done
t0=$SECONDS
out=$("$IC" report --ledger "postgresql://u@127.0.0.1:$(cat "$T/port")/x?connect_timeout=2" 2>&1); rc=$?
kill $np 2>/dev/null
expect_eq "silent server: exit" "$rc" 2
expect_has "silent server: says so" "$out" "cannot connect"
[ $((SECONDS - t0)) -le 6 ] && ok || bad "silent server: took $((SECONDS - t0)) s"
# a database in another encoding is refused with the reason
pg_psql -c "CREATE DATABASE lat1 ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
out=$("$IC" ingest --ledger "${IC_PG_URL/\/infercost?//lat1?}" "$FX/calls.jsonl" 2>&1); rc=$?
expect_eq "LATIN1 database: exit" "$rc" 2
expect_has "LATIN1 database: says why" "$out" "encoding is LATIN1; infercost needs UTF8"
out=$("$IC" ingest --ledger "postgresql://postgres:$pw@/infercost?host=$T/nowhere" "$FX/calls.jsonl" 2>&1); rc=$?
expect_eq "no server: exit" "$rc" 2
expect_has "no server: says so" "$out" "cannot connect"
case "$out" in *"$pw"*) bad "password shown: $out" ;; *) ok ;; esac

finish
