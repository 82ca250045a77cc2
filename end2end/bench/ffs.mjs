// Feige–Fiat–Shamir in headless Chromium: zkrelay's WASM build (the hydrated home page's
// /pkg/zkrelay.js, entry points in src/client/ffs_bench.rs) against the same math in JS BigInt
// (bench/ffs-bigint.js), in the same page, on the same Blum moduli, for keygen, commit, respond,
// verify and one whole round at |n| = 1024/2048/3072 and k = 1/20/64. Each side also checks an
// honest round made by the other. Prints mean µs per operation and the ratio WASM / JS.
// Usage: node end2end/bench/ffs.mjs BASE_URL [MIN_MS_PER_OP=300] [SIZES=1024,2048,3072] [KS=1,20,64]
import { chromium } from '@playwright/test';
import crypto from 'crypto';
import path from 'path';
import { fileURLToPath } from 'url';

const [base, minMsArg = '300', sizesArg = '1024,2048,3072', ksArg = '1,20,64'] = process.argv.slice(2);
const minMs = Number(minMsArg);
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
console.log(`${await browser.version()}, ${minMs} ms per operation and side`);

const ops = ['keygen', 'commit', 'respond', 'verify', 'round'];
const us = (ms) => (ms * 1000).toFixed(1).padStart(9);
console.log(`${'|n|'.padStart(5)} ${'k'.padStart(3)} ${'op'.padEnd(8)} ${'wasm µs'.padStart(9)} ${'JS µs'.padStart(9)} ${'wasm/JS'.padStart(8)}`);
for (const bits of sizes) {
  const n = blum(bits);
  for (const k of ks) {
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
    for (const op of ops) {
      const ratio = got.w[op] / got.js[op];
      console.log(`${String(bits).padStart(5)} ${String(k).padStart(3)} ${op.padEnd(8)} ${us(got.w[op])} ${us(got.js[op])} ${ratio.toFixed(2).padStart(8)}`);
    }
  }
}
console.log('cross-checks: every WASM round accepted by the JS verifier and every JS round by WASM');
await browser.close();
