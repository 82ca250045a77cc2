// One full Identify run browser -> browser: a Peggy page and a Victor page (two Chromium
// contexts), t rounds in fast mode, timed inside Victor's page from the click on "Identify" to the
// verdict appearing (pairing, t rounds of commit / challenge / response / check through the
// server, rendering every round). Repeats RUNS times with a fresh Peggy each time.
// Driven over CDP by ./cdp.mjs, not Playwright (whose Network domain taxes every WebSocket frame).
// Usage: node end2end/bench/identify-run.mjs BASE_URL [ROUNDS=20] [K=20] [RUNS=5]
import { launch } from './cdp.mjs';

const [base, rounds = '20', k = '20', runs = '5'] = process.argv.slice(2);
const browser = await launch();
const times = [];
for (let i = 0; i < Number(runs); i++) {
  const peggy = await browser.newPerson();
  const victor = await browser.newPerson();
  await peggy.goto(`${base}/peggy`);
  await victor.goto(`${base}/victor`);
  await peggy.send('Performance.enable', {});
  await victor.send('Performance.enable', {});
  const name = `bench-${i}-${Date.now()}`;
  await peggy.fill('#peggy-name', name);
  await peggy.fill('#peggy-k', k);
  await peggy.click('#peggy-register');
  await peggy.text('#peggy-status', { hasText: 'Waiting for a Victor' });
  const keygen = (await peggy.text('#peggy-keys')).match(/in ([\d.]+) ms/)[1];
  await victor.fill('#victor-rounds', rounds);
  await victor.fill('#victor-mode', 'fast');
  const pick = JSON.stringify(`#victor-peggys tr.peggy[data-name="${name}"] button.pick`);
  await victor.waitFor(`!!document.querySelector(${pick})`, { what: `${name} in Victor's list` });
  await victor.evaluate(`(() => {
    const button = document.querySelector(${pick});
    const verdict = document.querySelector('#victor-verdict');
    window.__done = new Promise((resolve) => {
      new MutationObserver(() => {
        if (verdict.textContent.trim() !== '') resolve(performance.now());
      }).observe(verdict, { childList: true, subtree: true, characterData: true });
    });
    window.__t0 = performance.now();
    button.click();
  })()`);
  const before = await Promise.all([peggy, victor].map(work));
  const ms = await victor.evaluate('(async () => (await window.__done) - window.__t0)()', { timeout: 600_000 });
  const after = await Promise.all([peggy, victor].map(work));
  const verdict = await victor.evaluate(`document.querySelector('#victor-verdict').textContent`);
  if (!verdict.startsWith(`Accepted: ${rounds} of ${rounds}`)) throw new Error(`unexpected verdict: ${verdict}`);
  await peggy.text('#peggy-verdict', { hasText: 'accepted' });
  times.push(ms);
  console.log(`run ${i + 1}: t = ${rounds}, k = ${k}: ${ms.toFixed(1)} ms click → verdict (Peggy's keygen ${keygen} ms)`);
  for (const [who, b, a] of [['Peggy', before[0], after[0]], ['Victor', before[1], after[1]]]) {
    const d = Object.fromEntries(Object.keys(a).map((m) => [m, ((a[m] - b[m]) * 1000).toFixed(0)]));
    console.log(`  ${who}'s page work (ms): script ${d.ScriptDuration}, style ${d.RecalcStyleDuration}, layout ${d.LayoutDuration}, all tasks ${d.TaskDuration}`);
  }
  await peggy.close();
  await victor.close();
}
times.sort((a, b) => a - b);

// The main thread's cumulative work on a page (seconds), from Chromium's Performance domain.
async function work(page) {
  const { metrics } = await page.send('Performance.getMetrics', {});
  const names = ['ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration', 'TaskDuration'];
  return Object.fromEntries(metrics.filter((m) => names.includes(m.name)).map((m) => [m.name, m.value]));
}
console.log(`median full run browser -> browser: ${times[Math.floor(times.length / 2)].toFixed(1)} ms`);
await browser.close();
