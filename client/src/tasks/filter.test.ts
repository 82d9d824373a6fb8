import { describe, expect, it } from 'vitest';
import type { Task } from '../api/client';
import { applyFilter, countTasks, filterSearch, parseFilter } from './filter';

const task = (id: number, completed: boolean): Task => ({
  id,
  title: `task ${id}`,
  description: '',
  due_on: null,
  completed,
  created_at: '2026-11-24T10:00:00.000Z',
  updated_at: '2026-11-24T10:00:00.000Z',
});
const tasks = [task(1, false), task(2, true), task(3, false)];

describe('the task filter', () => {
  it('shows all, open or done tasks, in their order', () => {
    expect(applyFilter(tasks, 'all').map((t) => t.id)).toEqual([1, 2, 3]);
    expect(applyFilter(tasks, 'open').map((t) => t.id)).toEqual([1, 3]);
    expect(applyFilter(tasks, 'done').map((t) => t.id)).toEqual([2]);
  });

  it('counts each view', () => {
    expect(countTasks(tasks)).toEqual({ all: 3, open: 2, done: 1 });
    expect(countTasks([])).toEqual({ all: 0, open: 0, done: 0 });
  });

  it('round-trips through the URL, and anything unknown means all', () => {
    for (const filter of ['all', 'open', 'done'] as const) expect(parseFilter(filterSearch(filter))).toBe(filter);
    expect(filterSearch('all')).toBe('');
    expect(parseFilter('?show=everything')).toBe('all');
    expect(parseFilter('?show=')).toBe('all');
    expect(parseFilter('')).toBe('all');
  });
});
