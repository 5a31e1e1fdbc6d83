// bench/pricing_job.mjs: the `infercost cost` job written with the reference calculator
// (@pydantic/genai-prices 0.1.8, same data.json): read JSONL usage records, calcPrice each, write
// one JSONL line per record ({"provider","model","total_usd"} or {"line","error"}). It is the peer
// side of bench/pricing.sh (b); it prints records/s of its own run on stderr.
// Usage: node bench/pricing_job.mjs IN.jsonl OUT.jsonl
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { loadReference } from '../tests/node/lib/reference.mjs';

const [inp, outp] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const { calcPrice } = await loadReference();
const text = readFileSync(inp, 'utf8');
const fd = openSync(outp, 'w');
let buf = [], n = 0, bytes = 0, errors = 0;
let start = 0;
while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (!line) continue;
    n++;
    let o;
    try {
        const r = JSON.parse(line);
        const opts = { timestamp: r.timestamp ? new Date(r.timestamp) : new Date() };
        if (r.provider) opts.providerId = r.provider;
        const p = calcPrice(r.usage, r.model, opts);
        o = p ? { provider: p.provider.id, model: p.model.id, total_usd: p.total_price } : { line: n, error: 'no price' };
    } catch (e) {
        o = { line: n, error: e.message };
    }
    if (o.error) errors++;
    const s = JSON.stringify(o);
    buf.push(s);
    bytes += s.length;
    if (bytes > 1 << 20) { writeSync(fd, buf.join('\n') + '\n'); buf = []; bytes = 0; }
}
if (buf.length) writeSync(fd, buf.join('\n') + '\n');
closeSync(fd);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.error(`genai-prices job: ${n} records (${errors} errors) in ${s.toFixed(2)} s: ${Math.round(n / s)} records/s`);
