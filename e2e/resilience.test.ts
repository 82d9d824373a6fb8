/**
 * When things go wrong, in a real browser against the built server on PostgreSQL: the session expires
 * (back to the login page with the reason), and the server goes away and comes back (a message that goes
 * away by itself; the unsaved draft survives and is saved exactly once).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, PG_HOST, PG_PORT, PG_USER, postgresEnv } from '@ironclad/testkit/database';
import { gateFor } from '@ironclad/testkit/gate';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type AppProcess,
  addTask,
  describeInBrowser,
  launchBrowser,
  newEmail,
  newUserContext,
  screenshot,
  signUpInPage,
  startServer,
} from './harness.js';

// The outage test runs the server on PostgreSQL; without one it is skipped like the browser tests.
const postgres = await gateFor('browser tests on PostgreSQL', ['postgres']);
const describeHere = postgres.skip ? postgres.describe : describeInBrowser;

let database: { name: string; drop: () => Promise<void> };
let env: Record<string, string>;
let app: AppProcess;
let browser: Browser;
const cwd = mkdtempSync(join(tmpdir(), 'ironclad-e2e-pg-'));

async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: database.name });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  env = postgresEnv(database.name);
  app = await startServer(env, cwd);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await database?.drop();
});

describeHere('when the session or the server goes away', () => {
  it('an expired session returns to the login page and says why', async () => {
    const { context, page, pageErrors } = await newUserContext(browser);
    const email = newEmail('expiring');
    await signUpInPage(page, app.url, email);
    await addTask(page, 'Renew passport');

    // Time passes: the server's clock says this session is over.
    const expired = await sql(
      "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE email = $1)",
      [email],
    );
    expect(expired.rowCount).toBe(1);

    // Ticking is refused and the page goes back to login at once, taking the box with it: click() (check() would
    // then wait for a ticked box that is no longer there), and wait for the refusal itself.
    const refused = page.waitForResponse(
      (response) => response.request().method() === 'PATCH' && response.url().includes('/api/v1/tasks/'),
    );
    await page.getByRole('checkbox', { name: 'Renew passport' }).click();
    expect((await refused).status()).toBe(401);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText('Your session has expired. Please log in again.').waitFor();
    // Nothing of the previous account is left on the screen (the spoken announcement is emptied just after the
    // login page is drawn).
    await expect.poll(() => page.getByText('Renew passport').count()).toBe(0);
    await screenshot(page, 'session-expired-desktop');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('checkbox', { name: 'Renew passport' }).waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('the server going away shows a message that goes when it is back; the draft is kept and saved once', async () => {
    const { context, page, pageErrors } = await newUserContext(browser);
    const email = newEmail('outage');
    await signUpInPage(page, app.url, email);
    await addTask(page, 'Before the outage');

    await app.stop();
    const draft = 'Written while the server was down';
    await page.getByRole('textbox', { name: 'New task' }).fill(draft);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Cannot reach the server. Retrying…').waitFor();
    await page.getByRole('alert').getByText('Your changes were not saved').waitFor();
    expect(await page.getByRole('textbox', { name: 'New task' }).inputValue()).toBe(draft);
    await screenshot(page, 'server-away-desktop');

    // Back on the same port, same database: the banner leaves by itself, and the list is read again. Adding
    // before that read has landed races it: an answer read before the save would replace the list that has it.
    const listReads: number[] = [];
    page.on('requestfinished', async (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/v1/tasks/') {
        listReads.push((await request.response())?.status() ?? 0);
      }
    });
    app = await startServer({ ...env, PORT: String(app.port) }, cwd);
    await page.getByText('Cannot reach the server. Retrying…').waitFor({ state: 'detached', timeout: 15_000 });
    await expect.poll(() => listReads).toEqual([200]);

    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('checkbox', { name: draft }).waitFor();
    const saved = await sql(
      'SELECT count(*)::int AS n FROM tasks WHERE title = $1 AND user_id = (SELECT id FROM users WHERE email = $2)',
      [draft, email],
    );
    expect(saved.rows[0].n).toBe(1);
    await expect.poll(() => page.locator('.task-title').allTextContents()).toEqual([draft, 'Before the outage']);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
