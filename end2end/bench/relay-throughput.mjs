// Browser -> browser throughput through the relay: two Chromium contexts on /send and /receive,
// one file of SIZE_MB (default 200), timed from the click on Send to "delivered" (which includes the
// PAKE exchange, reading the file in the page, encryption, the relay, decryption and the
// recipient's acknowledgement). The received file's SHA-256 is checked.
// Driven over CDP by ./cdp.mjs, not Playwright (whose Network domain taxes every WebSocket frame).
// Usage: node end2end/bench/relay-throughput.mjs BASE_URL [SIZE_MB] [RUNS]
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { launch } from './cdp.mjs';

const [base, sizeMb = '200', runs = '3'] = process.argv.slice(2);
const size = Number(sizeMb) * 1024 * 1024;
const browser = await launch();
const content = crypto.randomBytes(size);
const want = crypto.createHash('sha256').update(content).digest('hex');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrelay-bench-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
// The page reads the file by path, as a user's file picker would give it.
const source = path.join(dir, 'bench.bin');
fs.writeFileSync(source, content);
const rates = [];
for (let i = 0; i < Number(runs); i++) {
  const alice = await browser.newPerson();
  const bob = await browser.newPerson({ downloads: dir });
  await alice.goto(`${base}/send`);
  await bob.goto(`${base}/receive`);
  await alice.setInputFiles('#send-file', source);
  const t0 = performance.now();
  await alice.click('#send-button');
  const phrase = (await alice.text('#send-phrase')).trim();
  await bob.fill('#receive-code', phrase);
  await bob.click('#receive-button');
  const status = await alice.waitFor(`(t => /delivered|stopped/.test(t) && t)(document.querySelector('#send-status').textContent)`,
    { timeout: 600_000, what: '#send-status to say "delivered"' });
  const secs = (performance.now() - t0) / 1000;
  if (!status.includes('delivered')) {
    throw new Error(`the transfer failed; sender: ${status}; recipient: ${await bob.text('#receive-status')}`);
  }
  const saved = await bob.download('#receive-download');
  const got = crypto.createHash('sha256').update(fs.readFileSync(saved)).digest('hex');
  if (got !== want) throw new Error(`checksum mismatch: sent ${want}, received ${got}`);
  fs.rmSync(saved);
  rates.push(size / secs / 1e6);
  console.log(`run ${i + 1}: ${(size / 1e6).toFixed(0)} MB in ${secs.toFixed(2)} s = ${(size / secs / 1e6).toFixed(0)} MB/s (sha256 equal)`);
  await alice.close();
  await bob.close();
}
rates.sort((a, b) => a - b);
console.log(`median browser->browser through the relay: ${rates[Math.floor(rates.length / 2)].toFixed(0)} MB/s`);
await browser.close();
