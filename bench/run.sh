#!/usr/bin/env bash
# bench/run.sh: `make bench` runs every bench/*.sh (but this one) in turn. Each prints its
# figures with the peer's side by side and the ratio; BENCHMARKS.md records them.
set -u
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
    [ "$(basename "$b")" = run.sh ] && continue
    echo "== $b"
    bash "$b" || echo "bench $b failed (exit $?)"
done
