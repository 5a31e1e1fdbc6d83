// tests/node/lib/gen.mjs: reproducible generation of `infercost cost` usage records from the price
// feed itself: model names built from each model's literal match rules (and strings sampled from
// its regex rules), timestamps around every price change and time-of-day window, and usage that is
// consistent by construction (every unit's count is the sum of disjoint "cells", so no sub-unit
// exceeds its ancestor). It never decides what a price should be: the reference does that.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './reference.mjs';

// ---- the unit registry (units.yml), parsed with a tiny reader for its regular layout ----------
export function loadUnits() {
    const text = readFileSync(path.join(ROOT, 'data/genai-prices/units.yml'), 'utf8');
    const units = {};
    let cur = null;
    for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*$/, '');
        if (!line.trim()) continue;
        let m;
        if ((m = /^([a-z0-9_]+):\s*$/.exec(line))) { cur = { key: m[1], dims: {}, per: 0, priceKey: m[1] }; units[m[1]] = cur; continue; }
        if (!cur) continue;
        if ((m = /^\s+per:\s*([0-9_]+)/.exec(line))) cur.per = Number(m[1].replace(/_/g, ''));
        else if ((m = /^\s+price_key:\s*(\S+)/.exec(line))) cur.priceKey = m[1];
        else if ((m = /^\s+dimensions:\s*\{(.*)\}/.exec(line))) {
            for (const kv of m[1].split(',')) {
                const [k, v] = kv.split(':').map((s) => s.trim());
                if (k) cur.dims[k] = v;
            }
        }
    }
    const byPriceKey = {};
    for (const u of Object.values(units)) { byPriceKey[u.priceKey] = u; u.dimEntries = Object.entries(u.dims); }
    return { units, byPriceKey };
}

// ---- strings that match a (simple, JavaScript) regex -----------------------------------------
// Supports what the feed uses: ^ $ literals, \. \d \w escapes, [..] classes, (?:a|b) groups,
// ? * + and {n} / {n,m} quantifiers. The caller verifies with RegExp and retries.
export function sampleRegex(src, rng) {
    let i = 0;
    function alt() {
        const branches = [seq()];
        while (src[i] === '|') { i++; branches.push(seq()); }
        return () => rng.pick(branches)();
    }
    function seq() {
        const parts = [];
        while (i < src.length && src[i] !== '|' && src[i] !== ')') {
            let atom;
            const c = src[i];
            if (c === '^' || c === '$') { i++; continue; }
            if (c === '(') {
                i++;
                if (src.startsWith('?:', i)) i += 2;
                const inner = alt();
                if (src[i] !== ')') throw new Error('regex: unbalanced ( in ' + src);
                i++;
                atom = inner;
            } else if (c === '[') {
                const end = src.indexOf(']', i);
                let body = src.slice(i + 1, end);
                i = end + 1;
                const negated = body.startsWith('^');
                if (negated) {
                    const excluded = body.slice(1).replace(/\\(.)/g, '$1');
                    const pool = 'abcxyz019-'.split('').filter((ch) => !excluded.includes(ch));
                    atom = () => rng.pick(pool);
                    body = null;
                }
                const chars = [];
                if (body !== null) {
                for (let k = 0; k < body.length; k++) {
                    if (body[k + 1] === '-' && k + 2 < body.length) {
                        for (let x = body.charCodeAt(k); x <= body.charCodeAt(k + 2); x++) chars.push(String.fromCharCode(x));
                        k += 2;
                    } else chars.push(body[k]);
                }
                atom = () => rng.pick(chars);
                }
            } else if (c === '\\') {
                const e = src[i + 1];
                i += 2;
                if (e === 'd') atom = () => String(rng.int(0, 9));
                else if (e === 'w') atom = () => rng.pick('abcxyz019_'.split(''));
                else atom = () => e;
            } else if (c === '.') {
                i++;
                atom = () => rng.pick('abc-1'.split(''));
            } else {
                i++;
                atom = () => c;
            }
            let lo = 1, hi = 1;
            if (src[i] === '?') { lo = 0; hi = 1; i++; }
            else if (src[i] === '*') { lo = 0; hi = 3; i++; }
            else if (src[i] === '+') { lo = 1; hi = 3; i++; }
            else if (src[i] === '{') {
                const end = src.indexOf('}', i);
                const [a, b] = src.slice(i + 1, end).split(',');
                lo = Number(a); hi = b === undefined ? lo : b === '' ? lo + 3 : Number(b);
                i = end + 1;
            }
            const a = atom;
            parts.push(() => { let s = ''; const n = rng.int(lo, hi); for (let k = 0; k < n; k++) s += a(); return s; });
        }
        return () => parts.map((p) => p()).join('');
    }
    const gen = alt();
    const re = new RegExp(src);
    for (let tries = 0; tries < 50; tries++) {
        let s = gen();
        // a regex without ^ matches anywhere: sometimes give it context
        if (!src.startsWith('^') && rng.chance(0.5)) s = rng.pick(['open-', 'x/', '']) + s + rng.pick(['-large', '-7b', '']);
        if (!src.endsWith('$') && rng.chance(0.5)) s += rng.pick(['-preview', '-0611', '-latest']);
        if (re.test(s)) return s;
    }
    throw new Error('could not sample a string for regex ' + src);
}

// ---- model names from match rules ------------------------------------------------------------
function leaves(rule, out = []) {
    if (rule.or) rule.or.forEach((r) => leaves(r, out));
    else if (rule.and) out.push(rule); // handled whole
    else out.push(rule);
    return out;
}

const SUFFIXES = ['-2024-08-06', '-latest', '-preview', '-v1:0', '-0125', ':free', '-20250514', '-instruct', '', '-001'];
const PREFIXES = ['us.', 'eu.', 'my-', 'accounts/x/', 'ft:', ''];

export function nameForRule(rule, rng) {
    if ('equals' in rule) return rule.equals;
    if ('starts_with' in rule) return rule.starts_with + rng.pick(SUFFIXES);
    if ('ends_with' in rule) return rng.pick(PREFIXES) + rule.ends_with;
    if ('contains' in rule) return rng.pick(PREFIXES) + rule.contains + rng.pick(SUFFIXES);
    if ('regex' in rule) return sampleRegex(rule.regex, rng);
    if ('or' in rule) return nameForRule(rng.pick(rule.or), rng);
    if ('and' in rule) { // a name satisfying every part: concatenate literal parts, check later
        return rule.and.map((r) => nameForRule(r, rng)).join('-');
    }
    throw new Error('unknown match rule ' + JSON.stringify(rule));
}

// Names for a model: one per leaf rule (the plain literal), plus variants.
export function namesForModel(model, rng) {
    const out = [];
    for (const leaf of leaves(model.match)) {
        out.push(nameForRule(leaf, rng));
    }
    return out;
}

// Case/whitespace variants the reference normalizes (trim + lower-case before matching; regex
// rules then see the lower-cased id).
export function variant(name, rng) {
    const r = rng.next();
    if (r < 0.08) return name.toUpperCase();
    if (r < 0.14) return '  ' + name + ' ';
    if (r < 0.2) return name.charAt(0).toUpperCase() + name.slice(1);
    // a dated id written without dashes (-2025-05-14 -> -20250514): the reference retries it
    if (r < 0.4) {
        const c = name.replace(/-(20\d\d)-(\d\d)-(\d\d)(?=-|:|$)/, '-$1$2$3');
        if (c !== name) return c;
    }
    return name;
}

// ---- timestamps -----------------------------------------------------------------------------
const DAY = 86400000;
const T_LO = Date.UTC(2023, 0, 1), T_HI = Date.UTC(2027, 11, 31);

function todMs(s) { // "00:30:00Z" or with offset
    const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))$/.exec(s);
    let v = (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000;
    if (m[5] !== 'Z') v -= (m[6] === '+' ? 1 : -1) * (Number(m[7]) * 60 + Number(m[8])) * 60000;
    return ((v % DAY) + DAY) % DAY;
}

// Interesting instants for a model: around each start date and each time-of-day boundary.
export function timesForModel(model, rng) {
    const out = [];
    if (!Array.isArray(model.prices)) return out;
    for (const e of model.prices) {
        const c = e.constraint;
        if (!c) continue;
        if (c.start_date) {
            const t = Date.parse(c.start_date + 'T00:00:00Z');
            out.push(t, t - 1, t - 1000, t + 1, t + 3600000, t - DAY, t + 30 * DAY);
        }
        if (c.start_time) {
            const s = todMs(c.start_time), e2 = todMs(c.end_time);
            for (let k = 0; k < 3; k++) {
                const day = Date.UTC(2025, 0, 1) + rng.int(0, 900) * DAY;
                out.push(day + s, day + s - 1, day + e2, day + e2 - 1, day + ((s + e2) >> 1), day + ((e2 + DAY + s) >> 1) % DAY);
            }
        }
    }
    return out;
}

export function randomTime(rng) {
    return T_LO + Math.floor(rng.next() * (T_HI - T_LO));
}

// Write an instant as RFC 3339 text: mostly Z, sometimes with milliseconds or a UTC offset.
export function formatTime(ms, rng) {
    const r = rng.next();
    const iso = new Date(ms).toISOString(); // 2026-03-01T10:00:00.000Z
    if (r < 0.6) return ms % 1000 === 0 ? iso.replace('.000Z', 'Z') : iso;
    if (r < 0.75) return iso;
    // an offset: local wall time = UTC + off
    const offMin = rng.pick([60, 120, 330, -300, -480, 540, 0]);
    const local = new Date(ms + offMin * 60000).toISOString().slice(0, 23);
    if (offMin === 0) return local + '+00:00';
    const sign = offMin < 0 ? '-' : '+';
    const a = Math.abs(offMin);
    return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

// ---- usage by cells --------------------------------------------------------------------------
// A cell is a disjoint slice of the call's consumption, described by dimensions. A unit's count is
// the sum of the cells whose dimensions include all of the unit's dimensions.
const IN_MODS = [null, 'text', 'audio', 'image', 'video'];
const OUT_MODS = [null, 'text', 'audio', 'image', 'video'];

export function unitValue(unit, cells) {
    let v = 0;
    const de = unit.dimEntries || Object.entries(unit.dims);
    for (const c of cells) {
        let ok = true;
        for (let i = 0; i < de.length; i++) if (c.dims[de[i][0]] !== de[i][1]) { ok = false; break; }
        if (ok) v += c.n;
    }
    return v;
}

// Price keys of every price set of the model (the union over its history).
export function pricedUnits(model, U) {
    const sets = Array.isArray(model.prices) ? model.prices.map((e) => e.prices) : [model.prices];
    const keys = new Set();
    for (const s of sets) for (const k of Object.keys(s)) keys.add(k);
    return [...keys].map((k) => U.byPriceKey[k]).filter(Boolean);
}

export function tierStarts(model) {
    const sets = Array.isArray(model.prices) ? model.prices.map((e) => e.prices) : [model.prices];
    const starts = new Set();
    for (const s of sets) for (const v of Object.values(s)) if (v && typeof v === 'object') for (const t of v.tiers) starts.add(t.start);
    return [...starts];
}

// Build a consistent usage object for a model. opts.inputTotal forces the total input tokens.
export function makeUsage(model, U, rng, opts = {}) {
    const priced = pricedUnits(model, U);
    const pricedDims = new Set();
    for (const u of priced) for (const [k, v] of Object.entries(u.dims)) pricedDims.add(k + '=' + v);
    const wants = (k, v) => pricedDims.has(k + '=' + v) || rng.chance(0.08);
    const cells = [];
    const add = (n, dims) => { if (n > 0) cells.push({ n, dims: { family: 'tokens', ...dims } }); };
    // input side
    const inMods = IN_MODS.filter((m) => m === null || wants('modality', m));
    const inTypes = [null];
    if (wants('token_type', 'cache_read') && rng.chance(0.7)) inTypes.push('cache_read');
    if (wants('token_type', 'cache_write') && rng.chance(0.6)) inTypes.push('cache_write');
    if (wants('token_type', 'tool') && rng.chance(0.3)) inTypes.push('tool');
    for (const mod of inMods) {
        if (mod !== null && !rng.chance(0.6)) continue;
        for (const tt of inTypes) {
            if (tt !== null && mod !== null && !rng.chance(0.5)) continue;
            const dims = { direction: 'input' };
            if (mod) dims.modality = mod;
            if (tt) dims.token_type = tt;
            if (tt === 'cache_write') {
                // split by ttl: some unattributed, some 5m, some 1h
                add(rng.chance(0.5) ? rng.tokens(20000) : 0, dims);
                if (wants('cache_ttl', '5m') || rng.chance(0.2)) add(rng.tokens(20000), { ...dims, cache_ttl: '5m' });
                if (wants('cache_ttl', '1h') || rng.chance(0.2)) add(rng.tokens(20000), { ...dims, cache_ttl: '1h' });
            } else {
                add(rng.tokens(tt === null && mod === null ? 200000 : 50000), dims);
            }
        }
    }
    // output side
    const outMods = OUT_MODS.filter((m) => m === null || wants('modality', m));
    const outTypes = [null];
    if (wants('token_type', 'reasoning') || rng.chance(0.2)) outTypes.push('reasoning');
    if (wants('token_type', 'citation') || rng.chance(0.05)) outTypes.push('citation');
    for (const mod of outMods) {
        if (mod !== null && !rng.chance(0.5)) continue;
        for (const tt of outTypes) {
            if (tt !== null && mod !== null && !rng.chance(0.4)) continue;
            const dims = { direction: 'output' };
            if (mod) dims.modality = mod;
            if (tt) dims.token_type = tt;
            add(rng.tokens(8000), dims);
        }
    }
    if (opts.inputTotal !== undefined) {
        // rescale: put the remainder (or cut) on the plain input cell
        let cur = 0;
        for (const c of cells) if (c.dims.direction === 'input') cur += c.n;
        if (cur > opts.inputTotal) { // drop input cells until it fits
            for (const c of cells) if (c.dims.direction === 'input') c.n = 0;
            cur = 0;
            if (rng.chance(0.5)) {
                const cr = Math.floor(opts.inputTotal * rng.next() * 0.8);
                cells.push({ n: cr, dims: { family: 'tokens', direction: 'input', token_type: 'cache_read' } });
                cur = cr;
            }
        }
        cells.push({ n: opts.inputTotal - cur, dims: { family: 'tokens', direction: 'input' } });
    }
    const usage = {};
    usage.input_tokens = unitValue(U.units.input_tokens, cells);
    usage.output_tokens = unitValue(U.units.output_tokens, cells);
    // every priced token unit is reported (so the reference never lacks a priced value) ...
    for (const u of priced) {
        if (u.dims.family === 'tokens') usage[u.key] = unitValue(u, cells);
        else if (u.key !== 'requests') usage[u.key] = rng.chance(0.5) ? rng.int(0, 5) : 0;
    }
    // ... plus some others the cells give (charged at their parent's price when unpriced)
    for (const u of Object.values(U.units)) {
        if (u.dims.family !== 'tokens' || u.key in usage) continue;
        const v = unitValue(u, cells);
        if (v > 0 && rng.chance(0.3)) usage[u.key] = v;
    }
    return { usage, cells };
}

// Drop keys at random: a sparse record, which the reference may refuse (a priced unit missing
// while a descendant is positive).
export function sparsify(usage, rng) {
    const out = {};
    for (const [k, v] of Object.entries(usage)) if (rng.chance(0.6)) out[k] = v;
    if (!Object.keys(out).length) out.output_tokens = usage.output_tokens ?? 1;
    return out;
}
