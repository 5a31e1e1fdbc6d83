// tests/node/lib/decimal.mjs: exact decimal arithmetic on infercost's money strings with BigInt,
// to check an output line's own arithmetic (each item = charged * price / per rounded half-even
// to 1e-12 USD; total = exact sum of items) without going through floating point.
export const PICO = 10n ** 12n;

// "0.02159625" -> pico-dollars as BigInt; throws on anything but a canonical decimal
export function toPico(s) {
    const m = /^(-?)(\d+)(?:\.(\d{1,12}))?$/.exec(s);
    if (!m) throw new Error(`not a canonical money string: ${JSON.stringify(s)}`);
    const frac = (m[3] || '').padEnd(12, '0');
    const v = BigInt(m[2]) * PICO + BigInt(frac);
    return m[1] ? -v : v;
}

// a decimal price string -> [mantissa, scale]
export function parseDecimal(s) {
    const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
    if (!m) throw new Error(`not a plain decimal: ${JSON.stringify(s)}`);
    const frac = m[2] || '';
    return [BigInt(m[1] + frac), BigInt(frac.length)];
}

function divHalfEven(num, den) {
    const q = num / den, r = num % den;
    const twice = 2n * r;
    if (twice > den || (twice === den && q % 2n === 1n)) return q + 1n;
    return q;
}

// quantity * price / per, in pico-dollars, rounded once half-even
export function itemPico(charged, priceStr, per) {
    const [mant, scale] = parseDecimal(priceStr);
    return divHalfEven(BigInt(charged) * mant * PICO, 10n ** scale * BigInt(per));
}

// canonical form: no exponent, no trailing zeros, no trailing dot
export function isCanonical(s) {
    return /^-?\d+(\.\d*[1-9])?$/.test(s) && !/^-?0\d/.test(s);
}
