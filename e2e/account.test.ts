/**
 * The account flows in a real browser, on the zero-config server `npm start` runs (embedded database) sending its
 * emails to a real SMTP server on a loopback port (testkit/src/smtp-sink.ts): forgot password -> the email -> a new password -> logged in; a
 * session ended from another browser, a password change and "log out everywhere", each seen by the other browser
 * as the reason on its login screen; downloading the data; deleting the account. Each new screen is checked with
 * axe-core and saved at desktop and phone width.
 */
import { readFileSync } from 'node:fs';
import { freePort } from '@ironclad/testkit/pg-cluster';
import { type SmtpSink, startSmtpSink } from '@ironclad/testkit/smtp-sink';
import type { ParsedMail } from 'mailparser';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type AppProcess,
  accessibilityProblems,
  addTask,
  DESKTOP,
  describeInBrowser,
  focused,
  launchBrowser,
  newEmail,
  newUserContext,
  PASSWORD,
  PHONE,
  screenshot,
  signUpInPage,
  startServer,
  tabTo,
} from './harness.js';

let app: AppProcess;
let browser: Browser;
let sink: SmtpSink;

beforeAll(async () => {
  // A relay without TLS is allowed on loopback only; TLS and AUTH to the relay are server/test/email-delivery's.
  sink = await startSmtpSink({ tls: 'none' });
  // With a relay the server builds links from PUBLIC_URL only, so it must know its port before it starts.
  const port = await freePort();
  app = await startServer({ SMTP_URL: sink.url, PORT: String(port), PUBLIC_URL: `http://localhost:${port}` });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sink?.stop();
});

const addressedTo = (mail: ParsedMail, email: string) =>
  [mail.to ?? []].flat().some((to) => to.value.some((mailbox) => mailbox.address === email));

/** The reset link in an email's text, as a person would find it: the word that contains `#reset=`. */
function resetLinkIn(text: string): string {
  const at = text.indexOf('#reset=');
  if (at < 0) throw new Error(`no reset link in:\n${text}`);
  const start = Math.max(text.lastIndexOf(' ', at), text.lastIndexOf('\n', at)) + 1;
  const end = text.slice(at).search(/\s/);
  return text.slice(start, end < 0 ? undefined : at + end);
}

const NEW_PASSWORD = 'a brand new passphrase';
/** Each test walks a whole flow in two or three browsers (12-25 s alone); beside the other suites on two cores, more. */
const FLOW_MS = 120_000;

/** The screen as it is now at desktop width, then at phone width; axe finds nothing wrong with it. */
async function looksRight(page: Page, name: string): Promise<void> {
  expect(await accessibilityProblems(page), name).toEqual([]);
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await screenshot(page, `${name}-phone`);
  // Nothing sticks out sideways on a phone.
  expect(await page.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(PHONE.width);
  await page.setViewportSize(size);
}

async function logInInPage(page: Page, email: string, password: string): Promise<void> {
  await page.goto(app.url);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('textbox', { name: 'New task' }).waitFor();
}

async function openAccount(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
}

/** What a screen reader reads after a field's name: its hint and its error. */
const describedBy = (field: Locator) =>
  field.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent)
      .join(' '),
  );

const sessionRows = (page: Page) => page.getByRole('list', { name: 'Where you are logged in' }).getByRole('listitem');

describeInBrowser('the account, as a person uses it', { timeout: FLOW_MS }, () => {
  it('forgot password: the email, its link, a new password, logged in; the link works once', async () => {
    const email = newEmail('forgot');
    const { context, page, pageErrors } = await newUserContext(browser);
    await signUpInPage(page, app.url, email);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();

    // By keyboard: the link sits after "Log in"; the new screen starts at its heading, with the email carried over.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Email').focus();
    await tabTo(page, 'button: Forgot password?');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    await expect.poll(() => focused(page)).toBe('h1: Reset your password');
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    await looksRight(page, 'forgot-password');

    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await expect.poll(() => focused(page)).toBe('h1: Check your inbox');
    const card = page.locator('.auth-card');
    const known = await card.innerText();
    expect(known).toContain(`If an account uses ${email}, an email with a link`);
    await looksRight(page, 'reset-sent');

    // An address no account uses gets the very same page.
    const stranger = newEmail('nobody');
    await page.getByRole('button', { name: 'send another link' }).click();
    await page.getByLabel('Email').fill(stranger);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    expect((await card.innerText()).replace(stranger, email)).toBe(known);
    await page.getByRole('button', { name: 'Back to log in' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await expect.poll(() => focused(page)).toBe('h1: Log in');

    const mail = await sink.waitForMessage(
      (message) => addressedTo(message, email) && Boolean(message.text?.includes('#reset=')),
    );
    const link = resetLinkIn(mail.text ?? '');
    // The address no account uses got nothing (its request was queued beside the other, and is long done).
    expect(sink.messages.filter((message) => addressedTo(message, stranger))).toEqual([]);
    expect(link.startsWith(`${app.url}/#reset=icr_`), link).toBe(true);
    const token = link.slice(link.indexOf('#reset=') + '#reset='.length);

    // The link opens in a new tab, as from a mail client. The token leaves the address bar at once and goes
    // nowhere but the body of the one request that uses it.
    const tab = await context.newPage();
    tab.on('pageerror', (error) => pageErrors.push(error.message));
    const sent: { url: string; body: string }[] = [];
    tab.on('request', (request) => sent.push({ url: request.url(), body: request.postData() ?? '' }));
    await tab.goto(link);
    await tab.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(tab.url()).toBe(`${app.url}/`);
    await expect.poll(() => focused(tab)).toBe('h1: Choose a new password');
    await looksRight(tab, 'reset-password');

    // The password rules still hold, and the refusal is under its field.
    await tab.getByLabel('New password', { exact: true }).fill('short');
    await tab.getByLabel('Repeat the new password').fill('short');
    await tab.getByRole('button', { name: 'Set the new password' }).click();
    await tab.getByText('A password needs 10 to 256 characters').waitFor();
    await expect.poll(() => focused(tab)).toBe('password: New password');

    await tab.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await tab.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await tab.getByRole('button', { name: 'Set the new password' }).click();
    await tab.getByText('No tasks yet. Add your first one above.').waitFor();
    await expect.poll(() => tab.locator('.account .email').textContent()).toBe(email);
    expect(sent.filter((request) => request.url.includes('/api/') && request.url.includes(token))).toEqual([]);
    // The refused try and the one that worked.
    const confirm = `${app.url}/api/v1/users/password/reset/confirm/`;
    expect(sent.filter((request) => request.body.includes(token)).map((request) => request.url)).toEqual([
      confirm,
      confirm,
    ]);
    const stored = await tab.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain(token);

    // Used once, the link is dead; the page says so and offers a new one. This time it is pasted into a tab that
    // is already open on the app: only the fragment changes, and the page still takes it out of the address bar.
    const again = await context.newPage();
    await again.goto(app.url);
    await again.getByRole('textbox', { name: 'New task' }).waitFor();
    await again.goto(link);
    await again.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(again.url()).toBe(`${app.url}/`);
    await again.getByLabel('New password', { exact: true }).fill(`${NEW_PASSWORD} again`);
    await again.getByLabel('Repeat the new password').fill(`${NEW_PASSWORD} again`);
    await again.getByRole('button', { name: 'Set the new password' }).click();
    await again.getByRole('heading', { name: 'This reset link is invalid or has expired' }).waitFor();
    await looksRight(again, 'reset-link-invalid');
    await again.getByRole('button', { name: 'Send me a new link' }).click();
    await again.getByRole('heading', { name: 'Reset your password' }).waitFor();
    // Signed in here already (the reset did it), so the way out leads to the tasks.
    await again.getByRole('button', { name: 'Back to your tasks' }).click();
    await again.getByRole('textbox', { name: 'New task' }).waitFor();

    // Elsewhere, the old password no longer works and the new one does.
    const other = await newUserContext(browser);
    await other.page.goto(app.url);
    await other.page.getByLabel('Email').fill(email);
    await other.page.getByLabel('Password').fill(PASSWORD);
    await other.page.getByRole('button', { name: 'Log in' }).click();
    await other.page.getByRole('alert').getByText('Invalid email or password.').waitFor();
    await logInInPage(other.page, email, NEW_PASSWORD);

    expect(pageErrors).toEqual([]);
    await other.context.close();
    await context.close();
  });

  it('a session ended from another device returns that browser to login, saying why', async () => {
    const email = newEmail('devices');
    const laptop = await newUserContext(browser);
    await signUpInPage(laptop.page, app.url, email);
    await addTask(laptop.page, 'Water the plants');

    const phone = await newUserContext(browser, PHONE);
    await logInInPage(phone.page, email, PASSWORD);
    await openAccount(phone.page);
    await expect.poll(() => focused(phone.page)).toBe('h1: Your account');
    const rows = sessionRows(phone.page);
    await expect.poll(() => rows.count()).toBe(2);
    // This device first, marked; the device named in words, with its address.
    await expect.poll(() => rows.first().innerText()).toContain('This device');
    expect(await rows.first().innerText()).toContain('Headless Chrome on Linux');
    expect(await rows.first().innerText()).toContain('127.0.0.1');
    await phone.page.getByText('Account created').waitFor();
    await looksRight(phone.page, 'account');
    await phone.page.emulateMedia({ colorScheme: 'dark' });
    await looksRight(phone.page, 'account-dark');
    await phone.page.emulateMedia({ colorScheme: 'light' });

    await phone.page.getByRole('button', { name: /^End the session on Headless Chrome on Linux/ }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await phone.page.getByText('You are not logged in anywhere else.').waitFor();
    await expect.poll(() => focused(phone.page)).toBe('h2: Where you are logged in');
    await phone.page.getByText('Session ended', { exact: true }).waitFor();

    // The laptop's next call is refused; it goes back to login with the reason, and nothing of the account stays.
    await laptop.page.getByRole('textbox', { name: 'New task' }).fill('Feed the cat');
    await laptop.page.getByRole('button', { name: 'Add', exact: true }).click();
    await laptop.page.getByRole('heading', { name: 'Log in' }).waitFor();
    await laptop.page.getByText('This session was ended from another device.').waitFor();
    await expect.poll(() => laptop.page.getByText('Water the plants').count()).toBe(0);
    await screenshot(laptop.page, 'session-ended-elsewhere-desktop');

    expect([...laptop.pageErrors, ...phone.pageErrors]).toEqual([]);
    await laptop.context.close();
    await phone.context.close();
  });

  it('changing the password and logging out everywhere: the other browser hears why', async () => {
    const email = newEmail('change');
    const laptop = await newUserContext(browser);
    await signUpInPage(laptop.page, app.url, email);
    const desk = await newUserContext(browser);
    await logInInPage(desk.page, email, PASSWORD);
    await openAccount(desk.page);
    await expect.poll(() => sessionRows(desk.page).count()).toBe(2);

    // A wrong current password is refused under its field, which takes the focus.
    const current = desk.page.getByLabel('Current password');
    await current.fill('not my password at all');
    await desk.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await desk.page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await desk.page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => current.getAttribute('aria-invalid')).toBe('true');
    expect(await describedBy(current)).toMatch(/^Current password is not/);
    await expect.poll(() => focused(desk.page)).toBe('password: Current password');
    await looksRight(desk.page, 'change-password-refused');

    await current.fill(PASSWORD);
    await desk.page.getByRole('button', { name: 'Change password' }).click();
    const changed = desk.page.getByText('Your password was changed. Every other device was logged out');
    await changed.waitFor();
    await expect.poll(() => changed.evaluate((element) => element === document.activeElement)).toBe(true);
    await expect.poll(() => sessionRows(desk.page).count()).toBe(1);
    expect(await current.inputValue()).toBe('');

    // The laptop opens again on a session that ended: the login screen says why at once.
    await laptop.page.reload();
    await laptop.page.getByText('Your password was changed; log in with the new one.').waitFor();
    await screenshot(laptop.page, 'password-changed-elsewhere-desktop');
    await logInInPage(laptop.page, email, NEW_PASSWORD);
    await addTask(laptop.page, 'Still here');

    // "Log out everywhere" asks first; Escape takes the question back, with the focus.
    const everywhere = desk.page.getByRole('button', { name: 'Log out everywhere…' });
    await everywhere.click();
    await expect.poll(() => focused(desk.page)).toMatch(/^p: Log out on every device/);
    await looksRight(desk.page, 'logout-everywhere-confirm');
    await desk.page.keyboard.press('Escape');
    await expect.poll(() => focused(desk.page)).toBe('button: Log out everywhere…');
    await everywhere.click();
    await desk.page.getByRole('button', { name: 'Yes, log out everywhere' }).click();
    await desk.page.getByRole('heading', { name: 'Log in' }).waitFor();
    await desk.page.getByText('You were logged out everywhere.').waitFor();
    expect((await desk.context.cookies()).find((cookie) => cookie.name === 'ironclad_session')).toBeUndefined();

    await laptop.page.getByRole('checkbox', { name: 'Still here' }).click();
    await laptop.page.getByRole('heading', { name: 'Log in' }).waitFor();
    await laptop.page.getByText('You were logged out everywhere.').waitFor();

    expect([...laptop.pageErrors, ...desk.pageErrors]).toEqual([]);
    await laptop.context.close();
    await desk.context.close();
  });

  it('downloads the data, then deletes the account for good', async () => {
    const email = newEmail('leaving');
    const { context, page, pageErrors } = await newUserContext(browser);
    await signUpInPage(page, app.url, email);
    await addTask(page, 'Renew passport');
    await openAccount(page);
    // The browser's Back and Forward move between the tasks and the account; a reload stays where it is.
    await page.goBack();
    await page.getByRole('checkbox', { name: 'Renew passport' }).waitFor();
    await page.goForward();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('Member since').waitFor();

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download my data' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.json$/);
    const text = readFileSync((await download.path()) as string, 'utf8');
    const data = JSON.parse(text) as { account: { email: string }; tasks: { title: string }[]; sessions: unknown[] };
    expect(data.account.email).toBe(email);
    expect(data.tasks.map((task) => task.title)).toEqual(['Renew passport']);
    expect(data.sessions).toHaveLength(1);
    expect(text).not.toMatch(/argon2|ict_|icr_/);
    await page.getByText(`Your data was saved as ${download.suggestedFilename()}.`).waitFor();
    await page.getByText('Data downloaded').waitFor();

    // Deleting asks for the password and a second, explicit button, after saying what goes.
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await expect.poll(() => focused(page)).toMatch(/^p: This cannot be undone\. The account/);
    const erase = page.getByRole('button', { name: 'Delete my account and all my tasks' });
    expect(await erase.isDisabled()).toBe(true);
    await page.getByLabel('Your password').fill('not my password at all');
    await erase.click();
    await expect.poll(() => describedBy(page.getByLabel('Your password'))).toMatch(/^To be sure it is you\. .*not/);
    await expect.poll(() => focused(page)).toBe('password: Your password');
    await looksRight(page, 'delete-account');

    await page.getByLabel('Your password').fill(PASSWORD);
    await erase.click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByText('Your account and all its tasks were deleted.').waitFor();
    await screenshot(page, 'account-deleted-desktop');
    expect((await context.cookies()).find((cookie) => cookie.name === 'ironclad_session')).toBeUndefined();

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').getByText('Invalid email or password.').waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
