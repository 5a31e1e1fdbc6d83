// scripts/gen-example-workload.mjs: regenerates data/examples/workload.jsonl, the example
// workload `make demo` prices: 3,000 calls of a small AI product over February 2026 across five
// providers, with prompt caching (reads and writes), reasoning tokens, and some calls given as raw
// provider responses. Deterministic (seeded); run `node scripts/gen-example-workload.mjs`.
import { writeFileSync } from 'node:fs';

let s = 20260201;
const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

// [provider, model, weight, shape]
const fleet = [
  ['anthropic', 'claude-sonnet-4-5', 30, 'anthropic'],
  ['anthropic', 'claude-haiku-4-5', 20, 'anthropic'],
  ['openai', 'gpt-4o-mini', 20, 'openai'],
  ['openai', 'gpt-5', 8, 'openai-reasoning'],
  ['openai', 'o4-mini', 5, 'openai-reasoning'],
  ['google', 'gemini-2.5-flash', 10, 'google'],
  ['google', 'gemini-2.5-pro', 4, 'google-reasoning'],
  ['deepseek', 'deepseek-chat', 3, 'openai'],
];
const total = fleet.reduce((a, f) => a + f[2], 0);
const customers = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const features = ['chat', 'search', 'summarize', 'agent'];
const lines = [];
for (let i = 0; i < 3000; i++) {
  let r = rnd() * total, f = fleet[0];
  for (const x of fleet) { if ((r -= x[2]) < 0) { f = x; break; } }
  const [provider, model, , shape] = f;
  const t = new Date(Date.UTC(2026, 1, 1) + Math.floor(rnd() * 28 * 86400) * 1000).toISOString().replace('.000Z', 'Z');
  const system = pick([1200, 2400, 8000]);          // a cacheable system prompt
  const user = int(50, 3000);
  const warm = rnd() < 0.7;                           // the cache is warm most of the time
  const out = int(40, 1200);
  const meta = { customer: pick(customers), feature: pick(features), timestamp: t };
  let usage;
  if (shape === 'anthropic') {
    usage = warm ? { input_tokens: system + user, cache_read_tokens: system, output_tokens: out }
                 : { input_tokens: system + user, cache_write_tokens: system, output_tokens: out };
    if (i % 20 === 0) { // as the raw Messages API response
      const u = { input_tokens: user, cache_creation_input_tokens: warm ? 0 : system,
                  cache_read_input_tokens: warm ? system : 0, output_tokens: out };
      lines.push({ provider, ...meta, response: { id: `msg_${i}`, type: 'message', model, usage: u } });
      continue;
    }
  } else if (shape.startsWith('openai')) {
    const reasoning = shape.endsWith('reasoning') ? int(200, 6000) : 0;
    usage = { input_tokens: system + user, output_tokens: out + reasoning };
    if (warm && system >= 1024) usage.cache_read_tokens = Math.floor(system / 128) * 128;
    if (reasoning) usage.output_reasoning_tokens = reasoning;
    if (i % 20 === 1) { // as the raw Chat Completions response
      const u = { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens,
                  prompt_tokens_details: { cached_tokens: usage.cache_read_tokens || 0 },
                  completion_tokens_details: { reasoning_tokens: reasoning } };
      lines.push({ provider, api_flavor: 'chat', ...meta, response: { id: `chatcmpl-${i}`, object: 'chat.completion', model, usage: u } });
      continue;
    }
  } else {
    const reasoning = shape.endsWith('reasoning') ? int(500, 8000) : 0;
    usage = { input_tokens: system + user, output_tokens: out + reasoning };
    if (warm) usage.cache_read_tokens = system;
  }
  lines.push({ provider, model, ...meta, usage });
}
writeFileSync(new URL('../data/examples/workload.jsonl', import.meta.url), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
console.log(`wrote ${lines.length} lines`);
