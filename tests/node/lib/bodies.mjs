// tests/node/lib/bodies.mjs: provider response bodies and SSE transcripts for the extraction test.
// Bodies are built from each extractor's own mappings in data.json (so every provider and api
// flavour is covered, array-match paths included), with values scaled by unit depth so the usage
// they yield is consistent (a sub-unit never exceeds its ancestor). Streams are written in the
// providers' documented formats; each comes with the equivalent final (non-streamed) body, which
// the reference's extractUsage() reads. Nothing here prices or extracts anything itself.

const W = (p) => (Array.isArray(p) ? [...p] : [p]);

// Set a value at a path of steps (strings, or array-match steps that pick/create an array item).
function setPath(obj, steps, value) {
    let cur = obj;
    for (let i = 0; i < steps.length - 1; i++) {
        const s = steps[i], next = steps[i + 1];
        if (typeof s === 'object') throw new Error('array-match step must follow a key');
        if (typeof next === 'object') { // cur[s] is an array; find/create the matching item
            if (!Array.isArray(cur[s])) cur[s] = [];
            const val = next.match.equals;
            if (val === undefined) throw new Error('only equals array-matches are generated');
            let item = cur[s].find((x) => x[next.field] === val);
            if (!item) { item = { [next.field]: val }; cur[s].push(item); }
            cur = item;
            i++; // consumed the array-match step
            if (i === steps.length - 1) throw new Error('path ends in an array-match');
            continue;
        }
        if (cur[s] === undefined || cur[s] === null || typeof cur[s] !== 'object' || Array.isArray(cur[s])) cur[s] = {};
        cur = cur[s];
    }
    const last = steps[steps.length - 1];
    if (!(last in cur)) cur[last] = value;
    return cur[last];
}

export function getPath(obj, steps) {
    let cur = obj;
    for (let i = 0; i < steps.length; i++) {
        const s = steps[i];
        if (cur === undefined || cur === null) return undefined;
        if (typeof steps[i + 1] === 'object') {
            const arr = cur[s], m = steps[i + 1];
            if (!Array.isArray(arr)) return undefined;
            cur = arr.find((x) => x && x[m.field] === m.match.equals);
            i++;
        } else cur = cur[s];
    }
    return cur;
}

// A value range for a field by the shallowest unit it feeds (2 dims: a top-level token count).
function valueFor(dests, U, rng) {
    let minDims = 9, tokens = true;
    for (const d of dests) {
        const u = U.units[d];
        if (!u) continue;
        if (u.dims.family !== 'tokens') tokens = false;
        minDims = Math.min(minDims, Object.keys(u.dims).length);
    }
    if (!tokens) return rng.int(0, 5);
    if (minDims <= 2) return rng.int(30000, 90000);
    if (minDims === 3) return rng.int(1000, 3000);
    if (minDims === 4) return rng.int(50, 150);
    return rng.int(0, 10);
}

// Build a body for one extractor. opts: {optionalRate, mutate: 'missing-required'|'wrong-type'|
// 'negative'|'fraction'|'no-root'|'zeros'|undefined}
export function buildBody(ext, model, U, rng, opts = {}) {
    const body = { id: 'resp_' + rng.int(1e5, 1e6).toString(36), object: 'x' };
    const root = W(ext.root);
    if (model !== undefined) setPath(body, W(ext.model_path), model);
    const byPath = new Map();
    for (const m of ext.mappings) {
        const k = JSON.stringify(W(m.path));
        if (!byPath.has(k)) byPath.set(k, { steps: W(m.path), dests: [], required: false });
        const e = byPath.get(k);
        e.dests.push(m.dest);
        e.required = e.required || m.required;
    }
    const fields = [...byPath.values()];
    const present = [];
    for (const f of fields) {
        if (!f.required && !rng.chance(opts.optionalRate ?? 0.75)) continue;
        const v = opts.mutate === 'zeros' ? 0 : valueFor(f.dests, U, rng);
        setPath(body, [...root, ...f.steps], v);
        present.push(f);
    }
    // realistic noise the extractors ignore
    if (rng.chance(0.5)) setPath(body, [...root, 'total_tokens'], rng.int(1, 1e5));
    if (rng.chance(0.3)) setPath(body, [...root, 'service_tier'], 'default');
    const setRaw = (f, v) => {
        let cur = body;
        const steps = [...root, ...f.steps];
        // walk to the parent, then overwrite
        for (let i = 0; i < steps.length - 1; i++) {
            if (typeof steps[i + 1] === 'object') { cur = cur[steps[i]].find((x) => x[steps[i + 1].field] === steps[i + 1].match.equals); i++; }
            else cur = cur[steps[i]];
        }
        cur[steps[steps.length - 1]] = v;
    };
    const pickPresent = (pred) => { const c = present.filter(pred); return c.length ? rng.pick(c) : null; };
    switch (opts.mutate) {
        case 'missing-required': {
            const f = pickPresent((x) => x.required);
            if (!f) return null;
            let cur = body; const steps = [...root, ...f.steps];
            for (let i = 0; i < steps.length - 1; i++) {
                if (typeof steps[i + 1] === 'object') { cur = cur[steps[i]].find((x) => x[steps[i + 1].field] === steps[i + 1].match.equals); i++; }
                else cur = cur[steps[i]];
            }
            delete cur[steps[steps.length - 1]];
            break;
        }
        case 'wrong-type': { const f = pickPresent((x) => !x.required); if (!f) return null; setRaw(f, String(rng.int(1, 999))); break; }
        case 'wrong-type-required': { const f = pickPresent((x) => x.required); if (!f) return null; setRaw(f, String(rng.int(1, 999))); break; }
        case 'null-optional': { const f = pickPresent((x) => !x.required); if (!f) return null; setRaw(f, null); break; }
        case 'null-parent': { // an optional nested field's parent object is null ("prompt_tokens_details": null)
            const f = pickPresent((x) => !x.required && x.steps.length > 1 && typeof x.steps[1] !== 'object');
            if (!f) return null;
            const steps = [...root, ...f.steps];
            let cur = body;
            for (let i = 0; i < steps.length - 2; i++) {
                if (typeof steps[i + 1] === 'object') { cur = cur[steps[i]].find((x) => x[steps[i + 1].field] === steps[i + 1].match.equals); i++; }
                else cur = cur[steps[i]];
            }
            cur[steps[steps.length - 2]] = null;
            break;
        }
        case 'integral-float': { const f = pickPresent(() => true); if (!f) return null; setRaw(f, { __raw: 'float' }); break; }
        case 'negative': { const f = pickPresent(() => true); if (!f) return null; setRaw(f, -rng.int(1, 99)); break; }
        case 'fraction': { const f = pickPresent(() => true); if (!f) return null; setRaw(f, rng.int(1, 99) + 0.5); break; }
        case 'no-root': { delete body[root[0]]; break; }
        case 'null-root': { body[root[0]] = null; break; }
        default: break;
    }
    return body;
}

// ---------------------------------------------------------------- SSE transcripts
const sse = (event, obj) => (event ? `event: ${event}\n` : '') + `data: ${JSON.stringify(obj)}\n\n`;
const words = ['Hello', ' there', ',', ' how', ' can', ' I', ' help', ' today', '?'];

// OpenAI chat completions with stream_options.include_usage: every chunk has "usage":null, then
// one extra chunk with empty choices and the usage, then [DONE].
export function openaiChatStream(final, rng) {
    const id = 'chatcmpl-' + rng.int(1e8, 1e9).toString(36), created = 1767225600 + rng.int(0, 1e6);
    const base = { id, object: 'chat.completion.chunk', created, model: final.model, system_fingerprint: 'fp_' + rng.int(1e6, 1e7).toString(16) };
    let s = sse(null, { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], usage: null });
    for (const w of words.slice(0, rng.int(1, words.length))) s += sse(null, { ...base, choices: [{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }], usage: null });
    s += sse(null, { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null });
    s += sse(null, { ...base, choices: [], usage: final.usage });
    return s + 'data: [DONE]\n\n';
}

// OpenAI Responses API: typed events; usage arrives on response.completed.
export function openaiResponsesStream(final, rng) {
    const resp = { id: final.id || 'resp_x', object: 'response', created_at: 1767225600, model: final.model, output: [] };
    let seq = 0, s = '';
    s += sse('response.created', { type: 'response.created', sequence_number: seq++, response: { ...resp, status: 'in_progress', usage: null } });
    s += sse('response.in_progress', { type: 'response.in_progress', sequence_number: seq++, response: { ...resp, status: 'in_progress', usage: null } });
    s += sse('response.output_item.added', { type: 'response.output_item.added', sequence_number: seq++, output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    let text = '';
    for (const w of words.slice(0, rng.int(1, words.length))) {
        text += w;
        s += sse('response.output_text.delta', { type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta: w });
    }
    s += sse('response.output_text.done', { type: 'response.output_text.done', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, text });
    s += sse('response.completed', { type: 'response.completed', sequence_number: seq++, response: { ...final, status: 'completed', output: [{ id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }] } });
    return s;
}

// Anthropic Messages: message_start carries the input side (and output_tokens 1); message_delta
// carries the CUMULATIVE output_tokens (newer API versions repeat the input fields there too).
export function anthropicStream(final, rng, { fullDelta = false } = {}) {
    const u = final.usage;
    const startUsage = { ...u, output_tokens: Math.min(1, u.output_tokens) };
    delete startUsage.output_tokens_details;
    delete startUsage.server_tool_use;
    // Newer API versions repeat the input side in message_delta, cumulative (server tools can grow
    // it after message_start) or null where unchanged; the final Message carries the delta values.
    const nulled = new Set();
    if (fullDelta) {
        if (rng.chance(0.5)) startUsage.input_tokens = Math.floor(u.input_tokens / 2);
        for (const k of ['cache_creation_input_tokens', 'cache_read_input_tokens']) if (k in u && rng.chance(0.3)) nulled.add(k);
    }
    let s = sse('message_start', { type: 'message_start', message: { id: final.id, type: 'message', role: 'assistant', model: final.model, content: [], stop_reason: null, stop_sequence: null, usage: startUsage } });
    s += sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    s += sse('ping', { type: 'ping' });
    for (const w of words.slice(0, rng.int(1, words.length))) s += sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } });
    s += sse('content_block_stop', { type: 'content_block_stop', index: 0 });
    // an intermediate cumulative delta (server tools can emit several), then the final one
    if (rng.chance(0.5) && u.output_tokens > 2) s += sse('message_delta', { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: Math.floor(u.output_tokens / 2) } });
    const deltaUsage = fullDelta ? { ...u } : { output_tokens: u.output_tokens };
    for (const k of nulled) deltaUsage[k] = null;
    if (fullDelta) delete deltaUsage.cache_creation; // not part of MessageDeltaUsage
    if (!fullDelta && u.output_tokens_details) deltaUsage.output_tokens_details = u.output_tokens_details;
    if (!fullDelta && u.server_tool_use) deltaUsage.server_tool_use = u.server_tool_use;
    s += sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: deltaUsage });
    s += sse('message_stop', { type: 'message_stop' });
    return s;
}

// Gemini streamGenerateContent: chunks each carrying usageMetadata; the last carries the totals.
// alt=sse gives "data: {...}\r\n\r\n" events; without it, a JSON array of the chunks.
export function geminiStream(final, rng, { sseForm = true } = {}) {
    const um = final.usageMetadata;
    const chunks = [];
    const n = rng.int(1, 5);
    for (let k = 0; k < n; k++) {
        const partial = { promptTokenCount: um.promptTokenCount, candidatesTokenCount: Math.floor(((um.candidatesTokenCount || 0) * (k + 1)) / (n + 1)), totalTokenCount: 0 };
        if (partial.promptTokenCount === undefined) delete partial.promptTokenCount;
        if (um.promptTokensDetails) partial.promptTokensDetails = um.promptTokensDetails;
        chunks.push({ candidates: [{ content: { parts: [{ text: words[k % words.length] }], role: 'model' }, index: 0 }], usageMetadata: partial, modelVersion: final.modelVersion, responseId: final.responseId });
    }
    chunks.push({ candidates: [{ content: { parts: [{ text: '.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: um, modelVersion: final.modelVersion, responseId: final.responseId });
    if (sseForm) return chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
    return '[' + chunks.map((c) => JSON.stringify(c)).join(',\r\n') + ']';
}
