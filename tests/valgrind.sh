#!/usr/bin/env bash
# tests/valgrind.sh: a small end-to-end set under valgrind memcheck (leaks and errors are
# failures). Each capability adds tests/valgrind.d/NAME.sh, sourced with VG (the valgrind
# command line), IC (the binary) and TMP set; it calls `check "label" cmd...` per case.
set -u
cd "$(dirname "$0")/.."
IC="$PWD/build/infercost"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect)
pass=0 fail=0
check() { # label, command... (exit 99 = a memory error; other exits are the command's own)
    local label=$1; shift
    "${VG[@]}" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ $rc -eq 99 ] || grep -q "==[0-9]*==" "$TMP/err"; then
        echo "valgrind: $label: memory errors"; sed 's/^/    /' "$TMP/err" | head -40
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
for f in tests/valgrind.d/*.sh; do
    [ -f "$f" ] || continue
    # shellcheck source=/dev/null
    . "$f"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
