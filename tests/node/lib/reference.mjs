// tests/node/lib/reference.mjs: loads the reference calculator (@pydantic/genai-prices 0.1.8) with
// the SAME price data infercost embeds (data/genai-prices/data.json), so that the differential
// tests compare engines, not snapshots. It must not alter the reference's behaviour: it only
// silences the reference's console.warn chatter (unknown keys), which it counts instead.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { calcPrice, extractUsage, updatePrices, waitForUpdate } from '../node_modules/@pydantic/genai-prices/dist/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const DATA_PATH = path.join(ROOT, 'data/genai-prices/data.json');
export const IC_BIN = process.env.IC_BIN || path.join(ROOT, 'build/infercost');

export { updatePrices, waitForUpdate };
export let warnings = 0;
export async function loadReference() {
    const data = JSON.parse(readFileSync(DATA_PATH, 'utf8'));
    const warn = console.warn;
    console.warn = () => { warnings++; };
    updatePrices(({ setProviderData }) => setProviderData(data));
    const active = await waitForUpdate();
    if (!Array.isArray(active) || active.length !== data.length)
        throw new Error('reference did not take the shipped data.json');
    void warn;
    // keep the originals reachable for debugging
    return { data, providers: active, calcPrice, extractUsage };
}

// Reference price for one usage record; {error} when the reference finds no price or throws.
export function refPrice(usage, model, provider, timestamp, apiUrl) {
    try {
        const opts = { timestamp: new Date(timestamp) };
        if (provider !== undefined) opts.providerId = provider;
        if (apiUrl !== undefined) opts.providerApiUrl = apiUrl;
        const r = calcPrice(usage, model, opts);
        if (r === null) return { error: 'no price (null)' };
        // which of the model's price entries was in force (for coverage of price changes)
        const entry = Array.isArray(r.model.prices) ? r.model.prices.findIndex((e) => e.prices === r.model_price) : -1;
        return { provider: r.provider.id, model: r.model.id, total: r.total_price,
                 input: r.input_price, output: r.output_price, entry };
    } catch (e) {
        return { error: 'threw: ' + e.message };
    }
}
