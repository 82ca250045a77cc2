// Relay in two browsers: two contexts (two people) send a text and a 5 MB file with the code.
import { test, expect, Browser, Page } from '@playwright/test';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { sha256, zkrelay } from './cli';

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
  expect(phrase).toMatch(/^\d{6}-[a-z]+-[a-z]+-[a-z]+-[a-z]+-[a-z]+$/);
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
  await expect(alice.locator('#send-status')).toContainText('someone else joined this channel, or the code was mistyped');
  await expect(bob.locator('#receive-status')).toContainText('stopped');
  await expect(bob.locator('#receive-text')).toHaveCount(0);
});

// A stranger from another address (127.0.0.4, not a browser) learns the channel name and takes
// the recipient's seat before Bob: Alice's exchange fails, both are told someone else joined,
// and Alice starts again on a fresh channel with one click.
function stranger(baseURL: string, method: string, urlPath: string, body?: object): Promise<{ status: number; json: any }> {
  const url = new URL(urlPath, baseURL);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname + url.search, method,
      localAddress: '127.0.0.4', headers: { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || 'null') }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

test('a stranger in the recipient seat: both people are told, and the sender starts again in one click', async ({ browser, baseURL }) => {
  const { alice, bob } = await twoPeople(browser);
  await alice.fill('#send-text', 'for Bob only');
  await alice.click('#send-button');
  const phrase = (await alice.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  const channel = phrase.split('-').slice(0, 2).join('-');
  const joined = await stranger(baseURL!, 'POST', '/open', { channel, role: 'recipient' });
  expect(joined.status).toBe(200);
  await bob.fill('#receive-code', phrase);
  await bob.click('#receive-button');
  await expect(bob.locator('#receive-status')).toContainText('someone else joined this channel');
  const values = await stranger(baseURL!, 'GET', `/channel/${channel}?uuid=${joined.json.uuid}&wait=10`);
  expect(values.json.x).toMatch(/^41[0-9a-f]{64}$/);
  // A guessed answer (any well-formed value: the stranger does not know the code).
  await stranger(baseURL!, 'POST', `/channel/${channel}`, { uuid: joined.json.uuid, y: '42' + '5'.repeat(64), hh_k: 'a'.repeat(64) });
  await expect(alice.locator('#send-status')).toContainText('someone else joined this channel');
  await expect(alice.locator('#send-status')).toContainText('start again');
  await alice.click('#send-again');
  await expect.poll(async () => (await alice.locator('#send-phrase').textContent())?.trim()).not.toBe(phrase);
  const fresh = (await alice.locator('#send-phrase').textContent())!.trim();
  expect(fresh).toMatch(/^\d{6}-[a-z]+-[a-z]+-[a-z]+-[a-z]+-[a-z]+$/);
  await bob.fill('#receive-code', fresh);
  await bob.click('#receive-button');
  await expect(bob.locator('#receive-text')).toHaveText('for Bob only');
  await expect(alice.locator('#send-status')).toContainText('delivered');
});

// The CLI (TCP data connection, native AES-GCM) and a page (WebSocket, WebCrypto) speak the same
// frames through the relay, both ways.
test('the CLI sends a file to a browser, and a browser sends one to the CLI', async ({ browser, baseURL }, testInfo) => {
  const { alice, bob } = await twoPeople(browser);
  const errors = [...collectErrors(alice), ...collectErrors(bob)];

  const toPage = crypto.randomBytes(3 * 1024 * 1024 + 123);
  const source = testInfo.outputPath('from-cli.bin');
  fs.writeFileSync(source, toPage);
  const sender = zkrelay(['send', source], { ZKRELAY_SERVER: baseURL! });
  let phrase = '';
  await expect.poll(() => (phrase = /^ {4}(\S+)$/m.exec(sender.stderr())?.[1] ?? ''), { timeout: 30_000 }).not.toBe('');
  await bob.fill('#receive-code', phrase);
  await bob.click('#receive-button');
  await expect(bob.locator('#receive-download')).toBeVisible({ timeout: 60_000 });
  expect(await sender.exited, sender.stderr()).toBe(0);
  expect(sender.stderr()).toContain(`delivered: ${toPage.length} bytes`);
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.click('#receive-download')]);
  expect(download.suggestedFilename()).toBe('from-cli.bin');
  const saved = testInfo.outputPath('got-in-page.bin');
  await download.saveAs(saved);
  expect(sha256(fs.readFileSync(saved))).toBe(sha256(toPage));

  const toCli = crypto.randomBytes(2 * 1024 * 1024 + 7);
  await alice.setInputFiles('#send-file', { name: 'from-page.bin', mimeType: 'application/octet-stream', buffer: toCli });
  await alice.click('#send-button');
  const pagePhrase = (await alice.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  const dir = testInfo.outputPath('cli-inbox');
  fs.mkdirSync(dir);
  const recipient = zkrelay(['receive', '--dir', dir], { ZKRELAY_SERVER: baseURL!, ZKRELAY_CODE: pagePhrase });
  expect(await recipient.exited, recipient.stderr()).toBe(0);
  expect(sha256(fs.readFileSync(path.join(dir, 'from-page.bin')))).toBe(sha256(toCli));
  await expect(alice.locator('#send-status')).toContainText(`delivered: ${toCli.length} bytes`);
  expect(errors).toEqual([]);
});
