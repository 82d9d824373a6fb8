/** A task as the API returns it, for the list's unit tests: `task(4, { completed: true })`. */
import type { Task } from '../api/client';

export const task = (id: number, extra: Partial<Task> = {}): Task => ({
  id,
  title: `task ${id}`,
  description: '',
  completed: false,
  due_on: null,
  created_at: '2026-03-14T10:00:00.000Z',
  updated_at: '2026-03-14T10:00:00.000Z',
  ...extra,
});
