/**
 * A user's whole journey in a real suite.browser, on the zero-config server `npm start` runs (embedded database):
 * sign up (with a refusal first), add, edit, tick, filter, delete and undo, log out and back in; the token
 * never reachable from page scripts; screenshots of the main screens at desktop and phone width.
 * Also: two users never see each other's tasks.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
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

const suite = serverAndBrowser({});

const titles = (page: Page) => page.locator('.task-title').allTextContents();

/** The page's next answer to a `method` request for one task. */
const taskAnswer = (page: Page, method: string) =>
  page.waitForResponse(
    (response) =>
      response.request().method() === method && /^\/api\/v1\/tasks\/\d+\/$/.test(new URL(response.url()).pathname),
  );

/** Every API request the page sends from now on, as "METHOD /path/", in the order it sends them. */
function apiRequests(page: Page): string[] {
  const sent: string[] = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/api/')) sent.push(`${request.method()} ${pathname}`);
  });
  return sent;
}

const DELETE_ONE = /^DELETE \/api\/v1\/tasks\/\d+\/$/;

// The screen shows the newest task first (the API's own default stays oldest first).
describeInBrowser('the web client, as a new user uses it', () => {
  it('sign up, add, edit, tick, filter, delete with undo, log out and in again', async () => {
    const { context, page, pageErrors } = await newUserContext(suite.browser);
    // The page's clock runs as usual but can be moved past the undo window instead of waiting it out.
    await context.clock.install();
    const email = newEmail('journey');

    await page.goto(suite.app.url);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await screenshot(page, 'login-desktop');

    // A refused signup: the reason is shown under the field it is about.
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const password = page.getByLabel('Password');
    await page.getByText('A password needs 10 to 256 characters').waitFor();
    await expect.poll(() => password.getAttribute('aria-invalid')).toBe('true');
    // The focus moves to the field just after the message is drawn.
    await expect.poll(() => password.evaluate((el) => el === document.activeElement)).toBe(true);
    await screenshot(page, 'signup-error-desktop');

    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('No tasks yet. Add your first one above.').waitFor();
    await expect.poll(() => page.locator('.account .email').textContent()).toBe(email);

    await addTask(page, 'Buy milk');
    await page.getByRole('textbox', { name: 'New task' }).fill('Write the quarterly report');
    await page.getByRole('button', { name: 'Add details' }).click();
    await page.getByLabel('Details (optional)').fill('Numbers from finance by Friday.\nDraft to Alex.');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('checkbox', { name: 'Write the quarterly report' }).waitFor();
    // The form closes its details when the save is confirmed, which can render just after the new row: the next
    // task must not be sent with this one's details.
    await page.getByRole('button', { name: 'Add details' }).waitFor();
    await addTask(page, 'Call the plumber');
    await expect.poll(() => titles(page)).toEqual(['Call the plumber', 'Write the quarterly report', 'Buy milk']);
    await expect.poll(() => page.getByRole('textbox', { name: 'New task' }).inputValue()).toBe('');

    // Edit title and description in place.
    await page.getByRole('button', { name: 'Edit “Buy milk”' }).click();
    await page.getByRole('textbox', { name: 'Title' }).fill('Buy oat milk');
    await page.getByRole('textbox', { name: 'Details' }).fill('Two cartons');
    await screenshot(page, 'editing-desktop');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).waitFor();
    await page.getByText('Two cartons').waitFor();

    // Tick done and back; the filters follow, and live in the URL. A tick shows at once; the server has it when
    // its answer is back, which the reload below, and the next tick of the same task, must wait for.
    let saved = taskAnswer(page, 'PATCH');
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).check();
    await page.getByText('Done 1').waitFor();
    expect((await saved).status()).toBe(200);
    await page.getByText('Open', { exact: false }).first().click();
    await page.waitForURL(/\?show=open$/);
    await expect.poll(() => titles(page)).toEqual(['Call the plumber', 'Write the quarterly report']);
    await page.reload();
    await page.getByRole('checkbox', { name: 'Call the plumber' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Call the plumber', 'Write the quarterly report']);
    await page.locator('label.filter', { hasText: 'Done' }).click();
    await expect.poll(() => titles(page)).toEqual(['Buy oat milk']);
    await expect.poll(() => page.getByRole('checkbox', { name: 'Buy oat milk' }).isChecked()).toBe(true);
    // Unticked, it leaves the Done view at once (a click: the box is gone before uncheck() could verify it).
    // Its answer must be back before the box is ticked again: a late answer would untick the new box.
    saved = taskAnswer(page, 'PATCH');
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).click();
    await page.getByText('Nothing done yet.').waitFor();
    expect((await saved).status()).toBe(200);
    await page.locator('label.filter', { hasText: 'All' }).click();
    saved = taskAnswer(page, 'PATCH');
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).check();
    expect((await saved).status()).toBe(200);
    await screenshot(page, 'tasks-desktop');

    // Delete, undo: the task comes back and stays, past the undo window: no DELETE is sent for it. The window
    // stays open while the test acts (the page's clock is paused), then is passed at once.
    const sent = apiRequests(page);
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await page.getByRole('button', { name: 'Delete “Call the plumber”' }).click();
    await page.locator('.toast').getByText('Call the plumber').waitFor();
    await expect.poll(() => titles(page)).not.toContain('Call the plumber');
    await screenshot(page, 'undo-desktop');
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('checkbox', { name: 'Call the plumber' }).waitFor();
    await page.clock.fastForward(6500);
    await page.clock.resume();
    await page.reload();
    await page.getByRole('checkbox', { name: 'Call the plumber' }).waitFor();
    expect(sent.filter((request) => DELETE_ONE.test(request))).toEqual([]);

    // Delete for good: the DELETE goes when the undo window closes; once it is answered the server no longer has it.
    const deleted = taskAnswer(page, 'DELETE');
    await page.getByRole('button', { name: 'Delete “Call the plumber”' }).click();
    await page.locator('.toast').waitFor();
    await page.clock.fastForward(6500);
    await page.locator('.toast').waitFor({ state: 'detached', timeout: 10_000 });
    expect((await deleted).status()).toBe(200);
    expect(sent.filter((request) => DELETE_ONE.test(request))).toHaveLength(1);
    await page.reload();
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Write the quarterly report', 'Buy oat milk']);

    // The token is in an HttpOnly cookie only: nothing a script can read holds it.
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'ironclad_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/' });
    const visible = await page.evaluate(() => ({
      cookie: document.cookie,
      local: Object.keys(localStorage).length,
      session: Object.keys(sessionStorage).length,
    }));
    expect(visible).toEqual({ cookie: '', local: 0, session: 0 });

    // Phone width: the same screens, laid out for it.
    await page.setViewportSize(PHONE);
    await screenshot(page, 'tasks-phone');
    await page.setViewportSize(DESKTOP);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect((await context.cookies()).find((cookie) => cookie.name === 'ironclad_session')).toBeUndefined();
    await page.setViewportSize(PHONE);
    await screenshot(page, 'login-phone');
    await page.setViewportSize(DESKTOP);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('Invalid email or password.').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('checkbox', { name: 'Buy oat milk' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Write the quarterly report', 'Buy oat milk']);

    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('one Undo brings back every task deleted in its window; logging out inside it still deletes', async () => {
    const { context, page, pageErrors } = await newUserContext(suite.browser);
    // The page's clock runs as usual but can be moved past the undo window instead of waiting it out.
    await context.clock.install();
    const email = newEmail('undo');
    await signUpInPage(page, suite.app.url, email);
    for (const title of ['One', 'Two', 'Three', 'Four']) await addTask(page, title);

    // The undo window stays open while the test acts (the page's clock is paused), and is passed at once below.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await page.getByRole('button', { name: 'Delete “One”' }).click();
    await page.getByRole('button', { name: 'Delete “Two”' }).click();
    await page.locator('.toast').getByText('Deleted 2 tasks.').waitFor();
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('checkbox', { name: 'Two' }).waitFor();
    await expect.poll(() => titles(page)).toEqual(['Four', 'Three', 'Two', 'One']);

    // Delete, then log out at once: the delete is sent before the session ends, and nobody is told it expired.
    const sent = apiRequests(page);
    await page.getByRole('button', { name: 'Delete “Three”' }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(sent).toEqual([expect.stringMatching(DELETE_ONE), 'POST /api/v1/users/logout/']);
    await page.clock.fastForward(7000);
    expect(await page.getByText('Your session has expired').count()).toBe(0);
    await page.clock.resume();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('checkbox', { name: 'Four' }).waitFor();
    // Past the undo window nothing more was sent until this login (a late delete would have been refused, 401,
    // and said the session expired, perhaps after the check above).
    expect(sent.slice(0, 3)).toEqual([
      expect.stringMatching(DELETE_ONE),
      'POST /api/v1/users/logout/',
      'POST /api/v1/users/login/',
    ]);
    // The list and its counts are read side by side.
    expect(sent.slice(3).sort()).toEqual(['GET /api/v1/tasks/', 'GET /api/v1/tasks/counts/']);
    await expect.poll(() => titles(page)).toEqual(['Four', 'Two', 'One']);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('two users never see each other’s tasks, in the list or by id', async () => {
    const ada = await newUserContext(suite.browser);
    const bob = await newUserContext(suite.browser);
    await signUpInPage(ada.page, suite.app.url, newEmail('ada'));
    await signUpInPage(bob.page, suite.app.url, newEmail('bob'));
    await addTask(ada.page, 'Ada’s secret plan');
    await addTask(bob.page, 'Bob’s shopping');

    await bob.page.reload();
    await bob.page.getByRole('checkbox', { name: 'Bob’s shopping' }).waitFor();
    await expect.poll(() => titles(bob.page)).toEqual(['Bob’s shopping']);
    await ada.page.reload();
    await ada.page.getByRole('checkbox', { name: 'Ada’s secret plan' }).waitFor();
    await expect.poll(() => titles(ada.page)).toEqual(['Ada’s secret plan']);

    // Bob's page asks for Ada's task by id with Bob's cookie: the same 404 as a task that does not exist.
    const adaTasks = await ada.page.evaluate(async () => (await fetch('/api/v1/tasks/')).json());
    const adaId = (adaTasks as { id: number }[])[0]?.id;
    const answer = await bob.page.evaluate(async (id) => {
      const response = await fetch(`/api/v1/tasks/${id}/`);
      return { status: response.status, body: await response.text() };
    }, adaId);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('secret');
    await ada.context.close();
    await bob.context.close();
  });
});
