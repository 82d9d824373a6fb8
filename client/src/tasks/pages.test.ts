import { describe, expect, it } from 'vitest';
import type { Task } from '../api/client';
import { flattenPages, insertTask, removeTasks, type TaskPages, updateTasks } from './pages';
import { task } from './test-task';
import { DEFAULT_VIEW, type View } from './view';

const today = '2026-03-14';
const pages = (...lists: { ids: Task[]; next?: string }[]): TaskPages => ({
  pages: lists.map(({ ids, next }) => ({ tasks: ids, next })),
  pageParams: lists.map((_, index) => (index === 0 ? undefined : `c${index}`)),
});
const ids = (data: TaskPages | undefined) => flattenPages(data).map((t) => t.id);

describe('the cached pages of the list', () => {
  it('flatten in order, each task once (a task that moved between pages while paging is not drawn twice)', () => {
    const data = pages({ ids: [task(9), task(8)], next: 'a' }, { ids: [task(8), task(7)] });
    expect(ids(data)).toEqual([9, 8, 7]);
    expect(flattenPages(undefined)).toEqual([]);
  });

  it('newest first: a new task goes to the top of the first page', () => {
    const data = pages({ ids: [task(9), task(8)], next: 'a' }, { ids: [task(7)] });
    expect(ids(insertTask(data, task(10), DEFAULT_VIEW, today))).toEqual([10, 9, 8, 7]);
    // Already there (the create's answer came twice): not added again.
    expect(ids(insertTask(insertTask(data, task(10), DEFAULT_VIEW, today), task(10), DEFAULT_VIEW, today))).toEqual([
      10, 9, 8, 7,
    ]);
  });

  it('oldest first: at the end when every page is loaded; otherwise left for the page that will bring it', () => {
    const view: View = { ...DEFAULT_VIEW, sort: 'oldest' };
    const all = pages({ ids: [task(1), task(2)], next: 'a' }, { ids: [task(3)] });
    expect(ids(insertTask(all, task(4), view, today))).toEqual([1, 2, 3, 4]);
    const partial = pages({ ids: [task(1), task(2)], next: 'a' });
    expect(ids(insertTask(partial, task(4), view, today))).toEqual([1, 2]);
  });

  it('due date and title: where the sort puts it, undated last', () => {
    const byDue: View = { ...DEFAULT_VIEW, sort: 'due' };
    const data = pages(
      { ids: [task(1, { due_on: '2026-03-10' }), task(2, { due_on: '2026-03-20' })], next: 'a' },
      { ids: [task(3, { due_on: null })] },
    );
    expect(ids(insertTask(data, task(4, { due_on: '2026-03-15' }), byDue, today))).toEqual([1, 4, 2, 3]);
    expect(ids(insertTask(data, task(5), byDue, today))).toEqual([1, 2, 3, 5]);
    const byTitle: View = { ...DEFAULT_VIEW, sort: 'title' };
    const titled = pages({ ids: [task(1, { title: 'apple' }), task(2, { title: 'Cherry' })] });
    expect(ids(insertTask(titled, task(3, { title: 'banana' }), byTitle, today))).toEqual([1, 3, 2]);
  });

  it('not into a view it does not belong in: done, overdue, or not matching the search (accents and case aside)', () => {
    const data = pages({ ids: [task(1)] });
    expect(ids(insertTask(data, task(2), { ...DEFAULT_VIEW, filter: 'done' }, today))).toEqual([1]);
    expect(
      ids(insertTask(data, task(2, { due_on: '2026-03-15' }), { ...DEFAULT_VIEW, filter: 'overdue' }, today)),
    ).toEqual([1]);
    expect(
      ids(insertTask(data, task(2, { due_on: '2026-03-13' }), { ...DEFAULT_VIEW, filter: 'overdue' }, today)),
    ).toEqual([2, 1]);
    expect(ids(insertTask(data, task(2, { title: 'Tea' }), { ...DEFAULT_VIEW, q: 'coffee' }, today))).toEqual([1]);
    expect(ids(insertTask(data, task(2, { title: 'CAFÉ au lait' }), { ...DEFAULT_VIEW, q: 'cafe' }, today))).toEqual([
      2, 1,
    ]);
    expect(
      ids(insertTask(data, task(2, { description: 'at the café' }), { ...DEFAULT_VIEW, q: 'CAFÉ' }, today)),
    ).toEqual([2, 1]);
  });

  it('changes and removes tasks on whichever page holds them, leaving the other pages as they were', () => {
    const data = pages({ ids: [task(3), task(2)], next: 'a' }, { ids: [task(1)] });
    const updated = updateTasks(data, (t) => (t.id === 1 ? { ...t, completed: true } : undefined));
    expect(updated?.pages[0]).toBe(data.pages[0]);
    expect(updated?.pages[1]?.tasks[0]?.completed).toBe(true);
    expect(updateTasks(data, () => undefined)).toBe(data);
    const removed = removeTasks(data, new Set([3, 1]));
    expect(ids(removed)).toEqual([2]);
    expect(removed?.pages[0]?.next).toBe('a');
  });
});
