/**
 * What a delete-with-undo holds back, and how it is sent: one task (its own DELETE), a selection (one bulk
 * delete), or "clear completed" (one bulk action for every completed task of the account).
 */
import { api, type BulkAction, type Task } from '../api/client';

export type HeldDelete = { kind: 'tasks'; tasks: readonly Task[] } | { kind: 'completed'; count: number };

/** The request a held delete becomes; a single task keeps its own DELETE. */
export function deleteRequest(held: HeldDelete): { id: number } | BulkAction {
  if (held.kind === 'completed') return { action: 'clear_completed' };
  const [only] = held.tasks;
  if (held.tasks.length === 1 && only) return { id: only.id };
  return { action: 'delete', ids: held.tasks.map((task) => task.id) };
}

/** Sends it in a way that outlives the page (keepalive), while it unloads; the answer is never read. */
export function sendOnExit(held: HeldDelete): void {
  const request = deleteRequest(held);
  if ('id' in request) api.deleteTaskOnExit(request.id);
  else api.bulkOnExit(request);
}

/** Sends it and waits for the answer (used before logging out, while the session can still authorise it). */
export async function sendNow(held: HeldDelete): Promise<unknown> {
  const request = deleteRequest(held);
  return 'id' in request ? api.deleteTask(request.id) : api.bulk(request);
}

/** What the Undo bar says about the held deletes. */
export function describeHeld(held: readonly HeldDelete[]): string {
  const [only] = held;
  if (held.length === 1 && only?.kind === 'completed') {
    return `Cleared ${only.count} completed ${only.count === 1 ? 'task' : 'tasks'}.`;
  }
  const count = held.reduce((sum, item) => sum + (item.kind === 'tasks' ? item.tasks.length : item.count), 0);
  return `Deleted ${count} ${count === 1 ? 'task' : 'tasks'}.`;
}

/** The reverse of a complete or reopen, for exactly the tasks it changed (Undo). */
export function reverseAction(action: 'complete' | 'reopen', changed: readonly number[]): BulkAction {
  return { action: action === 'complete' ? 'reopen' : 'complete', ids: [...changed] };
}
