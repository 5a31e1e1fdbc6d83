#!/usr/bin/env bash
# bench/ledger_pg.sh: the ledger on PostgreSQL (a throwaway local server, its durable defaults:
# fsync and synchronous commit on; tests/pg_server.bash) at N events (default 1,000,000), with
# the peer in the same run:
#   - psql \copy of the same JSONL lines into a table with a unique id index (the cost of storing
#     the lines in that server at all, no parsing or pricing): the storage floor, as bench/ledger.sh
#     has sqlite3's for the SQLite ledger;
#   - the SQLite ledger ingesting the same file, for scale.
# Then a repeat ingest (every event a duplicate) and the reports from the rollups and from every
# event, on both ledgers. Prints CPU time (the client's) next to wall time, and the load average.
set -u
cd "$(dirname "$0")/.."
. tests/pg_server.bash
IC=${IC_BIN:-build/infercost}
N=${IC_BENCH_LEDGER_N:-1000000}
DIR=$(mktemp -d)
chmod 755 "$DIR"
trap 'pg_stop; rm -rf "$DIR"' EXIT
PG_DURABLE=1 pg_start "$DIR/pg" || { echo "bench ledger_pg: no server: $PG_SKIP"; exit 1; }
echo "ledger (PostgreSQL) bench: $N events, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$IC" generate-workload --events "$N" --days 180 --seed 1 --out "$DIR/w.jsonl"
chmod 644 "$DIR/w.jsonl"

. bench/timed.bash

timed "infercost ingest -> PostgreSQL" "$IC" ingest -q --ledger "$IC_PG_URL" "$DIR/w.jsonl"
ING=$WALL
echo "  -> $(rate "$ING") events/s, database $(pg_psql -c "SELECT pg_size_pretty(pg_database_size('infercost'))")"
timed "infercost ingest again (all duplicates)" "$IC" ingest -q --ledger "$IC_PG_URL" "$DIR/w.jsonl"
echo "  -> $(rate "$WALL") events/s checked"
# the peer: the raw lines into a table with a unique id (CSV mode with a quote and a delimiter
# that never occur, so each line is one field, read as it is)
cat >"$DIR/load.sql" <<SQL
CREATE TABLE raw(line text);
CREATE TABLE ev(id text PRIMARY KEY, line jsonb NOT NULL);
\\copy raw FROM '$DIR/w.jsonl' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')
INSERT INTO ev SELECT line::jsonb->>'id', line::jsonb FROM raw ON CONFLICT DO NOTHING;
SQL
chmod 644 "$DIR/load.sql"
PSQL=("$PG_BIN/psql"); [ "$(id -u)" = 0 ] && PSQL=(runuser -u postgres -- "$PG_BIN/psql")
timed "peer: psql \\copy + unique id (no pricing)" "${PSQL[@]}" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_DIR" -p "$PG_PORT" -U postgres -d infercost -f "$DIR/load.sql"
echo "  -> $(rate "$WALL") lines/s, ratio infercost/peer $(echo "scale=2; $WALL / $ING" | bc)x ($(pg_psql -c "SELECT count(*) FROM ev") rows)"
timed "infercost ingest -> SQLite (same file)" "$IC" ingest -q --ledger "$DIR/l.db" "$DIR/w.jsonl"
echo "  -> $(rate "$WALL") events/s"

for L in "$IC_PG_URL" "$DIR/l.db"; do
    name=PostgreSQL; [ "$L" = "$DIR/l.db" ] && name=SQLite
    timed "report --by month,model, $name (rollups)" "$IC" report --ledger "$L" --by month,model
    timed "report --by month,model --raw, $name" "$IC" report --ledger "$L" --by month,model --raw
    timed "whatif --swap '*=openai:gpt-4o-mini', $name" "$IC" whatif --ledger "$L" --swap '*=openai:gpt-4o-mini'
done
