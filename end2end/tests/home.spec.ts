import { test, expect, Page } from '@playwright/test';

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}

test('home page is server-rendered, then hydrated and live', async ({ page, request }) => {
  // Server-rendered: the HTML carries the content before any script runs.
  const raw = await request.get('/');
  expect(raw.status()).toBe(200);
  const html = await raw.text();
  expect(html).toContain('See a zero-knowledge proof happen.');
  for (const role of ['/peggy', '/victor', '/send', '/receive']) {
    expect(html).toContain(`href="${role}"`);
  }
  expect(html).toContain('data-hydrated="false"');
  expect(html).toContain('/pkg/zkrelay.js');

  const errors = collectErrors(page);
  await page.goto('/');
  // Hydration: an effect (browser only) flips the marker.
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'true');

  // The live page asks the server on its own (a server function round trip) and shows the state.
  await expect(page.locator('#status-result')).toContainText(/Server ready: \d of 4 Blum integers \(2048 bits\) waiting/);

  // A WebSocket round trip from the WASM client to the server.
  await expect(page.locator('#relay-result')).toContainText(/Relay reachable: answered in [0-9.]+ ms/);

  // Client-side navigation to a role page.
  await page.click('a.role-card[href="/peggy"]');
  await expect(page).toHaveURL(/\/peggy$/);
  await expect(page.locator('h1')).toHaveText('Peggy');
  await page.screenshot({ path: 'test-results/home.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('an unknown route answers 404 with a page', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText('Page not found');
});

test('a malformed server function request gets a clear 4xx', async ({ request }) => {
  const wrongMethod = await request.get('/api/status');
  expect(wrongMethod.status()).toBeGreaterThanOrEqual(400);
  expect(wrongMethod.status()).toBeLessThan(500);
  const unknown = await request.post('/api/no_such_function', { form: {} });
  expect(unknown.status()).toBe(404);
});
