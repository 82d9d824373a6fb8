import { describe, expect, it } from 'vitest';
import type { Task } from '../api/client';
import { deleteRequest, describeHeld, reverseAction } from './held-deletes';
import { withoutHidden } from './TasksScreen';

const task = (id: number, extra: Partial<Task> = {}): Task => ({
  id,
  title: `task ${id}`,
  description: '',
  completed: false,
  due_on: null,
  created_at: '2026-03-14T10:00:00.000Z',
  updated_at: '2026-03-14T10:00:00.000Z',
  ...extra,
});

describe('undo of a bulk action', () => {
  it('one task is its own DELETE; a selection is one bulk delete; clear completed is one bulk action', () => {
    expect(deleteRequest({ kind: 'tasks', tasks: [task(4)] })).toEqual({ id: 4 });
    expect(deleteRequest({ kind: 'tasks', tasks: [task(4), task(7)] })).toEqual({ action: 'delete', ids: [4, 7] });
    expect(deleteRequest({ kind: 'completed', count: 3 })).toEqual({ action: 'clear_completed' });
  });

  it('reverses a complete or reopen for exactly the tasks it changed (not those already in that state)', () => {
    expect(reverseAction('complete', [2, 5])).toEqual({ action: 'reopen', ids: [2, 5] });
    expect(reverseAction('reopen', [9])).toEqual({ action: 'complete', ids: [9] });
  });

  it('says what one Undo brings back', () => {
    expect(describeHeld([{ kind: 'tasks', tasks: [task(1), task(2)] }])).toBe('Deleted 2 tasks.');
    expect(
      describeHeld([
        { kind: 'tasks', tasks: [task(1)] },
        { kind: 'tasks', tasks: [task(2), task(3)] },
      ]),
    ).toBe('Deleted 3 tasks.');
    expect(describeHeld([{ kind: 'completed', count: 1 }])).toBe('Cleared 1 completed task.');
    expect(describeHeld([{ kind: 'completed', count: 12 }])).toBe('Cleared 12 completed tasks.');
  });

  it('counts leave out what is held for its undo window', () => {
    const counts = { all: 10, open: 6, done: 4, overdue: 2 };
    const today = '2026-03-14';
    expect(withoutHidden(counts, [], false, today)).toEqual(counts);
    expect(
      withoutHidden(counts, [task(1, { due_on: '2026-03-01' }), task(2, { completed: true })], false, today),
    ).toEqual({ all: 8, open: 5, done: 3, overdue: 1 });
    expect(withoutHidden(counts, [], true, today)).toEqual({ all: 6, open: 6, done: 0, overdue: 2 });
    // A done task deleted on its own while the completed ones are being cleared is counted once.
    expect(withoutHidden(counts, [task(2, { completed: true })], true, today)).toEqual({
      all: 6,
      open: 6,
      done: 0,
      overdue: 2,
    });
  });
});
