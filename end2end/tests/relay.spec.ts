// Relay in two browsers: two contexts (two people) send a text and a 5 MB file with the code.
import { test, expect, Browser, Page } from '@playwright/test';
import * as crypto from 'crypto';
import * as fs from 'fs';

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

async function twoPeople(browser: Browser) {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext({ acceptDownloads: true })).newPage();
  for (const [page, path] of [[alice, '/send'], [bob, '/receive']] as const) {
    await page.goto(path);
    await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
  }
  return { alice, bob };
}

async function handOver(alice: Page, bob: Page) {
  await alice.click('#send-button');
  const phrase = (await alice.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  expect(phrase).toMatch(/^\d+-[a-z]+-[a-z]+-[a-z]+-[a-z]+$/);
  await bob.fill('#receive-code', phrase);
  await bob.click('#receive-button');
}

test('a text goes from one browser to another with the code', async ({ browser }) => {
  const { alice, bob } = await twoPeople(browser);
  const errors = [...collectErrors(alice), ...collectErrors(bob)];
  await alice.fill('#send-text', 'Meet at the old oak at noon. 🌳');
  await handOver(alice, bob);
  await expect(bob.locator('#receive-text')).toHaveText('Meet at the old oak at noon. 🌳');
  await expect(alice.locator('#send-status')).toContainText('delivered');
  expect(errors).toEqual([]);
});

test('a 5 MB file arrives intact, with progress at both ends', async ({ browser }, testInfo) => {
  const { alice, bob } = await twoPeople(browser);
  const content = crypto.randomBytes(5 * 1024 * 1024);
  await alice.setInputFiles('#send-file', { name: 'photo.raw', mimeType: 'application/octet-stream', buffer: content });
  await handOver(alice, bob);
  await expect(bob.locator('#receive-download')).toBeVisible({ timeout: 60_000 });
  await expect(bob.locator('#receive-progress')).toHaveAttribute('value', '100');
  await expect(bob.locator('#receive-percent')).toContainText('100%');
  await expect(alice.locator('#send-progress')).toHaveAttribute('value', '100');
  await expect(alice.locator('#send-status')).toContainText('delivered: 5242880 bytes');
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.click('#receive-download')]);
  expect(download.suggestedFilename()).toBe('photo.raw');
  const saved = testInfo.outputPath('photo.raw');
  await download.saveAs(saved);
  const got = fs.readFileSync(saved);
  expect(got.length).toBe(content.length);
  expect(crypto.createHash('sha256').update(got).digest('hex'))
    .toBe(crypto.createHash('sha256').update(content).digest('hex'));
});

test('a wrong code stops both sides and delivers nothing', async ({ browser }) => {
  const { alice, bob } = await twoPeople(browser);
  await alice.fill('#send-text', 'not for you');
  await alice.click('#send-button');
  const phrase = (await alice.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  const parts = phrase.split('-');
  parts[4] = parts[4] === 'tulip' ? 'tiger' : 'tulip';
  await bob.fill('#receive-code', parts.join('-'));
  await bob.click('#receive-button');
  await expect(alice.locator('#send-status')).toContainText('different code');
  await expect(bob.locator('#receive-status')).toContainText('stopped');
  await expect(bob.locator('#receive-text')).toHaveCount(0);
});
