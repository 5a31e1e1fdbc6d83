// tests/fuzz/make_seeds.mjs: writes the seed corpora of the fuzz targets into build-fuzz/corpus/
// from data/examples/workload.jsonl, tests/unit/workload.jsonl, the SSE transcript builders of the
// node differential tests (tests/node/lib/bodies.mjs) and a few hand-written edge cases. Seeds are
// generated, not committed. The first byte of a stream seed picks the provider/flavour (harness.h).
import fs from 'node:fs';
import path from 'node:path';
import { openaiChatStream, openaiResponsesStream, anthropicStream, geminiStream } from '../node/lib/bodies.mjs';
import { makeRng } from '../node/lib/prng.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = path.join(root, 'build-fuzz/corpus');
const put = (t, name, data) => {
    fs.mkdirSync(path.join(out, t), { recursive: true });
    fs.writeFileSync(path.join(out, t, name), data);
};
const rng = makeRng(7);

// (a) record lines
const lines = [];
for (const f of ['data/examples/workload.jsonl', 'tests/unit/workload.jsonl']) {
    const p = path.join(root, f);
    if (fs.existsSync(p)) lines.push(...fs.readFileSync(p, 'utf8').split('\n').filter(Boolean));
}
lines.slice(0, 150).forEach((l, i) => put('record', `w${i}`, l));
const chatFinal = { model: 'gpt-4o-mini', usage: { prompt_tokens: 1200, completion_tokens: 80, prompt_tokens_details: { cached_tokens: 1024 }, completion_tokens_details: { reasoning_tokens: 10 } } };
const respFinal = { id: 'resp_1', model: 'gpt-5', usage: { input_tokens: 900, output_tokens: 50, input_tokens_details: { cached_tokens: 512 }, output_tokens_details: { reasoning_tokens: 20 } } };
const anthFinal = { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: 30, cache_creation_input_tokens: 4000, cache_read_input_tokens: 1000, output_tokens: 300 } };
const gemFinal = { modelVersion: 'gemini-2.5-pro', responseId: 'r1', usageMetadata: { promptTokenCount: 250000, candidatesTokenCount: 700, totalTokenCount: 250700, cachedContentTokenCount: 1000, thoughtsTokenCount: 30 } };
const hand = [
    { provider: 'openai', api_flavor: 'chat', timestamp: '2026-03-01T10:00:00Z', response: { ...chatFinal, choices: [] } },
    { provider: 'anthropic', timestamp: '2026-03-01T10:00:00.250+02:00', response: { ...anthFinal, content: [] } },
    { provider: 'anthropic', stream: anthropicStream(anthFinal, rng) },
    { provider: 'openai', api_flavor: 'chat', stream: openaiChatStream(chatFinal, rng) },
    { provider: 'openai', api_flavor: 'responses', stream: openaiResponsesStream(respFinal, rng) },
    { provider: 'google', stream: geminiStream(gemFinal, rng, { sseForm: false }) },
    { provider: 'google', model: 'gemini-2.5-pro', usage: { input_tokens: 250000, output_tokens: 10 }, tags: { team: 'a', n: [1, 2, { x: null }] } },
    { model: 'litellm/anthropic/claude-sonnet-4-5', usage: { input_tokens: 1e3, output_tokens: 0 }, batch: true, cache_hit: false, latency_ms: 12, status: 200 },
    { provider: 'openai', model: 'gpt-4o', usage: { input_tokens: 10, cache_read_tokens: 11 } },
    { provider: 'openai', model: 'gpt-4o-2024-08-06', usage: { input_tokens: 1000000000000000, output_tokens: 1 }, timestamp: '2026-03-01' },
    { provider: 'openai', model: 'gpt-image-1', usage: { input_tokens: 10, input_image_tokens: 5, output_image_tokens: 4000 } },
    { provider: 'x', model: 'y', usage: {}, id: 'a', customer: 'c', feature: 'f', task: 't', key_id: 'k', model_served: 'm', routed_from: 'r' },
];
hand.forEach((o, i) => put('record', `h${i}`, JSON.stringify(o)));
put('record', 'raw1', '{"provider":"openai","model":"gpt-4o","usage":{"input_tokens":1.0e3,"output_tokens":-0}}');
put('record', 'raw2', '{"model":"gpt-4o","usage":{"input_tokens":12,"input_tokens":13},"usage":{"output_tokens":1}}');
put('record', 'raw3', ' {"model" : "gpt-4o" , "usage" : { "input_tokens" : 00 } } ');
put('record', 'raw4', '{"model":"gpt-4o","usage":{"input_tokens":18446744073709551616}}');

// (c) streams: first byte = index into fz_flavours in harness.h
const FL = ['openai/chat', 'openai/responses', 'openai/realtime', 'anthropic/', 'anthropic/chat', 'google/', 'google/chat', 'aws/anthropic', 'azure/responses', 'cohere/', 'mistral/', 'openai/embeddings', 'x-ai/chat', 'deepseek/chat', 'groq/', 'openai/nosuch'];
const idx = (k) => String.fromCharCode(FL.indexOf(k));
for (let s = 0; s < 4; s++) {
    const r = makeRng(100 + s);
    put('stream', `chat${s}`, idx('openai/chat') + openaiChatStream(chatFinal, r));
    put('stream', `resp${s}`, idx('openai/responses') + openaiResponsesStream(respFinal, r));
    put('stream', `anth${s}`, idx('anthropic/') + anthropicStream(anthFinal, r, { fullDelta: s & 1 }));
    put('stream', `gem${s}`, idx('google/') + geminiStream(gemFinal, r, { sseForm: !(s & 1) }));
    put('stream', `x${s}`, idx('x-ai/chat') + openaiChatStream(chatFinal, r));
    put('stream', `aws${s}`, idx('aws/anthropic') + anthropicStream(anthFinal, r));
}
put('stream', 'rt', idx('openai/realtime') + 'data: ' + JSON.stringify({ type: 'response.done', response: { usage: { input_tokens: 10, output_tokens: 5, input_token_details: { cached_tokens: 2, audio_tokens: 3 }, output_token_details: { audio_tokens: 1 } } } }) + '\n\n');
put('stream', 'body', idx('openai/chat') + JSON.stringify(chatFinal));

// (b) overlays: genai-prices schema and LiteLLM-shaped
const ov = [
    [{ id: 'openai', name: 'OpenAI', api_pattern: 'https://api\\.openai\\.com', models: [{ id: 'my-ft', match: { starts_with: 'ft:gpt-4o' }, prices: { input_mtok: 3.75, output_mtok: 15, cache_read_mtok: 1.875 } }] }],
    [{ id: 'acme', name: 'Acme', api_pattern: 'https://acme', provider_match: { contains: 'acme' }, fallback_model_providers: ['openai'], models: [
        { id: 'acme-1', match: { or: [{ equals: 'acme-1' }, { regex: '^acme-1-\\d+$' }] }, context_window: 1000, prices: [
            { prices: { input_mtok: { base: 1, tiers: [{ start: 200000, price: 2 }] }, output_mtok: 5, requests_kcount: 1 } },
            { constraint: { start_date: '2026-02-01' }, prices: { input_mtok: 0.5, output_mtok: 2 } },
            { constraint: { start_time: '22:00:00Z', end_time: '06:00:00Z' }, prices: { input_mtok: 0.1, output_mtok: 0.2 } }] }] }],
    { 'gpt-4o-fuzz': { input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5, cache_read_input_token_cost: 1.25e-6, litellm_provider: 'openai', mode: 'chat', max_input_tokens: 128000 },
      'anthropic/claude-fuzz': { input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5, cache_creation_input_token_cost: 3.75e-6, litellm_provider: 'anthropic', input_cost_per_token_above_200k_tokens: 6e-6 },
      'sample_spec': { input_cost_per_token: 0 } },
    { 'vertex_ai/gemini-fuzz': { input_cost_per_token: 1.25e-6, output_cost_per_token: 1e-5, input_cost_per_audio_token: 1e-6, litellm_provider: 'vertex_ai-language-models', output_cost_per_reasoning_token: 1e-5 } },
];
ov.forEach((o, i) => put('overlay', `o${i}`, JSON.stringify(o, null, i & 1 ? 1 : 0)));

// (d) money/decimal texts
['0', '3', '0.075', '3e-06', '1.5E+3', '-0', '0.08333333333333334', '12.5', '-0.000001', '18446744073709551615',
 '0.000000000000000000000000000001', '170141183460469231731.687303715884105728', '1e-30', '99999999999999999999999']
    .forEach((s, i) => put('money', `m${i}`, s));
// (e) texts for the tokenizer: byte 0 = encoding (bit 0) and specials allowed (bit 1)
const texts = [
    'hello world', "He said: 'Don't!' THEY'RE HERE, we'll see.", 'Мурманская область\n中文文本。\n١٢٣ ٤',
    'ক দেশ ไทย עברית العربية Ελλάδα 😀 👩‍👩‍👧', 'a <|endoftext|> b<|endofprompt|><|fim_prefix|>',
    '    indented\n\n\tcode(x) { return x+1; }\r\n', '1234567890 3.14159 1e-9', '_\n//\nZ\n\n \nword',
    'x'.repeat(3000), ' '.repeat(100) + 'a', 'İstanbul ǅ ʰ ﬁ ſ\u0301\u200d\u2028\u0085\u00a0end'];
texts.forEach((t, i) => { for (let b = 0; b < 4; b++) put('tokenizer', `t${i}-${b}`, Buffer.concat([Buffer.from([b]), Buffer.from(t)])); });
put('tokenizer', 'invalid', Buffer.from([1, 0x61, 0xff, 0xfe, 0xc3, 0x20, 0xe2, 0x82, 0x0a, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80]));

// (g) pieces for the merge: byte 0 = encoding (bit 0); words and runs of the bench's sentences in
// many scripts (CJK without spaces: long pieces), cut where tiktoken's pre-split would roughly cut
{
    const { naturalText } = await import('../node/tokenizer_corpus.mjs');
    const t = naturalText();
    const words = [...new Set((t.messages + '\n' + t.cjk).split(/[\s,.;:!?()"'%]+/u)
        .filter((w) => w && Buffer.byteLength(w) <= 200))].sort();
    for (let i = 0; i < 600; i++) {
        const w = rng.pick(words);
        put('merge', `w${i}`, Buffer.concat([Buffer.from([i & 1]), Buffer.from((i % 3 ? ' ' : '') + w)]));
    }
}

// (f) chat/completions request bodies (the cookbook's shapes, tools, multi-part content, models)
const chats = [
    { model: 'gpt-4o', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', name: 'ann', content: 'Hi! How much is 2+2?' }], max_tokens: 100 },
    { model: 'gpt-4-0613', messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { location: { type: 'string', description: 'City' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['location'] } } }] },
    { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Привет, мир' }], max_completion_tokens: 10 },
    { model: 'gpt-5', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, { role: 'tool', tool_call_id: 'c1', content: '42' }],
      functions: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'number' } } } }], tools: [{ type: 'web_search' }] },
    { model: 'o3-mini', messages: [] }, { messages: [{ role: 'user', content: 'no model' }] },
    { model: 'text-embedding-3-small', input: ['a', 'b'] }, { model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'x'.repeat(500) }] },
];
chats.forEach((c, i) => put('chat', `c${i}`, JSON.stringify(c)));
put('chat', 'broken', '{"model":"gpt-4o","messages":[{"role":"user","content":');
console.log('seeds written to', out);
