/**
 * What a delete-with-undo holds back, and how it is sent: one task (its own DELETE), or several (bulk deletes of at
 * most BULK_IDS_MAX ids each). "Clear completed" holds the tasks that were completed when it was clicked, by id, so a
 * task ticked during the undo window is not deleted with them (the server's clear_completed would take it too).
 */
import { api, type BulkAction, type Task } from '../api/client';
import { BULK_IDS_MAX } from '../api/limits';

export interface HeldDelete {
  tasks: readonly Task[];
  /** Held by "Clear completed" (says so in the Undo bar) rather than by a delete of chosen tasks. */
  cleared?: boolean;
}

/** The requests a held delete becomes; a single chosen task keeps its own DELETE. */
export function deleteRequests(held: HeldDelete): Array<{ id: number } | BulkAction> {
  const [only] = held.tasks;
  if (held.tasks.length === 1 && only && !held.cleared) return [{ id: only.id }];
  const ids = held.tasks.map((task) => task.id);
  const requests: BulkAction[] = [];
  for (let start = 0; start < ids.length; start += BULK_IDS_MAX) {
    requests.push({ action: 'delete', ids: ids.slice(start, start + BULK_IDS_MAX) });
  }
  return requests;
}

/** Sends it in a way that outlives the page (keepalive), while it unloads; the answer is never read. */
export function sendOnExit(held: HeldDelete): void {
  for (const request of deleteRequests(held)) {
    if ('id' in request) api.deleteTaskOnExit(request.id);
    else api.bulkOnExit(request);
  }
}

/** Sends it and waits for the answer (used before logging out, while the session can still authorise it). */
export async function sendNow(held: HeldDelete): Promise<unknown> {
  return Promise.all(
    deleteRequests(held).map((request) => ('id' in request ? api.deleteTask(request.id) : api.bulk(request))),
  );
}

/**
 * Every task of the account that is completed now, loaded on screen or not, read page by page (500 a page; an
 * account holds at most TASK_QUOTA tasks, so this ends). Tasks in `except` (already held) are left out.
 */
export async function completedTasks(except: ReadonlySet<number>): Promise<Task[]> {
  const found: Task[] = [];
  let after: string | undefined;
  do {
    const page = await api.listTaskPage({
      completed: 'true',
      sort: 'oldest',
      limit: BULK_IDS_MAX,
      ...(after === undefined ? {} : { after }),
    });
    found.push(...page.tasks.filter((task) => !except.has(task.id)));
    after = page.next;
  } while (after !== undefined);
  return found;
}

/** What the Undo bar says about the held deletes. */
export function describeHeld(held: readonly HeldDelete[]): string {
  const count = held.reduce((sum, item) => sum + item.tasks.length, 0);
  if (held.every((item) => item.cleared)) return `Cleared ${count} completed ${count === 1 ? 'task' : 'tasks'}.`;
  return `Deleted ${count} ${count === 1 ? 'task' : 'tasks'}.`;
}

/** The reverse of a complete or reopen, for exactly the tasks it changed (Undo). */
export function reverseAction(action: 'complete' | 'reopen', changed: readonly number[]): BulkAction {
  return { action: action === 'complete' ? 'reopen' : 'complete', ids: [...changed] };
}
