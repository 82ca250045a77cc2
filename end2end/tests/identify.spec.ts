// Identify in two browsers: a Peggy and a Victor (two contexts, two people) run Feige–Fiat–Shamir
// live; afterwards the Peggy is gone from the list and from the database. A Victor who stops a
// run early leaves her registered and waiting for the next one.
import { test, expect, Browser, Page } from '@playwright/test';
import { execFileSync } from 'child_process';

/** Rows of the server's peggys table with this name (python's sqlite3 reads the WAL database). */
function peggyRows(name: string): number {
  const db = process.env.E2E_DB!;
  const out = execFileSync('python3', ['-c',
    'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); ' +
    'print(c.execute("select count(*) from peggys where name = ?", (sys.argv[2],)).fetchone()[0])',
    db, name]);
  return Number(out.toString().trim());
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

async function open(browser: Browser, path: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(path);
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
  return page;
}

/** Peggy registers with `k` secrets and waits; Victor sees her in the list as free. */
async function peggyWaits(browser: Browser, name: string, k: number) {
  const peggy = await open(browser, '/peggy');
  const victor = await open(browser, '/victor');
  await peggy.fill('#peggy-name', name);
  await peggy.fill('#peggy-k', String(k));
  await peggy.click('#peggy-register');
  await expect(peggy.locator('#peggy-status')).toHaveText('Waiting for a Victor…');
  await expect(peggy.locator('#peggy-keys')).toContainText(`|n| = 2048 bits, k = ${k}`);
  const row = victor.locator(`#victor-peggys tr.peggy[data-name="${name}"]`);
  await expect(row).toContainText('free');
  await expect(row).toContainText('2048');
  expect(peggyRows(name)).toBe(1);
  return { peggy, victor, row };
}

test('Peggy and Victor complete 10 rounds with k = 20 at |n| = 2048; then she is erased', async ({ browser }) => {
  const name = 'Peggy Ten';
  const { peggy, victor, row } = await peggyWaits(browser, name, 20);
  const errors = [...collectErrors(peggy), ...collectErrors(victor)];
  await victor.fill('#victor-rounds', '10');
  await victor.selectOption('#victor-mode', 'fast');
  await row.locator('button.pick').click();

  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 10 of 10 rounds passed');
  await expect(victor.locator('#victor-verdict')).toContainText('2^-200');
  await expect(peggy.locator('#peggy-verdict')).toHaveText('Victor accepted you: 10 of 10 rounds passed.');
  // Both pages show every round: x, e (20 bits), y and a passing check.
  for (const [page, table] of [[victor, '#victor-log'], [peggy, '#peggy-rounds']] as const) {
    const rounds = page.locator(`${table} tbody tr.round`);
    await expect(rounds).toHaveCount(10);
    for (let i = 0; i < 10; i++) {
      const cells = rounds.nth(i).locator('td');
      await expect(cells.nth(0)).toHaveText(String(i + 1));
      await expect(cells.nth(1)).toHaveText(/^[0-9a-f]{8}…[0-9a-f]{8}$/);
      await expect(cells.nth(2)).toHaveText(/^[01]{20}$/);
      await expect(cells.nth(3)).toHaveText(/^[0-9a-f]{8}…[0-9a-f]{8}$/);
      await expect(cells.nth(4)).toHaveText('✓ pass');
      await expect(cells.nth(5)).toHaveText(`2^-${20 * (i + 1)}`);
    }
  }
  // The same x went from Peggy to Victor.
  const px = await peggy.locator('#peggy-rounds tbody tr.round td:nth-child(2)').first().getAttribute('title');
  const vx = await victor.locator('#victor-log tbody tr.round td:nth-child(2)').first().getAttribute('title');
  expect(px).toBe(vx);
  expect(px!.length).toBeGreaterThan(500);

  // Both pages return to their start with a clear message; the Peggy is gone everywhere.
  await expect(peggy.locator('#peggy-notice')).toContainText('erased from the server');
  await expect(peggy.locator('#peggy-register')).toBeEnabled();
  await expect(victor.locator('#victor-notice')).toContainText('the server erased this Peggy');
  await expect(victor.locator(`#victor-peggys tr.peggy[data-name="${name}"]`)).toHaveCount(0);
  expect(peggyRows(name)).toBe(0);
  expect(errors).toEqual([]);
});

test('A run of 130 rounds shows its last 100 with the first 30 folded, and every round on request', async ({ browser }) => {
  const name = 'Peggy Long';
  const { peggy, victor, row } = await peggyWaits(browser, name, 4);
  const errors = [...collectErrors(peggy), ...collectErrors(victor)];
  await victor.fill('#victor-rounds', '130');
  await victor.selectOption('#victor-mode', 'fast');
  await row.locator('button.pick').click();
  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 130 of 130 rounds passed');
  for (const [page, table] of [[victor, '#victor-log'], [peggy, '#peggy-rounds']] as const) {
    const rounds = page.locator(`${table} tbody tr.round`);
    await expect(rounds).toHaveCount(100);
    await expect(rounds.first()).toHaveAttribute('data-round', '31');
    await expect(rounds.last()).toHaveAttribute('data-round', '130');
    await expect(page.locator(`${table} tbody.folded`)).toContainText('Rounds 1–30 are folded');
    await page.locator(`${table} button.show-all`).click();
    await expect(rounds).toHaveCount(130);
    await expect(rounds.first()).toHaveAttribute('data-round', '1');
    await expect(rounds.first().locator('td').nth(4)).toHaveText('✓ pass');
    await expect(page.locator(`${table} tbody.folded`)).toHaveCount(0);
  }
  expect(errors).toEqual([]);
});

test('A Peggy without the secret guesses, is caught at 2048 bits / k = 20, and both pages show the round', async ({ browser }) => {
  const name = 'Peggy Bluff';
  const peggy = await open(browser, '/peggy');
  const victor = await open(browser, '/victor');
  const errors = [...collectErrors(peggy), ...collectErrors(victor)];
  await peggy.fill('#peggy-name', name);
  await peggy.fill('#peggy-k', '20');
  await peggy.check('#peggy-cheat');
  await peggy.click('#peggy-register');
  await expect(peggy.locator('#peggy-status')).toHaveText('Waiting for a Victor…');
  await expect(peggy.locator('#peggy-keys')).toContainText('threw the 20 secrets away');
  // Victor's list shows her like any Peggy: nothing tells him she bluffs.
  const row = victor.locator(`#victor-peggys tr.peggy[data-name="${name}"]`);
  await expect(row).toContainText('free');
  await expect(row).toContainText('2048');
  await victor.fill('#victor-rounds', '10');
  await victor.selectOption('#victor-mode', 'fast');
  await row.locator('button.pick').click();

  // She survives round 1 with probability 2^-20: caught there.
  await expect(victor.locator('#victor-verdict')).toContainText('Rejected: caught at round 1');
  await expect(peggy.locator('#peggy-verdict')).toContainText('Caught at round 1');
  const vRounds = victor.locator('#victor-log tbody tr.round');
  await expect(vRounds).toHaveCount(1);
  await expect(vRounds.first().locator('td').nth(4)).toHaveText('✗ fail: caught');
  await expect(victor.locator('#victor-log thead th')).toHaveCount(6);
  await expect(victor.locator('#victor-log td.guess')).toHaveCount(0);
  // Peggy's page shows her bet ê beside Victor's e, marked wrong.
  const pRound = peggy.locator('#peggy-rounds tbody tr.round').first();
  await expect(peggy.locator('#peggy-rounds thead th').nth(1)).toHaveText('her guess ê');
  const guess = pRound.locator('td.guess');
  await expect(guess).toHaveText(/^[01]{20}$/);
  await expect(guess).toHaveClass(/wrong/);
  const e = await pRound.locator('td').nth(3).textContent();
  expect(e).toMatch(/^[01]{20}$/);
  expect(await guess.textContent()).not.toBe(e);
  expect(await vRounds.first().locator('td').nth(2).textContent()).toBe(e);
  await expect(pRound.locator('td').nth(5)).toHaveText('✗ fail: caught');
  await expect.poll(() => peggyRows(name)).toBe(0);
  expect(errors).toEqual([]);
});

test('manual challenges: Victor sets the bits of each round himself', async ({ browser }) => {
  const name = 'Peggy Manual';
  const { peggy, victor, row } = await peggyWaits(browser, name, 4);
  await victor.fill('#victor-rounds', '2');
  await victor.selectOption('#victor-mode', 'manual');
  await row.locator('button.pick').click();
  for (const [round, bits] of [[1, '1010'], [2, '0111']] as const) {
    const manual = victor.locator('#victor-manual');
    await expect(manual).toContainText(`Round ${round}`);
    // Start from 0000 and flip the chosen bits by clicking them.
    for (let j = 0; j < 4; j++) {
      if (bits[j] === '1') await manual.locator(`button.bit[data-bit="${j}"]`).click();
    }
    await expect(victor.locator('#victor-bits')).toHaveValue(bits);
    await victor.click('#victor-send-challenge');
    // Peggy answered exactly that challenge.
    await expect(peggy.locator(`#peggy-rounds tr.round[data-round="${round}"] td`).nth(2)).toHaveText(bits);
    await expect(victor.locator(`#victor-log tr.round[data-round="${round}"] td`).nth(4)).toHaveText('✓ pass');
  }
  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 2 of 2 rounds passed');
  await expect(peggy.locator('#peggy-verdict')).toContainText('Victor accepted you');
  await expect.poll(() => peggyRows(name)).toBe(0);
});

test('readable demo mode: the Handbook\'s n = 553913, r = 1279, e = 001 gives x = 25898, y = 403104 in decimal', async ({ browser }) => {
  const name = 'Peggy Handbook';
  const peggy = await open(browser, '/peggy');
  const victor = await open(browser, '/victor');
  const errors = [...collectErrors(peggy), ...collectErrors(victor)];
  await expect(peggy.locator('#peggy-insecure')).toBeHidden();
  await expect(peggy.locator('#peggy-nonce')).toBeHidden();
  await peggy.fill('#peggy-name', name);
  await peggy.selectOption('#peggy-size', 'hac');
  await expect(peggy.locator('#peggy-insecure')).toBeVisible();
  await expect(peggy.locator('#peggy-insecure')).toContainText('Insecure demo modulus');
  await expect(peggy.locator('#peggy-k')).toBeDisabled();
  await expect(peggy.locator('#peggy-k')).toHaveValue('3');
  await peggy.click('#peggy-register');
  await expect(peggy.locator('#peggy-status')).toHaveText('Waiting for a Victor…');
  const keys = peggy.locator('#peggy-keys');
  await expect(keys).toContainText('|n| = 20 bits, k = 3');
  await expect(keys).toContainText('n = 553913 (its factors p · q stay hidden)');
  await expect(keys).toContainText('s = (157, 43215, 4646)');
  await expect(keys).toContainText('I = (441845, 338402, 124423)');
  expect(await keys.textContent()).not.toMatch(/683|811/);
  await expect(peggy.locator('#peggy-insecure')).toContainText('n = 553913 has 20 bits');
  // She picks the book's r and sign for her first round; a bad r is refused with a reason.
  await peggy.fill('#peggy-r', '683');
  await peggy.click('#peggy-use-r');
  await expect(peggy.locator('#peggy-notice')).toContainText('not coprime');
  await peggy.fill('#peggy-r', '1279');
  await peggy.check('#peggy-r-negative');
  await peggy.click('#peggy-use-r');
  await expect(peggy.locator('#peggy-r-note')).toContainText('r = 1279 and x = −r² mod n');

  const row = victor.locator(`#victor-peggys tr.peggy[data-name="${name}"]`);
  await expect(row).toContainText('20 · insecure demo');
  await victor.fill('#victor-rounds', '1');
  await victor.selectOption('#victor-mode', 'manual');
  await row.locator('button.pick').click();
  await expect(victor.locator('#victor-insecure')).toContainText('n = 553913 has 20 bits');
  const manual = victor.locator('#victor-manual');
  await expect(manual).toContainText('Round 1');
  await manual.locator('button.bit[data-bit="2"]').click();
  await expect(victor.locator('#victor-bits')).toHaveValue('001');
  await victor.click('#victor-send-challenge');
  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 1 of 1 rounds passed');

  // Victor's page: the numbers in decimal and his check with the selected I₃ marked.
  const vRow = victor.locator('#victor-log tr.round[data-round="1"] td');
  await expect(vRow.nth(1)).toHaveText('25898');
  await expect(vRow.nth(2)).toHaveText('001');
  await expect(vRow.nth(3)).toHaveText('403104');
  const vFormula = victor.locator('#victor-log tr.formula[data-round="1"]');
  await expect(vFormula.locator('.check-formula')).toContainText('403104² · 124423 mod 553913 = 25898 = x ✓');
  await expect(vFormula.locator('.check-formula .picked')).toHaveText(['124423']);
  await expect(vFormula.locator('.commit-formula')).toHaveCount(0);
  // Peggy's page: her commitment and answer worked out, s₃ marked.
  const pFormula = peggy.locator('#peggy-rounds tr.formula[data-round="1"]');
  await expect(pFormula.locator('.commit-formula')).toHaveText('x = −1279² mod 553913 = 25898');
  await expect(pFormula.locator('.answer-formula')).toContainText('y = 1279 · 4646 mod 553913 = 403104');
  await expect(pFormula.locator('.answer-formula .picked')).toHaveText(['4646']);
  await expect(peggy.locator('#peggy-verdict')).toContainText('Victor accepted you');
  await expect.poll(() => peggyRows(name)).toBe(0);
  expect(errors).toEqual([]);
});

test('Peggy closing her tab mid-run resets Victor and erases her', async ({ browser }) => {
  const name = 'Peggy Leaves';
  const { peggy, victor, row } = await peggyWaits(browser, name, 20);
  await victor.fill('#victor-rounds', '5');
  await victor.selectOption('#victor-mode', 'step');
  await row.locator('button.pick').click();
  // Step mode: one round per click.
  await victor.click('#victor-next');
  await expect(victor.locator('#victor-log tr.round[data-round="1"] td').nth(4)).toHaveText('✓ pass');
  await expect(victor.locator('#victor-next')).toContainText('Challenge round 2');
  await peggy.close();
  await expect(victor.locator('#victor-notice')).toContainText('Peggy left the run');
  await expect(victor.locator('#victor-next')).toHaveCount(0);
  await expect(victor.locator(`#victor-peggys tr.peggy[data-name="${name}"]`)).toHaveCount(0);
  await expect.poll(() => peggyRows(name)).toBe(0);
});

test('Victor stopping a run leaves Peggy waiting; the next run completes', async ({ browser }) => {
  const name = 'Peggy Stays';
  const { peggy, victor, row } = await peggyWaits(browser, name, 20);
  const errors = [...collectErrors(peggy), ...collectErrors(victor)];
  await victor.fill('#victor-rounds', '3');
  await victor.selectOption('#victor-mode', 'step');
  await row.locator('button.pick').click();
  await victor.click('#victor-next');
  await expect(victor.locator('#victor-log tr.round[data-round="1"] td').nth(4)).toHaveText('✓ pass');
  // Peggy saw round 1 pass and at once committed round 2, which waits for Victor's next step.
  await expect(peggy.locator('#peggy-rounds tr.round[data-round="1"] td').nth(4)).toHaveText('✓ pass');
  await expect(peggy.locator('#peggy-rounds tbody tr.round')).toHaveCount(2);
  await victor.click('#victor-leave');
  await expect(victor.locator('#victor-notice')).toHaveText('You left the run; that Peggy waits for another Victor.');
  // Peggy is told and keeps waiting: still registered, listed as free, her page still connected.
  await expect(peggy.locator('#peggy-status')).toHaveText('Victor left the run — waiting for another Victor…');
  await expect(peggy.locator('#peggy-leave')).toBeEnabled();
  await expect(peggy.locator('#peggy-register')).toBeDisabled();
  await expect(peggy.locator('#peggy-notice')).toHaveText('');
  await expect(row).toContainText('free');
  expect(peggyRows(name)).toBe(1);
  // The next run starts afresh and ends as usual: verdict on both pages, then she is erased.
  await victor.selectOption('#victor-mode', 'fast');
  await row.locator('button.pick').click();
  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 3 of 3 rounds passed');
  await expect(peggy.locator('#peggy-verdict')).toHaveText('Victor accepted you: 3 of 3 rounds passed.');
  await expect(peggy.locator('#peggy-rounds tbody tr.round')).toHaveCount(3);
  await expect(peggy.locator('#peggy-notice')).toContainText('erased from the server');
  await expect(victor.locator('#victor-notice')).toContainText('the server erased this Peggy');
  await expect.poll(() => peggyRows(name)).toBe(0);
  expect(errors).toEqual([]);
});

test('many runs at k = 1, t = 1: the bluffer is accepted within 3σ of 1/2, drawn live on the chart', async ({ browser, request }) => {
  // Server-rendered frame: the chart with its axes, theory line and band before any script runs.
  const html = await (await request.get('/victor')).text();
  expect(html).toMatch(/<svg[^>]*id="soundness-chart"[^>]*data-runs="0"/);
  expect(html).toMatch(/<line[^>]*class="theory"/);
  expect(html).toMatch(/<polygon class="band" points="[0-9]/);
  const victor = await open(browser, '/victor');
  const errors = collectErrors(victor);
  const chart = victor.locator('#soundness-chart');
  await expect(chart).toHaveAttribute('data-runs', '0');
  await victor.fill('#batch-runs', '1000');
  await victor.fill('#batch-k', '1');
  await victor.fill('#batch-t', '1');
  await victor.click('#batch-run');
  await expect(chart).toHaveAttribute('data-runs', '1000', { timeout: 30_000 });
  await expect(victor.locator('#batch-note')).toContainText('1000 runs per Peggy');
  const n = Number(await chart.getAttribute('data-runs'));
  const accepted = Number(await chart.getAttribute('data-accepted'));
  const expected = Number(await chart.getAttribute('data-expected'));
  const sigma = Number(await chart.getAttribute('data-sigma'));
  expect(expected).toBe(0.5);
  expect(sigma).toBeCloseTo(Math.sqrt(0.25 / 1000), 6);
  expect(Math.abs(accepted / n - 0.5)).toBeLessThanOrEqual(3 * sigma);
  expect(Number(await chart.getAttribute('data-honest-accepted'))).toBe(1000);
  await expect(chart.locator('line.theory')).toHaveAttribute('data-p', '0.500000');
  // The curves were drawn point by point as runs finished (100 updates + the start).
  const points = Number(await chart.locator('polyline.cheater').getAttribute('data-points'));
  expect(points).toBeGreaterThanOrEqual(50);
  const drawn = (await chart.locator('polyline.cheater').getAttribute('points'))!.trim().split(' ');
  expect(drawn.length).toBe(points);
  expect((await chart.locator('polygon.band').getAttribute('points'))!.split(' ').length).toBeGreaterThan(100);
  // Every rejected run was caught in round 1.
  const bar = victor.locator('#caught-chart g.bar[data-round="1"]');
  await expect(bar).toHaveAttribute('data-count', String(n - accepted));
  await expect(victor.locator('#soundness-summary')).toContainText('within 3σ of the theory');
  expect(errors).toEqual([]);
});

test('the simulator page: both transcripts verify, and the guessing game keeps score', async ({ browser }) => {
  const page = await open(browser, '/victor');
  const errors = collectErrors(page);
  await page.click('a[href="/simulator"]');
  await expect(page.locator('h1')).toHaveText('Which one is real?');
  await expect(page.locator('#sim-score')).toHaveText('Score: 0 right of 0');
  let right = 0;
  for (let round = 1; round <= 8; round++) {
    await page.click('#sim-next');
    const cards = page.locator('.transcript');
    for (let i = 0; i < 2; i++) {
      const card = cards.nth(i);
      await expect(card.locator('.check')).toHaveClass(/pass/);
      await expect(card.locator('.check')).toHaveText(/^\d+²( · \d+)* mod 553913 = \d+ = −?x ✓$/);
      for (const part of ['.x', '.y']) {
        const v = Number(await card.locator(part).textContent());
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThan(553913);
      }
      await expect(card.locator('.e')).toHaveText(/^[01]{3}$/);
    }
    // Guess A every time; the reveal says which was real.
    await cards.nth(0).locator('button.guess').click();
    const reveal = await cards.nth(0).locator('.reveal').textContent();
    if (reveal!.startsWith('real')) right++;
    await expect(cards.nth(1).locator('.reveal')).toHaveText(reveal!.startsWith('real') ? /^simulated/ : /^real/);
    await expect(page.locator('#sim-score')).toHaveText(`Score: ${right} right of ${round}`);
    await expect(cards.nth(1).locator('button.guess')).toBeDisabled();
  }
  expect(errors).toEqual([]);
});

test('Victor\'s list is in the server-rendered page; step mode takes Space; the steps are explained as they happen', async ({ browser, request }) => {
  const name = 'Peggy Listed';
  const { peggy, victor } = await peggyWaits(browser, name, 20);
  // Before any script runs: the HTML the server sends already lists her, with her Identify button.
  const html = await (await request.get('/victor')).text();
  expect(html).toContain(`data-name="${name}"`);
  expect(html).not.toContain('loading the list');
  const explain = victor.locator('details.explain');
  await expect(explain).toHaveAttribute('data-stage', 'none');
  await expect(explain.locator('li')).toHaveCount(5);
  await victor.fill('#victor-rounds', '3');
  await victor.selectOption('#victor-mode', 'step');
  await victor.locator(`#victor-peggys tr.peggy[data-name="${name}"] button.pick`).click();
  await expect(victor.locator('#victor-next')).toContainText('Challenge round 1');
  // Peggy committed; Victor must challenge now: that step is marked, on both pages.
  await expect(explain).toHaveAttribute('data-stage', 'challenge');
  await expect(peggy.locator('details.explain')).toHaveAttribute('data-stage', 'challenge');
  for (const round of [1, 2, 3]) {
    await expect(victor.locator('#victor-next')).toContainText(`Challenge round ${round}`);
    if (round === 2) {
      // Space typed into a field is typing, not a challenge: round 2 stays due.
      await victor.locator('#victor-rounds').press('Space');
      await victor.waitForTimeout(300);
      await expect(victor.locator('#victor-next')).toContainText('Challenge round 2');
      await expect(victor.locator('#victor-log tr.round[data-round="2"] td').nth(2)).toHaveText('');
      await victor.locator('h1').click();
    }
    await victor.keyboard.press('Space');
    await expect(victor.locator(`#victor-log tr.round[data-round="${round}"] td`).nth(4)).toHaveText('✓ pass');
  }
  await expect(victor.locator('#victor-verdict')).toContainText('Accepted: 3 of 3 rounds passed');
  await expect(explain).toHaveAttribute('data-stage', 'verdict');
});

test('projector mode (?present) and a 390 px phone: large type, high contrast, nothing wider than the screen', async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  for (const path of ['/peggy', '/victor', '/simulator', '/']) {
    await page.goto(path);
    await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.locator('.frame')).not.toHaveClass(/present/);
    // The page itself never scrolls sideways; wide tables scroll inside their own box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
  const normal = await page.locator('main').evaluate((m) => parseFloat(getComputedStyle(m).fontSize));
  await page.goto('/victor?present');
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('.frame')).toHaveClass(/present/);
  const large = await page.locator('main').evaluate((m) => parseFloat(getComputedStyle(m).fontSize));
  expect(large).toBeGreaterThan(normal * 1.3);
  const bg = await page.locator('.frame').evaluate((f) => getComputedStyle(f).backgroundColor);
  expect(bg).toBe('rgb(0, 0, 0)');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(wide, '/victor?present').toBeLessThanOrEqual(0);
  await ctx.close();
});
