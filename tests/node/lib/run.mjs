// tests/node/lib/run.mjs: run `infercost cost` on a JSONL file and return its output lines parsed,
// plus a tiny check/report harness whose last line is "P passed, F failed" (tests/run.sh reads it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { IC_BIN } from './reference.mjs';

export function runCost(file, env = {}, args = [], input = undefined) {
    if (!existsSync(IC_BIN)) throw new Error(`infercost binary not found at ${IC_BIN} (set IC_BIN or run make all)`);
    const r = spawnSync(IC_BIN, ['cost', ...args, file], {
        encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env }, timeout: 120000, input,
    });
    if (r.error) throw r.error;
    const text = r.stdout;
    const lines = text.length ? text.replace(/\n$/, '').split('\n') : [];
    const parsed = lines.map((l) => { try { return JSON.parse(l); } catch { return { __unparseable: l }; } });
    return { status: r.status, signal: r.signal, stderr: r.stderr, lines, parsed };
}

export class Harness {
    constructor(name) { this.name = name; this.passed = 0; this.failed = 0; this.failures = []; }
    check(ok, label, detail) {
        // failures are printed with control and non-ASCII characters escaped, so they can be copied
        const esc = (t) => String(t).replace(/[^\x20-\x7e\n]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
        if (!ok) { label = esc(label); if (detail) detail = esc(detail); }
        if (ok) this.passed++;
        else { this.failed++; this.failures.push(detail ? `${label}\n      ${detail}` : label); }
        return ok;
    }
    end(maxShown = 20) {
        if (this.failures.length) {
            console.log(`\nfirst ${Math.min(maxShown, this.failures.length)} of ${this.failures.length} failures:`);
            for (const f of this.failures.slice(0, maxShown)) console.log('  - ' + f);
        }
        console.log(`${this.passed} passed, ${this.failed} failed`);
        process.exitCode = this.failed ? 1 : 0;
    }
}
