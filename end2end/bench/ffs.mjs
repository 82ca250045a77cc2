// Feige–Fiat–Shamir in headless Chromium: zkrelay's WASM build (the hydrated home page's
// /pkg/zkrelay.js, entry points in src/client/ffs_bench.rs) against the same math in JS BigInt
// (bench/ffs-bigint.js), in the same page, on the same Blum moduli, for keygen, commit, respond,
// verify and one whole round at |n| = 1024/2048/3072 and k = 1/20/64. Each side also checks an
// honest round made by the other. WASM and JS take turns (REPS times, each timing every
// operation for MIN_MS), so load from elsewhere on the machine hits both alike; the table shows
// the median of the REPS means per operation, in µs, and the ratio of the medians WASM / JS.
// Usage: node end2end/bench/ffs.mjs BASE_URL [MIN_MS=100] [SIZES=1024,2048,3072] [KS=1,20,64] [REPS=5]
import { chromium } from '@playwright/test';
import crypto from 'crypto';
import path from 'path';
import { fileURLToPath } from 'url';

const [base, minMsArg = '100', sizesArg = '1024,2048,3072', ksArg = '1,20,64', repsArg = '5'] =
  process.argv.slice(2);
const minMs = Number(minMsArg);
const reps = Number(repsArg);
const sizes = sizesArg.split(',').map(Number);
const ks = ksArg.split(',').map(Number);
const here = path.dirname(fileURLToPath(import.meta.url));

// A Blum modulus of exactly `bits` bits from OpenSSL's prime generator (p ≡ q ≡ 3 mod 4).
function blum(bits) {
  for (;;) {
    const prime = () => crypto.generatePrimeSync(bits / 2, { bigint: true, add: 4n, rem: 3n });
    const [p, q] = [prime(), prime()];
    const n = p * q;
    if (p !== q && n.toString(2).length === bits) return n.toString(16);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
await page.goto(`${base}/`);
await page.locator('main[data-hydrated="true"]').waitFor();
await page.addScriptTag({ path: path.join(here, 'ffs-bigint.js') });
console.log(`Chromium ${await browser.version()}; medians of ${reps} alternating runs of ${minMs} ms per operation and side`);

const ops = ['keygen', 'commit', 'respond', 'verify', 'round'];
const us = (ms) => (ms * 1000).toFixed(1).padStart(9);
console.log(`${'|n|'.padStart(5)} ${'k'.padStart(3)} ${'op'.padEnd(8)} ${'wasm µs'.padStart(9)} ${'JS µs'.padStart(9)} ${'wasm/JS'.padStart(8)}`);
for (const bits of sizes) {
  const n = blum(bits);
  for (const k of ks) {
    const runs = { w: [], js: [] };
    for (let r = 0; r < reps; r++) {
      const got = await page.evaluate(async ({ n, k, minMs }) => {
        const wasm = await import('/pkg/zkrelay.js');
        const w = JSON.parse(wasm.ffsBench(n, k, minMs));
        const js = window.ffsBigInt.bench(n, k, minMs);
        // Cross-checks: the JS verifier accepts WASM's round, WASM's verifier accepts JS's.
        const jsAcceptsWasm = window.ffsBigInt.check(w.n, w.i, w.x, w.e, w.y);
        const wasmAcceptsJs = wasm.ffsBenchCheck(js.n, js.i.join(','), js.x, js.e, js.y);
        return { w, js, jsAcceptsWasm, wasmAcceptsJs };
      }, { n, k, minMs });
      if (!got.jsAcceptsWasm || !got.wasmAcceptsJs) {
        throw new Error(`cross-check failed at ${bits}/${k}: ${JSON.stringify(got)}`);
      }
      runs.w.push(got.w);
      runs.js.push(got.js);
    }
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const op of ops) {
      const w = median(runs.w.map((x) => x[op]));
      const js = median(runs.js.map((x) => x[op]));
      console.log(`${String(bits).padStart(5)} ${String(k).padStart(3)} ${op.padEnd(8)} ${us(w)} ${us(js)} ${(w / js).toFixed(2).padStart(8)}`);
    }
  }
}
console.log('cross-checks: every WASM round accepted by the JS verifier and every JS round by WASM');
await browser.close();
