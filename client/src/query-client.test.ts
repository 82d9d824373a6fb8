import { afterEach, describe, expect, it } from 'vitest';
import { createQueryClient } from './query-client';
import { openTabSync, type TabMessage, type TabSync } from './session/tab-sync';

const open: TabSync[] = [];
afterEach(() => {
  for (const tabs of open.splice(0)) tabs.close();
});

describe('the query cache of one tab', () => {
  it('tells the other tabs after every successful mutation, and only then', async () => {
    const here = openTabSync(BroadcastChannel, 'test-query-client');
    const there = openTabSync(BroadcastChannel, 'test-query-client');
    open.push(here, there);
    const heard: TabMessage[] = [];
    there.subscribe((message) => heard.push(message));
    const queries = createQueryClient(here);

    // Any mutation, whatever its key: new task mutations are covered without a line of their own.
    await queries
      .getMutationCache()
      .build(queries, { mutationFn: async () => ({ id: 1 }) })
      .execute(undefined);
    await expect(
      queries
        .getMutationCache()
        .build(queries, {
          mutationFn: async () => {
            throw new Error('refused');
          },
        })
        .execute(undefined),
    ).rejects.toThrow('refused');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual([{ type: 'tasks-changed' }]);
  });
});
