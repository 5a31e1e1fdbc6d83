# tests/e2e/common.bash: helpers sourced by the e2e scripts that drive the CLI (cost, count,
# ledger, cli_guard; not a test itself): the binary under test ($IC_BIN, else build/infercost), a
# scratch directory removed on exit, the checks, and the "P passed, F failed" line that
# tests/run.sh sums. The gateway scripts have their own (gateway_common.bash: processes to stop).
set -u
IC=${IC_BIN:-build/infercost}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_eq() { # label, actual, expected
    if [ "$2" == "$3" ]; then ok; else bad "$1"; echo "  expected: $3"; echo "  actual:   $2"; fi
}
expect_has() { # label, haystack, needle
    case "$2" in *"$3"*) ok ;; *) bad "$1"; echo "  missing: $3"; echo "  in: ${2:0:400}" ;; esac
}
finish() { # the last line of the script: the count, and the exit status
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
