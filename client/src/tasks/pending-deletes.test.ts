import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingDeletes } from './pending-deletes';

describe('delete with undo', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('commits when the undo window closes, not before', () => {
    const committed: number[] = [];
    const pending = new PendingDeletes<number>((id) => committed.push(id), 6000);
    pending.schedule(7);
    vi.advanceTimersByTime(5999);
    expect(committed).toEqual([]);
    expect(pending.has(7)).toBe(true);
    vi.advanceTimersByTime(1);
    expect(committed).toEqual([7]);
    expect(pending.has(7)).toBe(false);
  });

  it('undo inside the window cancels the delete for good', () => {
    const committed: number[] = [];
    const pending = new PendingDeletes<number>((id) => committed.push(id), 6000);
    pending.schedule(7);
    pending.schedule(8);
    expect(pending.cancel(7)).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(committed).toEqual([8]);
    expect(pending.cancel(7)).toBe(false);
  });

  it('hands over every pending delete when the page is left, and commits none itself', () => {
    const committed: number[] = [];
    const pending = new PendingDeletes<number>((id) => committed.push(id), 6000);
    pending.schedule(1);
    pending.schedule(2);
    expect(pending.flush().sort()).toEqual([1, 2]);
    vi.advanceTimersByTime(60_000);
    expect(committed).toEqual([]);
  });
});
