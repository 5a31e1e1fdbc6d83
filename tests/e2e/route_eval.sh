#!/usr/bin/env bash
# tests/e2e/route_eval.sh: `infercost route-eval` end to end: the shipped RouteLLM sets found from
# any directory, GSM8K's figures against an independent computation (route_eval_ref.mjs: its own
# CSV reader, tiktoken's counts), a user's own CSV, and the errors. Prints "P passed, F failed".
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/common.bash
IC=$(cd "$(dirname "$IC")" && pwd)/$(basename "$IC")
jget() { # json text, JS expression on `d`
    node -e "const d=JSON.parse(process.argv[1]); console.log($2)" "$1"
}

# --- the shipped sets, from another directory (the binary finds data/ beside build/)
out=$(cd "$T" && "$IC" route-eval --format json)
expect_eq "route-eval exit" $? 0
expect_eq "three sets" "$(jget "$out" "d.sets.map(s=>s.set+':'+s.prompts).join(' ')")" "mt-bench:72 gsm8k:1307 mmlu:14037"
expect_eq "default routers" "$(jget "$out" "d.sets[0].routers.map(r=>r.router).join(' ')")" "random prompt-tokens optimal"
# GSM8K, computed again in node with its own CSV reader and tiktoken's token counts
if [ -d tests/node/node_modules/tiktoken ]; then
    ref=$(node tests/e2e/route_eval_ref.mjs data/routellm)
    g=$("$IC" route-eval --set gsm8k --router prompt-tokens --format json)
    expect_eq "gsm8k prompts" "$(jget "$g" "d.sets[0].prompts")" "$(jget "$ref" d.prompts)"
    expect_eq "gsm8k strong" "$(jget "$g" "d.sets[0].strong_quality.toFixed(6)")" "$(jget "$ref" "d.strong.toFixed(6)")"
    expect_eq "gsm8k weak" "$(jget "$g" "d.sets[0].weak_quality.toFixed(6)")" "$(jget "$ref" "d.weak.toFixed(6)")"
    expect_eq "gsm8k prompt-tokens APGR" "$(jget "$g" "d.sets[0].routers[0].apgr.toFixed(4)")" "$(jget "$ref" d.apgr)"
    expect_eq "gsm8k prompt-tokens CPT(50%)" "$(jget "$g" "d.sets[0].routers[0].cpt50.toFixed(4)")" "$(jget "$ref" d.cpt50)"
else
    bad "tests/node/node_modules/tiktoken is missing (scripts/bootstrap installs it)"
fi
# prompt-tokens scores a prompt as the gateway counts a one-message chat request (the text + 7),
# so the min_prompt_tokens it prints is the gateway's: the two counts, through the real binary
txt="Natalia sold clips to 48 of her friends in April, and then she sold half as many in May."
c=$(printf '%s' "$txt" | "$IC" count | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).tokens)')
node -e 'console.log(JSON.stringify({model:"gpt-4o",messages:[{role:"user",content:process.argv[1]}]}))' "$txt" >"$T/req.json"
p=$("$IC" estimate --json "$T/req.json" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).prompt_tokens)')
expect_eq "chat overhead of one message" "$((p - c))" "7"
rule=$("$IC" route-eval --set gsm8k --router prompt-tokens --format json | node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); const r=d.sets[0].routers[0].rule50; console.log(r.min_score, r.strong_share, r.pgr >= 0.5)')
expect_eq "gsm8k rule for half the gap" "$rule" "70 0.3627 true"
# the table names both models and the metrics
tbl=$("$IC" route-eval --set mmlu --router random --router 'regex:(?i)calculate')
expect_has "table models" "$tbl" "gpt-4-1106-preview 80.6%, mistralai/Mixtral-8x7B-Instruct-v0.1 68.1% correct"
expect_has "table regex row" "$tbl" "regex:(?i)calculate"

# --- a user's own set
printf 'prompt,big,small\n"long, hard question",1,0\nshort,1,1\n' >"$T/own.csv"
own=$("$IC" route-eval --csv "$T/own.csv" --strong big --weak small --router optimal --format json)
expect_eq "own set optimal APGR" "$(jget "$own" "d.sets[0].routers[0].apgr")" "0.75"
expect_eq "own set name" "$(jget "$own" "d.sets[0].set")" "$T/own.csv"

# --- errors: exit 2 and a message naming what is wrong
"$IC" route-eval --csv "$T/own.csv" >/dev/null 2>"$T/err"
expect_eq "csv without columns exit" $? 2
expect_has "csv without columns" "$(cat "$T/err")" "--csv needs --strong COL and --weak COL"
"$IC" route-eval --csv "$T/own.csv" --strong big --weak nope >/dev/null 2>"$T/err"
expect_has "missing column" "$(cat "$T/err")" "own.csv:1: the header has no \"nope\" column"
"$IC" route-eval --set gsm8k --router smart >/dev/null 2>"$T/err"
expect_eq "unknown router exit" $? 2
expect_has "unknown router" "$(cat "$T/err")" "no router 'smart'"
"$IC" route-eval --set arena >/dev/null 2>"$T/err"
expect_has "unknown set" "$(cat "$T/err")" "no evaluation set 'arena'"
INFERCOST_DATA="$T/nowhere" "$IC" route-eval >/dev/null 2>"$T/err"
expect_eq "no data exit" $? 2
expect_has "no data" "$(cat "$T/err")" "$T/nowhere/routellm is not a directory (INFERCOST_DATA)"
cp "$IC" "$T/ic-alone"
(cd "$T" && ./ic-alone route-eval >/dev/null 2>"$T/err")
expect_eq "no data beside a copied binary" $? 2
expect_has "no data message" "$(cat "$T/err")" "the RouteLLM sets are not found"
# the rest of the checks the review asked for: one catastrophic regex is reported, not counted
"$IC" route-eval --set gsm8k --router 'regex:^(\w+\s?)*$' >/dev/null 2>"$T/err"
expect_eq "catastrophic regex exit" $? 2
expect_has "catastrophic regex" "$(cat "$T/err")" "matching failed on the prompt"
"$IC" route-eval --set gsm8k --set all >"$T/out" 2>&1
expect_eq "set and all" "$(grep -c 'prompts (' "$T/out")" "4"
"$IC" route-eval --format csv >/dev/null 2>"$T/err"
expect_eq "csv format refused" $? 2
finish
