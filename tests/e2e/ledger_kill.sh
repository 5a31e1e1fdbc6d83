#!/usr/bin/env bash
# tests/e2e/ledger_kill.sh: kill -9 during a large ingest, then ingest again: the ledger must hold
# exactly what a clean, uninterrupted ingest holds (event count and cost to the pico-dollar, per
# customer and model too), and a third run must add nothing. Two cases: small batches killed
# early, and a larger ingest killed once its log has passed the size at which checkpoints run
# beside the writer (ledger_sqlite.c), so the kill can land in the middle of one.
set -u
IC=${IC_BIN:-build/infercost}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
stored() { "$IC" report --ledger "$1" --format csv 2>/dev/null | awk -F, 'NR>1{s+=$2} END{print s+0}'; }

# case NAME EVENTS BATCH MIN: kill once at least MIN events are committed
case_kill() {
    local name=$1 N=$2 batch=$3 min=$4
    "$IC" generate-workload --events "$N" --days 60 --seed 11 --out "$T/$name.jsonl"
    # the reference: one clean run
    "$IC" ingest -q --ledger "$T/$name-ref.db" "$T/$name.jsonl"
    "$IC" report --ledger "$T/$name-ref.db" --by customer,model --format csv >"$T/$name-ref.csv"
    # the victim (the ledger is readable while it is written)
    "$IC" ingest -q --batch "$batch" --ledger "$T/$name-v.db" "$T/$name.jsonl" &
    pid=$!
    for _ in $(seq 1 1000); do
        n=$(stored "$T/$name-v.db")
        [ "${n:-0}" -ge "$min" ] && break
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
    partial=$(stored "$T/$name-v.db")
    if [ "$partial" -gt 0 ] && [ "$partial" -lt "$N" ]; then ok; else
        bad "$name: the kill did not land mid-ingest ($partial of $N events stored)"
    fi
    # the killed ledger is consistent: rollups and the raw events agree
    "$IC" report --ledger "$T/$name-v.db" --format json >"$T/a.json"
    "$IC" report --ledger "$T/$name-v.db" --raw --format json >"$T/b.json"
    ta=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/a.json','utf8')).total.cost_usd)")
    tb=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$T/b.json','utf8')).total.cost_usd)")
    expect_eq "$name: rollups = events after kill" "$ta" "$tb"
    # complete it
    "$IC" ingest -q --ledger "$T/$name-v.db" "$T/$name.jsonl"
    "$IC" report --ledger "$T/$name-v.db" --by customer,model --format csv >"$T/$name-v.csv"
    if cmp -s "$T/$name-ref.csv" "$T/$name-v.csv"; then ok; else
        bad "$name: after re-run the ledger differs from a clean ingest"
        diff "$T/$name-ref.csv" "$T/$name-v.csv" | head
    fi
    "$IC" ingest --ledger "$T/$name-v.db" "$T/$name.jsonl" >"$T/out"
    case "$(cat "$T/out")" in *" 0 new, $N already"*) ok ;; *) bad "$name: third run: $(cat "$T/out")" ;; esac
    echo "$name: kill landed after $partial of $N events"
}

case_kill small "${LEDGER_KILL_EVENTS:-60000}" 1000 1
# ~130 bytes an event: past 150,000 events the log has passed 1000 16-KiB frames
case_kill checkpointing 400000 5000 150000
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
