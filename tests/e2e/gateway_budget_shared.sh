#!/usr/bin/env bash
# gateway_budget_shared.sh: two gateways share their keys' budgets and rate limits through
# PostgreSQL ("budget_store"). Calls alternate between them, each after the exchange interval:
# together they admit exactly the calls one budget allows (each alone would admit them all
# again), and the same for a requests-per-minute limit. A gateway restarted on an empty spool
# gets its spend back from the store; a hold of a gateway killed during a call stops counting
# after the stale window; with the database stopped the gateways keep serving and say so once,
# and pick up when it is back. A second gateway with a running one's gateway_id is refused; the
# id stays with the spool, and a spool's calls are counted once under a new id. A lock held on
# the table does not hold up a shutdown. The URI's password is in no output. Config errors name the field.
. "$(dirname "$0")/gateway_common.bash"
. "$(dirname "$0")/../pg_server.bash"
trap 'pg_stop; cleanup' EXIT
pg_start_or_fail "$T/pg"
pw=$PG_PW URL=$PG_PW_URL
export IC_TEST_PROVIDER_KEY="sk-fake-budget-shared"
start_mock m --latency-ms 1 || { finish; exit 1; }; FAST=$MOCK_PORT
start_mock slow --latency-ms 30000 || { finish; exit 1; }; SLOW=$MOCK_PORT
for k in alpha beta gamma delta rho eps zeta; do
    eval "K_$k=ick-test-key-$k-$RANDOM$RANDOM"
    eval "H_$k=\$(echo \"\$K_$k\" | \"\$IC\" serve --hash-key)"
done
gwconf() { # n, spool
    cat >"$T/gw$1.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$2","budget_store":"$URL","gateway_id":"gw-$1","budget_sync_ms":100,"key_metrics":true,
 "max_retries":0,
 "upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:$FAST/v1","api_key_env":"IC_TEST_PROVIDER_KEY"},
  {"name":"slow","provider":"openai","base_url":"http://127.0.0.1:$SLOW/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}],
 "routes":[{"match":{"model":"slow-gpt-4o"},"targets":[{"upstream":"slow","model":"gpt-4o"}]}],
 "keys":[{"id":"alpha","sha256":"$H_alpha","budget_usd_day":"0.001"},
  {"id":"beta","sha256":"$H_beta","budget_usd_month":"0.0006"},
  {"id":"gamma","sha256":"$H_gamma","budget_usd_day":"1000"},
  {"id":"delta","sha256":"$H_delta","budget_usd_day":"0.0004"},
  {"id":"rho","sha256":"$H_rho","rpm":3},
  {"id":"eps","sha256":"$H_eps","budget_usd_day":"0.0005"},
  {"id":"zeta","sha256":"$H_zeta","budget_usd_day":"0.0007"}]}
JSON
}
gwconf 1 "$T/spool1.jsonl"; gwconf 2 "$T/spool2.jsonl"
start_gw "$T/gw1.json" || { finish; exit 1; }
P1=$GW_PORT G1=$GW_PID; mv "$T/gw.out" "$T/gw1.out"; mv "$T/gw.err" "$T/gw1.err"
start_gw "$T/gw2.json" || { finish; exit 1; }
P2=$GW_PORT G2=$GW_PID; mv "$T/gw.out" "$T/gw2.out"; mv "$T/gw.err" "$T/gw2.err"
call() { # port, key, [model] -> status; headers in $T/h, body in $T/b
    curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' --max-time 40 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:$1/v1/chat/completions" \
        -d "{\"model\":\"${3:-gpt-4o}\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}"
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p"; }
start_g1() { # gateway 1 again, with its config as it is now
    start_gw "$T/gw1.json" || { finish; exit 1; }
    P1=$GW_PORT G1=$GW_PID
}
stop_g1() { # SIGTERM; its exit status; its output kept in gw1.*
    kill -TERM "$G1"; wait "$G1"
    local rc=$?
    cat "$T/gw.err" >>"$T/gw1.err" 2>/dev/null; cat "$T/gw.out" >>"$T/gw1.out" 2>/dev/null
    return $rc
}

# one budget for both: calls alternate, each after an exchange; the first refusal ends it
codes="" admitted=0 cost="" worst=""
for i in $(seq 1 12); do
    [ $((i % 2)) = 1 ] && p=$P1 || p=$P2
    c=$(call "$p" "$K_alpha")
    codes="$codes$c "
    if [ "$c" = 200 ]; then
        admitted=$((admitted + 1))
        cost=$(grep -i '^x-infercost-cost:' "$T/h" | tr -d '\r' | cut -d' ' -f2)
    else
        worst=$(jq -r .error.message "$T/b" | sed -n 's/.*could cost up to \$\([0-9.]*\).*/\1/p')
        spent_msg=$(jq -r .error.message "$T/b")
        break
    fi
    sleep 0.35
done
# call i (from 0) is admitted while i * cost + worst <= 0.001 (nothing in flight)
want=$(awk -v c="$cost" -v w="$worst" 'BEGIN { n = 0; while (n * c + w <= 0.001 + 1e-15) n++; print n }')
check "calls priced and bounded ($cost, $worst)" [ -n "$cost" ] && [ -n "$worst" ]
eq "both gateways together admit what one budget allows ($codes)" "$admitted" "$want"
check "more than one call admitted (the test means something)" [ "$admitted" -ge 2 ]
case "$spent_msg" in *"has spent \$$(awk -v c="$cost" -v n="$admitted" 'BEGIN { printf "%.6f", c * n }' | sed 's/0*$//; s/\.$//') of its \$0.001 daily budget"*) ok ;;
    *) bad "the refusal counts both gateways' spend: $spent_msg" ;; esac
eq "the other gateway refuses too" "$(call "$([ "$p" = "$P1" ] && echo "$P2" || echo "$P1")" "$K_alpha")" 429
eq "refused as budget_exceeded" "$(jq -r .error.type "$T/b")" budget_exceeded
# /metrics: each gateway shows the key's spend on both, beside its budget
sleep 0.5
spent=$(awk -v c="$cost" -v n="$admitted" 'BEGIN { printf "%.6f", c * n }' | sed 's/0*$//; s/\.$//')
eq "metrics: both gateways show the key's whole spend" \
    "$(metric "$P1" 'infercost_key_spent_usd{key="alpha",period="day"}') $(metric "$P2" 'infercost_key_spent_usd{key="alpha",period="day"}')" "$spent $spent"
eq "metrics: its budget" "$(metric "$P2" 'infercost_key_budget_usd{key="alpha",period="day"}')" 0.001
eq "metrics: a monthly budget has no daily line" "$(metric "$P1" 'infercost_key_budget_usd{key="beta",period="day"}')$(metric "$P1" 'infercost_key_budget_usd{key="beta",period="month"}')" 0.0006
eq "the store holds each gateway's spend" \
    "$(pg_psql -c "SELECT gateway || '=' || requests FROM infercost_budget WHERE key_id = 'alpha' ORDER BY gateway" | tr '\n' ' ')" \
    "gw-1=$(((admitted + 1) / 2)) gw-2=$((admitted / 2)) "

# a requests-per-minute limit for both (not across a minute's turn)
while [ "$(date +%S | sed 's/^0//')" -gt 50 ]; do sleep 1; done
codes=""
for i in 1 2 3 4; do
    [ $((i % 2)) = 1 ] && p=$P1 || p=$P2
    codes="$codes$(call "$p" "$K_rho") "
    sleep 0.35
done
eq "3 requests a minute across both gateways" "$codes" "200 200 200 429 "
sleep 0.5
eq "metrics: the minute's requests on both, and the limit" \
    "$(metric "$P1" 'infercost_key_requests_minute{key="rho"}') $(metric "$P2" 'infercost_key_requests_minute{key="rho"}') $(metric "$P2" 'infercost_key_rpm_limit{key="rho"}')" "3 3 3"
eq "refused as rate_limit_exceeded" "$(jq -r .error.type "$T/b")" rate_limit_exceeded

# a third gateway with gateway 1's gateway_id: refused at start (it would overwrite gateway 1's
# counters, and the two would admit a budget twice)
sed "s|spool1.jsonl|spool-twin.jsonl|" "$T/gw1.json" >"$T/twin.json"
"$IC" serve --config "$T/twin.json" --listen 127.0.0.1:0 >/dev/null 2>"$T/twin.err"
eq "a second gateway with one gateway_id: refused to start" "$?" 2
check "... saying why" grep -q "budget_store: another running gateway uses gateway_id 'gw-1'" "$T/twin.err"

# a hold in flight counts for the other gateway; once its gateway is killed, only until stale
call "$P2" "$K_delta" slow-gpt-4o >/dev/null & slowc=$!
sleep 0.5
eq "a call in flight on gateway 2 holds delta's budget on gateway 1" "$(call "$P1" "$K_delta")" 429
case "$(jq -r .error.message "$T/b")" in *"(plus \$0 in flight)"*) bad "the hold is not shown: $(jq -r .error.message "$T/b")" ;; *"in flight"*) ok ;;
    *) bad "unexpected refusal: $(jq -r .error.message "$T/b")" ;; esac
kill -9 "$G2"; wait "$G2" 2>/dev/null; wait "$slowc" 2>/dev/null
sleep 2
eq "a dead gateway's hold still counts within the stale window" "$(call "$P1" "$K_delta")" 429
sleep 4.5
eq "and no longer after it (5 s)" "$(call "$P1" "$K_delta")" 200

# restart on an empty spool: the spend comes back from the store
eq "beta: a call" "$(call "$P1" "$K_beta")" 200
sleep 0.35
eq "beta: a second call" "$(call "$P1" "$K_beta")" 200
sleep 0.35
eq "beta: the third is over the month's budget" "$(call "$P1" "$K_beta")" 429
stop_g1; eq "gateway 1 stops cleanly" "$?" 0
eq "the gateway_id is kept beside the spool" "$(head -n 1 "$T/spool1.jsonl.gateway-id")" gw-1
gwconf 1 "$T/spool1b.jsonl"
start_g1
eq "after a restart on a new spool, beta is still over budget" "$(call "$P1" "$K_beta")" 429
check "... having spent its two calls" grep -q 'has spent \$0.00045 of its \$0.0006 monthly' "$T/b"
# the first spool again, under another gateway_id: its calls are in gw-1's row, which now counts
# as another gateway's; they are not counted from the spool a second time
stop_g1
gwconf 1 "$T/spool1.jsonl"
sed -i 's/"gateway_id":"gw-1"/"gateway_id":"gw-1-renamed"/' "$T/gw1.json"
start_g1
eq "renamed on the same spool: beta over budget" "$(call "$P1" "$K_beta")" 429
check "... its spend counted once" grep -q 'has spent \$0.00045 of its \$0.0006 monthly' "$T/b"
stop_g1
# a call under one id, a call under a new id on the same spool, then a restart under the new id:
# the first call stays the old id's alone (zeta: $0.0007 a day holds three calls)
gwconf 1 "$T/spool1z.jsonl"; sed -i 's/"gateway_id":"gw-1"/"gateway_id":"z-1"/' "$T/gw1.json"
start_g1; eq "zeta under z-1: a call" "$(call "$P1" "$K_zeta")" 200; stop_g1
sed -i 's/"gateway_id":"z-1"/"gateway_id":"z-2"/' "$T/gw1.json"
start_g1; sleep 0.3; eq "zeta under z-2: a call" "$(call "$P1" "$K_zeta")" 200; stop_g1
start_g1; sleep 0.3
eq "z-2 restarted: a third call fits (the first is not counted twice)" "$(call "$P1" "$K_zeta")" 200
sleep 0.3
eq "... a fourth does not" "$(call "$P1" "$K_zeta")" 429
check "... with the three calls spent" grep -q 'has spent \$0.000675 of its \$0.0007 daily' "$T/b"
stop_g1
check "z-2's part of the spool begins after z-1's" [ "$(sed -n '2p' "$T/spool1z.jsonl.gateway-id" | cut -d' ' -f2)" -gt 0 ]
# the spool emptied in place (copytruncate keeps the inode): all of it is z-2's again
: >"$T/spool1z.jsonl"
start_g1; stop_g1
eq "an emptied spool: its offset back to 0" "$(sed -n '2p' "$T/spool1z.jsonl.gateway-id" | cut -d' ' -f2)" 0

# without a gateway_id: HOSTNAME:PORT, made once and kept with the spool across restarts
gwconf 1 "$T/spool1c.jsonl"
sed -i 's/"gateway_id":"gw-1",//' "$T/gw1.json"
start_g1
eq "the default gateway_id" "$(head -n 1 "$T/spool1c.jsonl.gateway-id")" "$(hostname):$P1"
stop_g1
P1a=$P1
start_g1
check "... kept across a restart on another port ($P1a -> $P1)" [ "$(head -n 1 "$T/spool1c.jsonl.gateway-id")" = "$(hostname):$P1a" ] && [ "$P1a" != "$P1" ]
GID=$(head -n 1 "$T/spool1c.jsonl.gateway-id")
eq "... and its row found again: beta still over budget" "$(call "$P1" "$K_beta")" 429
# keys this gateway has no limits for: their rows are not read, and not written back
pg_psql -c "INSERT INTO infercost_budget SELECT 'ghost' || i, 'elsewhere', 0, 1, 0, 1, 0, 0, 0, 0, 200, now() FROM generate_series(1, 2000) i" >/dev/null

# the database stops: calls go on (local budgets), the gateway says so once, and recovers
pg_down
sleep 0.5
for i in 1 2 3; do eq "served with the store down ($i)" "$(call "$P1" "$K_gamma")" 200; done
sleep 0.4
check "the failed exchanges are counted" [ "$(metric "$P1" infercost_budget_sync_errors_total)" -gt 0 ]
pg_up
back() { for _ in $(seq 1 100); do grep -q "budget store: back" "$T/gw.err" && return 0; sleep 0.05; done; return 1; }
check "the store is back" back
eq "the outage is said once" "$(grep -c "budget store: .*cannot\|budget store: .*connect\|budget store: .*terminat\|budget store: .*server" "$T/gw.err")" 1
sleep 0.3
eq "gamma's calls made while it was down reach the store" \
    "$(pg_psql -c "SELECT day_spent_usd > 0 FROM infercost_budget WHERE key_id = 'gamma' AND gateway = '$GID'")" t
eq "after the reconnect, only the gateway's own keys were written" \
    "$(pg_psql -c "SELECT count(*) FROM infercost_budget WHERE gateway = '$GID' AND key_id LIKE 'ghost%'")" 0
check "fresh exchanges" awk -v a="$(metric "$P1" infercost_budget_sync_age_seconds)" 'BEGIN { exit !(a < 1) }'
# a lock held elsewhere on the table: exchanges give up after 5 s, and a shutdown waits at most
# for the one in progress
pg_psql -c "BEGIN; LOCK TABLE infercost_budget; SELECT pg_sleep(30); COMMIT" >/dev/null 2>&1 & locker=$!
sleep 1
eq "served while the table is locked" "$(call "$P1" "$K_gamma")" 200
t0=$(date +%s%N)
stop_g1; eq "clean stop" "$?" 0
took=$(( ($(date +%s%N) - t0) / 1000000 ))
check "the stop did not wait for the lock (${took} ms)" [ "$took" -lt 9000 ]
kill "$locker" 2>/dev/null; wait "$locker" 2>/dev/null
pg_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
for f in "$T"/gw1.out "$T"/gw1.err "$T"/gw2.out "$T"/gw2.err; do
    absent "no password in $(basename "$f")" "$pw" "$f"
done

# a database that stops answering altogether (its processes stopped): noticed from the event
# loop after 5 s, and its return
gwconf 1 "$T/spool1e.jsonl"
start_g1
PGPM=$(head -n 1 "$T/pg/data/postmaster.pid")
pgstopped=$(echo "$PGPM" $(pgrep -P "$PGPM"))
kill -STOP $pgstopped
sleep 6
eq "store stalled: calls served" "$(call "$P1" "$K_gamma")" 200
check "... the stall said on stderr" grep -q "budget store: no exchange has finished for" "$T/gw.err"
kill -CONT $pgstopped
answering() { for _ in $(seq 1 100); do grep -q "budget store: answering again" "$T/gw.err" && return 0; sleep 0.05; done; return 1; }
check "... and its end" answering
stop_g1

# calls made while the store is out of reach, then a stop (whose last write fails): a restart on
# the same spool counts them from it (eps: $0.0005 a day holds two calls, not three)
gwconf 1 "$T/spool1e.jsonl"
start_g1
pg_down
eq "store down: eps, a call" "$(call "$P1" "$K_eps")" 200
eq "store down: eps, a second call" "$(call "$P1" "$K_eps")" 200
stop_g1; eq "stops with the store down" "$?" 0
check "... saying the last counters were not written" grep -q "the last counters were not written" "$T/gw.err"
pg_up
start_g1
eq "after the restart, eps's two calls are counted" "$(call "$P1" "$K_eps")" 429
stop_g1

# a table made by an earlier version of this store (no sync_ms, an instance column) is brought up
# to date at a start
pg_psql -c "DROP TABLE infercost_budget; CREATE TABLE infercost_budget(key_id text COLLATE \"C\" NOT NULL, gateway text COLLATE \"C\" NOT NULL, day bigint NOT NULL, day_spent_usd numeric NOT NULL, month bigint NOT NULL, month_spent_usd numeric NOT NULL, held_usd numeric NOT NULL, minute bigint NOT NULL, requests bigint NOT NULL, tokens numeric NOT NULL, instance text NOT NULL, updated timestamptz NOT NULL, PRIMARY KEY(key_id, gateway))" >/dev/null
start_g1
eq "an older table: served" "$(call "$P1" "$K_gamma")" 200
stop_g1; eq "... and stopped cleanly" "$?" 0
eq "... its columns now" "$(pg_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'infercost_budget' AND column_name IN ('sync_ms', 'instance')")" 1
# a role that may only read and write the table (no right to create, alter or delete) uses it
pg_psql -c "CREATE ROLE budgetonly LOGIN; GRANT SELECT, INSERT, UPDATE ON infercost_budget TO budgetonly" >/dev/null
sed -i "s|postgresql://postgres:$pw@|postgresql://budgetonly@|" "$T/gw1.json"
start_g1
eq "a role with SELECT, INSERT, UPDATE only: served" "$(call "$P1" "$K_gamma")" 200
stop_g1; eq "... and stopped cleanly" "$?" 0
absent "no password in what the later restarts wrote" "$pw" "$T/gw1.err"

# config errors
cat >"$T/bad1.json" <<JSON
{"spool":"$T/s.jsonl","budget_store":"$T/budgets.db","upstreams":[{"name":"m","provider":"openai","base_url":"http://127.0.0.1:1/v1","api_key_env":"IC_TEST_PROVIDER_KEY"}]}
JSON
"$IC" serve --config "$T/bad1.json" >/dev/null 2>"$T/e1"; eq "a file as budget_store: exit 2" "$?" 2
check "names the field" grep -q "bad1.json: budget_store: expected a postgresql:// URI" "$T/e1"
sed 's|"budget_store":"[^"]*"|"budget_store":"postgresql:///x","gateway_id":""|' "$T/bad1.json" >"$T/bad2.json"
"$IC" serve --config "$T/bad2.json" >/dev/null 2>"$T/e2"; eq "an empty gateway_id: exit 2" "$?" 2
check "names gateway_id" grep -q "bad2.json: gateway_id: must not be empty" "$T/e2"
sed "s|\"budget_store\":\"[^\"]*\"|\"budget_store\":\"postgresql://u:$pw@/x?host=$T/nowhere\&connect_timeout=2\"|" "$T/bad1.json" >"$T/bad3.json"
"$IC" serve --config "$T/bad3.json" --listen 127.0.0.1:0 >/dev/null 2>"$T/e3"; r=$?
eq "no store at start: refuses to start" "$r" 2
check "says the budget store cannot connect" grep -q "budget_store: postgresql://u@/x.*cannot connect" "$T/e3"
absent "no password in that message" "$pw" "$T/e3"
finish
