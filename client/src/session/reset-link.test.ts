import { afterEach, describe, expect, it } from 'vitest';
import { takeResetLink } from './reset-link';

const TOKEN = `icr_${'A1b2-C3d4_'.repeat(4)}xyz`; // 43 base64url characters after the prefix

afterEach(() => window.history.replaceState(null, '', '/'));

describe('the reset link in the address', () => {
  it('is read and removed from the address bar at once, keeping the path, the query and the history state', () => {
    expect(TOKEN).toHaveLength(47);
    window.history.replaceState({ screen: 'tasks' }, '', `/?show=open#reset=${TOKEN}`);
    const before = window.history.length;

    expect(takeResetLink(window.location, window.history)).toEqual({ token: TOKEN });
    expect(window.location.href).toBe('http://localhost:3000/?show=open');
    expect(window.location.hash).toBe('');
    expect(window.history.state).toEqual({ screen: 'tasks' });
    // Replaced, not pushed: Back does not return to the address with the token.
    expect(window.history.length).toBe(before);
    // Taken once: nothing is left to read.
    expect(takeResetLink(window.location, window.history)).toBeUndefined();
  });

  it('leaves every other address alone', () => {
    for (const address of ['/', '/?show=done', '/#content', `/?reset=${TOKEN}`, `/#other=1&reset=${TOKEN}`]) {
      window.history.replaceState(null, '', address);
      expect(takeResetLink(window.location, window.history), address).toBeUndefined();
      expect(`${window.location.pathname}${window.location.search}${window.location.hash}`).toBe(address);
    }
  });

  it('a cut-short or damaged link is still removed, and has no token to send', () => {
    for (const hash of [
      '#reset=',
      `#reset=${TOKEN.slice(0, 30)}`,
      `#reset=${TOKEN}x`,
      `#reset=${TOKEN.replace('A', '%41')}`,
    ]) {
      window.history.replaceState(null, '', `/${hash}`);
      expect(takeResetLink(window.location, window.history), hash).toEqual({ token: undefined });
      expect(window.location.hash).toBe('');
    }
    window.history.replaceState(null, '', `/#reset=ict_${TOKEN.slice(4)}`);
    expect(takeResetLink(window.location, window.history)).toEqual({ token: undefined });
  });
});
