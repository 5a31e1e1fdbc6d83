// tests/node/lib/synth.mjs: a synthetic provider added to a copy of data.json, to exercise feed
// semantics the shipped snapshot does not contain (time-of-day windows that wrap past midnight or
// carry UTC offsets, start dates out of order, several unsorted tiers on several units, a
// requests price, and/or match rules, fallback providers, deprecation). Both engines load the
// same file; the test compares them. It decides no prices itself.

export const SYNTH_ID = 'zz-synth';

export function synthProvider() {
    const P = (o) => o;
    return {
        id: SYNTH_ID,
        name: 'Synthetic test provider',
        api_pattern: 'https://api\\.synth\\.test',
        model_match: { starts_with: 'syn-' },
        provider_match: { contains: 'synth' },
        fallback_model_providers: ['openai'],
        models: [
            { id: 'syn-wrap', match: { equals: 'syn-wrap' }, prices: [
                { prices: P({ input_mtok: 1, output_mtok: 2, cache_read_mtok: 0.1 }) },
                { constraint: { start_time: '22:00:00Z', end_time: '06:00:00Z' }, prices: P({ input_mtok: 0.5, output_mtok: 1, cache_read_mtok: 0.05 }) },
            ] },
            { id: 'syn-tz', match: { equals: 'syn-tz' }, prices: [
                { prices: P({ input_mtok: 3, output_mtok: 15 }) },
                // 09:00 at +08:00 is 01:00 UTC; 17:30 at -05:00 is 22:30 UTC
                { constraint: { start_time: '09:00:00+08:00', end_time: '17:30:00-05:00' }, prices: P({ input_mtok: 1.5, output_mtok: 7.5 }) },
                { constraint: { start_time: '12:00:00.500Z', end_time: '12:30:00Z' }, prices: P({ input_mtok: 0.3, output_mtok: 1.5 }) },
            ] },
            { id: 'syn-dates', match: { equals: 'syn-dates' }, prices: [
                { prices: P({ input_mtok: 10, output_mtok: 30 }) },
                { constraint: { start_date: '2025-01-01' }, prices: P({ input_mtok: 8, output_mtok: 24 }) },
                { constraint: { start_date: '2026-01-01' }, prices: P({ input_mtok: 4, output_mtok: 12 }) },
                // out of order: tried first (last to first), so it shadows 2026-01-01
                { constraint: { start_date: '2025-06-01' }, prices: P({ input_mtok: 6, output_mtok: 18 }) },
            ] },
            { id: 'syn-mixed', match: { equals: 'syn-mixed' }, prices: [
                { constraint: { start_date: '2025-03-01' }, prices: P({ input_mtok: 2, output_mtok: 8 }) },
                { prices: P({ input_mtok: 5, output_mtok: 20 }) },
                { constraint: { start_time: '23:00:00Z', end_time: '01:00:00Z' }, prices: P({ input_mtok: 1, output_mtok: 4 }) },
            ] },
            { id: 'syn-tiers', match: { or: [{ equals: 'syn-tiers' }, { starts_with: 'syn-tiers-' }] }, prices: {
                input_mtok: { base: 1, tiers: [{ start: 1000, price: 2 }, { start: 500, price: 1.5 }, { start: 100000, price: 0.25 }] },
                cache_read_mtok: { base: 0.1, tiers: [{ start: 500, price: 0.15 }] },
                cache_write_mtok: { base: 1.25, tiers: [{ start: 1000, price: 2.5 }] },
                output_mtok: { base: 4, tiers: [{ start: 1000, price: 6 }, { start: 500, price: 5 }] },
                output_reasoning_mtok: { base: 3, tiers: [{ start: 1000, price: 5 }] },
            } },
            { id: 'syn-requests', match: { equals: 'syn-requests' }, prices: { requests_kcount: 0.5, input_mtok: 0.2, output_mtok: 0.4, web_searches_kcount: 10 } },
            { id: 'syn-requests-only', match: { equals: 'syn-requests-only' }, prices: { requests_kcount: 1.234567 } },
            { id: 'syn-audio', match: { equals: 'syn-audio' }, prices: {
                input_mtok: 2.5, cache_read_mtok: 1.25, input_audio_mtok: 40, cache_audio_read_mtok: 2.5,
                output_mtok: 10, output_audio_mtok: 80, input_image_mtok: 5, cache_image_read_mtok: 0.5,
                cache_write_mtok: 3, cache_write_1h_mtok: 6, cache_audio_write_mtok: 50, cache_image_write_mtok: 7,
                cache_audio_write_1h_mtok: 60, cache_image_write_1h_mtok: 9,
            } },
            { id: 'syn-text-only-sub', match: { equals: 'syn-text-only-sub' }, prices: { input_mtok: 1, input_text_mtok: 0.75, output_mtok: 2 } },
            { id: 'syn-and', match: { and: [{ starts_with: 'syn-' }, { contains: '-pro' }, { ends_with: '-x' }] }, prices: { input_mtok: 0.08333333333333334, output_mtok: 0.18000000000000002 } },
            { id: 'syn-regex', match: { regex: '^syn-r\\d{2}(?:-mini)?$' }, prices: { input_mtok: 0.000001, output_mtok: 1234567.891 } },
            { id: 'syn-regex-upper', match: { regex: '^SYN-UP' }, prices: { input_mtok: 1, output_mtok: 1 } },
            { id: 'syn-deprecated', match: { equals: 'syn-deprecated' }, deprecated: true, prices: { input_mtok: 7, output_mtok: 7 } },
            { id: 'syn-free', match: { equals: 'syn-free' }, prices: {} },
        ],
    };
}

// Names that reach each synthetic model (and some that must not).
export const SYNTH_NAMES = ['syn-wrap', 'syn-tz', 'syn-dates', 'syn-mixed', 'syn-tiers', 'syn-tiers-20250101', 'syn-requests',
    'syn-requests-only', 'syn-audio', 'syn-text-only-sub', 'syn-big-pro-x', 'syn-pro-x', 'syn-pro', 'syn-r12', 'syn-r99-mini', 'syn-r123',
    'SYN-R12', 'syn-up', 'SYN-UP', 'syn-deprecated', 'syn-free', 'gpt-4o', 'syn-nothing'];
