# gateway_common.bash: helpers sourced by tests/e2e/gateway*.sh (not a test itself): start the
# mock provider and the gateway on free loopback ports, count checks, clean up every process
# started here (by pid) on exit. Keys used here are obviously fake and live only in the env.
set -u
IC=${IC_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/infercost}
T=$(mktemp -d)
PIDS=()
pass=0 fail=0
cleanup() {
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { # label, condition command...
    local label=$1; shift
    if "$@"; then ok; else bad "$label"; fi
}
absent() { # label, text, file: the text must not occur in the file
    if grep -qF -- "$2" "$3"; then bad "$1"; else ok; fi
}
eq() { # label, got, want
    if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}
# wait until FILE has a line matching "listening on http://HOST:PORT"; echo PORT
wait_port() { # file, pid
    local i
    for i in $(seq 1 100); do
        if grep -q "listening on http://" "$1" 2>/dev/null; then
            sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$1" | head -n 1
            return 0
        fi
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    echo "did not start: $(cat "$1")" >&2
    return 1
}
start_mock() { # name, args... -> sets MOCK_PORT, MOCK_PID
    local name=$1; shift
    "$IC" mock-provider --listen 127.0.0.1:0 "$@" >"$T/$name.out" 2>&1 &
    MOCK_PID=$!
    PIDS+=("$MOCK_PID")
    MOCK_PORT=$(wait_port "$T/$name.out" "$MOCK_PID") || return 1
}
start_gw() { # config, extra args... -> sets GW_PORT, GW_PID
    local cfg=$1; shift
    "$IC" serve --config "$cfg" --listen 127.0.0.1:0 "$@" >"$T/gw.out" 2>"$T/gw.err" &
    GW_PID=$!
    PIDS+=("$GW_PID")
    GW_PORT=$(wait_port "$T/gw.out" "$GW_PID") || { cat "$T/gw.err" >&2; return 1; }
}
# wait (at most 5 s) until the gateway's PATH answers with a line matching the regex
wait_page() { # path regex
    local i
    for i in $(seq 1 100); do
        curl -s --max-time 1 "http://127.0.0.1:$GW_PORT$1" | grep -q "$2" && return 0
        sleep 0.05
    done
    return 1
}
# ... until the gateway reports N calls in flight (/healthz)
wait_inflight() { wait_page /healthz "\"inflight\":$1}"; } # n
# ... until the gateway's /metrics has a line matching the regex
wait_metric() { wait_page /metrics "$1"; } # regex
# the generated text a saved SSE stream carried (chat "content", Anthropic "text", Responses
# "delta" strings), concatenated: what the gateway counts for a call without usage
text_of() { grep -o '"\(content\|text\|delta\)":"[^"]*"' "$1" | sed 's/^"[a-z]*":"//; s/"$//' | tr -d '\n'; } # file
