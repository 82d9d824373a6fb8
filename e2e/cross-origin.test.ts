/**
 * CORS and CSRF as a browser enforces them. The user is logged in to the app at http://localhost:A.
 * Pages from other origins try to read the API and to create a task with the user's cookie:
 *  - http://localhost:B (same site, other origin, NOT in CORS_ALLOWED_ORIGINS): the browser sends the
 *    SameSite=Strict cookie (same site), so the server's own CSRF check is what must refuse the write;
 *    the browser must block every read.
 *  - http://127.0.0.1:B (another site): the cookie does not even travel.
 *  - http://localhost:C (listed in CORS_ALLOWED_ORIGINS): reads and writes work, with the cookie.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type AppProcess,
  addTask,
  describeInBrowser,
  launchBrowser,
  newEmail,
  newUserContext,
  signUpInPage,
  startServer,
} from './harness.js';

let app: AppProcess;
let browser: Browser;
let other: Server;
let otherPort: number;
let allowed: Server;
let allowedPort: number;
let context: BrowserContext;
let appPage: Page;

/** A plain page on its own port; the test runs its scripts with page.evaluate, as the page's own code. */
function pageServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Another site</title><h1>Hello</h1>');
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done({ server, port: (server.address() as AddressInfo).port })),
  );
}

beforeAll(async () => {
  ({ server: other, port: otherPort } = await pageServer());
  ({ server: allowed, port: allowedPort } = await pageServer());
  app = await startServer({ CORS_ALLOWED_ORIGINS: `http://localhost:${allowedPort}` });
  browser = await launchBrowser();
  ({ context, page: appPage } = await newUserContext(browser));
  await signUpInPage(appPage, app.url, newEmail('victim'));
  await addTask(appPage, 'My private task');
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await app?.stop();
  other?.close();
  allowed?.close();
});

/** The titles the logged-in user has, read by the app's own page. */
async function myTitles(): Promise<string[]> {
  return appPage.evaluate(async () =>
    ((await (await fetch('/api/v1/tasks/')).json()) as { title: string }[]).map((task) => task.title),
  );
}

interface Attempt {
  read: string;
  readNoCredentials: string;
  jsonWrite: string;
  simpleWrite: string;
}

/** From a page at `origin`, the attacks a hostile page would try, each reporting what its script could see. */
async function attackFrom(origin: string): Promise<Attempt> {
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(async (api) => {
      const outcome = async (request: Promise<Response>) => {
        try {
          const response = await request;
          return response.type === 'opaque' ? 'opaque' : `read ${response.status}: ${await response.text()}`;
        } catch (error) {
          return `blocked (${(error as Error).name})`;
        }
      };
      return {
        read: await outcome(fetch(`${api}/api/v1/tasks/`, { credentials: 'include' })),
        readNoCredentials: await outcome(fetch(`${api}/api/v1/tasks/`)),
        // Needs a preflight (JSON): the server refuses it, so the browser never sends the POST.
        jsonWrite: await outcome(
          fetch(`${api}/api/v1/tasks/`, {
            method: 'POST',
            credentials: 'include',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ title: 'Written by another site (json)' }),
          }),
        ),
        // A "simple" request goes out without a preflight, cookie and all: only the server can stop it.
        simpleWrite: await outcome(
          fetch(`${api}/api/v1/tasks/`, {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'include',
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify({ title: 'Written by another site (simple)' }),
          }),
        ),
      };
    }, app.url);
  } finally {
    await page.close();
  }
}

/** Request log lines of the server for POST /api/v1/tasks/ since `from`. */
function taskPostsSince(from: number): { status: number }[] {
  return app.server
    .output()
    .slice(from)
    .split('\n')
    .filter((line) => line.includes('"POST"') && line.includes('/api/v1/tasks/'))
    .map((line) => JSON.parse(line) as { status: number });
}

describeInBrowser('CORS and CSRF in a real browser', () => {
  it('a same-site page of another origin can neither read nor write, though the cookie travels with it', async () => {
    // The log is written in batches: let the set-up's own POST land before counting.
    await expect.poll(() => taskPostsSince(0).map((entry) => entry.status)).toEqual([201]);
    const logFrom = app.server.output().length;
    const attempt = await attackFrom(`http://localhost:${otherPort}`);
    expect(attempt.read).toMatch(/^blocked/);
    expect(attempt.readNoCredentials).toMatch(/^blocked/);
    expect(attempt.jsonWrite).toMatch(/^blocked/);
    // Sent, but its answer is withheld (Cross-Origin-Resource-Policy: same-origin turns it into a network error).
    expect(attempt.simpleWrite).toMatch(/^blocked/);
    // The simple POST reached the server with the cookie, and the server refused it (CSRF), not the browser.
    await expect.poll(() => taskPostsSince(logFrom).map((entry) => entry.status)).toEqual([403]);
    expect(await myTitles()).toEqual(['My private task']);
  });

  it('a page of another site cannot either (the SameSite=Strict cookie does not even travel)', async () => {
    const logFrom = app.server.output().length;
    const attempt = await attackFrom(`http://127.0.0.1:${otherPort}`);
    expect(attempt.read).toMatch(/^blocked/);
    expect(attempt.jsonWrite).toMatch(/^blocked/);
    expect(attempt.simpleWrite).toMatch(/^blocked/);
    await expect.poll(() => taskPostsSince(logFrom).map((entry) => entry.status)).toEqual([401]);
    expect(await myTitles()).toEqual(['My private task']);
  });

  it('the same page from an origin in CORS_ALLOWED_ORIGINS reads and writes with the cookie', async () => {
    const attempt = await attackFrom(`http://localhost:${allowedPort}`);
    expect(attempt.read).toMatch(/^read 200: \[.*My private task/);
    // Without credentials the read is allowed by CORS but carries no session.
    expect(attempt.readNoCredentials).toMatch(/^read 401/);
    expect(attempt.jsonWrite).toMatch(/^read 201: .*Written by another site \(json\)/);
    // The simple request reaches the API as text/plain, which it does not accept.
    expect(await myTitles()).toEqual(['My private task', 'Written by another site (json)']);
  });
});
