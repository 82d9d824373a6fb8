/**
 * What the signed-in screen costs a phone on its first visit, measured in Chromium at 390x844 with the CPU slowed
 * 4x (CDP Emulation.setCPUThrottlingRate), on the built server as `npm start` serves it:
 * - every byte over the wire (CDP's encodedDataLength: compressed bodies and headers), with a cold cache;
 * - the long tasks (PerformanceObserver 'longtask', tasks over 50 ms) from navigation until the list is drawn.
 * The bounds are generous, to catch a regression (an uncompressed bundle, a dependency that doubles it, a render that
 * blocks the main thread) rather than noise. The numbers are written to artifacts/performance.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import {
  describeInBrowser,
  newEmail,
  newUserContext,
  PASSWORD,
  PHONE,
  serverAndBrowser,
  signUpInPage,
} from './harness.js';

/** All bytes of the first visit to the signed-in screen (today: ~86 KB with brotli; 310 KB uncompressed). */
const MAX_TRANSFER_BYTES = 120 * 1024;
/**
 * The longest main-thread task allowed while the screen loads at 4x CPU slowdown. The longest is the bundle's
 * evaluation and first render: 195-345 ms measured on 2 cores shared with other suites (load average 12), so 500 ms
 * holds under CI load and still catches a bundle that doubles or a render that blocks.
 */
const MAX_LONG_TASK_MS = 500;
const TASKS = 30;

const suite = serverAndBrowser({});

interface Transfer {
  url: string;
  bytes: number;
  encoding: string;
}

describeInBrowser('the signed-in screen on a phone, first visit', () => {
  it(`sends under ${MAX_TRANSFER_BYTES / 1024} KB compressed and blocks the main thread no longer than ${MAX_LONG_TASK_MS} ms at 4x CPU slowdown`, async () => {
    // An account with a list to draw, signed in through the page; its session cookie is then used by a fresh
    // profile, so the measured visit has a cold cache, as a person's first visit on a new phone.
    const email = newEmail();
    const setup = await newUserContext(suite.browser, PHONE);
    await signUpInPage(setup.page, suite.app.url, email);
    const login = await fetch(`${suite.app.url}/api/v1/users/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    for (let i = 1; i <= TASKS; i++) {
      const created = await fetch(`${suite.app.url}/api/v1/tasks/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Token ${token}` },
        body: JSON.stringify({ title: `Task number ${i}`, description: i % 3 === 0 ? 'Some details '.repeat(10) : '' }),
      });
      expect(created.status).toBe(201);
    }
    const cookies = await setup.context.cookies();
    await setup.context.close();

    const { context, page, pageErrors } = await newUserContext(suite.browser, PHONE);
    await context.addCookies(cookies);
    await page.addInitScript(() => {
      const seen: number[] = [];
      (window as unknown as { longTasks: number[] }).longTasks = seen;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) seen.push(entry.duration);
      }).observe({ type: 'longtask', buffered: true });
      // Layout shifts not caused by input: the sum over the load is what Lighthouse calls CLS here (one short visit).
      const shifts: number[] = [];
      (window as unknown as { shifts: number[] }).shifts = shifts;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[])
          if (!entry.hadRecentInput) shifts.push(entry.value);
      }).observe({ type: 'layout-shift', buffered: true });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const urls = new Map<string, { url: string; encoding: string }>();
    const transfers: Transfer[] = [];
    cdp.on('Network.responseReceived', ({ requestId, response }) => {
      const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      urls.set(requestId, { url: response.url, encoding: String(headers['content-encoding'] ?? 'identity') });
    });
    cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
      const seen = urls.get(requestId);
      if (seen) transfers.push({ ...seen, bytes: encodedDataLength });
    });

    const started = Date.now();
    await page.goto(suite.app.url);
    await page.getByText(`Task number ${TASKS}`, { exact: true }).waitFor({ timeout: 30_000 });
    const drawnMs = Date.now() - started;
    await page.waitForLoadState('networkidle');
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const shifts = await page.evaluate(() => (window as unknown as { shifts: number[] }).shifts);
    const layoutShift = shifts.reduce((sum, value) => sum + value, 0);

    const total = transfers.reduce((sum, transfer) => sum + transfer.bytes, 0);
    const script = transfers.find((transfer) => /\/assets\/[^/]+\.js$/.test(transfer.url));
    const numbers = {
      viewport: PHONE,
      cpuSlowdown: 4,
      tasks: TASKS,
      totalBytes: total,
      requests: transfers.map(({ url, bytes, encoding }) => ({ path: new URL(url).pathname, bytes, encoding })),
      longTasksMs: longTasks.map((ms) => Math.round(ms)),
      listDrawnMs: drawnMs,
      layoutShift: Number(layoutShift.toFixed(4)),
    };
    const artifacts = resolve(import.meta.dirname, '../artifacts');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'performance.json'), `${JSON.stringify(numbers, null, 2)}\n`);

    expect(pageErrors).toEqual([]);
    // Chromium takes brotli from localhost; the bundle must come that way (the .br the build wrote).
    expect(script?.encoding).toBe('br');
    expect(transfers.filter((transfer) => new URL(transfer.url).pathname.startsWith('/api/'))).not.toEqual([]);
    for (const transfer of transfers)
      if (new URL(transfer.url).pathname.startsWith('/api/')) expect(transfer.encoding, transfer.url).toBe('identity');
    expect(total, JSON.stringify(numbers.requests)).toBeLessThan(MAX_TRANSFER_BYTES);
    expect(Math.max(0, ...longTasks), JSON.stringify(numbers.longTasksMs)).toBeLessThan(MAX_LONG_TASK_MS);
    // 0.001 now. 0.06 here (0.14-0.18 in Lighthouse's mobile run, whose score fell to 0.90-0.94) when the content box
    // was drawn under a header that then grew and the filters rewrapped when their counts came.
    expect(layoutShift, JSON.stringify(shifts)).toBeLessThan(0.02);
    await context.close();
  }, 120_000);
});
