/**
 * The task list and its changes, through TanStack Query: the list is read page by page (keyset cursor from the
 * Link header) for the view on screen, the counts come from the API, and edits show at once in every cached view
 * (optimistic) and roll back if the server refuses.
 */
import {
  keepPreviousData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, type BulkAction, type NewTask, type Task, type TaskChanges } from '../api/client';
import { connection } from '../api/connection';
import { ConnectionError } from '../api/errors';
import { insertTask, removeTasks, type TaskPages, updateTasks } from './pages';
import { listQuery, type View } from './view';

export const TASKS = ['tasks'] as const;
const LISTS = ['tasks', 'list'] as const;
const COUNTS = ['tasks', 'counts'] as const;

/** Tasks per page: a phone draws at most this many rows more per "Show more". */
export const PAGE_SIZE = 50;

// A lost connection is shown by the banner and retried by the connection probe, not by the query.
const retry = (count: number, error: unknown) => !(error instanceof ConnectionError) && count < 1;

function useRefetchWhenOnline() {
  const queries = useQueryClient();
  useEffect(
    () =>
      connection.subscribe(() => {
        if (connection.getStatus() === 'online') void queries.invalidateQueries({ queryKey: TASKS });
      }),
    [queries],
  );
}

export function useTaskList(view: View, today: string) {
  useRefetchWhenOnline();
  return useInfiniteQuery({
    queryKey: [...LISTS, view, today],
    queryFn: ({ pageParam, signal }) =>
      api.listTaskPage(
        { ...listQuery(view, today), limit: PAGE_SIZE, ...(pageParam ? { after: pageParam } : {}) },
        signal,
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page): string | undefined => page.next,
    // While another sort, filter or search loads, the list on screen stays (no "Loading…" flash at each key).
    placeholderData: keepPreviousData,
    retry,
  });
}

export function useTaskCounts(today: string, q: string) {
  return useQuery({
    queryKey: [...COUNTS, today, q],
    queryFn: ({ signal }) => api.taskCounts({ today, ...(q ? { q } : {}) }, signal),
    retry,
  });
}

/** Applies `change` to every cached list, each with its own view and day. */
function changeLists(
  queries: QueryClient,
  change: (data: TaskPages | undefined, view: View, today: string) => TaskPages | undefined,
) {
  for (const query of queries.getQueryCache().findAll({ queryKey: LISTS })) {
    const [, , view, today] = query.queryKey as [string, string, View, string];
    queries.setQueryData<TaskPages>(query.queryKey, (data) => change(data, view, today));
  }
}

function findTask(queries: QueryClient, id: number): Task | undefined {
  for (const [, data] of queries.getQueriesData<TaskPages>({ queryKey: LISTS })) {
    for (const page of data?.pages ?? []) {
      const found = page.tasks.find((task) => task.id === id);
      if (found) return found;
    }
  }
  return undefined;
}

export const refreshCounts = (queries: QueryClient) => queries.invalidateQueries({ queryKey: COUNTS });

export function useCreateTask() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ task, key }: { task: NewTask; key: string }) => api.createTask(task, key),
    onSuccess: (created) => {
      // Where the user is looking: the view's sort puts it (newest first: at the top), no reload.
      changeLists(queries, (data, view, today) => insertTask(data, created, view, today));
      return refreshCounts(queries);
    },
  });
}

/**
 * Changes a task: the list shows the change before the server confirms it. If the server refuses, that one
 * task goes back to what it was; other tasks' changes are kept.
 */
export function useUpdateTask() {
  const queries = useQueryClient();
  const mutation = useMutation({
    mutationFn: ({ id, changes }: { id: number; changes: TaskChanges; before?: Task }) => api.updateTask(id, changes),
    onError: (_error, { id, before }) => {
      if (before) changeLists(queries, (data) => updateTasks(data, (task) => (task.id === id ? before : undefined)));
    },
    onSuccess: (updated) => {
      changeLists(queries, (data) => updateTasks(data, (task) => (task.id === updated.id ? updated : undefined)));
      return refreshCounts(queries);
    },
  });
  const change = (id: number, changes: TaskChanges, options?: { onSuccess?: () => void }) => {
    const before = findTask(queries, id);
    changeLists(queries, (data) => updateTasks(data, (task) => (task.id === id ? { ...task, ...changes } : undefined)));
    mutation.mutate({ id, changes, ...(before ? { before } : {}) }, options);
  };
  return { ...mutation, change };
}

/** Deletes one task (after its undo window). */
export function useDeleteTask() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.deleteTask(id),
    onSuccess: (_answer, id) => {
      changeLists(queries, (data) => removeTasks(data, new Set([id])));
      return refreshCounts(queries);
    },
  });
}

/**
 * One bulk action on many tasks. Complete and reopen show at once; deletes are held by the screen for their undo
 * window before they come here. The answer's `changed` ids are what an Undo reverses.
 */
export function useBulkAction() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (action: BulkAction) => api.bulk(action),
    onMutate: (action) => {
      if (action.action === 'complete' || action.action === 'reopen') {
        const ids = new Set(action.ids);
        const completed = action.action === 'complete';
        changeLists(queries, (data) =>
          updateTasks(data, (task) =>
            ids.has(task.id) && task.completed !== completed ? { ...task, completed } : undefined,
          ),
        );
      }
    },
    onSuccess: (result, action) => {
      if (action.action === 'delete') changeLists(queries, (data) => removeTasks(data, new Set(result.changed)));
      if (action.action === 'clear_completed') {
        // Every completed task of the account is gone, loaded or not.
        changeLists(
          queries,
          (data) =>
            data && {
              ...data,
              pages: data.pages.map((page) => ({ ...page, tasks: page.tasks.filter((t) => !t.completed) })),
            },
        );
      }
      return refreshCounts(queries);
    },
    // The cache may now say something the server does not: read it again.
    onError: () => queries.invalidateQueries({ queryKey: TASKS }),
  });
}
