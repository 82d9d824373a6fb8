/** The all / open / done filter: kept in the URL (`?show=open`) so a reload or a shared link keeps it. */
import type { Task } from '../api/client';

export const FILTERS = ['all', 'open', 'done'] as const;
export type Filter = (typeof FILTERS)[number];

export function parseFilter(search: string): Filter {
  const value = new URLSearchParams(search).get('show');
  return (FILTERS as readonly string[]).includes(value ?? '') ? (value as Filter) : 'all';
}

export function filterSearch(filter: Filter): string {
  return filter === 'all' ? '' : `?show=${filter}`;
}

export function applyFilter(tasks: readonly Task[], filter: Filter): Task[] {
  if (filter === 'all') return [...tasks];
  return tasks.filter((task) => task.completed === (filter === 'done'));
}

export function countTasks(tasks: readonly Task[]): Record<Filter, number> {
  const done = tasks.filter((task) => task.completed).length;
  return { all: tasks.length, open: tasks.length - done, done };
}
