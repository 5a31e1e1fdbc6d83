#!/usr/bin/env bash
# tests/e2e/ledger_kill.sh: kill -9 during a large ingest, then ingest again: the ledger must hold
# exactly what a clean, uninterrupted ingest holds (event count and cost to the pico-dollar, per
# customer and model too), and a third run must add nothing.
set -u
IC=${IC_BIN:-build/infercost}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }

N=${LEDGER_KILL_EVENTS:-60000}
"$IC" generate-workload --events "$N" --days 60 --seed 11 --out "$T/big.jsonl"

# the reference: one clean run
"$IC" ingest -q --ledger "$T/ref.db" "$T/big.jsonl"
"$IC" report --ledger "$T/ref.db" --by customer,model --format csv >"$T/ref.csv"

# the victim: small batches so several commit before the kill
"$IC" ingest -q --batch 1000 --ledger "$T/v.db" "$T/big.jsonl" &
pid=$!
# wait until some batches are committed (the ledger is readable while it is written)
for _ in $(seq 1 400); do
    n=$("$IC" report --ledger "$T/v.db" --format csv 2>/dev/null | awk -F, 'NR>1{s+=$2} END{print s+0}')
    [ "${n:-0}" -gt 0 ] && break
    sleep 0.02
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
partial=$("$IC" report --ledger "$T/v.db" --format csv | awk -F, 'NR>1{s+=$2} END{print s+0}')
if [ "$partial" -gt 0 ] && [ "$partial" -lt "$N" ]; then ok; else
    bad "the kill did not land mid-ingest ($partial of $N events stored)"
fi
# the killed ledger is consistent: rollups and the raw events agree
"$IC" report --ledger "$T/v.db" --format json >"$T/a.json"
"$IC" report --ledger "$T/v.db" --raw --format json >"$T/b.json"
ta=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/a.json','utf8')).total.cost_usd)")
tb=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/b.json','utf8')).total.cost_usd)")
expect_eq "rollups = events after kill" "$ta" "$tb"

# complete it
"$IC" ingest -q --ledger "$T/v.db" "$T/big.jsonl"
"$IC" report --ledger "$T/v.db" --by customer,model --format csv >"$T/v.csv"
if cmp -s "$T/ref.csv" "$T/v.csv"; then ok; else bad "after re-run the ledger differs from a clean ingest"; diff "$T/ref.csv" "$T/v.csv" | head; fi
"$IC" ingest --ledger "$T/v.db" "$T/big.jsonl" >"$T/out"
case "$(cat "$T/out")" in *" 0 new, $N already"*) ok ;; *) bad "third run: $(cat "$T/out")" ;; esac
echo "kill landed after $partial of $N events"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
