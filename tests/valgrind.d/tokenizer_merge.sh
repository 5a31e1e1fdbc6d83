# tests/valgrind.d/tokenizer_merge.sh: the merge paths of `infercost count` under memcheck, one
# case each: short pieces through the per-call cache (a text of 16 KB and more), a 100-byte piece
# (heap merge) and a 3000-byte run (backtracking encoder, whose tables are built on first use).
# Sourced by tests/valgrind.sh (VG, IC, TMP, check).
for i in $(seq 1 400); do printf 'Азербайджан Великобритания %d schöne Grüße, naïve coöperation\n' "$i"; done > "$TMP/merge.txt"
head -c 100 /dev/zero | tr '\0' 'q' >> "$TMP/merge.txt"
printf '\n' >> "$TMP/merge.txt"
head -c 3000 /dev/zero | tr '\0' ' ' >> "$TMP/merge.txt"
printf 'x\n' >> "$TMP/merge.txt"
check "count merge paths o200k --ids" "$IC" count --ids "$TMP/merge.txt"
check "count merge paths cl100k" "$IC" count --encoding cl100k_base "$TMP/merge.txt"
