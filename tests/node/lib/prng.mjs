// tests/node/lib/prng.mjs: a small seeded PRNG (mulberry32) so every generated test input is
// reproducible from its seed. Not for anything but test data.
export function makeRng(seed) {
    let a = seed >>> 0;
    const next = () => {
        a = (a + 0x6D2B79F5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const rng = {
        next,
        int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), // inclusive
        pick: (arr) => arr[Math.floor(next() * arr.length)],
        chance: (p) => next() < p,
        // a token count with a heavy tail: mostly hundreds to thousands, some large
        tokens: (max = 400000) => {
            const r = next();
            if (r < 0.05) return 0;
            if (r < 0.6) return Math.floor(next() * 2000);
            if (r < 0.9) return Math.floor(next() * 30000);
            return Math.floor(next() * max);
        },
    };
    return rng;
}
