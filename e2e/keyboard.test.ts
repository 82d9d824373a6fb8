import { expect, it } from 'vitest';
import {
  describeInBrowser,
  focused,
  newEmail,
  newUserContext,
  PASSWORD,
  screenshot,
  serverAndBrowser,
  tabTo,
} from './harness.js';

const suite = serverAndBrowser({});

describeInBrowser('keyboard only', () => {
  it('signs up, adds, ticks, edits, filters, deletes and undoes, and logs out without a pointer', async () => {
    const { context, page, pageErrors } = await newUserContext(suite.browser);
    // The page's clock runs as usual; it is paused to keep the undo window open while the keys are pressed.
    await context.clock.install();
    await page.goto(suite.app.url);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();

    // The focus starts on the screen's heading (moved there just after it is drawn); before it, a link to skip
    // the header.
    await expect.poll(() => focused(page)).toBe('h1: Log in');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('a: Skip to content');

    await tabTo(page, 'button: Create an account');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await tabTo(page, 'email: Email', true);
    await page.keyboard.type(newEmail('keys'));
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('password: Password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');

    // Signed in: the focus lands on the page's heading, one Tab from the new-task field. The (empty) list has
    // been read before a task is added: a read still on its way could replace the list that has it.
    const newTask = page.getByRole('textbox', { name: 'New task' });
    await newTask.waitFor();
    await page.getByText('No tasks yet. Add your first one above.').waitFor();
    await expect.poll(() => focused(page)).toBe('h1: Your tasks');
    await tabTo(page, 'text: New task');
    await page.keyboard.type('Feed the cat');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: 'Feed the cat' }).waitFor();
    expect(await focused(page)).toBe('text: New task');
    // The field empties when the save is confirmed, which can render just after the new row: typing before
    // that would add to the old title.
    await expect.poll(() => newTask.inputValue()).toBe('');
    await page.keyboard.type('Pay rent');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: 'Pay rent' }).waitFor();

    // Tick with Space. The tick shows at once; its answer must be back before the task is edited, or that late
    // answer (with the old title) would overwrite the edit on the screen.
    await tabTo(page, 'checkbox: Feed the cat');
    const ticked = page.waitForResponse(
      (response) => response.request().method() === 'PATCH' && response.url().includes('/api/v1/tasks/'),
    );
    await page.keyboard.press('Space');
    await page.getByText('Done 1').waitFor();
    expect((await ticked).status()).toBe(200);

    // Edit with Enter; Escape cancels and gives the focus back; Enter in the editor saves. Each time the focus
    // moves just after the screen changes: wait for it before typing.
    await tabTo(page, 'button: Edit “Feed the cat”');
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toBe('text: Title');
    await page.keyboard.type('Feed the dog');
    await page.keyboard.press('Escape');
    await expect.poll(() => focused(page)).toBe('button: Edit “Feed the cat”');
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toBe('text: Title');
    await page.keyboard.type('Feed the cat twice');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: 'Feed the cat twice' }).waitFor();
    await expect.poll(() => focused(page)).toBe('button: Edit “Feed the cat twice”');

    // Filters are one radio group: arrows move between All, Open and Done.
    await tabTo(page, 'radio: All 2', true);
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/\?show=open$/);
    await expect.poll(() => page.locator('.task-title').allTextContents()).toEqual(['Pay rent']);
    await page.keyboard.press('ArrowLeft');
    await page.waitForURL((url) => url.search === '');
    await screenshot(page, 'keyboard-focus-desktop');

    // Delete with Enter, then reach Undo and take it back (inside the undo window however long that takes).
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    await tabTo(page, 'button: Delete “Pay rent”');
    await page.keyboard.press('Enter');
    await page.locator('.toast').waitFor();
    await tabTo(page, 'button: Undo');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: 'Pay rent' }).waitFor();
    await page.clock.resume();

    await tabTo(page, 'button: Log out', true);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('every control shows where the focus is', async () => {
    const { context, page } = await newUserContext(suite.browser);
    await page.goto(suite.app.url);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    // Tab from where the focus starts, the heading (moved there just after it is drawn).
    await expect.poll(() => focused(page)).toBe('h1: Log in');
    const names: string[] = [];
    for (;;) {
      await page.keyboard.press('Tab');
      if ((await focused(page)) === '(nothing)' || names.length > 20) break;
      names.push(await focused(page));
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement as Element);
        return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
      });
      expect(outline.style, await focused(page)).not.toBe('none');
      expect(outline.width, await focused(page)).toBeGreaterThanOrEqual(2);
    }
    expect(names).toEqual([
      'email: Email',
      'password: Password',
      'button: Log in',
      'button: Forgot password?',
      'button: Create an account',
    ]);
    await context.close();
  });
});
