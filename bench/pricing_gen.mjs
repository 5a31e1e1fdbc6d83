// bench/pricing_gen.mjs: writes the pricing benchmark's input, N usage records as `infercost cost`
// JSONL (default 1,000,000), seeded and reproducible. A pool of records across every provider and
// hundreds of models is generated with the test generator (tests/node/lib/gen.mjs) and kept only
// where the reference prices them, so the benchmark measures pricing, not error lines; the N lines
// cycle through the pool with token counts multiplied by 1..3 (keeps sub-units within ancestors).
// Mix "catalog" (default) spreads the records uniformly over every model of every provider; mix
// "mainstream" keeps only OpenAI, Anthropic and Google models named with their provider, the shape
// of a typical production log (the reference's linear model scan is short there, so it is faster).
// Usage: node bench/pricing_gen.mjs OUT.jsonl [N] [catalog|mainstream]
import { writeFileSync } from 'node:fs';
import { loadReference, refPrice } from '../tests/node/lib/reference.mjs';
import { makeRng } from '../tests/node/lib/prng.mjs';
import { loadUnits, namesForModel, randomTime, makeUsage } from '../tests/node/lib/gen.mjs';

const [out, nArg, mix = 'catalog'] = process.argv.slice(2);
if (!out) { console.error('usage: node bench/pricing_gen.mjs OUT.jsonl [N]'); process.exit(2); }
const N = Number(nArg || 1000000);
const { data } = await loadReference();
const U = loadUnits();
const rng = makeRng(4242);
const pool = [];
const models = new Set();
const MAINSTREAM = new Set(['openai', 'anthropic', 'google']);
for (const p of data) {
    if (mix === 'mainstream' && !MAINSTREAM.has(p.id)) continue;
    for (const m of p.models) {
        for (let k = 0; k < (mix === 'mainstream' ? 20 : 4); k++) {
            const name = rng.pick(namesForModel(m, rng)).trim();
            const withProvider = mix === 'mainstream' || rng.chance(0.8);
            const t = randomTime(rng);
            const ts = new Date(t).toISOString().replace('.000Z', 'Z');
            const { usage } = makeUsage(m, U, rng);
            const r = refPrice(usage, name, withProvider ? p.id : undefined, ts);
            // infercost refuses a call none of whose usage the model prices (the reference says
            // $0): such records are not pricing work, leave them out of the job
            if (r.error || (r.total === 0 && Object.values(usage).some((v) => v > 0))) continue;
            models.add(r.provider + '/' + r.model);
            pool.push({ provider: withProvider ? p.id : undefined, model: name, t, usage });
        }
    }
}
const lines = new Array(N);
for (let i = 0; i < N; i++) {
    const r = pool[rng.int(0, pool.length - 1)];
    const k = rng.int(1, 3); // an integer factor keeps every nesting inequality (floor would not)
    const usage = {};
    for (const [key, v] of Object.entries(r.usage)) usage[key] = v * k;
    const ts = new Date(r.t + rng.int(0, 3600) * 1000).toISOString().replace('.000Z', 'Z');
    const o = r.provider === undefined ? { model: r.model, timestamp: ts, usage } : { provider: r.provider, model: r.model, timestamp: ts, usage };
    lines[i] = JSON.stringify(o);
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${N} records (${mix} mix) to ${out} (pool ${pool.length} records over ${models.size} models)`);
