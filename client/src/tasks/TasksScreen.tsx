/** The signed-in screen: add, filter, tick, edit and delete tasks. */
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, type Task } from '../api/client';
import { ConnectionError, describeError } from '../api/errors';
import { useSession } from '../session/session';
import { applyFilter, countTasks, FILTERS, type Filter, filterSearch, parseFilter } from './filter';
import { NewTaskForm } from './NewTaskForm';
import { PendingDeletes } from './pending-deletes';
import { TaskItem } from './TaskItem';
import { useDeleteTask, useTaskList } from './use-tasks';

const FILTER_LABELS: Record<Filter, string> = { all: 'All', open: 'Open', done: 'Done' };
const EMPTY: Record<Filter, string> = {
  all: 'No tasks yet. Add your first one above.',
  open: 'Nothing open. Well done!',
  done: 'Nothing done yet.',
};

export function TasksScreen({ announce }: { announce: (message: string) => void }) {
  const { onBeforeSignOut } = useSession();
  const list = useTaskList();
  const remove = useDeleteTask();
  const [filter, setFilter] = useState<Filter>(() => parseFilter(window.location.search));
  const [hidden, setHidden] = useState<ReadonlySet<number>>(new Set());
  // Deleted tasks still inside their undo window; one Undo brings them all back.
  const [undoable, setUndoable] = useState<readonly Task[]>([]);
  const [deleteError, setDeleteError] = useState<string>();
  const heading = useRef<HTMLHeadingElement>(null);

  const pending = useMemo(
    () =>
      new PendingDeletes((id) => {
        setUndoable((tasks) => tasks.filter((task) => task.id !== id));
        remove.mutate(id, {
          onError: (error) => {
            // The server still has it: show it again, and say why.
            setHidden((ids) => without(ids, id));
            setDeleteError(`A task could not be deleted: ${describeError(error)}`);
          },
          onSettled: () => setHidden((ids) => without(ids, id)),
        });
      }),
    [remove.mutate],
  );

  // Leaving the page, or this screen (the session ended), commits the deletes still waiting for their undo window.
  useEffect(() => {
    const leave = () => {
      for (const id of pending.flushIds()) api.deleteTaskOnExit(id);
    };
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [pending]);

  // Logging out sends them first, while the session can still authorise them.
  useEffect(
    () =>
      onBeforeSignOut(async () => {
        await Promise.allSettled(pending.flushIds().map((id) => api.deleteTask(id)));
      }),
    [onBeforeSignOut, pending],
  );

  useEffect(() => {
    heading.current?.focus();
  }, []);

  const chooseFilter = (next: Filter) => {
    setFilter(next);
    window.history.replaceState(null, '', `${window.location.pathname}${filterSearch(next)}`);
  };

  const deleteTask = (task: Task) => {
    setDeleteError(undefined);
    setHidden((ids) => new Set(ids).add(task.id));
    setUndoable((tasks) => [...tasks, task]);
    pending.schedule(task.id);
    announce(`Deleted “${task.title}”. Undo is available for a few seconds.`);
    heading.current?.focus();
  };

  const undoDelete = () => {
    const restored = undoable.filter((task) => pending.cancel(task.id));
    setHidden((ids) => restored.reduce((left, task) => without(left, task.id), ids));
    setUndoable([]);
    if (restored.length === 1) announce(`Restored “${restored[0]?.title}”.`);
    else if (restored.length > 1) announce(`Restored ${restored.length} tasks.`);
  };

  const visible = (list.data ?? []).filter((task) => !hidden.has(task.id));
  const counts = countTasks(visible);
  const shown = applyFilter(visible, filter);

  return (
    <main className="tasks">
      <h1 ref={heading} tabIndex={-1} className="visually-hidden">
        Your tasks
      </h1>
      <NewTaskForm onAdded={(title) => announce(`Added “${title}”.`)} />

      {/* Counts only for a list that loaded: zeros would claim the account is empty. */}
      {list.data && (
        <fieldset className="filters">
          <legend className="visually-hidden">Show</legend>
          {FILTERS.map((name) => (
            <label key={name} className={`filter${filter === name ? ' active' : ''}`}>
              <input
                type="radio"
                name="filter"
                value={name}
                checked={filter === name}
                onChange={() => chooseFilter(name)}
              />
              {FILTER_LABELS[name]} <span className="count">{counts[name]}</span>
            </label>
          ))}
        </fieldset>
      )}

      {/* Before the list in the tab order (shown at the bottom): one Tab from the filters reaches Undo. */}
      {undoable.length > 0 && (
        <div className="toast" role="status">
          {undoable.length === 1 ? (
            <span>
              Deleted “<span className="toast-title">{undoable[0]?.title}</span>”.
            </span>
          ) : (
            <span>Deleted {undoable.length} tasks.</span>
          )}
          <button type="button" className="link" onClick={undoDelete}>
            Undo
          </button>
        </div>
      )}
      {deleteError && (
        <p className="banner banner-error" role="alert">
          {deleteError}
        </p>
      )}

      {list.isPending ? (
        <p className="empty" role="status">
          Loading your tasks…
        </p>
      ) : list.isError && !list.data ? (
        <div className="banner banner-error" role="alert">
          <p>
            {list.error instanceof ConnectionError
              ? 'Your tasks could not be loaded: the server cannot be reached. They will load when it is back.'
              : `Your tasks could not be loaded: ${describeError(list.error)}`}
          </p>
          <button type="button" onClick={() => void list.refetch()}>
            Try again
          </button>
        </div>
      ) : shown.length === 0 ? (
        <p className="empty">{EMPTY[filter]}</p>
      ) : (
        <ul className="task-list" aria-label={`${FILTER_LABELS[filter]} tasks`}>
          {shown.map((task) => (
            <TaskItem key={task.id} task={task} onDelete={deleteTask} />
          ))}
        </ul>
      )}
    </main>
  );
}

function without(ids: ReadonlySet<number>, id: number): ReadonlySet<number> {
  const next = new Set(ids);
  next.delete(id);
  return next;
}
