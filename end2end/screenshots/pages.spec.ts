// Pictures of the teaching pages for the README, at a laptop's and a phone's size.
import { test, expect, Browser, Page } from '@playwright/test';
import * as path from 'path';

const out = path.resolve(__dirname, '../../docs/screenshots');
const sizes = [{ name: '1280', width: 1280, height: 900 }, { name: '390', width: 390, height: 844 }];

async function open(browser: Browser, url: string, size: { width: number; height: number }): Promise<Page> {
  const page = await (await browser.newContext({ viewport: size })).newPage();
  await page.goto(url);
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
  return page;
}

for (const size of sizes) {
  test(`screenshots at ${size.name} px`, async ({ browser }) => {
    // A Peggy without the secret, caught: both pages.
    const name = `Mallory ${size.name}`;
    const peggy = await open(browser, '/peggy', size);
    const victor = await open(browser, '/victor', size);
    await peggy.fill('#peggy-name', name);
    await peggy.fill('#peggy-k', '2');
    await peggy.check('#peggy-cheat');
    await peggy.click('#peggy-register');
    await expect(peggy.locator('#peggy-status')).toHaveText('Waiting for a Victor…');
    await victor.fill('#victor-rounds', '6');
    await victor.locator(`#victor-peggys tr.peggy[data-name="${name}"] button.pick`).click();
    await expect(victor.locator('#victor-verdict')).not.toBeEmpty();
    await expect(peggy.locator('#peggy-verdict')).not.toBeEmpty();
    await peggy.screenshot({ path: `${out}/peggy-cheat-${size.name}.png`, fullPage: true });
    await victor.screenshot({ path: `${out}/victor-caught-${size.name}.png` });
    // Many runs at k = 1, t = 2.
    await victor.fill('#batch-runs', '2000');
    await victor.fill('#batch-k', '1');
    await victor.fill('#batch-t', '2');
    await victor.click('#batch-run');
    await expect(victor.locator('#soundness-chart')).toHaveAttribute('data-runs', '2000');
    await victor.locator('#many-runs').screenshot({ path: `${out}/victor-many-runs-${size.name}.png` });
    // The simulator after one guess.
    const sim = await open(browser, '/simulator', size);
    await sim.click('#sim-next');
    await sim.locator('.transcript').first().locator('button.guess').click();
    await sim.screenshot({ path: `${out}/simulator-${size.name}.png`, fullPage: true });
    // Readable demo mode: the Handbook's round, Victor in projector mode (?present).
    const hac = `Handbook ${size.name}`;
    const demoPeggy = await open(browser, '/peggy', size);
    const demoVictor = await open(browser, '/victor?present', size);
    await demoPeggy.fill('#peggy-name', hac);
    await demoPeggy.selectOption('#peggy-size', 'hac');
    await demoPeggy.click('#peggy-register');
    await expect(demoPeggy.locator('#peggy-status')).toHaveText('Waiting for a Victor…');
    await demoPeggy.fill('#peggy-r', '1279');
    await demoPeggy.check('#peggy-r-negative');
    await demoPeggy.click('#peggy-use-r');
    await demoVictor.fill('#victor-rounds', '2');
    await demoVictor.selectOption('#victor-mode', 'manual');
    await demoVictor.locator(`#victor-peggys tr.peggy[data-name="${hac}"] button.pick`).click();
    for (const bits of ['001', '110']) {
      await expect(demoVictor.locator('#victor-manual')).toBeVisible();
      await demoVictor.fill('#victor-bits', bits);
      await demoVictor.click('#victor-send-challenge');
      await expect(demoVictor.locator(`#victor-log tr.formula .check-formula`)).toHaveCount(bits === '001' ? 1 : 2);
    }
    await expect(demoVictor.locator('#victor-verdict')).toContainText('Accepted');
    await expect(demoPeggy.locator('#peggy-verdict')).toContainText('accepted');
    await demoPeggy.screenshot({ path: `${out}/demo-peggy-${size.name}.png`, fullPage: true });
    await demoVictor.screenshot({ path: `${out}/demo-victor-present-${size.name}.png`, fullPage: true });
  });
}
