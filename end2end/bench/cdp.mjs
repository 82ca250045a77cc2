// A minimal Chrome DevTools Protocol driver for the browser benches (node built-ins only).
//
// Why not Playwright: it always sends `Network.enable` to every page and listens to
// `Network.webSocketFrameSent/Received`, so Chromium base64-encodes every WebSocket frame's payload
// and ships it to node. Measured: a page sending 200 MB over one WebSocket to a trivial server
// reached 59 MB/s under Playwright but 171 MB/s (send) / 339 MB/s (receive) in the same Chromium
// without automation. The benches must measure the app, not the instrumentation, so this driver
// NEVER enables the Network (or Fetch) domain; it only uses Target, Runtime, Page.navigate, DOM
// (file inputs) and Browser (version, downloads, close). Playwright stays for the end2end tests.
//
// Transport: `--remote-debugging-pipe` (node 20 has no global WebSocket). Chromium reads
// NUL-terminated JSON commands from fd 3 and writes replies and events to fd 4.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FLAGS = ['--headless', '--remote-debugging-pipe', '--no-startup-window',
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Playwright passes these too; without them a page that is not the focused window of the
  // headless browser may get its timers throttled, which would distort the timings.
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function launch() {
  const exe = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'zkrelay-cdp-'));
  // detached: its own process group, so kill() takes the renderers and the zygote with it.
  const proc = spawn(exe, [...FLAGS, `--user-data-dir=${profile}`],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  const browser = new Browser(proc, profile);
  await browser.send('Browser.getVersion', {}, undefined, 30_000);
  return browser;
}

class Browser {
  constructor(proc, profile) {
    Object.assign(this, { proc, profile, nextId: 1, calls: new Map(), listeners: new Set(), stderr: '' });
    this.kill = () => {
      if (this.proc.exitCode === null && this.proc.signalCode === null) {
        try { process.kill(-this.proc.pid, 'SIGKILL'); } catch {}
      }
      try { fs.rmSync(this.profile, { recursive: true, force: true }); } catch {}
    };
    process.on('exit', this.kill);
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.once(signal, () => process.exit(code));
    proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-2000); });
    proc.on('error', (e) => this.fail(`cannot start ${proc.spawnfile}: ${e.message}`));
    proc.on('exit', (code, signal) => this.fail(`chromium exited (${signal ?? code})\n${this.stderr}`));
    proc.stdio[3].on('error', () => {});
    let partial = [];
    proc.stdio[4].on('data', (chunk) => {
      let start = 0;
      for (let end; (end = chunk.indexOf(0, start)) !== -1; start = end + 1) {
        partial.push(chunk.subarray(start, end));
        this.dispatch(JSON.parse(Buffer.concat(partial).toString('utf8')));
        partial = [];
      }
      if (start < chunk.length) partial.push(chunk.subarray(start));
    });
  }

  fail(message) {
    this.dead = message;
    for (const { reject } of this.calls.values()) reject(new Error(message));
    this.calls.clear();
  }

  dispatch(msg) {
    const call = this.calls.get(msg.id);
    if (call) {
      this.calls.delete(msg.id);
      clearTimeout(call.timer);
      if (msg.error) call.reject(new Error(`${call.method}: ${msg.error.message} ${msg.error.data ?? ''}`));
      else call.resolve(msg.result);
    } else if (msg.method) {
      for (const listener of [...this.listeners]) listener(msg);
    }
  }

  send(method, params = {}, sessionId = undefined, timeout = 30_000) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    if (/^(Network|Fetch)\./.test(method)) throw new Error(`${method}: this driver exists to avoid that domain`);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new Error(`${method}: no answer from chromium within ${timeout} ms`));
      }, timeout);
      this.calls.set(id, { method, resolve, reject, timer });
      this.proc.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  }

  // Resolves with the params of the first event `method` for which pred(params) is true.
  waitEvent(method, pred, timeout, what = method) {
    return new Promise((resolve, reject) => {
      const listener = (msg) => {
        if (msg.method !== method || !pred(msg.params)) return;
        this.listeners.delete(listener);
        clearTimeout(timer);
        resolve(msg.params);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}`));
      }, timeout);
      this.listeners.add(listener);
    });
  }

  // A person: a fresh browser context (own cookies and storage) with one page.
  async newPerson({ downloads } = {}) {
    const { browserContextId } = await this.send('Target.createBrowserContext', { disposeOnDetach: true });
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    if (downloads) {
      await this.send('Browser.setDownloadBehavior',
        { behavior: 'allowAndName', downloadPath: downloads, browserContextId, eventsEnabled: true });
    }
    return new Page(this, { browserContextId, targetId, sessionId, downloads });
  }

  async close() {
    await this.send('Browser.close', {}, undefined, 5_000).catch(() => {});
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      await Promise.race([new Promise((resolve) => this.proc.once('exit', resolve)), sleep(5_000)]);
    }
    this.kill();
    process.off('exit', this.kill);
  }
}

class Page {
  constructor(browser, ids) { Object.assign(this, { browser }, ids); }

  send(method, params, timeout) { return this.browser.send(method, params, this.sessionId, timeout); }

  async evaluate(expression, { awaitPromise = true, returnByValue = true, timeout = 30_000 } = {}) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise, returnByValue }, timeout);
    if (r.exceptionDetails) {
      const e = r.exceptionDetails;
      throw new Error(`in the page: ${e.exception?.description ?? e.text}\n  evaluating: ${expression}`);
    }
    return r.result.value;
  }

  // Polls `condition` (a JS expression) until it is truthy; returns its value.
  async waitFor(condition, { timeout = 30_000, what = condition } = {}) {
    const deadline = performance.now() + timeout;
    let last;
    for (;;) {
      try {
        const value = await this.evaluate(condition);
        if (value) return value;
      } catch (e) { last = e; } // e.g. during a navigation
      if (this.browser.dead) throw new Error(this.browser.dead);
      if (performance.now() > deadline) {
        throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
      }
      await sleep(10);
    }
  }

  async goto(url, timeout = 30_000) {
    const { errorText } = await this.send('Page.navigate', { url }, timeout);
    if (errorText) throw new Error(`cannot load ${url}: ${errorText}`);
    await this.waitFor(`!!document.querySelector('main[data-hydrated="true"]')`,
      { timeout, what: `${url} to hydrate (main[data-hydrated="true"])` });
  }

  // Waits until `selector` matches, optionally until its text contains `hasText` (case-insensitive,
  // whitespace normalised, as Playwright's hasText); returns its textContent.
  text(selector, { hasText = '', timeout = 30_000 } = {}) {
    const s = JSON.stringify(selector), t = JSON.stringify(hasText.toLowerCase());
    return this.waitFor(`(() => { const e = document.querySelector(${s}); if (!e) return null;
      const text = e.textContent; return text.replace(/\\s+/g, ' ').toLowerCase().includes(${t}) ? [text] : null; })()`,
    { timeout, what: hasText ? `${selector} to contain "${hasText}"` : selector }).then(([text]) => text);
  }

  // Sets the value of an input / textarea / select and fires 'input' and 'change', as a user would.
  async fill(selector, value) {
    const s = JSON.stringify(selector), v = JSON.stringify(value);
    await this.waitFor(`(e => e && !e.disabled)(document.querySelector(${s}))`, { what: `${selector} (enabled)` });
    await this.evaluate(`(() => { const e = document.querySelector(${s}); e.focus(); e.value = ${v};
      if (e.value !== ${v}) throw new Error(${s} + ' does not accept ' + ${v});
      for (const type of ['input', 'change']) e.dispatchEvent(new Event(type, { bubbles: true })); })()`);
  }

  async click(selector) {
    const s = JSON.stringify(selector);
    await this.waitFor(`(e => e && !e.disabled)(document.querySelector(${s}))`, { what: `${selector} (enabled)` });
    await this.evaluate(`document.querySelector(${s}).click()`);
  }

  async setInputFiles(selector, file) {
    await this.waitFor(`!!document.querySelector(${JSON.stringify(selector)})`, { what: selector });
    const { root } = await this.send('DOM.getDocument', { depth: 0 });
    const { nodeId } = await this.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    await this.send('DOM.setFileInputFiles', { nodeId, files: [path.resolve(file)] });
  }

  // Clicks `selector` and waits for the download it starts; returns the saved file's path.
  async download(selector, timeout = 60_000) {
    if (!this.downloads) throw new Error('download(): create the person with { downloads: dir }');
    let guid; // set inside the predicate: the completion may arrive in the same chunk as the start
    const began = this.browser.waitEvent('Browser.downloadWillBegin',
      (p) => p.frameId === this.targetId && (guid = p.guid), timeout, `a download from ${selector}`);
    const ended = this.browser.waitEvent('Browser.downloadProgress',
      (p) => guid !== undefined && p.guid === guid && p.state !== 'inProgress', timeout, 'the download to finish');
    ended.catch(() => {});
    await this.click(selector);
    await began;
    const { state } = await ended;
    if (state !== 'completed') throw new Error(`download from ${selector}: ${state}`);
    return path.join(this.downloads, guid);
  }

  close() { return this.browser.send('Target.disposeBrowserContext', { browserContextId: this.browserContextId }); }
}
