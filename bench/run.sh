#!/usr/bin/env bash
# bench/run.sh: `make bench` runs every bench/*.sh (but this one, the before/after tools, which
# compare two versions given as arguments or two ways of the library with no peer, and the file
# they source) in turn. Each prints its figures with the peer's side by side and the ratio;
# BENCHMARKS.md records them.
set -u
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
    case "$(basename "$b")" in run.sh | gateway_hash.sh | tokenizer_ab.sh | tokenizer_cpu.sh | tokenizer_lines.sh | tokenizer_parts.sh | tok_sources.sh) continue ;; esac
    echo "== $b"
    bash "$b" || echo "bench $b failed (exit $?)"
done
