# tests/valgrind.d/gateway.sh: the gateway and the mock provider under memcheck. Sourced by
# tests/valgrind.sh (VG, IC, TMP, check, pass, fail). The two servers run under valgrind in the
# background, serve a handful of calls of every kind through curl, and are stopped with SIGTERM;
# a memcheck error or leak (exit 99 or a ==PID== line) fails the case. Calls to an upstream that
# reports no usage take the gateway's estimate of it.
export IC_VG_PROVIDER_KEY="sk-fake-valgrind-key"
check "mock-provider --help" "$IC" mock-provider --help
check "serve --hash-key" bash -c "echo ick-valgrind-key-00000000000 | $(printf %q "${VG[*]}") $IC serve --hash-key"
echo '{"spool":"x","upstreams":[{"name":"a","provider":"openai","base_url":"http://127.0.0.1:1/v1","api_key":"sk"}]}' >"$TMP/bad.json"
check "serve bad config" "$IC" serve --config "$TMP/bad.json" --check

vg_wait_port() { # file, pid
    local i
    for i in $(seq 1 400); do
        if grep -q "listening on http://" "$1" 2>/dev/null; then
            sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$1" | head -n 1
            return 0
        fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
vg_server_done() { # label, pid, errfile
    kill -TERM "$2" 2>/dev/null
    wait "$2"
    local rc=$?
    if [ $rc -eq 99 ] || grep -q "==[0-9]*==" "$3"; then
        echo "valgrind: $1: memory errors (exit $rc)"; sed 's/^/    /' "$3" | head -60
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

"${VG[@]}" "$IC" mock-provider --listen 127.0.0.1:0 --expect-key-env IC_VG_PROVIDER_KEY >"$TMP/mock.out" 2>"$TMP/mock.err" &
VMOCK=$!
# an upstream without usage (not under valgrind): the gateway estimates those calls' usage
"$IC" mock-provider --listen 127.0.0.1:0 --no-usage >"$TMP/numock.out" 2>&1 &
NUMOCK=$!
NUP=$(vg_wait_port "$TMP/numock.out" "$NUMOCK")
if MP=$(vg_wait_port "$TMP/mock.out" "$VMOCK"); then
    cat >"$TMP/gw.json" <<JSON
{"listen":"127.0.0.1:0","spool":"$TMP/spool.jsonl","ledger":"$TMP/gwledger.db","access_log":"$TMP/access.log","backoff_ms":1,"cache":{"ttl_s":60},
 "upstreams":[{"name":"dead","provider":"openai","base_url":"http://127.0.0.1:1/v1","api_key_env":"IC_VG_PROVIDER_KEY"},
  {"name":"m","provider":"openai","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"IC_VG_PROVIDER_KEY"},
  {"name":"a","provider":"anthropic","base_url":"http://127.0.0.1:$MP/v1","api_key_env":"IC_VG_PROVIDER_KEY"},
  {"name":"nu","provider":"openai","base_url":"http://127.0.0.1:$NUP/v1","api_key_env":"IC_VG_PROVIDER_KEY"}],
 "routes":[{"match":{"model":"auto"},"tier":[{"upstream":"m","model":"gpt-4o"},{"upstream":"m","model":"gpt-4o-mini"}]},
  {"match":{"model":"nu"},"targets":[{"upstream":"nu","model":"gpt-4o"}]},
  {"match":{"model":"fb"},"targets":[{"upstream":"dead","model":"gpt-4o"}],"fallbacks":[{"upstream":"m","model":"gpt-4o-mini"}]},
  {"match":{"regex":"re[g]ex"},"targets":[{"upstream":"m","model":"gpt-4.1"}]},
  {"match":{"model":"long","min_prompt_tokens":3},"targets":[{"upstream":"m","model":"gpt-4.1-mini"}]}],
 "keys":[{"id":"k","sha256":"$(echo ick-valgrind-key-00000000000 | "$IC" serve --hash-key)","budget_usd_day":"0.0001"}]}
JSON
    INFERCOST_NO_JIT=1 "${VG[@]}" "$IC" serve --config "$TMP/gw.json" --listen 127.0.0.1:0 >"$TMP/gw.out" 2>"$TMP/gw.err" &
    VGW=$!
    if GP=$(vg_wait_port "$TMP/gw.out" "$VGW"); then
        G="http://127.0.0.1:$GP/v1"
        M='"messages":[{"role":"user","content":"hello regex"}]'
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"gpt-4o\",$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"gpt-4o\",\"stream\":true,$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"auto\",\"temperature\":0,$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"auto\",\"temperature\":0,$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"fb\",$M}"
        curl -s -o /dev/null "$G/chat/completions" -H "Authorization: Bearer ick-valgrind-key-00000000000" -d "{\"model\":\"gpt-4o\",\"max_tokens\":1000,$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"long\",$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"nu\",$M}"
        curl -s -o /dev/null "$G/chat/completions" -d "{\"model\":\"nu\",\"stream\":true,$M}"
        curl -s -o /dev/null "$G/embeddings" -H "Authorization: Bearer ick-valgrind-key-00000000000" -d '{"model":"text-embedding-3-small","input":["a b c",[1,2,3]]}'
        curl -s -o /dev/null "$G/responses" -d '{"model":"gpt-4o","input":"hi","stream":true}'
        curl -s -o /dev/null "$G/embeddings" -d '{"model":"text-embedding-3-small","input":["a","b"]}'
        curl -s -o /dev/null "$G/messages" -d "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":5,\"stream\":true,$M}"
        curl -s -o /dev/null "$G/messages" -d "{\"model\":\"claude-sonnet-4-5\",$M}"
        curl -s -o /dev/null "$G/chat/completions" -d '{"model":'
        curl -s -o /dev/null "$G/models"
        curl -s -o /dev/null "http://127.0.0.1:$GP/metrics"
        vg_server_done "serve under load" "$VGW" "$TMP/gw.err"
    else
        echo "valgrind: serve did not start: $(cat "$TMP/gw.err")"; fail=$((fail + 1)); kill "$VGW" 2>/dev/null
    fi
    vg_server_done "mock-provider" "$VMOCK" "$TMP/mock.err"
else
    echo "valgrind: mock-provider did not start: $(cat "$TMP/mock.err")"; fail=$((fail + 1)); kill "$VMOCK" 2>/dev/null
fi
kill "$NUMOCK" 2>/dev/null; wait "$NUMOCK" 2>/dev/null
