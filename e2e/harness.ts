/**
 * End-to-end harness: the built server as a real process (server/dist, serving client/dist) and Debian's
 * Chromium driven by playwright-core. No browser is ever downloaded.
 *
 * Without Chromium the browser tests are skipped with a message saying so; with REQUIRE_BROWSER=1 (CI) a
 * missing Chromium is a failure instead. A stale or missing build is always a failure (testkit/src/build.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GOOD_PASSWORD, uniqueEmail } from '@ironclad/testkit/accounts';
import { assertFresh } from '@ironclad/testkit/build';
import { gateFor, requireTool } from '@ironclad/testkit/gate';
import { type Running, start, stop } from '@ironclad/testkit/process';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

/** Chromium through the one gate (testkit/src/gate.ts); the built client and server must be fresh. */
const browser = await gateFor('browser tests', ['chromium']);
if (!browser.skip) assertFresh('client');

/** `describe` that skips, and says why, when the browser tests cannot run here. */
export const describeInBrowser = browser.describe;

export const SCREENSHOTS = resolve(import.meta.dirname, '../artifacts/screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireTool('chromium'),
    // The machine has no internet: without these, Chromium keeps trying to reach Google's services.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    timeout: 30_000,
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser profile; page errors (uncaught exceptions) are collected for the test to assert on. */
export async function newUserContext(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page, pageErrors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface AppProcess {
  server: Running;
  /** http://localhost:PORT: a name (not an IP) so a second port on it is the same site, another origin. */
  url: string;
  port: number;
  stop: () => Promise<void>;
}

/** The built server, as `npm start` runs it, in its own working directory. */
export async function startServer(env: Record<string, string>, cwd?: string): Promise<AppProcess> {
  // Overload detection off, as in every server suite: the browser tests share two cores with the other suites, and a
  // starved event loop would answer the page itself with a 503 (that behaviour has its own tests in server/test/).
  const settings = { LOG_LEVEL: 'info', OVERLOAD_EVENT_LOOP_DELAY: '0', ...env };
  // Creating an embedded database takes ~6 s alone and much longer beside other suites on two cores.
  const server = await start(settings, cwd ?? mkdtempSync(join(tmpdir(), 'ironclad-e2e-')), { startupMs: 60_000 });
  const port = Number(new URL(server.url).port);
  return {
    server,
    url: `http://localhost:${port}`,
    port,
    stop: async () => {
      await stop(server);
    },
  };
}

// The server suites' account helpers, under the names these tests read best with.
export { GOOD_PASSWORD as PASSWORD, uniqueEmail as newEmail };

/** Signs up through the page, as a person would (pointer). */
export async function signUpInPage(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('textbox', { name: 'New task' }).waitFor();
  // The new account's list has been read: a task added while that read is on its way can be replaced by it.
  await page.getByText('No tasks yet. Add your first one above.').waitFor();
}

export async function addTask(page: Page, title: string): Promise<void> {
  await page.getByRole('textbox', { name: 'New task' }).fill(title);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('checkbox', { name: title }).waitFor();
  // The form empties when the save is confirmed, which can render just after the new row: wait for it (an
  // empty field disables "Add"), so that what comes next does not land on the old draft.
  await page.getByRole('button', { name: 'Add', exact: true, disabled: true }).waitFor();
}

/** The focused element's accessible name (label, aria-label or text) and role, as a screen reader would say. */
export async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return '(nothing)';
    const labelled = (element as HTMLInputElement).labels?.[0]?.textContent;
    const name = element.getAttribute('aria-label') ?? labelled ?? element.textContent ?? '';
    const role = element.tagName === 'INPUT' ? (element as HTMLInputElement).type : element.tagName.toLowerCase();
    return `${role}: ${name.trim()}`;
  });
}

/** Presses Tab (or Shift+Tab) until the focus is on `target`; fails if it never gets there. */
export async function tabTo(page: Page, target: string, backwards = false): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const now = await focused(page);
    if (now === target) return;
    seen.push(now);
  }
  throw new Error(`Tab never reached "${target}"; it went through: ${seen.join(' | ')}`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * What axe-core (WCAG 2.1 A and AA, and its best practices) finds wrong with the page as it is now, one line per
 * rule and element; [] when clean. Injected through the debugging protocol, which the page's CSP does not govern.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } })
      .axe;
    interface AxeResults {
      violations: { id: string; help: string; nodes: { target: unknown[] }[] }[];
    }
    const results = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return results.violations.flatMap((violation) =>
      violation.nodes.map((node) => `${violation.id} (${violation.help}): ${node.target.join(' ')}`),
    );
  });
}

/**
 * One built server (env as for startServer) and one Chromium for a test file: started before its tests, stopped
 * after. Read `suite.app` and `suite.browser` inside the tests (they are set once the hooks have run).
 */
export function serverAndBrowser(env: Record<string, string> = {}): { app: AppProcess; browser: Browser } {
  const suite = {} as { app: AppProcess; browser: Browser };
  beforeAll(async () => {
    suite.app = await startServer(env);
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.app?.stop();
  });
  return suite;
}
