// tests/node/extract.test.mjs: usage extraction differential test. Provider response bodies for
// every provider and api flavour that has extractors in data.json (built from the extractors'
// own mappings, array-match paths included), plus hand-written realistic bodies and SSE
// transcripts (OpenAI chat with include_usage, OpenAI responses, Anthropic messages, Gemini
// streamGenerateContent in both alt=sse and JSON-array form), go through `infercost cost` as
// {"provider","api_flavor","timestamp","response"|"stream"} lines. The usage infercost prints must
// equal the reference's extractUsage(provider, body, flavor).usage (for a stream: on the
// equivalent final body), and the totals must agree with calcPrice within 1e-9 USD. Where the
// reference throws or finds no price, infercost must give an error line. Seed: IC_TEST_SEED.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadReference } from './lib/reference.mjs';
import { makeRng } from './lib/prng.mjs';
import { loadUnits, namesForModel, randomTime, formatTime } from './lib/gen.mjs';
import { buildBody, openaiChatStream, openaiResponsesStream, anthropicStream, geminiStream } from './lib/bodies.mjs';
import { runCost, Harness } from './lib/run.mjs';

const SEED = Number(process.env.IC_TEST_SEED || 20260301);
const t0 = Date.now();
const H = new Harness('extract');
const { providers, calcPrice, extractUsage } = await loadReference();
const U = loadUnits();
const rng = makeRng(SEED ^ 0x5eed);
const byId = Object.fromEntries(providers.map((p) => [p.id, p]));

const cases = []; // {cat, provider, flavor, timestamp, response?|stream?, finalBody}

function modelNameFor(p) {
    const pool = [...p.models];
    for (const fb of p.fallback_model_providers || []) pool.push(...byId[fb].models);
    const m = rng.pick(pool);
    return rng.pick(namesForModel(m, rng)).trim();
}

// The reference's verdict: extracted usage and price, or an error.
function reference(c) {
    const p = byId[c.provider];
    let ex;
    try {
        ex = extractUsage(p, c.finalBody, c.flavor);
    } catch (e) {
        return { error: 'extractUsage threw: ' + e.message };
    }
    if (typeof ex.model !== 'string') return { error: 'no model in body', usage: ex.usage };
    try {
        const r = calcPrice(ex.usage, ex.model, { providerId: p.id, timestamp: new Date(c.timestamp) });
        if (!r) return { error: 'no price (null)', usage: ex.usage };
        return { usage: ex.usage, provider: r.provider.id, model: r.model.id, total: r.total_price };
    } catch (e) {
        return { error: 'calcPrice threw: ' + e.message, usage: ex.usage };
    }
}

// ---------------------------------------------------------------- generic bodies, every extractor
const flavors = [];
for (const p of providers) for (const ext of p.extractors || []) flavors.push([p, ext]);
for (const [p, ext] of flavors) {
    for (let k = 0; k < 40; k++) {
        const body = buildBody(ext, modelNameFor(p), U, rng, { optionalRate: k < 10 ? 1 : 0.6 });
        cases.push({ cat: 'body', provider: p.id, flavor: ext.api_flavor, finalBody: body });
    }
    for (const mutate of ['missing-required', 'no-root', 'null-root', 'zeros', 'negative', 'wrong-type', 'wrong-type-required', 'null-optional', 'null-parent', 'fraction']) {
        for (let k = 0; k < 2; k++) {
            const body = buildBody(ext, modelNameFor(p), U, rng, { mutate });
            if (body) cases.push({ cat: 'body-' + mutate, provider: p.id, flavor: ext.api_flavor, finalBody: body });
        }
    }
}

// ---------------------------------------------------------------- hand-written realistic bodies
const anthropicUsage = () => {
    const w5 = rng.chance(0.5) ? rng.int(0, 20000) : 0, w1 = rng.chance(0.3) ? rng.int(0, 20000) : 0;
    const u = { input_tokens: rng.int(1, 500), cache_creation_input_tokens: w5 + w1, cache_read_input_tokens: rng.chance(0.6) ? rng.int(0, 150000) : 0,
        cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 }, output_tokens: rng.int(1, 4000), service_tier: 'standard' };
    if (rng.chance(0.2)) u.server_tool_use = { web_search_requests: rng.int(1, 4) };
    return u;
};
const anthropicModels = ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-3-5-haiku-20241022', 'claude-haiku-4-5', 'claude-sonnet-4-20250514', 'claude-opus-4-6'];
const openaiModels = ['gpt-4o-2024-08-06', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5', 'o3', 'o4-mini', 'gpt-4o-audio-preview', 'gpt-5-mini-2025-08-07'];
const geminiModels = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash-001', 'gemini-2.5-flash-lite', 'gemini-3-pro-preview'];

const openaiChatBody = (model) => {
    const prompt = rng.int(10, 300000), cached = rng.chance(0.5) ? Math.floor(prompt * rng.next() * 0.9 / 128) * 128 : 0;
    const completion = rng.int(1, 8000), reasoning = /^o|gpt-5/.test(model) ? Math.floor(completion * rng.next()) : 0;
    const audioIn = /audio/.test(model) ? Math.floor((prompt - cached) * rng.next()) : 0;
    const audioOut = /audio/.test(model) ? Math.floor((completion - reasoning) * rng.next()) : 0;
    return { id: 'chatcmpl-' + rng.int(1e8, 1e9).toString(36), object: 'chat.completion', created: 1767225600, model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion,
            prompt_tokens_details: { cached_tokens: cached, audio_tokens: audioIn },
            completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: audioOut, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } },
        service_tier: 'default', system_fingerprint: 'fp_abc' };
};
const openaiResponsesBody = (model) => {
    const input = rng.int(10, 300000), cached = rng.chance(0.5) ? Math.floor(input * rng.next() * 0.9) : 0;
    const out = rng.int(1, 8000), reasoning = Math.floor(out * rng.next());
    return { id: 'resp_' + rng.int(1e8, 1e9).toString(36), object: 'response', created_at: 1767225600, status: 'completed', model, output: [],
        usage: { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: out,
            output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + out } };
};
const geminiBody = (model) => {
    const text = rng.int(10, 300000), image = rng.chance(0.4) ? rng.int(258, 5000) : 0, audio = rng.chance(0.2) ? rng.int(25, 9000) : 0;
    const cachedText = rng.chance(0.4) ? Math.floor(text * rng.next() * 0.9) : 0;
    const prompt = text + image + audio;
    const det = [{ modality: 'TEXT', tokenCount: text }];
    if (image) det.push({ modality: 'IMAGE', tokenCount: image });
    if (audio) det.push({ modality: 'AUDIO', tokenCount: audio });
    const cand = rng.int(1, 8000), thoughts = rng.chance(0.6) ? rng.int(0, 6000) : 0;
    const um = { promptTokenCount: prompt, candidatesTokenCount: cand, totalTokenCount: prompt + cand + thoughts, promptTokensDetails: det };
    if (thoughts) um.thoughtsTokenCount = thoughts;
    if (cachedText) {
        um.cachedContentTokenCount = cachedText; um.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: cachedText }];
        if (audio && rng.chance(0.7)) { const ca = rng.int(0, audio); um.cachedContentTokenCount += ca; um.cacheTokensDetails.push({ modality: 'AUDIO', tokenCount: ca }); }
    }
    if (rng.chance(0.5)) um.candidatesTokensDetails = [{ modality: 'TEXT', tokenCount: cand }];
    if (rng.chance(0.15)) { const tu = rng.int(10, 2000); um.toolUsePromptTokenCount = tu; um.toolUsePromptTokensDetails = [{ modality: 'TEXT', tokenCount: tu }]; }
    return { candidates: [{ content: { parts: [{ text: 'Hi.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: um,
        modelVersion: model, responseId: 'r' + rng.int(1e6, 1e7).toString(36) };
};
const anthropicBody = (model) => ({ id: 'msg_' + rng.int(1e8, 1e9).toString(36), type: 'message', role: 'assistant', model,
    content: [{ type: 'text', text: 'Hi.' }], stop_reason: 'end_turn', stop_sequence: null, usage: anthropicUsage() });

for (let k = 0; k < 150; k++) {
    cases.push({ cat: 'real-openai-chat', provider: 'openai', flavor: 'chat', finalBody: openaiChatBody(rng.pick(openaiModels)) });
    cases.push({ cat: 'real-openai-responses', provider: 'openai', flavor: 'responses', finalBody: openaiResponsesBody(rng.pick(openaiModels)) });
    cases.push({ cat: 'real-anthropic', provider: 'anthropic', flavor: 'default', finalBody: anthropicBody(rng.pick(anthropicModels)) });
    cases.push({ cat: 'real-google', provider: 'google', flavor: 'default', finalBody: geminiBody(rng.pick(geminiModels)) });
}

// ---------------------------------------------------------------- SSE transcripts
for (let k = 0; k < 80; k++) {
    let b = openaiChatBody(rng.pick(openaiModels));
    cases.push({ cat: 'stream-openai-chat', provider: 'openai', flavor: 'chat', finalBody: { model: b.model, usage: b.usage }, stream: openaiChatStream(b, rng) });
    b = openaiChatBody(rng.pick(['openai/gpt-4o', 'anthropic/claude-sonnet-4.5', 'google/gemini-2.5-flash']));
    cases.push({ cat: 'stream-openrouter-chat', provider: 'openrouter', flavor: 'chat', finalBody: { model: b.model, usage: b.usage }, stream: openaiChatStream(b, rng) });
    b = openaiResponsesBody(rng.pick(openaiModels));
    cases.push({ cat: 'stream-openai-responses', provider: 'openai', flavor: 'responses', finalBody: b, stream: openaiResponsesStream(b, rng) });
    b = anthropicBody(rng.pick(anthropicModels));
    cases.push({ cat: 'stream-anthropic', provider: 'anthropic', flavor: 'default', finalBody: b, stream: anthropicStream(b, rng, { fullDelta: k % 2 === 1 }) });
    b = geminiBody(rng.pick(geminiModels));
    cases.push({ cat: 'stream-gemini-sse', provider: 'google', flavor: 'default', finalBody: b, stream: geminiStream(b, rng) });
    b = geminiBody(rng.pick(geminiModels));
    cases.push({ cat: 'stream-gemini-array', provider: 'google', flavor: 'default', finalBody: b, stream: geminiStream(b, rng, { sseForm: false }) });
}

// Streams for every provider/flavour whose API streams in one of these formats: OpenAI-compatible
// chat (flavour "chat"), Responses ("responses"), Anthropic Messages (anthropic "default" and every
// "anthropic" flavour), built from that extractor's generic bodies.
for (const [p, ext] of flavors) {
    const f = ext.api_flavor;
    const kind = f === 'chat' ? 'chat' : f === 'responses' ? 'responses' : (f === 'anthropic' || (p.id === 'anthropic' && f === 'default')) ? 'anthropic' : null;
    if (!kind) continue;
    for (let k = 0; k < 6; k++) {
        const b = buildBody(ext, modelNameFor(p), U, rng, { optionalRate: 0.8 });
        const fin = { id: b.id, model: b.model, usage: b.usage };
        const text = kind === 'chat' ? openaiChatStream(fin, rng) : kind === 'responses' ? openaiResponsesStream(fin, rng) : anthropicStream(fin, rng, { fullDelta: k % 2 === 1 });
        cases.push({ cat: `stream-any-${kind}`, provider: p.id, flavor: f, finalBody: fin, stream: text });
    }
}

// SSE framing the spec allows and providers use: CRLF line ends, comment lines (OpenRouter's
// ": OPENROUTER PROCESSING" keep-alives), "data:" without the space.
function reframe(text, how) {
    if (how === 'crlf') return text.replace(/\r?\n/g, '\r\n');
    if (how === 'comments') return ': OPENROUTER PROCESSING\n\n' + text.replace(/\n\n/g, (m) => (rng.chance(0.3) ? '\n\n: keep-alive\n\n' : m));
    if (how === 'nospace') return text.replace(/^data: /gm, 'data:');
    return text;
}
for (const c of cases) {
    if (c.stream === undefined || c.cat.startsWith('stream-gemini-array')) continue;
    const how = rng.pick(['as-is', 'as-is', 'crlf', 'comments', 'nospace']);
    c.stream = reframe(c.stream, how);
    if (how !== 'as-is') c.cat += '+' + how;
}
// a chat stream without stream_options.include_usage carries no usage: the reference, given the
// equivalent final body (no usage), refuses it, and infercost must say so rather than price $0
for (let k = 0; k < 10; k++) {
    const b = openaiChatBody(rng.pick(openaiModels));
    const text = openaiChatStream(b, rng).split('\n\n').filter((e) => !/"choices":\[\]/.test(e)).join('\n\n');
    cases.push({ cat: 'stream-openai-chat-no-usage', provider: 'openai', flavor: 'chat', finalBody: { model: b.model }, stream: text });
}

// ---------------------------------------------------------------- run
for (const c of cases) {
    c.timestamp = formatTime(randomTime(rng), rng);
    c.ref = reference(c);
    if (c.cat === 'body-fraction' && !c.ref.error) c.ref = { error: 'fractional count: infercost refuses (stricter than the reference)', usage: c.ref.usage };
    // api_flavor "default" may be left out (the reference's default), for some lines
    const line = c.flavor === 'default' && rng.chance(0.3) ? { provider: c.provider, timestamp: c.timestamp }
        : { provider: c.provider, api_flavor: c.flavor, timestamp: c.timestamp };
    if (c.stream !== undefined) line.stream = c.stream; else line.response = c.finalBody;
    c.lineText = JSON.stringify(line);
}
const dir = mkdtempSync(path.join(tmpdir(), 'ic-extract-'));
const file = path.join(dir, 'responses.jsonl');
writeFileSync(file, cases.map((c) => c.lineText).join('\n') + '\n');
const out = runCost(file);
H.check(out.signal === null, 'infercost exited normally', `signal ${out.signal}; stderr ${out.stderr.slice(0, 300)}`);
H.check(out.lines.length === cases.length, `one output line per input line (${cases.length})`, `got ${out.lines.length}`);

const sameUsage = (a, b) => {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};
const stats = {}, fails = {}, refused = {};
for (const c of cases) if (c.ref.error) refused[c.cat] = (refused[c.cat] || 0) + 1;
if (process.env.IC_DEBUG) for (const c of cases) if (c.ref.error && !/^body-/.test(c.cat)) console.log('REFUSED', c.cat, c.provider, c.flavor, c.ref.error.slice(0, 150), JSON.stringify(c.finalBody).slice(0, 200));
const flavorSeen = new Set();
for (let i = 0; i < cases.length; i++) {
    const c = cases[i], ref = c.ref, got = out.parsed[i];
    stats[c.cat] = (stats[c.cat] || 0) + 1;
    const where = `line ${i + 1} [${c.cat} ${c.provider}/${c.flavor}]: ${c.lineText.length > 700 ? c.lineText.slice(0, 700) + '...' : c.lineText}`;
    const problems = [];
    if (!got) problems.push('no output line');
    else if (got.__unparseable !== undefined) problems.push('output not JSON: ' + got.__unparseable.slice(0, 200));
    else if (ref.error) {
        if (!(got.line === i + 1 && typeof got.error === 'string' && got.error.length))
            problems.push(`reference: ${ref.error}${ref.usage ? ' (usage ' + JSON.stringify(ref.usage) + ')' : ''}; infercost: ${JSON.stringify(got).slice(0, 400)}`);
    } else {
        flavorSeen.add(c.provider + '/' + c.flavor);
        if (got.error !== undefined) {
            // infercost refuses a call none of whose positive usage the model prices (the reference
            // returns $0): never a silent $0
            if (!(ref.total === 0 && /has no price for/.test(got.error)))
                problems.push(`reference: usage ${JSON.stringify(ref.usage)} -> ${ref.provider}/${ref.model} ${ref.total}; infercost error: ${got.error}`);
        }
        else {
            if (!got.usage || !sameUsage(got.usage, ref.usage)) problems.push(`usage: reference ${JSON.stringify(ref.usage)}; infercost ${JSON.stringify(got.usage)}`);
            if (got.provider !== ref.provider || got.model !== ref.model || !(Math.abs(Number(got.total_usd) - ref.total) <= 1e-9))
                problems.push(`price: reference ${ref.provider}/${ref.model} ${ref.total}; infercost ${got.provider}/${got.model} ${got.total_usd}`);
        }
    }
    if (problems.length) fails[c.cat] = (fails[c.cat] || 0) + 1;
    H.check(problems.length === 0, where, problems.join('\n      '));
}
// coverage: every provider/flavour with extractors yielded at least one priced body
const missing = flavors.map(([p, e]) => p.id + '/' + e.api_flavor).filter((k) => !flavorSeen.has(k));
H.check(missing.length === 0, 'every provider/api_flavor with extractors priced at least once', 'never priced: ' + missing.join(', '));

console.log(`extraction differential (seed ${SEED}): ${cases.length} lines over ${flavors.length} provider/flavour extractors; ` +
    `reference refuses ${cases.filter((c) => c.ref.error).length}`);
console.log('by category (of which the reference refuses): ' + Object.entries(stats).map(([k, v]) => `${k} ${v} (${refused[k] || 0})`).join(', '));
if (Object.keys(fails).length) console.log('mismatches by category: ' + Object.entries(fails).map(([k, v]) => `${k} ${v}`).join(', '));
console.log(`time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (process.env.IC_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
H.end(20);
