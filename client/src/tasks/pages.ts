/**
 * The list as TanStack Query keeps it: pages of tasks read one after another (keyset cursor). These functions
 * change the cached pages when a task is added, changed or deleted, so the screen follows at once without reading
 * the whole list again.
 */
import type { InfiniteData } from '@tanstack/react-query';
import type { Task } from '../api/client';
import type { Sort, View } from './view';

export interface TaskPage {
  tasks: Task[];
  /** The cursor of the next page; undefined on the last one. */
  next?: string | undefined;
}

export type TaskPages = InfiniteData<TaskPage, string | undefined>;

/** Every loaded task, in order, once each. */
export function flattenPages(data: { pages: readonly TaskPage[] } | undefined): Task[] {
  const seen = new Set<number>();
  const tasks: Task[] = [];
  for (const page of data?.pages ?? []) {
    for (const task of page.tasks) {
      if (seen.has(task.id)) continue;
      seen.add(task.id);
      tasks.push(task);
    }
  }
  return tasks;
}

/** Lower case, without accents: "Café" and "CAFE" both become "cafe", as the API's search compares them. */
export function foldForSearch(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * Whether a task shows in a view's filter on `today`. Used for a task that changed here (ticked in the Open view,
 * it leaves it at once); the search text is the server's to judge, except for a task added here.
 */
export function fitsFilter(task: Task, view: View, today: string): boolean {
  switch (view.filter) {
    case 'all':
      return true;
    case 'open':
      return !task.completed;
    case 'done':
      return task.completed;
    case 'overdue':
      return !task.completed && task.due_on != null && task.due_on < today;
  }
}

function matchesSearch(task: Task, q: string): boolean {
  if (!q) return true;
  const needle = foldForSearch(q);
  return foldForSearch(task.title).includes(needle) || foldForSearch(task.description).includes(needle);
}

/** The API's order for each sort (ties by id ascending). */
export function compareTasks(sort: Sort): (a: Task, b: Task) => number {
  switch (sort) {
    case 'newest':
      return (a, b) => b.id - a.id;
    case 'oldest':
      return (a, b) => a.id - b.id;
    case 'due':
      return (a, b) => {
        if (a.due_on !== b.due_on) {
          if (a.due_on == null) return 1;
          if (b.due_on == null) return -1;
          return a.due_on < b.due_on ? -1 : 1;
        }
        return a.id - b.id;
      };
    case 'title':
      return (a, b) => {
        const [x, y] = [a.title.toLowerCase(), b.title.toLowerCase()];
        return x === y ? a.id - b.id : x < y ? -1 : 1;
      };
  }
}

/**
 * A task added here, put where the view's sort puts it among the loaded tasks (newest first: at the top). When it
 * would come after every loaded task and more pages follow, it is left for those pages to bring.
 */
export function insertTask(data: TaskPages | undefined, task: Task, view: View, today: string): TaskPages | undefined {
  if (!data || data.pages.length === 0) return data;
  if (!fitsFilter(task, view, today) || !matchesSearch(task, view.q)) return data;
  if (data.pages.some((page) => page.tasks.some((t) => t.id === task.id))) return data;
  const before = compareTasks(view.sort);
  const pages = [...data.pages];
  for (const [index, page] of pages.entries()) {
    const at = page.tasks.findIndex((existing) => before(task, existing) < 0);
    if (at >= 0) {
      pages[index] = { ...page, tasks: [...page.tasks.slice(0, at), task, ...page.tasks.slice(at)] };
      return { ...data, pages };
    }
  }
  const last = pages.length - 1;
  const lastPage = pages[last];
  if (!lastPage || lastPage.next !== undefined) return data;
  pages[last] = { ...lastPage, tasks: [...lastPage.tasks, task] };
  return { ...data, pages };
}

/** The pages with each task `change` returns something for replaced by it. */
export function updateTasks(
  data: TaskPages | undefined,
  change: (task: Task) => Task | undefined,
): TaskPages | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    let pageChanged = false;
    const tasks = page.tasks.map((task) => {
      const next = change(task);
      if (!next || next === task) return task;
      pageChanged = true;
      return next;
    });
    if (!pageChanged) return page;
    changed = true;
    return { ...page, tasks };
  });
  return changed ? { ...data, pages } : data;
}

/** The pages without the tasks whose ids are given. */
export function removeTasks(data: TaskPages | undefined, ids: ReadonlySet<number>): TaskPages | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((page) => ({ ...page, tasks: page.tasks.filter((t) => !ids.has(t.id)) })) };
}
