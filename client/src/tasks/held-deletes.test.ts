import { describe, expect, it } from 'vitest';
import { deleteRequests, describeHeld, reverseAction } from './held-deletes';
import { withoutHidden } from './TasksScreen';
import { task } from './test-task';

describe('undo of a bulk action', () => {
  it('one task is its own DELETE; a selection is one bulk delete; clear completed deletes the ids it held', () => {
    expect(deleteRequests({ tasks: [task(4)] })).toEqual([{ id: 4 }]);
    expect(deleteRequests({ tasks: [task(4), task(7)] })).toEqual([{ action: 'delete', ids: [4, 7] }]);
    // Never the server's clear_completed: a task ticked during the undo window is not one the user cleared.
    expect(deleteRequests({ tasks: [task(4)], cleared: true })).toEqual([{ action: 'delete', ids: [4] }]);
    const many = Array.from({ length: 1201 }, (_, i) => task(i + 1, { completed: true }));
    const requests = deleteRequests({ tasks: many, cleared: true });
    expect(requests.map((request) => ('ids' in request ? (request.ids?.length ?? 0) : 0))).toEqual([500, 500, 201]);
  });

  it('reverses a complete or reopen for exactly the tasks it changed (not those already in that state)', () => {
    expect(reverseAction('complete', [2, 5])).toEqual({ action: 'reopen', ids: [2, 5] });
    expect(reverseAction('reopen', [9])).toEqual({ action: 'complete', ids: [9] });
  });

  it('says what one Undo brings back', () => {
    expect(describeHeld([{ tasks: [task(1), task(2)] }])).toBe('Deleted 2 tasks.');
    expect(describeHeld([{ tasks: [task(1)] }, { tasks: [task(2), task(3)] }])).toBe('Deleted 3 tasks.');
    const done = (id: number) => task(id, { completed: true });
    expect(describeHeld([{ tasks: [done(1)], cleared: true }])).toBe('Cleared 1 completed task.');
    expect(describeHeld([{ tasks: [done(1), done(2)], cleared: true }])).toBe('Cleared 2 completed tasks.');
    expect(describeHeld([{ tasks: [done(1)], cleared: true }, { tasks: [task(3)] }])).toBe('Deleted 2 tasks.');
  });

  it('counts leave out what is held for its undo window', () => {
    const counts = { all: 10, open: 6, done: 4, overdue: 2 };
    const today = '2026-03-14';
    expect(withoutHidden(counts, [], today)).toEqual(counts);
    expect(withoutHidden(counts, [task(1, { due_on: '2026-03-01' }), task(2, { completed: true })], today)).toEqual({
      all: 8,
      open: 5,
      done: 3,
      overdue: 1,
    });
  });
});
