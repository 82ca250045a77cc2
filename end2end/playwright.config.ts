// End-to-end tests drive the real server and real Chromium (Debian's, never a downloaded one).
// The server is started here on its own port with a throwaway database; build it first
// (scripts/build), or run everything with scripts/test.
import { defineConfig } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const port = Number(process.env.E2E_PORT ?? 3197);
// Workers load this file again and inherit the environment: one directory for the whole run.
process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zkrelay-e2e-'));
const dataDir = process.env.E2E_DATA_DIR;
// The tests read the server's database to check what it erased.
process.env.E2E_DB = path.join(dataDir, 'e2e.db');

export default defineConfig({
  testDir: './tests',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: `${root}/target/release/zkrelay serve`,
    cwd: root,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      ZKRELAY_SERVER_LISTEN: `127.0.0.1:${port}`,
      ZKRELAY_SERVER_SITE_ROOT: path.join(root, 'target/site'),
      ZKRELAY_RELAY_DATA_LISTEN: '127.0.0.1:0',
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      ZKRELAY_IDENTIFY_IDLE_TIMEOUT_SECS: '10',
      ZKRELAY_BLUM_POOL_SIZE: process.env.E2E_POOL_SIZE ?? '4',
      RUST_LOG: 'zkrelay=info',
      // Every person of the suite is 127.0.0.1: per-address limits sized for one person would
      // throttle the whole class (the limits themselves are tested in tests/hardening_*.rs).
      ZKRELAY_IDENTIFY_DRAWS_PER_IP_PER_MINUTE: '600',
      ZKRELAY_IDENTIFY_REGISTRATIONS_PER_IP_PER_MINUTE: '600',
      ZKRELAY_RELAY_JOIN_BURST: '100',
    },
  },
});
