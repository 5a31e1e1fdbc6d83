#!/usr/bin/env bash
# tests/e2e/cli_guard.sh: what a command must never do with its files and outputs, whatever it is
# given: overwrite the ledger or an input (export --out, ingest --rejects, generate-workload
# --out/--revenue), remove a device given as the rejects file, exit 0 when its output could not
# be written (every command, through main), lose refused lines silently, write a provider key
# into a rejects file, open a throwaway ledger for "sqlite:", or write invalid JSON or CSV for
# names with odd bytes (report, margin, FOCUS tags).
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
"$IC" generate-workload --days 3 --seed 7 --out "$T/wl.jsonl" --revenue "$T/rev.csv" 2>/dev/null
"$IC" ingest --quiet --ledger "$T/l.db" "$T/wl.jsonl"
before=$("$IC" report --ledger "$T/l.db" --format csv | md5sum)

# --- outputs that are the ledger or an input are refused before anything is written
"$IC" export --format focus --ledger "$T/l.db" --out "$T/l.db" 2>"$T/err"; rc=$?
expect_eq "export --out the ledger: exit" "$rc" 2
expect_has "export --out the ledger: message" "$(cat "$T/err")" "is the ledger"
expect_eq "export --out the ledger: ledger intact" "$("$IC" report --ledger "$T/l.db" --format csv | md5sum)" "$before"
"$IC" export --format focus --ledger "sqlite:$T/l.db" --out "$T/l.db" 2>/dev/null
expect_eq "export --out the sqlite: ledger: ledger intact" "$("$IC" report --ledger "$T/l.db" --format csv | md5sum)" "$before"
cp "$T/wl.jsonl" "$T/in.jsonl"
n_in=$(wc -l < "$T/in.jsonl")
"$IC" ingest --quiet --ledger "$T/m.db" --rejects "$T/in.jsonl" "$T/in.jsonl" 2>"$T/err"; rc=$?
expect_eq "ingest --rejects an input: exit" "$rc" 2
expect_has "ingest --rejects an input: message" "$(cat "$T/err")" "is also an input file"
expect_eq "ingest --rejects an input: input intact" "$(wc -l < "$T/in.jsonl")" "$n_in"
"$IC" ingest --quiet --ledger "$T/l.db" --rejects "$T/l.db" "$T/in.jsonl" 2>"$T/err"; rc=$?
expect_eq "ingest --rejects the ledger: exit" "$rc" 2
expect_has "ingest --rejects the ledger: message" "$(cat "$T/err")" "is the ledger or one of its files"
# ... or SQLite's files beside it, existing or not, by any path (a reader holds the WAL open)
sqlite3 "$T/l.db" "PRAGMA journal_mode=WAL;" >/dev/null
for side in "$T/l.db-wal" "$T/./l.db-shm" "$T/l.db-journal"; do
    "$IC" export --format focus --ledger "$T/l.db" --out "$side" 2>"$T/err"; rc=$?
    expect_eq "export --out $(basename "$side"): exit" "$rc" 2
    expect_has "export --out $(basename "$side"): message" "$(cat "$T/err")" "is the ledger or one of its files"
    "$IC" ingest --quiet --ledger "$T/l.db" --rejects "$side" "$T/in.jsonl" 2>"$T/err"; rc=$?
    expect_eq "ingest --rejects $(basename "$side"): exit" "$rc" 2
done
ln -s "$T/l.db" "$T/link.db"
"$IC" export --format focus --ledger "$T/link.db" --out "$T/l.db-wal" 2>/dev/null
expect_eq "export --out the -wal of a linked ledger: exit" "$?" 2
expect_eq "the ledger intact after all of them" "$("$IC" report --ledger "$T/l.db" --format csv | md5sum)" "$before"
"$IC" generate-workload --days 1 --out "$T/x.csv" --revenue "$T/x.csv" 2>"$T/err"; rc=$?
expect_eq "generate-workload --out = --revenue: exit" "$rc" 2
"$IC" ingest --quiet --ledger "sqlite:" "$T/in.jsonl" 2>"$T/err"; rc=$?
expect_eq "ingest --ledger sqlite: (no path): exit" "$rc" 2
expect_has "ingest --ledger sqlite: message" "$(cat "$T/err")" "no ledger path given after sqlite:"

# --- a provider key given as an option's value is not echoed in the error (obviously fake)
FK="sk-""proj-$(printf "FAKE%.0s" 1 2 3 4 5)0000" # built here: no key-shaped text in the source
for args in "price gpt-4o --at $FK" "models --provider $FK" "cost --threads $FK" "estimate --at $FK x.json" "report --ledger $T/l.db --month $FK"; do
    # shellcheck disable=SC2086
    "$IC" $args </dev/null >/dev/null 2>"$T/err"
    if grep -q "FAKEFAKEFAKE" "$T/err"; then bad "key echoed: $args"; else ok; fi
done

# --- inputs that are not what they seem: named, with the right exit
mkdir -p "$T/adir"
"$IC" ingest --quiet --ledger "$T/l.db" "$T/adir" 2>"$T/err"; rc=$?
expect_eq "ingest a directory: exit" "$rc" 2
expect_has "ingest a directory: message" "$(cat "$T/err")" "Is a directory"
expect_eq "cost: a line of spaces" "$(printf '  \t\n' | "$IC" cost 2>/dev/null)" '{"line":1,"error":"empty line (only spaces)"}'
"$IC" generate-workload --start 9999-12-31 --days 2 >/dev/null 2>"$T/err"; rc=$?
expect_eq "generate-workload past 9999: exit" "$rc" 2
printf 'customer,period,revenue\nacme,2026-03,100000000000000000000\n' > "$T/bigrev.csv"
"$IC" revenue import --ledger "$T/l.db" "$T/bigrev.csv" 2>"$T/err"; rc=$?
expect_eq "revenue too large: exit" "$rc" 1
expect_has "revenue too large: file, line and field" "$(cat "$T/err")" "bigrev.csv:2: revenue '100000000000000000000' is more than the ledger holds"

# --- a device as the rejects file is written to, never removed
printf 'not json\n' > "$T/bad.jsonl"
"$IC" ingest --quiet --ledger "$T/l.db" --rejects /dev/null "$T/bad.jsonl" 2>/dev/null; rc=$?
expect_eq "rejects to /dev/null: exit (a line refused)" "$rc" 1
if [ -c /dev/null ]; then ok; else bad "/dev/null is no longer a device"; fi
if [ -c /dev/full ]; then
    "$IC" ingest --quiet --ledger "$T/l.db" --rejects /dev/full "$T/bad.jsonl" 2>"$T/err"; rc=$?
    expect_eq "rejects to a full device: exit" "$rc" 2
    expect_has "rejects to a full device: message" "$(cat "$T/err")" "cannot write the refused lines"
    if [ -c /dev/full ]; then ok; else bad "/dev/full is no longer a device"; fi
    # --- every command: output that cannot be written is an error
    for args in "price gpt-4o" "models gpt" "report --ledger $T/l.db" "margin --ledger $T/l.db" \
                "forecast --ledger $T/l.db" "generate-workload --days 3" "cost $T/wl.jsonl" \
                "count $T/wl.jsonl" "export --format focus --ledger $T/l.db" "--help" "--version" \
                "whatif --batch --ledger $T/l.db"; do
        # shellcheck disable=SC2086
        "$IC" $args > /dev/full 2>"$T/err"; rc=$?
        check_rc=$([ "$rc" != 0 ] && echo nonzero || echo "0: $(head -c 200 "$T/err")")
        expect_eq "${args%% *} to a full disk" "$check_rc" nonzero
    done
fi

# --- a provider key in a refused line never reaches the rejects file
printf 'request_id,model,custom_llm_provider,prompt_tokens,completion_tokens,startTime,api_key\nr1,no-such-model,openai,10,10,2026-03-01T00:00:00Z,%s\n' "sk-""FAKE0FAKE0FAKE01" > "$T/ll.csv"
"$IC" ingest --quiet --ledger "$T/k.db" --rejects "$T/k.rej" "$T/ll.csv" 2>/dev/null
if grep -q "FAKE0FAKE0FAKE01" "$T/k.rej"; then bad "a key reached the rejects file"; else ok; fi
expect_has "the refused line is kept, its key redacted" "$(cat "$T/k.rej")" "sk-FAK[redacted]"

# --- names with odd bytes: a name that is not UTF-8 is refused (ingest, cost, revenue import), so
# the ledger holds only what every output can print; quotes, commas and non-ASCII are kept, and
# the JSON outputs are JSON, the CSV outputs CSV
printf '{"id":"u1","provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":10},"customer":"bad\xff\xfeutf"}\n{"id":"u2","provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":10},"customer":"a\\"b,c"}\n{"id":"u3","provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":10},"customer":"caf\xc3\xa9"}\n' > "$T/odd.jsonl"
"$IC" ingest --quiet --ledger "$T/o.db" --rejects "$T/o.rej" "$T/odd.jsonl" 2>"$T/err"; rc=$?
expect_eq "a name not UTF-8: ingest exit" "$rc" 1
expect_has "a name not UTF-8: ingest message" "$(cat "$T/err")" "odd.jsonl:1: customer: not valid UTF-8"
expect_has "a name not UTF-8: cost" "$(head -n 1 "$T/odd.jsonl" | "$IC" cost 2>/dev/null)" '"error":"customer: not valid UTF-8"'
printf 'customer,period,revenue\n"a""b,c",2026-03,100\nbad\xffx,2026-03,5\n' > "$T/orev.csv"
"$IC" revenue import --ledger "$T/o.db" "$T/orev.csv" 2>"$T/err"; rc=$?
expect_eq "a revenue customer not UTF-8: exit" "$rc" 1
expect_has "a revenue customer not UTF-8: message" "$(cat "$T/err")" "orev.csv:3: customer is not valid UTF-8"
printf 'customer,period,revenue\n"a""b,c",2026-03,100\n' > "$T/orev.csv"
"$IC" revenue import --ledger "$T/o.db" "$T/orev.csv" >/dev/null
"$IC" report --ledger "$T/o.db" --by customer --format json > "$T/r.json"
"$IC" margin --ledger "$T/o.db" --format json > "$T/m.json"
for f in r.json m.json; do
    expect_has "$f: a name with a quote" "$(cat "$T/$f")" '"customer":"a\"b,c"'
    expect_has "$f: a name with an accent" "$(cat "$T/$f")" '"customer":"café"'
    node -e 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))' "$T/$f" && ok || bad "$f: not JSON"
done
expect_has "margin csv: a name with a quote and a comma" "$("$IC" margin --ledger "$T/o.db" --format csv)" '"a""b,c",100,'
# a '|' or a line break in a name keeps Markdown and terminal tables whole
printf '{"id":"p1","provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":10},"customer":"a|b","feature":"line1\\nline2"}\n' > "$T/pipe.jsonl"
"$IC" ingest --quiet --ledger "$T/p.db" "$T/pipe.jsonl"
md=$("$IC" report --ledger "$T/p.db" --by customer,feature --format md)
expect_has "md: a '|' in a name escaped" "$md" '| a\|b '
expect_eq "md: every row of the first table has the header's columns" "$(awk '/^[|]/ {t = 1; print; next} t {exit}' <<<"$md" | perl -ne 's/\\\|//g; print tr/|//, "\n"' | sort -u)" "15"
expect_eq "table: the name's line break is a space" "$("$IC" report --ledger "$T/p.db" --by customer,feature | grep -c '^a|b  *line1 line2')" 1
finish
