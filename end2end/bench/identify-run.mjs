// One full Identify run browser -> browser: a Peggy page and a Victor page (two Chromium
// contexts), t rounds in fast mode, timed inside Victor's page from the click on "Identify" to the
// verdict appearing (pairing, t rounds of commit / challenge / response / check through the
// server, rendering every round). Repeats RUNS times with a fresh Peggy each time.
// Usage: node end2end/bench/identify-run.mjs BASE_URL [ROUNDS=20] [K=20] [RUNS=5]
import { chromium } from '@playwright/test';

const [base, rounds = '20', k = '20', runs = '5'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const times = [];
for (let i = 0; i < Number(runs); i++) {
  const peggy = await (await browser.newContext()).newPage();
  const victor = await (await browser.newContext()).newPage();
  await peggy.goto(`${base}/peggy`);
  await victor.goto(`${base}/victor`);
  for (const p of [peggy, victor]) await p.locator('main[data-hydrated="true"]').waitFor();
  const name = `bench-${i}-${Date.now()}`;
  await peggy.fill('#peggy-name', name);
  await peggy.fill('#peggy-k', k);
  await peggy.click('#peggy-register');
  await peggy.locator('#peggy-status', { hasText: 'Waiting for a Victor' }).waitFor();
  const keygen = (await peggy.locator('#peggy-keys').textContent()).match(/in ([\d.]+) ms/)[1];
  await victor.fill('#victor-rounds', rounds);
  await victor.selectOption('#victor-mode', 'fast');
  const pick = victor.locator(`#victor-peggys tr.peggy[data-name="${name}"] button.pick`);
  await pick.waitFor();
  await pick.evaluate((button) => {
    const verdict = document.querySelector('#victor-verdict');
    window.__done = new Promise((resolve) => {
      new MutationObserver(() => {
        if (verdict.textContent.trim() !== '') resolve(performance.now());
      }).observe(verdict, { childList: true, subtree: true, characterData: true });
    });
    window.__t0 = performance.now();
    button.click();
  });
  const ms = await victor.evaluate(async () => (await window.__done) - window.__t0);
  const verdict = await victor.locator('#victor-verdict').textContent();
  if (!verdict.startsWith(`Accepted: ${rounds} of ${rounds}`)) throw new Error(`unexpected verdict: ${verdict}`);
  await peggy.locator('#peggy-verdict', { hasText: 'accepted' }).waitFor();
  times.push(ms);
  console.log(`run ${i + 1}: t = ${rounds}, k = ${k}: ${ms.toFixed(1)} ms click → verdict (Peggy's keygen ${keygen} ms)`);
  await peggy.context().close();
  await victor.context().close();
}
times.sort((a, b) => a - b);
console.log(`median full run browser -> browser: ${times[Math.floor(times.length / 2)].toFixed(1)} ms`);
await browser.close();
