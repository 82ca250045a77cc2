// First load of a page in headless Chromium, cache empty: the bytes on the wire (every response's
// transferSize: headers and the encoded, i.e. compressed, body) and the time from the navigation's
// start to the app being interactive (`<main data-hydrated="true">`, set by the app's first
// effect after hydration, which for a lazily loaded page waits for its modules).
//   node bench/first-load.mjs REPS PAGES NAME=URL [NAME=URL ...]
// Runs alternate between the servers (same Chromium, a fresh context each time), on loopback and
// on an emulated 20 Mbit/s, 40 ms link; prints medians.
import { chromium } from 'playwright';

const [reps, pages, ...servers] = process.argv.slice(2);
const targets = servers.map((s) => { const i = s.indexOf('='); return [s.slice(0, i), s.slice(i + 1)]; });
const links = {
  loopback: null,
  '20 Mbit/s, 40 ms': { offline: false, latency: 40, downloadThroughput: 20e6 / 8, uploadThroughput: 10e6 / 8 },
};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function once(url, link) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (link) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', link);
  }
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('main[data-hydrated="true"]')) {
        window.__interactiveAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  await page.goto(url);
  await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => ({
    ms: window.__interactiveAt,
    bytes: performance.getEntries().reduce((sum, e) => sum + (e.transferSize ?? 0), 0),
    files: performance.getEntriesByType('resource').length + 1,
  }));
  await context.close();
  return result;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const [linkName, link] of Object.entries(links)) {
  const runs = new Map();
  for (let r = 0; r < Number(reps); r++) {
    for (const path of pages.split(',')) {
      for (const [name, base] of targets) {
        const key = `${path}\t${name}`;
        if (!runs.has(key)) runs.set(key, []);
        runs.get(key).push(await once(base + path, link));
      }
    }
  }
  console.log(`\n${linkName} (median of ${reps} cold loads)`);
  console.log('page        server      transferred    requests   time to interactive');
  for (const [key, xs] of runs) {
    const [path, name] = key.split('\t');
    console.log(`${path.padEnd(11)} ${name.padEnd(11)} ${(median(xs.map((x) => x.bytes)) / 1000).toFixed(1).padStart(8)} KB ${String(median(xs.map((x) => x.files))).padStart(8)}   ${median(xs.map((x) => x.ms)).toFixed(0).padStart(8)} ms`);
  }
}
await browser.close();
