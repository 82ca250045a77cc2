// Browser -> browser throughput through the relay: two Chromium contexts on /send and /receive,
// one file of SIZE_MB (default 200), timed from the click on Send to "delivered" (which includes the
// PAKE exchange, reading the file in the page, encryption, the relay, decryption and the
// recipient's acknowledgement). The received file's SHA-256 is checked.
// Usage: node end2end/bench/relay-throughput.mjs BASE_URL [SIZE_MB] [RUNS]
import { chromium } from '@playwright/test';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';

const [base, sizeMb = '200', runs = '3'] = process.argv.slice(2);
const size = Number(sizeMb) * 1024 * 1024;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const content = crypto.randomBytes(size);
const want = crypto.createHash('sha256').update(content).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrelay-bench-'));
// Playwright passes large files by path, not as a buffer.
const source = path.join(dir, 'bench.bin');
fs.writeFileSync(source, content);
const rates = [];
for (let i = 0; i < Number(runs); i++) {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await alice.goto(`${base}/send`);
  await bob.goto(`${base}/receive`);
  for (const p of [alice, bob]) await p.locator('main[data-hydrated="true"]').waitFor();
  await alice.setInputFiles('#send-file', source);
  const t0 = performance.now();
  await alice.click('#send-button');
  const phrase = (await alice.locator('#send-phrase').textContent()).trim();
  await bob.fill('#receive-code', phrase);
  await bob.click('#receive-button');
  await alice.locator('#send-status', { hasText: 'delivered' }).waitFor({ timeout: 600_000 });
  const secs = (performance.now() - t0) / 1000;
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.click('#receive-download')]);
  const saved = path.join(dir, `got-${i}.bin`);
  await download.saveAs(saved);
  const got = crypto.createHash('sha256').update(fs.readFileSync(saved)).digest('hex');
  if (got !== want) throw new Error('checksum mismatch');
  fs.rmSync(saved);
  rates.push(size / secs / 1e6);
  console.log(`run ${i + 1}: ${(size / 1e6).toFixed(0)} MB in ${secs.toFixed(2)} s = ${(size / secs / 1e6).toFixed(0)} MB/s (sha256 equal)`);
  await alice.context().close();
  await bob.context().close();
}
rates.sort((a, b) => a - b);
console.log(`median browser->browser through the relay: ${rates[Math.floor(rates.length / 2)].toFixed(0)} MB/s`);
await browser.close();
fs.rmSync(dir, { recursive: true, force: true });
