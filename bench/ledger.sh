#!/usr/bin/env bash
# bench/ledger.sh: ledger ingest rate and report time at N events (default 1,000,000; set
# IC_BENCH_LEDGER_N=10000000 for the 10M run), with peers in the same run:
#   - sqlite3 CLI loading the same JSONL lines into a table with a unique id index (the cost of
#     storing the lines at all, no parsing or pricing): the storage floor;
#   - @pydantic/genai-prices pricing the same lines (bench/pricing_job.mjs): pricing alone.
# Then the grouped monthly report from the rollups and from a raw scan of every event, and a
# what-if (every event priced again on another model) against genai-prices pricing the log so.
# (genai-prices runs at N <= 2M only: at ~10,000 lines/s, 10M would take a quarter of an hour.)
# Prints CPU time and peak RSS next to wall time, and the 1-minute load average when each step ended: on the
# shared 2-core machine wall time depends on the load.
set -u
cd "$(dirname "$0")/.."
IC=${IC_BIN:-build/infercost}
N=${IC_BENCH_LEDGER_N:-1000000}
DIR=${IC_BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
trap '[ -z "${IC_BENCH_KEEP:-}" ] && rm -rf "$DIR"' EXIT
echo "ledger bench: $N events, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$IC" generate-workload --events "$N" --days 180 --seed 1 --out "$DIR/w.jsonl"
echo "input: $(du -h "$DIR/w.jsonl" | cut -f1), $(wc -l <"$DIR/w.jsonl") lines"

. bench/timed.bash

rm -f "$DIR"/l.db*
timed "infercost ingest (2 threads)" "$IC" ingest -q --ledger "$DIR/l.db" "$DIR/w.jsonl"
ING=$WALL
echo "  -> $(rate "$ING") events/s, ledger $(du -ch "$DIR"/l.db* | tail -1 | cut -f1)"
if [ -z "${IC_BENCH_QUICK:-}" ]; then # IC_BENCH_QUICK=1: the first ingest and the reports only
timed "infercost ingest again (all duplicates)" "$IC" ingest -q --ledger "$DIR/l.db" "$DIR/w.jsonl"
echo "  -> $(rate "$WALL") events/s checked"
rm -f "$DIR"/l1.db*
timed "infercost ingest --threads 1" "$IC" ingest -q --threads 1 --ledger "$DIR/l1.db" "$DIR/w.jsonl"
echo "  -> $(rate "$WALL") events/s"
rm -f "$DIR"/l1.db*
fi

# peers
if [ -z "${IC_BENCH_QUICK:-}" ]; then
rm -f "$DIR"/s.db*
cat >"$DIR/load.sql" <<SQL
PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
CREATE TABLE raw(line TEXT);
CREATE TABLE ev(id TEXT PRIMARY KEY, line TEXT) WITHOUT ROWID;
.mode ascii
.separator "\\037" "\\n"
.import $DIR/w.jsonl raw
INSERT OR IGNORE INTO ev SELECT json_extract(line, '\$.id'), line FROM raw;
SQL
# (.import with the ASCII unit separator, which never occurs in the lines: one column per line)
timed "peer: sqlite3 .import + unique id (no pricing)" sqlite3 "$DIR/s.db" ".read $DIR/load.sql"
echo "  -> $(rate "$WALL") lines/s, ratio infercost/peer $(echo "scale=2; $WALL / $ING" | bc)x"
rm -f "$DIR"/s.db*
if [ -d tests/node/node_modules/@pydantic/genai-prices ] && [ "$N" -le 2000000 ]; then
    timed "peer: genai-prices (pricing only, node)" node bench/pricing_job.mjs "$DIR/w.jsonl" "$DIR/gp.out"
    echo "  -> $(rate "$WALL") lines/s, ratio infercost/peer $(echo "scale=2; $WALL / $ING" | bc)x"
    rm -f "$DIR/gp.out"
fi
fi

# reports
for i in 1 2 3; do
    timed "report --by month,model (rollups) #$i" "$IC" report --ledger "$DIR/l.db" --by month,model --timing
    grep -h "report:" "$DIR/err"
done
timed "report --by month,model --raw (all events)" "$IC" report --ledger "$DIR/l.db" --by month,model --raw --timing
grep -h "report:" "$DIR/err"
timed "report --by month,customer --percentiles" "$IC" report --ledger "$DIR/l.db" --by month,customer --percentiles --timing
grep -h "report:" "$DIR/err"
head -3 "$DIR/out"
timed "report --by task (a row per task)" "$IC" report --ledger "$DIR/l.db" --by task --timing
grep -h "report:" "$DIR/err"
echo "  -> $(wc -l <"$DIR/out") lines of output"

# what-if: every call of the ledger priced again on another model, against the reference
# calculator pricing the same log with the model replaced (what a user without infercost would run)
timed "whatif --swap '*=openai:gpt-4o-mini'" "$IC" whatif --ledger "$DIR/l.db" --swap '*=openai:gpt-4o-mini' --format json
WI=$WALL
echo "  -> $(rate "$WI") events/s priced again; saving $(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).total.saving_usd)' "$DIR/out" 2>/dev/null) USD"
if [ -d tests/node/node_modules/@pydantic/genai-prices ] && [ "$N" -le 2000000 ]; then
    sed 's/"provider":"[^"]*","model":"[^"]*"/"provider":"openai","model":"gpt-4o-mini"/' "$DIR/w.jsonl" >"$DIR/ws.jsonl"
    timed "peer: genai-prices on the swapped log (node)" node bench/pricing_job.mjs "$DIR/ws.jsonl" "$DIR/gp.out"
    echo "  -> $(rate "$WALL") lines/s, ratio infercost/peer $(echo "scale=2; $WALL / $WI" | bc)x"
    rm -f "$DIR/gp.out" "$DIR/ws.jsonl"
fi
