/**
 * The task list and its changes, through TanStack Query: it keeps the list cached, refetches it when the
 * connection comes back, and lets edits show at once (optimistic) and roll back if the server refuses.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api, type NewTask, type Task, type TaskChanges } from '../api/client';
import { connection } from '../api/connection';
import { ConnectionError } from '../api/errors';

export const TASKS = ['tasks'] as const;

export function useTaskList() {
  const queries = useQueryClient();
  useEffect(
    () =>
      connection.subscribe(() => {
        if (connection.getStatus() === 'online') void queries.invalidateQueries({ queryKey: TASKS });
      }),
    [queries],
  );
  return useQuery({
    queryKey: TASKS,
    queryFn: ({ signal }) => api.listTasks(signal),
    // A lost connection is shown by the banner and retried by the connection probe, not by the query.
    retry: (count, error) => !(error instanceof ConnectionError) && count < 1,
  });
}

export function useCreateTask() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ task, key }: { task: NewTask; key: string }) => api.createTask(task, key),
    onSuccess: (created) => {
      queries.setQueryData<Task[]>(TASKS, (tasks = []) =>
        tasks.some((task) => task.id === created.id) ? tasks : [...tasks, created],
      );
    },
  });
}

function replaceTask(tasks: Task[] | undefined, id: number, replace: (task: Task) => Task): Task[] | undefined {
  return tasks?.map((task) => (task.id === id ? replace(task) : task));
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
      if (before) queries.setQueryData<Task[]>(TASKS, (tasks) => replaceTask(tasks, id, () => before));
    },
    onSuccess: (updated) => {
      queries.setQueryData<Task[]>(TASKS, (tasks) => replaceTask(tasks, updated.id, () => updated));
    },
  });
  const change = (id: number, changes: TaskChanges, options?: { onSuccess?: () => void }) => {
    const before = queries.getQueryData<Task[]>(TASKS)?.find((task) => task.id === id);
    queries.setQueryData<Task[]>(TASKS, (tasks) => replaceTask(tasks, id, (task) => ({ ...task, ...changes })));
    mutation.mutate({ id, changes, ...(before ? { before } : {}) }, options);
  };
  return { ...mutation, change };
}

export function useDeleteTask() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => api.deleteTask(id),
    onSuccess: (_answer, id) => {
      queries.setQueryData<Task[]>(TASKS, (tasks = []) => tasks.filter((task) => task.id !== id));
    },
  });
}
