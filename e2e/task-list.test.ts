/**
 * The task list of issue 17 in a real browser: due dates (today / overdue / tomorrow in words), search, sort, the
 * counts, multi-select complete with one Undo, clear completed with Undo, and a 500-task account paged on a phone
 * (the page stays short: "Show more" reads the next page, at most 150 rows are drawn). Screenshots at both widths;
 * axe on each new state.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  accessibilityProblems,
  addTask,
  DESKTOP,
  describeInBrowser,
  newEmail,
  newUserContext,
  PASSWORD,
  PHONE,
  screenshot,
  serverAndBrowser,
  signUpInPage,
} from './harness.js';

// 500 tasks are created through the API in a few seconds: more writes than a person makes in a minute.
const suite = serverAndBrowser({ RATE_LIMIT_WRITES: '5000/1m', RATE_LIMIT_READS: '5000/1m' });

const titles = (page: Page) => page.locator('.task-title').allTextContents();

/** The page's local calendar date, `days` away (the client's "today" is the local one). */
const localDay = (page: Page, days = 0) =>
  page.evaluate((offset) => {
    const now = new Date();
    const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
  }, days);

async function addDueTask(page: Page, title: string, due: string): Promise<void> {
  await page.getByLabel('Due date (optional)').fill(due);
  await addTask(page, title);
  await expect.poll(() => page.getByLabel('Due date (optional)').inputValue()).toBe('');
}

async function expectAccessible(page: Page, state: string): Promise<void> {
  expect(await accessibilityProblems(page), state).toEqual([]);
}

/**
 * axe on a page whose clock is paused (an undo window held open): axe works in timer-sized slices, so the clock is
 * moved on 20 ms at a time until it is done (well inside the 6 s window).
 */
async function expectAccessibleWhilePaused(page: Page, state: string): Promise<void> {
  let done = false;
  const problems = accessibilityProblems(page).finally(() => {
    done = true;
  });
  for (let moved = 0; !done && moved < 3000; moved += 20) await page.clock.runFor(20);
  expect(await problems, state).toEqual([]);
}

/** Every API request the page sends from now on, as "METHOD /path/?query" with its body. */
function apiRequests(page: Page): string[] {
  const sent: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/')) sent.push(`${request.method()} ${url.pathname} ${request.postData() ?? ''}`);
  });
  return sent;
}

describeInBrowser('the task list: due dates, search, sort, counts, bulk actions with undo', () => {
  it('due dates in words, search, sort, multi-select complete + undo, clear completed + undo', async () => {
    const { context, page, pageErrors } = await newUserContext(suite.browser);
    await context.clock.install();
    await signUpInPage(page, suite.app.url, newEmail('list'));

    await addTask(page, 'Buy café beans');
    await addDueTask(page, 'Renew passport', await localDay(page, -3));
    await addDueTask(page, 'Pay rent', await localDay(page, 0));
    await addDueTask(page, 'Call mum', await localDay(page, 1));
    // Newest first, each where the user is looking (the top), without a reload.
    await expect.poll(() => titles(page)).toEqual(['Call mum', 'Pay rent', 'Renew passport', 'Buy café beans']);
    const due = (title: string) => page.locator('.task', { hasText: title }).locator('.due').textContent();
    expect(await due('Pay rent')).toBe('Due: Today');
    expect(await due('Call mum')).toBe('Due: Tomorrow');
    expect(await due('Renew passport')).toBe('Due: Overdue · 3 days');
    expect(await page.locator('.task', { hasText: 'Buy café beans' }).locator('.due').count()).toBe(0);
    // The counts come from the API.
    await page.locator('label.filter', { hasText: 'Overdue 1' }).waitFor();
    await page.locator('label.filter', { hasText: 'All 4' }).waitFor();
    await screenshot(page, 'list-due-desktop');
    await expectAccessible(page, 'list with due dates');

    // Sort by due date: overdue first, undated last; kept in the URL and across a reload.
    await page.getByLabel('Sort').selectOption('due');
    await page.waitForURL(/\?sort=due$/);
    await expect.poll(() => titles(page)).toEqual(['Renew passport', 'Pay rent', 'Call mum', 'Buy café beans']);
    await page.reload();
    await page.getByRole('checkbox', { name: 'Pay rent' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Renew passport', 'Pay rent', 'Call mum', 'Buy café beans']);
    await page.getByLabel('Sort').selectOption('title');
    await expect.poll(() => titles(page)).toEqual(['Buy café beans', 'Call mum', 'Pay rent', 'Renew passport']);
    await page.getByLabel('Sort').selectOption('newest');
    await page.waitForURL((url) => url.search === '');

    // The overdue filter.
    await page.locator('label.filter', { hasText: 'Overdue' }).click();
    await expect.poll(() => titles(page)).toEqual(['Renew passport']);
    await page.locator('label.filter', { hasText: 'All' }).click();

    // Search: accents and case aside, announced politely; Escape clears it.
    const search = page.getByRole('searchbox', { name: 'Search tasks' });
    await search.fill('CAFE');
    await page.waitForURL(/\?q=CAFE$/);
    await expect.poll(() => titles(page)).toEqual(['Buy café beans']);
    await page.getByRole('status').getByText('1 task matches “CAFE”.').waitFor();
    await screenshot(page, 'list-search-desktop');
    await expectAccessible(page, 'search results');
    await search.press('Escape');
    await page.waitForURL((url) => url.search === '');
    await expect.poll(() => titles(page)).toHaveLength(4);

    // Multi-select: complete two at once, then one Undo reopens exactly those two.
    // (The page's clock keeps running here: the query cache's notifications ride on timers.)
    const sent = apiRequests(page);
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Select “Pay rent”' }).check();
    await page.getByRole('checkbox', { name: 'Select “Call mum”' }).check();
    await page.getByText('2 selected').waitFor();
    await screenshot(page, 'list-select-desktop');
    await expectAccessible(page, 'selection');
    await page.getByRole('button', { name: 'Complete', exact: true }).click();
    await page.locator('.toast').getByText('Completed 2 tasks.').waitFor();
    await page.locator('label.filter', { hasText: 'Done 2' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'Pay rent' }).isChecked()).toBe(true);
    await expectAccessible(page, 'bulk complete with undo');
    await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
    await page.locator('label.filter', { hasText: 'Done 0' }).waitFor();
    expect(await page.getByRole('checkbox', { name: 'Pay rent' }).isChecked()).toBe(false);
    const bulkBodies = sent
      .filter((line) => line.startsWith('POST /api/v1/tasks/bulk/'))
      .map((line) => line.slice(line.indexOf('{')));
    expect(bulkBodies.map((body) => JSON.parse(body).action)).toEqual(['complete', 'reopen']);
    expect(JSON.parse(bulkBodies[1] ?? '{}').ids.sort()).toEqual(JSON.parse(bulkBodies[0] ?? '{}').ids.sort());

    // Clear completed, then Undo inside the window: nothing is sent, the task is back.
    await page.getByRole('checkbox', { name: 'Pay rent' }).check();
    await page.locator('label.filter', { hasText: 'Done 1' }).waitFor();
    // The undo window stays open while the test acts (the page's clock is paused), and is passed at once below.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    sent.length = 0;
    await page.getByRole('button', { name: 'Clear completed' }).click();
    await page.locator('.toast').getByText('Cleared 1 completed task.').waitFor();
    await expect.poll(() => titles(page)).toEqual(['Call mum', 'Renew passport', 'Buy café beans']);
    await page.locator('label.filter', { hasText: 'All 3' }).waitFor();
    await screenshot(page, 'list-cleared-desktop');
    await expectAccessibleWhilePaused(page, 'clear completed with undo');
    await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('checkbox', { name: 'Pay rent' }).waitFor();
    await page.clock.fastForward(7000);
    expect(sent.filter((line) => line.startsWith('POST /api/v1/tasks/bulk/'))).toEqual([]);

    // Clear completed for good: one bulk delete of the tasks completed at the click when the window closes; a task
    // ticked during the window is not one the user cleared, and stays.
    const cleared = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/tasks/bulk/');
    await page.getByRole('button', { name: 'Clear completed' }).click();
    await page.locator('.toast').getByText('Cleared 1 completed task.').waitFor();
    const ticked = page.waitForResponse((response) => response.request().method() === 'PATCH');
    await page.getByRole('checkbox', { name: 'Call mum' }).check();
    expect((await ticked).status()).toBe(200);
    await page.clock.fastForward(6500);
    const answer = await cleared;
    expect(answer.status()).toBe(200);
    expect(await answer.json()).toMatchObject({ action: 'delete', count: 1 });
    await page.clock.resume();
    await page.reload();
    await page.getByRole('checkbox', { name: 'Call mum' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Call mum', 'Renew passport', 'Buy café beans']);
    expect(await page.getByRole('checkbox', { name: 'Call mum' }).isChecked()).toBe(true);
    // Reopened, so the rest of the journey sees the list as before.
    await page.getByRole('checkbox', { name: 'Call mum' }).uncheck();
    await page.locator('label.filter', { hasText: 'Done 0' }).waitFor();

    // Select two and delete them: one bulk delete after the window, one Undo for both before it.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Select “Call mum”' }).check();
    await page.getByRole('checkbox', { name: 'Select “Buy café beans”' }).check();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('.toast').getByText('Deleted 2 tasks.').waitFor();
    await expect.poll(() => titles(page)).toEqual(['Renew passport']);
    await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => titles(page)).toEqual(['Call mum', 'Renew passport', 'Buy café beans']);
    await page.clock.resume();

    await page.setViewportSize(PHONE);
    await screenshot(page, 'list-due-phone');
    await expectAccessible(page, 'list on a phone');
    await page.setViewportSize(DESKTOP);

    // A selection deleted just before the page is left is still deleted: one bulk request, sent as the page goes.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Select “Call mum”' }).check();
    await page.getByRole('checkbox', { name: 'Select “Buy café beans”' }).check();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.locator('.toast').getByText('Deleted 2 tasks.').waitFor();
    await page.goto('about:blank');
    await page.clock.resume();
    await page.goto(suite.app.url);
    await page.getByRole('checkbox', { name: 'Renew passport' }).waitFor();
    // The request leaves with the page (keepalive), so it may land just after this page reads the list again.
    const left = () =>
      page.evaluate(async () =>
        ((await (await fetch('/api/v1/tasks/')).json()) as { title: string }[]).map((t) => t.title),
      );
    await expect.poll(left).toEqual(['Renew passport']);

    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('500 tasks on a phone: 50 drawn, "Show more" reads the next pages, at most 150 rows drawn, "Show earlier" goes back', async () => {
    const email = newEmail('many');
    const signup = await fetch(`${suite.app.url}/api/v1/users/signup/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const { token } = (await signup.json()) as { token: string };
    const started = Date.now();
    const create = (n: number) =>
      fetch(`${suite.app.url}/api/v1/tasks/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Token ${token}` },
        body: JSON.stringify({
          title: `Task ${String(n).padStart(3, '0')}`,
          ...(n % 7 === 0 ? { due_on: `2026-0${1 + (n % 9)}-1${n % 10}` } : {}),
          ...(n % 5 === 0 ? { completed: true } : {}),
        }),
      }).then((response) => expect(response.status).toBe(201));
    for (let n = 1; n <= 500; n += 10) await Promise.all(Array.from({ length: 10 }, (_, i) => create(n + i)));
    console.log(`500 tasks created through the API in ${Date.now() - started} ms`);

    const { context, page, pageErrors } = await newUserContext(suite.browser, PHONE);
    await page.goto(suite.app.url);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.task').first().waitFor();
    await page.getByText('50 of 500 shown').waitFor();
    expect(await page.locator('.task').count()).toBe(50);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    console.log(`phone page height with the first page of 500 tasks: ${height} px`);
    expect(height).toBeLessThan(8000);
    await screenshot(page, 'list-500-phone');
    await expectAccessible(page, '500 tasks on a phone');

    // "Show more" reads the next page and puts the keyboard on its first task; at most three pages (150 rows) are
    // drawn, so the page stays short however far the reader goes; "Show earlier" brings pages back from the cache.
    const newest = await fetch(`${suite.app.url}/api/v1/tasks/?sort=newest&limit=500`, {
      headers: { authorization: `Token ${token}` },
    });
    const expected = ((await newest.json()) as { title: string }[]).map((task) => task.title);
    const listReads: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/tasks/') listReads.push(request.url());
    });
    let tallest = 0;
    for (let press = 1; press <= 5; press += 1) {
      await page.getByRole('button', { name: 'Show more' }).click();
      const first = expected[press * 50] ?? '';
      await page.getByRole('checkbox', { name: first, exact: true }).waitFor();
      await expect
        .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent))
        .toBe(first);
      const drawn = await page.locator('.task').count();
      expect(drawn).toBe(Math.min(50 * (press + 1), 150));
      tallest = Math.max(tallest, await page.evaluate(() => document.documentElement.scrollHeight));
      const shown = await titles(page);
      const from = Math.max(0, (press + 1 - 3) * 50);
      expect(shown).toEqual(expected.slice(from, from + drawn));
    }
    console.log(`phone page height, tallest over 6 pages read: ${tallest} px`);
    expect(tallest).toBeLessThan(15_000);
    expect(listReads).toHaveLength(5);
    await page.getByText('151–300 of 500 shown').waitFor();
    await expectAccessible(page, '500 tasks on a phone, pages 4 to 6');
    // Back one page: from the cache, no request; the keyboard lands on the last task brought back.
    await page.getByRole('button', { name: 'Show earlier tasks' }).click();
    await expect.poll(() => titles(page)).toEqual(expected.slice(100, 250));
    await expect
      .poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.labels?.[0]?.textContent))
      .toBe(expected[149]);
    // Forward again: also from the cache.
    await page.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(() => titles(page)).toEqual(expected.slice(150, 300));
    expect(listReads).toHaveLength(5);

    // At desktop width the same list.
    await page.setViewportSize(DESKTOP);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'list-500-desktop');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);
});
