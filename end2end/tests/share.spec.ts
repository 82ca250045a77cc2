// Sharing a phrase and several files (issue 14, items 1, 3, 4 in the browser): three files
// dropped on /send go as one transfer, received through the QR code's link in a second context;
// the copy buttons and Tab completion; several files between the CLI and a page, both ways.
import { test, expect, Browser, Download, Page } from '@playwright/test';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { sha256, zkrelay } from './cli';

const PHRASE = /^\d{6}-[a-z]+-[a-z]+-[a-z]+-[a-z]+-[a-z]+$/;

type Named = { name: string; bytes: Buffer };
const threeFiles = (): Named[] => [
  { name: 'notes.txt', bytes: Buffer.from('Meet at the old oak at noon. 🌳\n'.repeat(40)) },
  { name: 'photo.raw', bytes: crypto.randomBytes(2 * 1024 * 1024 + 5) },
  { name: 'data.bin', bytes: crypto.randomBytes(300 * 1000 + 1) },
];

async function open(browser: Browser, url: string, options = {}) {
  const page = await (await browser.newContext(options)).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');
  return { page, errors };
}

// A real drop: a DataTransfer built in the page, carrying the files, on the drop zone.
async function drop(page: Page, files: Named[]) {
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: 'application/octet-stream' }));
    }
    return dt;
  }, files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })));
  await page.dispatchEvent('#send-drop', 'dragenter', { dataTransfer });
  await page.dispatchEvent('#send-drop', 'drop', { dataTransfer });
}

// The items a page lists as delivered: name → [size, SHA-256].
async function delivered(page: Page, id: string) {
  const items = page.locator(`#${id}-done li.delivered-item`);
  const out: Record<string, [number, string]> = {};
  for (const item of await items.all()) {
    out[(await item.getAttribute('data-name'))!] =
      [Number(await item.getAttribute('data-size')), (await item.getAttribute('data-sha256'))!];
  }
  return out;
}

async function expectDelivered(page: Page, id: string, files: Named[]) {
  await expect(page.locator(`#${id}-done li.delivered-item`)).toHaveCount(files.length);
  await expect.poll(async () => Object.values(await delivered(page, id)).every(([, sha]) => /^[0-9a-f]{64}$/.test(sha)),
    { timeout: 30_000 }).toBe(true);
  expect(await delivered(page, id)).toEqual(Object.fromEntries(files.map((f) => [f.name, [f.bytes.length, sha256(f.bytes)]])));
}

async function savedAll(downloads: Download[], dir: string) {
  const got: Record<string, string> = {};
  for (const d of downloads) {
    const saved = path.join(dir, d.suggestedFilename());
    await d.saveAs(saved);
    got[d.suggestedFilename()] = sha256(fs.readFileSync(saved));
  }
  return got;
}

test('three files dropped on /send arrive byte-identical through the QR link', async ({ browser }, testInfo) => {
  const files = threeFiles();
  const alice = await open(browser, '/send');
  await drop(alice.page, files);
  await expect(alice.page.locator('#send-picked li')).toHaveCount(3);
  await alice.page.click('#send-button');
  const phrase = (await alice.page.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  expect(phrase).toMatch(PHRASE);
  // The link the QR code carries: the phrase in the fragment only.
  const link = (await alice.page.locator('svg.qr').getAttribute('data-text'))!;
  expect(await alice.page.locator('#send-link').getAttribute('href')).toBe(link);
  const url = new URL(link);
  expect(url.pathname + url.search).toBe('/receive');
  expect(url.hash).toBe(`#code=${phrase}`);
  expect(await alice.page.locator('svg.qr path').getAttribute('d')).toMatch(/^(M\d+ \d+h1v1h-1z)+$/);

  const bob = await open(browser, link, { acceptDownloads: true });
  // Filled in, the fragment erased from the address and the history, and nothing started.
  await expect(bob.page.locator('#receive-code')).toHaveValue(phrase);
  await expect(bob.page).toHaveURL(/\/receive$/);
  expect(await bob.page.evaluate(() => location.hash)).toBe('');
  await expect(bob.page.locator('#receive-button')).toBeFocused();
  await expect(bob.page.locator('#receive-status')).toHaveText('');
  await expect(alice.page.locator('#send-status')).toContainText('waiting for the recipient');

  const downloads: Download[] = [];
  bob.page.on('download', (d) => downloads.push(d));
  await bob.page.keyboard.press('Enter');
  const offered = bob.page.locator('#receive-offer li.offered-file');
  await expect(offered).toHaveCount(3);
  await expect(offered.nth(1)).toContainText('photo.raw');
  await expect(bob.page.locator('#receive-offer')).toContainText('3 files');
  // Nothing moves before the answer.
  await expect(bob.page.locator('#receive-progress')).toHaveAttribute('value', '0');
  await bob.page.click('#receive-accept');
  await expect(alice.page.locator('#send-status')).toContainText(`delivered: ${files.reduce((n, f) => n + f.bytes.length, 0)} bytes`);
  await expect(bob.page.locator('#receive-status')).toContainText('received 3 files');
  await expect(bob.page.locator('#receive-progress')).toHaveAttribute('value', '100');
  await expect(bob.page.locator('#receive-percent')).toContainText('100%');
  await expect(alice.page.locator('#send-progress')).toHaveAttribute('value', '100');
  // The page started the three downloads itself.
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(3);
  const dir = testInfo.outputPath('downloads');
  fs.mkdirSync(dir);
  expect(await savedAll(downloads, dir)).toEqual(Object.fromEntries(files.map((f) => [f.name, sha256(f.bytes)])));
  // Both pages show what went: the same names, sizes and SHA-256 as the files'.
  await expectDelivered(alice.page, 'send', files);
  await expectDelivered(bob.page, 'receive', files);
  expect([...alice.errors, ...bob.errors]).toEqual([]);
});

test('a link whose fragment is not one well-formed phrase fills in nothing, and is erased too', async ({ browser }) => {
  for (const fragment of ['#code=482193-cedar-comet-maple-otter-zebra', '#code=%3Cscript%3E', '#x=1&code=1-a&code=2-b']) {
    const bob = await open(browser, `/receive${fragment}`);
    await expect(bob.page).toHaveURL(/\/receive$/);
    await expect(bob.page.locator('#receive-code')).toHaveValue('');
    await expect(bob.page.locator('#receive-status')).toHaveText('');
    expect(bob.errors).toEqual([]);
  }
});

test('a declined offer sends nothing and both sides say so', async ({ browser }) => {
  const alice = await open(browser, '/send');
  await drop(alice.page, threeFiles());
  await alice.page.click('#send-button');
  const phrase = (await alice.page.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  const bob = await open(browser, '/receive');
  await bob.page.fill('#receive-code', phrase);
  await bob.page.click('#receive-button');
  await bob.page.click('#receive-decline');
  await expect(bob.page.locator('#receive-status')).toContainText('you declined the files');
  await expect(alice.page.locator('#send-status')).toContainText('the recipient declined the files (nothing was sent)');
  await expect(bob.page.locator('#receive-done')).toHaveCount(0);
});

test('the copy buttons put the phrase and the link on the clipboard, or select them', async ({ browser }) => {
  const alice = await open(browser, '/send', { permissions: ['clipboard-read', 'clipboard-write'] });
  await alice.page.fill('#send-text', 'copied');
  await alice.page.click('#send-button');
  const phrase = (await alice.page.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  await alice.page.click('#copy-phrase');
  await expect(alice.page.locator('#copy-status')).toHaveText('the phrase is copied');
  expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe(phrase);
  await alice.page.click('#copy-link');
  await expect(alice.page.locator('#copy-status')).toHaveText('the link is copied');
  const link = await alice.page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(await alice.page.locator('#send-link').getAttribute('href'));
  expect(link).toMatch(new RegExp(`/receive#code=${phrase}$`));

  // Where the page has no clipboard API (plain http on a LAN address), the text is selected.
  const context = await browser.newContext();
  await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined }));
  const carol = await context.newPage();
  await carol.goto('/send');
  await expect(carol.locator('main')).toHaveAttribute('data-hydrated', 'true');
  await carol.fill('#send-text', 'selected');
  await carol.click('#send-button');
  const other = (await carol.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  await carol.click('#copy-phrase');
  await expect(carol.locator('#copy-status')).toContainText('the phrase is');
  expect(await carol.evaluate(() => window.getSelection()!.toString())).toBe(other);
});

test('Tab completes a word of the phrase when only one fits, and lists them when several do', async ({ browser }) => {
  const bob = await open(browser, '/receive');
  const input = bob.page.locator('#receive-code');
  await input.click();
  await input.pressSequentially('482193-ced');
  await input.press('Tab');
  await expect(input).toHaveValue('482193-cedar-');
  await expect(input).toBeFocused();
  await input.pressSequentially('C');
  await input.press('Tab');
  await expect(input).toHaveValue('482193-cedar-C');
  await expect(bob.page.locator('#receive-candidates')).toContainText('comet');
  await expect(bob.page.locator('#receive-candidates')).toContainText('cedar');
  await input.pressSequentially('om');
  await input.press('Tab');
  await expect(input).toHaveValue('482193-cedar-comet-');
  await expect(bob.page.locator('#receive-candidates')).toHaveText('');
  for (const part of ['map', 'ott', 'tul']) {
    await input.pressSequentially(part);
    await input.press('Tab');
  }
  await expect(input).toHaveValue('482193-cedar-comet-maple-otter-tulip');
  // Nothing to complete: Tab moves on as usual.
  await input.press('Tab');
  await expect(bob.page.locator('#receive-button')).toBeFocused();
});


test('several files go from the CLI to a page and from a page to the CLI', async ({ browser, baseURL }, testInfo) => {
  const files = threeFiles();
  const outbox = testInfo.outputPath('outbox');
  fs.mkdirSync(outbox);
  for (const f of files) fs.writeFileSync(path.join(outbox, f.name), f.bytes);
  const sender = zkrelay(['send', ...files.map((f) => path.join(outbox, f.name))], { ZKRELAY_SERVER: baseURL! });
  let phrase = '';
  await expect.poll(() => (phrase = /^ {4}(\S+)$/m.exec(sender.stderr())?.[1] ?? ''), { timeout: 30_000 }).not.toBe('');
  const bob = await open(browser, '/receive', { acceptDownloads: true });
  const downloads: Download[] = [];
  bob.page.on('download', (d) => downloads.push(d));
  await bob.page.fill('#receive-code', phrase);
  await bob.page.click('#receive-button');
  await expect(bob.page.locator('#receive-offer li.offered-file')).toHaveCount(3);
  await bob.page.click('#receive-accept');
  expect(await sender.exited, sender.stderr()).toBe(0);
  await expect.poll(() => downloads.length, { timeout: 30_000 }).toBe(3);
  const dir = testInfo.outputPath('from-cli');
  fs.mkdirSync(dir);
  expect(await savedAll(downloads, dir)).toEqual(Object.fromEntries(files.map((f) => [f.name, sha256(f.bytes)])));
  await expectDelivered(bob.page, 'receive', files);

  const alice = await open(browser, '/send');
  await drop(alice.page, files);
  await alice.page.click('#send-button');
  const pagePhrase = (await alice.page.locator('#send-phrase').textContent({ timeout: 30_000 }))!.trim();
  const inbox = testInfo.outputPath('cli-inbox');
  fs.mkdirSync(inbox);
  const recipient = zkrelay(['receive', '--yes', '--dir', inbox], { ZKRELAY_SERVER: baseURL!, ZKRELAY_CODE: pagePhrase });
  expect(await recipient.exited, recipient.stderr()).toBe(0);
  for (const f of files) expect(sha256(fs.readFileSync(path.join(inbox, f.name)))).toBe(sha256(f.bytes));
  expect(fs.readdirSync(inbox).sort()).toEqual(files.map((f) => f.name).sort());
  await expect(alice.page.locator('#send-status')).toContainText('delivered');
  await expectDelivered(alice.page, 'send', files);
  expect([...alice.errors, ...bob.errors]).toEqual([]);
});
