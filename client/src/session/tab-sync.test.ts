import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_NAME, openTabSync, parseTabMessage, type TabMessage, type TabSync } from './tab-sync';

const open: TabSync[] = [];
afterEach(() => {
  for (const tabs of open.splice(0)) tabs.close();
});

function tab(): { tabs: TabSync; heard: TabMessage[] } {
  const tabs = openTabSync(BroadcastChannel, `test-${CHANNEL_NAME}`);
  open.push(tabs);
  const heard: TabMessage[] = [];
  tabs.subscribe((message) => heard.push(message));
  return { tabs, heard };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('tabs telling each other', () => {
  it('deliver what one tab posts to every other tab, never back to itself', async () => {
    const a = tab();
    const b = tab();
    const c = tab();
    a.tabs.post({ type: 'signed-out', reason: 'logout' });
    b.tabs.post({ type: 'tasks-changed' });
    await settle();
    expect(a.heard).toEqual([{ type: 'tasks-changed' }]);
    expect(b.heard).toEqual([{ type: 'signed-out', reason: 'logout' }]);
    expect(c.heard).toEqual([{ type: 'signed-out', reason: 'logout' }, { type: 'tasks-changed' }]);
  });

  it('ignore anything that is not one of the known shapes', async () => {
    const a = tab();
    // A page of the same origin posting on the same channel by hand.
    const stranger = new BroadcastChannel(`test-${CHANNEL_NAME}`);
    for (const data of [
      'signed-out',
      null,
      [],
      { type: 'signed-out' },
      { type: 'signed-out', reason: 'because' },
      { type: 'signed-in', email: 'ada@example.com' },
      { type: 'tasks-changed', token: 'ict_x' },
      { type: 'toString' },
    ]) {
      stranger.postMessage(data);
    }
    await settle();
    stranger.close();
    expect(a.heard).toEqual([]);
  });

  it('parse exactly the three messages', () => {
    expect(parseTabMessage({ type: 'signed-in' })).toEqual({ type: 'signed-in' });
    expect(parseTabMessage({ type: 'tasks-changed' })).toEqual({ type: 'tasks-changed' });
    expect(parseTabMessage({ type: 'signed-out', reason: 'expired' })).toEqual({
      type: 'signed-out',
      reason: 'expired',
    });
    expect(parseTabMessage({ type: 'signed-out', reason: '__proto__' })).toBeUndefined();
  });

  it('do nothing, and break nothing, where BroadcastChannel is missing', () => {
    const tabs = openTabSync(undefined);
    expect(() => tabs.post({ type: 'tasks-changed' })).not.toThrow();
    expect(tabs.subscribe(() => {})).toBeTypeOf('function');
    tabs.close();
  });
});
