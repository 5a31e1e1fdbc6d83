// tests/node/pricing.test.mjs: differential test of `infercost cost` (usage records) against the
// reference calculator @pydantic/genai-prices 0.1.8 loaded with the same data.json.
//
// Generates (seeded, reproducible) >= 20,000 usage records across every provider and >= 500
// models, writes them as JSONL, runs `$IC_BIN cost FILE` once, and compares line by line: provider
// id, model id, total within 1e-9 USD; where the reference returns null or throws, infercost must
// answer {"line":N,"error":..}. Each output line's own arithmetic is also checked exactly (items
// rounded half-even to 1e-12, total = sum of items). A second file holds the inputs where infercost
// is deliberately stricter than the reference: each must be an error line, the valid lines between
// them must still be priced, and the exit status must be 1.
// Seed: IC_TEST_SEED (default 20260301). Keep the generated file with IC_KEEP=1.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadReference, refPrice, updatePrices, waitForUpdate } from './lib/reference.mjs';
import { synthProvider, SYNTH_ID, SYNTH_NAMES } from './lib/synth.mjs';
import { makeRng } from './lib/prng.mjs';
import {
    loadUnits, namesForModel, nameForRule, variant, sampleRegex, timesForModel, randomTime, formatTime,
    makeUsage, tierStarts, sparsify,
} from './lib/gen.mjs';
import { runCost, Harness } from './lib/run.mjs';
import { toPico, itemPico, isCanonical } from './lib/decimal.mjs';

const SEED = Number(process.env.IC_TEST_SEED || 20260301);
const PER_MODEL = 14;
const t0 = Date.now();
const H = new Harness('pricing');
const { data } = await loadReference();
const U = loadUnits();
const rng = makeRng(SEED);

// ---------------------------------------------------------------- generation
const records = []; // {cat, provider?, model, timestamp, usage, lineText}

function providerSpelling(p) {
    const r = rng.next();
    if (r < 0.62) return { provider: p.id, cat: 'provider-id' };
    if (r < 0.68) return { provider: rng.chance(0.5) ? p.id.toUpperCase() : ` ${p.id} `, cat: 'provider-spelling' };
    if (r < 0.74 && p.provider_match) {
        // infercost refuses provider names over 63 bytes (ic_record.provider; a strict case below)
        for (let k = 0; k < 10; k++) {
            const name = nameForRule(p.provider_match, rng);
            if (Buffer.byteLength(name) <= 63) return { provider: name, cat: 'provider-match' };
        }
        return { provider: p.id, cat: 'provider-id' };
    }
    if (r < 0.8) return { provider: 'litellm', litellm: true, cat: 'litellm' };
    return { provider: undefined, cat: 'no-provider' };
}

function addRecord(cat, provider, model, tms, usage) {
    records.push({ cat, provider, model, timestamp: formatTime(tms, rng), usage });
}

for (const p of data) {
    for (const m of p.models) {
        const names = namesForModel(m, rng);
        const times = timesForModel(m, rng);
        const tiers = tierStarts(m);
        const n = PER_MODEL + (times.length ? 10 : 0) + (tiers.length ? 8 : 0);
        for (let k = 0; k < n; k++) {
            let name = variant(rng.pick(names), rng);
            const ps = providerSpelling(p);
            if (ps.litellm) name = `${p.id}/${name.trim()}`;
            const t = times.length && rng.chance(0.7) ? rng.pick(times) : randomTime(rng);
            let opts = {}, cat = ps.cat;
            if (tiers.length && rng.chance(0.5)) {
                const s = rng.pick(tiers);
                opts.inputTotal = Math.max(0, s + rng.pick([-1, 0, 1, 2, 1000, -1000, s]));
                cat = 'tier-edge';
            }
            const { usage } = makeUsage(m, U, rng, opts);
            addRecord(cat, ps.provider, name, t, usage);
        }
    }
    // a provider's fallback providers' models, asked of this provider
    for (const fb of p.fallback_model_providers || []) {
        const fp = data.find((x) => x.id === fb);
        for (let k = 0; k < 60; k++) {
            const m = rng.pick(fp.models);
            const { usage } = makeUsage(m, U, rng);
            addRecord('fallback', p.id, variant(rng.pick(namesForModel(m, rng)), rng), randomTime(rng), usage);
        }
    }
}

// unknown models and providers (the reference finds nothing; infercost must say so per line)
const allModels = data.flatMap((p) => p.models.map((m) => [p, m]));
for (let k = 0; k < 400; k++) {
    const [p, m] = rng.pick(allModels);
    const { usage } = makeUsage(m, U, rng);
    const junk = rng.pick(['zz-unknown-', 'nomodel-', 'qqq/', '']) + rng.int(0, 1e6).toString(36) + rng.pick(['-xl', '', '-v9']);
    addRecord('unknown-model', rng.chance(0.6) ? p.id : undefined, junk, randomTime(rng), usage);
}
for (let k = 0; k < 300; k++) {
    const [, m] = rng.pick(allModels);
    const { usage } = makeUsage(m, U, rng);
    addRecord('unknown-provider', rng.pick(['nosuchprovider', 'acme-llm', 'zz' + rng.int(0, 9999)]),
        rng.pick(namesForModel(m, rng)), randomTime(rng), usage);
}
// sparse usage: keys dropped at random; the reference refuses some (a priced unit missing while
// a descendant is positive) and prices the rest
for (let k = 0; k < 1500; k++) {
    const [p, m] = rng.pick(allModels);
    const { usage } = makeUsage(m, U, rng);
    addRecord('sparse', p.id, rng.pick(namesForModel(m, rng)), randomTime(rng), sparsify(usage, rng));
}
// known non-token units the model may not price (seconds, characters, searches, ...)
const extraKeys = ['web_searches', 'input_characters', 'audio_seconds', 'input_audio_seconds', 'output_audio_seconds',
    'rerank_searches', 'code_executions', 'input_pixels', 'input_document_pages', 'social_searches'];
for (let k = 0; k < 800; k++) {
    const [p, m] = rng.pick(allModels);
    const { usage } = makeUsage(m, U, rng);
    usage[rng.pick(extraKeys)] = rng.int(0, 50);
    addRecord('extra-units', p.id, rng.pick(namesForModel(m, rng)), randomTime(rng), usage);
}

const T0x = '2026-03-01T10:00:00Z';
// api_url instead of a provider: the reference's providerApiUrl (api_pattern anchored at the start,
// case-sensitive); with a provider too, the provider wins.
for (const p of data) {
    for (let k = 0; k < 12; k++) {
        const m = rng.pick(p.models);
        const { usage } = makeUsage(m, U, rng);
        let url = sampleRegex('^(?:' + p.api_pattern + ')', rng) + rng.pick(['/v1/chat/completions', '/v1/messages', '', '/v1beta/models/x:generateContent']);
        if (k === 0) url = url.toUpperCase();
        const r = { cat: 'api-url', provider: k === 1 ? rng.pick(data).id : undefined, model: rng.pick(namesForModel(m, rng)).trim(),
            timestamp: formatTime(randomTime(rng), rng), usage, apiUrl: url };
        records.push(r);
    }
}
records.push({ cat: 'api-url', provider: 'litellm', model: 'gpt-4o', timestamp: T0x, usage: { input_tokens: 10, output_tokens: 5 }, apiUrl: 'https://api.anthropic.com/v1/messages' });
records.push({ cat: 'api-url', provider: 'litellm', model: 'claude-sonnet-4-5', timestamp: T0x, usage: { input_tokens: 10, output_tokens: 5 }, apiUrl: 'https://api.anthropic.com/v1/messages' });
records.push({ cat: 'api-url', model: 'gpt-4o', timestamp: T0x, usage: { input_tokens: 10, output_tokens: 5 }, apiUrl: 'https://example.com/v1' });

// Hand-written edge cases, judged by the reference like the rest (raw line text given where the
// JSON layout itself is the point).
const T0 = '2026-03-01T10:00:00Z', U0 = { input_tokens: 1000, output_tokens: 3 };
const edges = [
    // model/provider normalization: the reference trims with String.prototype.trim (Unicode
    // whitespace included) and lower-cases
    ...['\tgpt-4o', 'gpt-4o\t', 'gpt-4o\r', '\vgpt-4o', '\fgpt-4o', 'gpt-4o\u00a0', '\u00a0gpt-4o', '\u2003gpt-4o', 'gpt-4o\ufeff', 'GPT-4O\u3000', '\u2028gpt-4o']
        .map((m) => ({ provider: 'openai', model: m, timestamp: T0, usage: U0 })),
    { provider: ' OpenAI\t', model: 'gpt-4o', timestamp: T0, usage: U0 },
    { provider: null, model: 'gpt-4o', timestamp: T0, usage: U0 },
    // litellm "provider/model" ids
    ...['foo/gpt-4o', 'gpt-4o', 'Anthropic/Claude-Sonnet-4-5', 'vertex_ai/gemini-2.5-pro', '/gpt-4o', 'openai/', 'openai/openai/gpt-4o', 'bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0']
        .map((m) => ({ provider: rng.pick(['litellm', 'LiteLLM']), model: m, timestamp: T0, usage: U0 })),
    // dated ids retried with dashes, with no provider
    ...['claude-3-5-sonnet-20241022', 'claude-sonnet-4-5-20250929', 'gpt-4o-20240806', 'gpt-4o-2024-08-06', 'claude-3-5-sonnet-20241322', 'o3-20250416', 'gemini-2.5-pro-20250605:x']
        .map((m) => ({ model: m, timestamp: T0, usage: U0 })),
    // time: fractional seconds beyond ms, offsets, date-only, lower-case z, space separator
    ...['2026-03-01T00:29:59.9999Z', '2026-03-01T00:29:59.999Z', '2026-03-01T00:30:00Z', '2026-03-01T06:14:59+05:45', '2026-03-01T06:15:00+05:45',
        '2026-03-01T16:29:59.999Z', '2026-03-01T16:30:00Z', '2026-03-01', '2026-03-01T00:30:00.000000Z', '2026-03-01T00:30:00z', '2026-03-01 00:30:00Z',
        '2026-02-28T19:30:00-05:00', '2026-02-28T19:29:59-05:00']
        .map((t) => ({ provider: 'deepseek', model: 'deepseek-chat', timestamp: t, usage: { input_tokens: 1000000, cache_read_tokens: 1000, output_tokens: 5 } })),
    ...['2025-06-10T00:00:00Z', '2025-06-09T23:59:59.999Z', '2025-06-10T01:00:00+02:00', '2025-06-10T02:00:00+02:00', '1969-12-31T23:59:59Z', '2099-12-31T23:59:59Z']
        .map((t) => ({ provider: 'openai', model: 'o3', timestamp: t, usage: { input_tokens: 1000000, output_tokens: 5 } })),
    // tiers chosen by the total input (cache included), strictly above the start
    ...[199999, 200000, 200001, 400000].map((n) => ({ model: 'gemini-2.5-pro', timestamp: T0, usage: { input_tokens: n, cache_read_tokens: 100000, output_tokens: 5 } })),
    ...[200000, 200001].map((n) => ({ provider: 'anthropic', model: 'claude-sonnet-4-6', timestamp: T0, usage: { input_tokens: n, cache_write_tokens: 150000, cache_write_1h_tokens: 50000, output_tokens: 5 } })),
    // large but accepted counts
    { provider: 'google', model: 'gemini-2.5-pro', timestamp: T0, usage: { input_tokens: 1e12, output_tokens: 5 } },
    { provider: 'openai', model: 'gpt-4o', timestamp: T0, usage: { input_tokens: 1e15, cache_read_tokens: 1e14, output_tokens: 5 } },
    // empty and zero usage (the reference prices them at 0)
    { provider: 'openai', model: 'gpt-4o', timestamp: T0, usage: {} },
    { provider: 'openai', model: 'gpt-4o', timestamp: T0, usage: { input_tokens: 0, cache_read_tokens: 0, output_tokens: 0 } },
    // nesting: missing priced parents, overlaps, sibling sums
    { provider: 'openai', model: 'o3', timestamp: T0, usage: { input_tokens: 10, output_reasoning_tokens: 5 } },
    { provider: 'google', model: 'gemini-2.5-flash', timestamp: T0, usage: { input_tokens: 100, input_audio_tokens: 50, cache_read_tokens: 40, output_tokens: 5 } },
    { provider: 'google', model: 'gemini-2.5-flash', timestamp: T0, usage: { input_tokens: 100, input_audio_tokens: 50, cache_read_tokens: 40, cache_audio_read_tokens: 0, output_tokens: 5 } },
    { provider: 'google', model: 'gemini-2.5-flash', timestamp: T0, usage: { input_tokens: 100, input_audio_tokens: 60, cache_read_tokens: 60, cache_audio_read_tokens: 10, output_tokens: 5 } },
    { provider: 'google', model: 'gemini-2.5-flash', timestamp: T0, usage: { input_tokens: 100, input_audio_tokens: 60, input_text_tokens: 60, output_tokens: 5 } },
    { provider: 'anthropic', model: 'claude-opus-4-6', timestamp: T0, usage: { input_tokens: 100, cache_write_5m_tokens: 30, cache_write_1h_tokens: 30, output_tokens: 5 } },
    { provider: 'anthropic', model: 'claude-opus-4-6', timestamp: T0, usage: { input_tokens: 100, cache_write_tokens: 50, cache_write_5m_tokens: 30, cache_write_1h_tokens: 30, output_tokens: 5 } },
    { provider: 'anthropic', model: 'claude-opus-4-6', timestamp: T0, usage: { input_tokens: 100, cache_write_tokens: 60, cache_write_1h_tokens: 30, output_tokens: 5, web_searches: 3 } },
];
for (const e of edges) records.push({ cat: 'edge', provider: e.provider, model: e.model, timestamp: e.timestamp, usage: e.usage, edge: e });
const rawEdges = [ // JSON layout: escapes, duplicate keys (JSON.parse keeps the last), CR, spaces
    '{"provider":"openai","model":"gpt\\u002d4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"output_tokens":3}}',
    '{"provider":"open\\u0061i","model":"gpt-4o-mini","timestamp":"2026-03-01T10:00:00Z","usage":{"input_\\u0074okens":1000,"output_tokens":3}}',
    '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":5,"input_tokens":1000,"output_tokens":3}}',
    '{"provider":"openai","model":"gpt-4o","model":"gpt-4o-mini","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"output_tokens":3}}',
    '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100.0,"output_tokens":1e3,"cache_read_tokens":5E+1}}',
    '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"output_tokens":3}}\r',
    '  {"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"output_tokens":3}}  ',
    '{ "provider" : "openai" , "model" : "gpt-4o" , "timestamp" : "2026-03-01T10:00:00Z" , "usage" : { "input_tokens" : 1000 , "output_tokens" : 3 } }',
    '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"output_tokens":3},"id":"req-1","customer":"c\\"1","tags":{"a":[1,{"b":"}"}]}}',
];
for (const raw of rawEdges) {
    const o = JSON.parse(raw);
    records.push({ cat: 'edge-raw', provider: o.provider, model: o.model, timestamp: o.timestamp, usage: o.usage, raw });
}

// Serialize. Most lines in the documented key order; some reordered with spaces (the general
// parser path) to show the result does not depend on layout.
function lineText(r) {
    const o = {};
    const put = (k) => {
        if (k === 'provider' && r.provider !== undefined) o.provider = r.provider;
        if (k === 'model') o.model = r.model;
        if (k === 'timestamp') o.timestamp = r.timestamp;
        if (k === 'usage') o.usage = r.usage;
        if (k === 'usage' && r.apiUrl !== undefined) o.api_url = r.apiUrl;
    };
    if (rng.chance(0.9)) { ['provider', 'model', 'timestamp', 'usage'].forEach(put); return JSON.stringify(o); }
    ['usage', 'timestamp', 'model', 'provider'].forEach(put);
    return JSON.stringify(o, null, rng.chance(0.5) ? 0 : 1).replace(/\n\s*/g, ' ');
}
for (const r of records) r.lineText = r.raw ?? (r.edge ? JSON.stringify(r.edge) : lineText(r));

// ---------------------------------------------------------------- reference
for (const r of records) r.ref = refPrice(r.usage, r.model, r.provider ?? undefined, r.timestamp, r.apiUrl);

const dir = mkdtempSync(path.join(tmpdir(), 'ic-pricing-'));
const file = path.join(dir, 'usage.jsonl');
writeFileSync(file, records.map((r) => r.lineText).join('\n') + '\n');

// ---------------------------------------------------------------- infercost
const out = runCost(file);
H.check(out.signal === null, 'infercost exited normally', `signal ${out.signal}; stderr: ${out.stderr.slice(0, 400)}`);
H.check(out.lines.length === records.length, `one output line per input line (${records.length})`,
    `got ${out.lines.length}; stderr: ${out.stderr.slice(0, 400)}`);
const anyRefError = records.some((r) => r.ref.error);
H.check(out.status === (anyRefError ? 1 : 0), `exit status ${anyRefError ? 1 : 0} (some lines fail)`, `got ${out.status}`);

const stats = { priced: 0, errors: 0, byCat: {}, failByCat: {}, refErrByCat: {} };
const pricedModels = new Set(), pricedProviders = new Set();
for (const r of records) {
    if (r.ref.error) { stats.errors++; stats.refErrByCat[r.cat] = (stats.refErrByCat[r.cat] || 0) + 1; }
    else { stats.priced++; pricedModels.add(r.ref.provider + '/' + r.ref.model); pricedProviders.add(r.ref.provider); }
}
for (let i = 0; i < records.length; i++) {
    const r = records[i], ref = r.ref, got = out.parsed[i];
    const cat = r.cat;
    stats.byCat[cat] = (stats.byCat[cat] || 0) + 1;
    const where = `line ${i + 1} [${cat}]: ${r.lineText}`;
    let ok = true;
    const fail = (what) => { ok = false; H.check(false, `${where}`, what); };
    if (!got) { fail('no output line'); stats.failByCat[cat] = (stats.failByCat[cat] || 0) + 1; continue; }
    if (got.__unparseable !== undefined) { fail(`output is not JSON: ${got.__unparseable.slice(0, 200)}`); }
    else if (ref.error) {
        if (!(got.line === i + 1 && typeof got.error === 'string' && got.error.length > 0))
            fail(`reference: ${ref.error}; infercost: ${JSON.stringify(got).slice(0, 300)}`);
    } else {
        if (got.error !== undefined) {
            // infercost refuses a call none of whose positive usage the model prices (the reference
            // returns $0 for it): never a silent $0. Anything else is a disagreement.
            if (!(ref.total === 0 && /has no price for|usage is empty/.test(got.error)))
                fail(`reference: ${ref.provider}/${ref.model} total ${ref.total}; infercost error: ${got.error}`);
            else stats.unpricedRefused = (stats.unpricedRefused || 0) + 1;
        }
        else {
            const tot = Number(got.total_usd);
            if (got.provider !== ref.provider || got.model !== ref.model || !(Math.abs(tot - ref.total) <= 1e-9))
                fail(`reference: ${ref.provider}/${ref.model} ${ref.total}; infercost: ${got.provider}/${got.model} ${got.total_usd}`);
            else {
                // the line's own arithmetic, exactly
                try {
                    if (!isCanonical(got.total_usd)) throw new Error(`total_usd not canonical: ${got.total_usd}`);
                    let sum = 0n;
                    for (const it of got.items || []) {
                        const want = itemPico(it.charged, it.price_per, it.per);
                        const have = toPico(it.usd);
                        if (!isCanonical(it.usd)) throw new Error(`usd not canonical: ${it.usd}`);
                        if (want !== have) throw new Error(`item ${it.unit}: ${it.charged} x ${it.price_per}/${it.per} should round to ${want} pico, line says ${it.usd}`);
                        sum += have;
                    }
                    if (sum !== toPico(got.total_usd)) throw new Error(`items sum to ${sum} pico, total_usd is ${got.total_usd}`);
                } catch (e) { fail(e.message); }
            }
        }
    }
    if (ok) H.check(true, where);
    else stats.failByCat[cat] = (stats.failByCat[cat] || 0) + 1;
}

// coverage: the generated set really spans the feed
H.check(records.length >= 20000, `at least 20,000 records (${records.length})`);
H.check(pricedModels.size >= 500, `at least 500 distinct models priced by the reference (${pricedModels.size})`);
const missing = data.map((p) => p.id).filter((id) => !pricedProviders.has(id));
H.check(missing.length === 0, `every provider priced at least once`, `never priced: ${missing.join(', ')}`);
// time: every price entry of every model with a price history was in force for some priced record
const entriesSeen = new Map();
for (const r of records) if (!r.ref.error && r.ref.entry >= 0) {
    const k = r.ref.provider + '/' + r.ref.model;
    if (!entriesSeen.has(k)) entriesSeen.set(k, new Set());
    entriesSeen.get(k).add(r.ref.entry);
}
const uncovered = [];
for (const [p, m] of allModels) if (Array.isArray(m.prices)) {
    const seen = entriesSeen.get(p.id + '/' + m.id) || new Set();
    for (let i = 0; i < m.prices.length; i++) if (!seen.has(i)) uncovered.push(`${p.id}/${m.id}#${i}`);
}
H.check(uncovered.length === 0, 'every price entry of every model with a price history is exercised', 'never in force: ' + uncovered.join(', '));

// ---------------------------------------------------------------- strict cases
// infercost is stricter than the reference here: each must be an error line, valid lines between
// them still priced, exit status 1.
const good = { provider: 'anthropic', model: 'claude-sonnet-4-5', timestamp: '2026-03-01T10:00:00Z',
    usage: { input_tokens: 4740, cache_write_tokens: 4735, output_tokens: 255 } };
const goodRef = refPrice(good.usage, good.model, good.provider, good.timestamp);
const strict = [
    ['fractional count', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100.5,"output_tokens":3}}'],
    ['fractional via exponent', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1.5e0,"output_tokens":3}}'],
    ['negative count', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":-1}}'],
    ['unknown usage key', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3,"prompt_tokens":100}}'],
    ['cache read above input', '{"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"cache_read_tokens":101,"output_tokens":3}}'],
    ['cache write above input', '{"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"cache_write_tokens":150,"output_tokens":3}}'],
    ['cache read+write above input', '{"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"cache_read_tokens":60,"cache_write_tokens":60,"output_tokens":3}}'],
    ['1h write above write', '{"provider":"anthropic","model":"claude-sonnet-4-5","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1000,"cache_write_tokens":100,"cache_write_1h_tokens":200,"output_tokens":3}}'],
    ['reasoning above output', '{"provider":"openai","model":"o3","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":10,"output_reasoning_tokens":11}}'],
    ['unpriced sub-unit above input', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"input_audio_tokens":101,"output_tokens":3}}'],
    ['number too large', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":10000000000000000,"output_tokens":3}}'],
    ['number far too large', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":1e300,"output_tokens":3}}'],
    ['count as a string', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":"100","output_tokens":3}}'],
    ['count null', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":null,"output_tokens":3}}'],
    ['usage not an object', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":[100,3]}'],
    ['no usage', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z"}'],
    ['bad JSON', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,'],
    ['not an object', '[1,2,3]'],
    ['missing model', '{"provider":"openai","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3}}'],
    ['unknown model', '{"provider":"openai","model":"gpt-does-not-exist-9","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3}}'],
    ['unknown provider', '{"provider":"no-such-provider","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3}}'],
    ['bad timestamp', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-13-45T99:00:00Z","usage":{"input_tokens":100,"output_tokens":3}}'],
    ['timestamp not a string', '{"provider":"openai","model":"gpt-4o","timestamp":12345,"usage":{"input_tokens":100,"output_tokens":3}}'],
    ['"requests" in usage (one per call, not reported)', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3,"requests":1}}'],
    ['model longer than 255 bytes', JSON.stringify({ provider: 'anthropic', model: 'claude-sonnet-4-5' + '-x'.repeat(150), timestamp: '2026-03-01T10:00:00Z', usage: { input_tokens: 100, output_tokens: 3 } })],
    ['provider longer than 63 bytes', JSON.stringify({ provider: 'huggingface_' + 'x'.repeat(80) + 'together', model: 'deepseek-ai/DeepSeek-R1', timestamp: '2026-03-01T10:00:00Z', usage: { input_tokens: 100, output_tokens: 3 } })],
    ['model not a string', '{"provider":"openai","model":42,"timestamp":"2026-03-01T10:00:00Z","usage":{"input_tokens":100,"output_tokens":3}}'],
    ['all usage unpriced (output tokens on an embedding model)', '{"provider":"openai","model":"text-embedding-3-small","timestamp":"2026-03-01T10:00:00Z","usage":{"output_tokens":30}}'],
    ['empty usage', '{"provider":"openai","model":"gpt-4o","timestamp":"2026-03-01T10:00:00Z","usage":{}}'],
];
const strictLines = [];
for (const [, l] of strict) { strictLines.push(JSON.stringify(good)); strictLines.push(l); }
strictLines.push(JSON.stringify(good));
const sfile = path.join(dir, 'strict.jsonl');
writeFileSync(sfile, strictLines.join('\n') + '\n');
const sout = runCost(sfile);
H.check(sout.signal === null, 'strict: infercost exited normally', `signal ${sout.signal}`);
H.check(sout.status === 1, 'strict: exit status 1', `got ${sout.status}`);
H.check(sout.lines.length === strictLines.length, `strict: one output line per input line`, `got ${sout.lines.length}`);
for (let i = 0; i < strictLines.length; i++) {
    const got = sout.parsed[i] || {};
    if (i % 2 === 0) {
        H.check(got.error === undefined && Math.abs(Number(got.total_usd) - goodRef.total) <= 1e-9,
            `strict: valid line ${i + 1} between bad ones is priced`, JSON.stringify(got).slice(0, 200));
    } else {
        const [label, l] = strict[(i - 1) / 2];
        H.check(got.line === i + 1 && typeof got.error === 'string' && got.error.length > 0,
            `strict: ${label} -> error line`, `input ${l}\n      got ${JSON.stringify(got).slice(0, 300)}`);
    }
}
// an unknown model's error names the nearest catalog ids
{
    const nfile = path.join(dir, 'near.jsonl');
    const near = [['openai', 'gpt-4o-minii', 'gpt-4o-mini'], ['anthropic', 'claude-sonet-4-5', 'claude-sonnet-4-5'], [undefined, 'gemini-2.5-flsh', 'gemini-2.5-flash']];
    writeFileSync(nfile, near.map(([p, m]) => JSON.stringify({ provider: p, model: m, timestamp: '2026-03-01T10:00:00Z', usage: { input_tokens: 1, output_tokens: 1 } })).join('\n') + '\n');
    const nout = runCost(nfile);
    near.forEach(([, m, want], i) => {
        const got = nout.parsed[i] || {};
        H.check(typeof got.error === 'string' && got.error.includes(want), `unknown model ${m} suggests ${want}`, JSON.stringify(got).slice(0, 300));
    });
}
// standard input ("-") gives the same output as the file, and the json-c path
// (IC_RECORD_FAST_PATH=0) the same as the record scanner, on the generated lines
{
    // (lines the reference prices, and 300 it refuses: an unknown model costs infercost a
    // nearest-id search, about 1.5 ms a line, which would dominate this test's time)
    let refusedKept = 0;
    const subRecs = records.filter((r) => !r.ref.error || refusedKept++ < 300);
    const sub = subRecs.map((r) => r.lineText).join('\n') + '\n';
    const subFile = path.join(dir, 'sub.jsonl');
    writeFileSync(subFile, sub);
    const a = runCost(subFile), b = runCost('-', {}, [], sub), c = runCost(subFile, { IC_RECORD_FAST_PATH: '0' });
    H.check(a.lines.length === subRecs.length && a.lines.join('\n') === b.lines.join('\n'), 'cost - (stdin) output equals cost FILE output');
    const diff = a.lines.findIndex((l, i) => l !== c.lines[i]);
    H.check(a.lines.length === c.lines.length && diff < 0, 'IC_RECORD_FAST_PATH=0 (json-c) output equals the record scanner output',
        diff >= 0 ? `line ${diff + 1}: ${sub.split('\n')[diff]}\n      scanner ${a.lines[diff]}\n      json-c  ${c.lines[diff]}` : '');
}
// a clean file exits 0
const cfile = path.join(dir, 'clean.jsonl');
writeFileSync(cfile, JSON.stringify(good) + '\n' + JSON.stringify(good) + '\n');
const cout = runCost(cfile);
H.check(cout.status === 0 && cout.lines.length === 2, 'clean file: exit status 0, two lines', `exit ${cout.status}, ${cout.lines.length} lines`);

// ---------------------------------------------------------------- synthetic catalog (--catalog)
// Semantics the shipped snapshot lacks (wrapping and offset time windows, out-of-order start
// dates, several unsorted tiers, requests, and/or rules, deprecation), through `--catalog FILE`
// for infercost and setProviderData for the reference, same file.
const synthData = [...data.map((p) => p), synthProvider()];
const synthFile = path.join(dir, 'synth-data.json');
writeFileSync(synthFile, JSON.stringify(synthData));
updatePrices(({ setProviderData }) => setProviderData(JSON.parse(JSON.stringify(synthData))));
await waitForUpdate();
const synthModels = Object.fromEntries(synthProvider().models.map((m) => [m.id, m]));
const TOD = ['00:00:00', '00:59:59.999', '01:00:00', '05:59:59.999', '06:00:00', '12:00:00.499', '12:00:00.500', '12:29:59.999',
    '12:30:00', '21:59:59.999', '22:00:00', '22:29:59.999', '22:30:00', '23:00:00', '23:59:59.999'];
const DATES = ['2024-12-31', '2025-01-01', '2025-02-28', '2025-03-01', '2025-05-31', '2025-06-01', '2025-12-31', '2026-01-01', '2026-07-04'];
const synth = [];
for (const name of SYNTH_NAMES) {
    const m = synthModels[name] || rng.pick(Object.values(synthModels));
    for (let k = 0; k < 60; k++) {
        const day = rng.chance(0.6) ? rng.pick(DATES) : new Date(randomTime(rng)).toISOString().slice(0, 10);
        const tod = rng.chance(0.7) ? rng.pick(TOD) : new Date(randomTime(rng)).toISOString().slice(11, 23);
        const ms = Date.parse(`${day}T${tod}Z`);
        const tiersAt = name.startsWith('syn-tiers') && rng.chance(0.6) ? { inputTotal: rng.pick([99, 100, 499, 500, 501, 999, 1000, 1001, 100000, 100001, 250000]) } : {};
        const { usage } = makeUsage(m, U, rng, tiersAt);
        if (name.startsWith('syn-requests') && rng.chance(0.5)) usage.web_searches = rng.int(0, 9);
        const r = rng.next();
        const provider = r < 0.5 ? SYNTH_ID : r < 0.65 ? rng.pick(['my-synth-gateway', 'SYNTH']) : undefined;
        synth.push({ cat: 'synth', provider, model: name, timestamp: formatTime(ms, rng), usage });
    }
}
for (const r of synth) {
    r.ref = refPrice(r.usage, r.model, r.provider, r.timestamp);
    const o = {};
    if (r.provider !== undefined) o.provider = r.provider;
    Object.assign(o, { model: r.model, timestamp: r.timestamp, usage: r.usage });
    r.lineText = JSON.stringify(o);
}
const synFile = path.join(dir, 'synth.jsonl');
writeFileSync(synFile, synth.map((r) => r.lineText).join('\n') + '\n');
const yout = runCost(synFile, {}, ['--catalog', synthFile]);
H.check(yout.signal === null && yout.lines.length === synth.length, `synthetic catalog: one output line per input (${synth.length})`,
    `got ${yout.lines.length}, signal ${yout.signal}; stderr ${yout.stderr.slice(0, 300)}`);
let synthPriced = 0, synthRefused = 0, synthEntries = new Set();
for (let i = 0; i < synth.length; i++) {
    const r = synth[i], ref = r.ref, got = yout.parsed[i] || {};
    const where = `synthetic catalog line ${i + 1}: ${r.lineText}`;
    if (ref.error) {
        synthRefused++;
        H.check(got.line === i + 1 && typeof got.error === 'string', where, `reference: ${ref.error}; infercost: ${JSON.stringify(got).slice(0, 300)}`);
    } else {
        synthPriced++;
        synthEntries.add(ref.model + '#' + ref.entry);
        const ok = got.error === undefined && got.provider === ref.provider && got.model === ref.model && Math.abs(Number(got.total_usd) - ref.total) <= 1e-9;
        H.check(ok, where, `reference: ${ref.provider}/${ref.model} ${ref.total} (price entry ${ref.entry}); infercost: ${JSON.stringify(got).slice(0, 400)}`);
        if (ok && ref.model === 'syn-deprecated') H.check(typeof got.warning === 'string', `${where}: deprecated model carries a warning`, JSON.stringify(got).slice(0, 200));
    }
}
const wantEntries = Object.values(synthModels).filter((m) => Array.isArray(m.prices)).flatMap((m) => m.prices.map((_, i) => `${m.id}#${i}`));
// by construction never in force: syn-dates#2 (2026-01-01) is shadowed by #3 (2025-06-01, tried
// first), and syn-mixed#0 sits below the unconstrained #1, which ends the last-to-first search
const UNREACHABLE = new Set(['syn-dates#2', 'syn-mixed#0']);
const missingEntries = wantEntries.filter((e) => !synthEntries.has(e) && !UNREACHABLE.has(e));
const reachedUnreachable = [...UNREACHABLE].filter((e) => synthEntries.has(e));
H.check(reachedUnreachable.length === 0, 'synthetic catalog: shadowed price entries are never chosen by the reference', reachedUnreachable.join(', '));
if (process.env.IC_DEBUG) {
    const why = {};
    for (const r of synth) if (r.ref.error) { const k = r.model + ' ' + (r.provider === undefined ? '-' : 'p') + ': ' + r.ref.error.slice(0, 80); why[k] = (why[k] || 0) + 1; }
    console.log(why);
}
H.check(missingEntries.length === 0, 'synthetic catalog: every price entry in force for some record', missingEntries.join(', '));
console.log(`synthetic catalog: ${synth.length} records, ${synthPriced} priced by the reference, ${synthRefused} refused`);

// ---------------------------------------------------------------- overlay (--overlay)
// An overlay in the feed's schema: a known provider's models are tried before its existing ones,
// a new provider is added after the others. The reference gets the merged provider list.
const overlay = [
    { id: 'openai', name: 'OpenAI', api_pattern: 'https://api\\.openai\\.com', models: [
        { id: 'gpt-4o-negotiated', match: { or: [{ equals: 'gpt-4o' }, { starts_with: 'gpt-4o-2024' }] }, prices: { input_mtok: 1.9, cache_read_mtok: 0.95, output_mtok: 7.6 } },
        { id: 'o3-contract', match: { equals: 'o3' }, prices: [{ prices: { input_mtok: 1.5, output_mtok: 6 } }, { constraint: { start_date: '2026-01-01' }, prices: { input_mtok: 1.2, output_mtok: 5 } }] },
    ] },
    { id: 'anthropic', name: 'Anthropic', api_pattern: 'https://api\\.anthropic\\.com', models: [
        { id: 'claude-sonnet-4-5-committed', match: { starts_with: 'claude-sonnet-4-5' }, prices: { input_mtok: 2.4, cache_write_mtok: 3, cache_read_mtok: 0.24, output_mtok: 12, cache_write_1h_mtok: 4.8 } },
    ] },
    { id: 'selfhosted', name: 'Self-hosted vLLM', api_pattern: 'http://gpu\\.internal', model_match: { starts_with: 'own-' }, models: [
        { id: 'own-llama-70b', match: { or: [{ equals: 'own-llama-70b' }, { equals: 'gpt-4o' }] }, prices: { input_mtok: 0.11, output_mtok: 0.22 } },
        { id: 'own-qwen', match: { starts_with: 'own-qwen' }, prices: { input_mtok: 0.05, output_mtok: 0.1, requests_kcount: 0.01 } },
    ] },
];
const merged = data.map((p) => {
    const o = overlay.find((x) => x.id === p.id);
    return o ? { ...p, models: [...o.models, ...p.models] } : p;
}).concat(overlay.filter((o) => !data.some((p) => p.id === o.id)));
updatePrices(({ setProviderData }) => setProviderData(JSON.parse(JSON.stringify(merged))));
await waitForUpdate();
const ovFile = path.join(dir, 'overlay.json');
writeFileSync(ovFile, JSON.stringify(overlay));
const ovNames = [['openai', 'gpt-4o'], ['openai', 'gpt-4o-2024-08-06'], ['openai', 'gpt-4o-mini'], ['openai', 'o3'], ['openai', 'gpt-4.1'],
    ['anthropic', 'claude-sonnet-4-5'], ['anthropic', 'claude-sonnet-4-5-20250929'], ['anthropic', 'claude-opus-4-1'],
    ['selfhosted', 'own-llama-70b'], ['selfhosted', 'own-qwen-32b'], ['selfhosted', 'gpt-4o'], ['selfhosted', 'own-unknown'], ['azure', 'gpt-4o']];
const ovRecs = [];
for (const [prov, name] of ovNames) {
    for (let k = 0; k < 24; k++) {
        const provider = k % 3 === 2 ? undefined : prov;
        const usage = { input_tokens: rng.int(0, 300000), output_tokens: rng.int(0, 9000) };
        if (rng.chance(0.5)) usage.cache_read_tokens = rng.int(0, usage.input_tokens);
        const ts = formatTime(randomTime(rng), rng);
        const o = provider === undefined ? { model: name, timestamp: ts, usage } : { provider, model: name, timestamp: ts, usage };
        ovRecs.push({ o, ref: refPrice(usage, name, provider, ts), lineText: JSON.stringify(o) });
    }
}
const ovIn = path.join(dir, 'overlay-usage.jsonl');
writeFileSync(ovIn, ovRecs.map((r) => r.lineText).join('\n') + '\n');
const oout = runCost(ovIn, {}, ['--overlay', ovFile]);
H.check(oout.signal === null && oout.lines.length === ovRecs.length, `overlay: one output line per input (${ovRecs.length})`, `got ${oout.lines.length}; stderr ${oout.stderr.slice(0, 300)}`);
let ovPriced = 0;
for (let i = 0; i < ovRecs.length; i++) {
    const { ref, lineText } = ovRecs[i], got = oout.parsed[i] || {};
    const where = `overlay line ${i + 1}: ${lineText}`;
    if (ref.error) H.check(got.line === i + 1 && typeof got.error === 'string', where, `reference: ${ref.error}; infercost: ${JSON.stringify(got).slice(0, 300)}`);
    else {
        ovPriced++;
        H.check(got.error === undefined && got.provider === ref.provider && got.model === ref.model && Math.abs(Number(got.total_usd) - ref.total) <= 1e-9,
            where, `reference: ${ref.provider}/${ref.model} ${ref.total}; infercost: ${JSON.stringify(got).slice(0, 300)}`);
    }
}
console.log(`overlay: ${ovRecs.length} records, ${ovPriced} priced by the reference on the merged data`);

// ---------------------------------------------------------------- summary
console.log(`pricing differential (seed ${SEED}): ${records.length} records, ${stats.priced} priced by the reference ` +
    `(${pricedModels.size} distinct models, ${pricedProviders.size}/${data.length} providers), ${stats.errors} refused by it`);
console.log('records by category (of which the reference refuses): ' +
    Object.entries(stats.byCat).map(([k, v]) => `${k} ${v} (${stats.refErrByCat[k] || 0})`).join(', '));
if (Object.keys(stats.failByCat).length)
    console.log('mismatches by category: ' + Object.entries(stats.failByCat).map(([k, v]) => `${k} ${v}`).join(', '));
console.log(`strict cases: ${strict.length}; time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (process.env.IC_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
H.end(20);
