// bench/pricing_compare.mjs: after bench/pricing.sh (b), checks that infercost's output and the
// genai-prices job's output agree line by line (provider, model, total within 1e-9 USD), so the
// benchmark compares equal work. Prints the count of disagreements and the first few.
// Usage: node bench/pricing_compare.mjs IC.out REF.out
import { readFileSync } from 'node:fs';
const [a, b] = process.argv.slice(2);
const A = readFileSync(a, 'utf8').split('\n'), B = readFileSync(b, 'utf8').split('\n');
let n = 0, bad = 0;
for (let i = 0; i < Math.max(A.length, B.length); i++) {
    if (!A[i] && !B[i]) continue;
    n++;
    let x, y;
    try { x = JSON.parse(A[i]); y = JSON.parse(B[i]); } catch { x = null; }
    const ok = x && y && !x.error && !y.error && x.provider === y.provider && x.model === y.model &&
        Math.abs(Number(x.total_usd) - y.total_usd) <= 1e-9;
    if (!ok && bad++ < 5) console.log(`   line ${i + 1}: infercost ${String(A[i]).slice(0, 160)} | genai-prices ${String(B[i]).slice(0, 160)}`);
}
console.log(`   outputs compared: ${n} lines, ${bad} disagreements`);
process.exitCode = bad ? 1 : 0;
