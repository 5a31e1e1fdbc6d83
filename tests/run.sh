#!/usr/bin/env bash
# tests/run.sh: runs every test and prints one closing line "tests: N passed, M failed".
# A test is a program whose last line is "P passed, F failed" (unit binaries, tests/e2e/*.sh,
# tests/node/*.mjs); the runner sums them. Phases: the normal build, the same unit and e2e tests
# on the AddressSanitizer+UBSan build (skipped with IC_SKIP_SAN=1), valgrind on a small
# end-to-end set, and the differential tests against the reference peers (node).
# It also writes build/test-results.xml (JUnit XML, one testcase per test program, its checks
# counted in the name and its output attached on failure), the summary CI systems read.
set -u
cd "$(dirname "$0")/.."
root=$PWD
total_p=0 total_f=0
failed=()
junit_cases=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_one() { # name, command...
    local name=$1; shift
    local out="$log/out" rc
    local t0=$SECONDS
    "$@" >"$out" 2>&1
    rc=$?
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    local p=0 f=0
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    fi
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    if [ -z "$line" ] && [ $rc -eq 0 ]; then p=1; fi
    total_p=$((total_p + p)); total_f=$((total_f + f))
    local xname
    xname=$(xml_escape "${name# } ($p checks passed, $f failed)")
    junit_cases+="  <testcase classname=\"infercost\" name=\"$xname\" time=\"$((SECONDS - t0))\">"
    if [ "$f" != 0 ]; then
        failed+=("$name")
        echo "FAIL $name ($p passed, $f failed, exit $rc, $((SECONDS - t0))s)"
        tail -n 40 "$out" | sed 's/^/    /'
        junit_cases+="<failure message=\"$f failed, exit $rc\">$(tail -n 40 "$out" | xml_escape)</failure>"
    fi
    [ "$f" = 0 ] && echo "ok   $name ($p passed, $((SECONDS - t0))s)"
    junit_cases+=$'</testcase>\n'
}

xml_escape() { # the argument, or stdin: & < > " escaped, control characters but \n and \t dropped
    if [ $# -gt 0 ]; then printf '%s' "$1"; else cat; fi |
        LC_ALL=C tr -d '\000-\010\013\014\016-\037' |
        sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

phase() { # build dir, label
    local b=$1 label=$2
    for t in "$b"/tests/test_*; do
        [ -x "$t" ] || continue
        run_one "$label unit $(basename "$t")" "$t"
    done
    for t in tests/e2e/*.sh; do
        [ -f "$t" ] || continue
        run_one "$label e2e $(basename "$t" .sh)" env IC_BIN="$root/$b/infercost" bash "$t"
    done
}

phase build ""
if [ "${IC_SKIP_SAN:-0}" != 1 ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    phase build-san "[asan+ubsan]"
    unset ASAN_OPTIONS UBSAN_OPTIONS
    run_one "valgrind end-to-end" bash tests/valgrind.sh
fi
for t in tests/node/*.test.mjs; do
    [ -f "$t" ] || continue
    run_one "node $(basename "$t" .test.mjs)" env IC_BIN="$root/build/infercost" node "$t"
done

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
fi
echo "tests: $total_p passed, $total_f failed"
mkdir -p build
{
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    ncases=$(printf '%s' "$junit_cases" | grep -c '<testcase')
    echo "<testsuites name=\"infercost\" tests=\"$ncases\" failures=\"${#failed[@]}\">"
    echo "<testsuite name=\"infercost: $total_p checks passed, $total_f failed\" tests=\"$ncases\" failures=\"${#failed[@]}\">"
    printf '%s' "$junit_cases"
    echo '</testsuite>'
    echo '</testsuites>'
} > build/test-results.xml
[ "$total_f" = 0 ]
