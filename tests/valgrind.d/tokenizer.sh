# tests/valgrind.d/tokenizer.sh: count and estimate under memcheck. Sourced by tests/valgrind.sh
# (VG, IC, TMP, check). Covers both encodings, --ids/--lines/--special, pieces for each merge
# (a CJK word of 20 characters: the array merge with whole characters joined first; one of 150
# characters: the heap merge; 3,000 letters: the backtracking encoder), invalid UTF-8, an
# estimate, a 5 MB file counted in spans on two threads, and error paths.
printf 'Hello, world! It'"'"'s <|endoftext|> 中文 \xff\xfe émoji 👨‍👩‍👧\n\nsecond line\r\n' > "$TMP/tok.txt"
for n in 10 75; do for i in $(seq 1 $n); do printf '中文'; done; printf '\n'; done >> "$TMP/tok.txt"
head -c 3000 /dev/zero | tr '\0' 'a' >> "$TMP/tok.txt"
check "count o200k --ids" "$IC" count --ids "$TMP/tok.txt"
check "count cl100k --lines --special" "$IC" count --encoding cl100k_base --lines --special --ids "$TMP/tok.txt"
check "count o200k --lines" "$IC" count --lines "$TMP/tok.txt"
check "count --model estimate" "$IC" count --model claude-sonnet-4-5 "$TMP/tok.txt"
check "count bad encoding" "$IC" count --encoding nope "$TMP/tok.txt"
for i in $(seq 1 1700); do cat "$TMP/tok.txt"; done > "$TMP/tok5.txt"
check "count in spans, two threads" "$IC" count --threads 2 "$TMP/tok5.txt"
printf '{"model":"gpt-4o","max_tokens":100,"tools":[{"type":"function","function":{"name":"f","description":"d.","parameters":{"type":"object","properties":{"u":{"type":"string","enum":["a","b"]}}}}}],"messages":[{"role":"user","name":"x","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"u"}}]}]}' > "$TMP/req.json"
check "estimate" "$IC" estimate --json "$TMP/req.json"
check "estimate unbounded" "$IC" estimate --model o3 "$TMP/req.json"
printf '{"model":"gpt-4o","messages":[' > "$TMP/bad.json"
check "estimate bad json" "$IC" estimate "$TMP/bad.json"
