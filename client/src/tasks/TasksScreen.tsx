/**
 * The signed-in screen: add, search, sort, filter, tick, edit and delete tasks, one at a time or a selection at
 * once, each with an Undo. The list is read page by page; the counts come from the API.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Task, TaskCounts } from '../api/client';
import { ConnectionError, describeError } from '../api/errors';
import { useSession } from '../session/session';
import {
  completedTasks,
  deleteRequests,
  describeHeld,
  type HeldDelete,
  reverseAction,
  sendNow,
  sendOnExit,
} from './held-deletes';
import { windowAfterMore, windowOver } from './list-window';
import { NewTaskForm } from './NewTaskForm';
import { fitsFilter, flattenPages } from './pages';
import { PendingDeletes } from './pending-deletes';
import { SearchBox } from './SearchBox';
import { SelectionBar } from './SelectionBar';
import { ShowEarlier, ShowMore } from './ShowMore';
import { TaskItem } from './TaskItem';
import { useBulkAction, useDeleteTask, useTaskCounts, useTaskList } from './use-tasks';
import { useToday } from './use-today';
import { FILTERS, type Filter, parseView, SORT_LABELS, SORTS, type Sort, type View, viewSearch } from './view';

const FILTER_LABELS: Record<Filter, string> = { all: 'All', open: 'Open', done: 'Done', overdue: 'Overdue' };
const EMPTY: Record<Filter, string> = {
  all: 'No tasks yet. Add your first one above.',
  open: 'Nothing open. Well done!',
  done: 'Nothing done yet.',
  overdue: 'Nothing overdue.',
};
const UNDO_WINDOW_MS = 6000;

type ChangeUndo = { action: 'complete' | 'reopen'; changed: number[] };

export function TasksScreen({ announce }: { announce: (message: string) => void }) {
  const { onBeforeSignOut } = useSession();
  const today = useToday();
  const [view, setView] = useState<View>(() => parseView(window.location.search));
  const list = useTaskList(view, today);
  const counts = useTaskCounts(today, view.q);
  const remove = useDeleteTask();
  const bulk = useBulkAction();
  // Tasks whose delete waits for its undo window (or for the server's answer): not shown, not counted.
  const [hidden, setHidden] = useState<ReadonlyMap<number, Task>>(new Map());
  // "Clear completed" is reading which tasks are completed (its button waits).
  const [gathering, setGathering] = useState(false);
  // Deletes inside their undo window; one Undo brings them all back.
  const [held, setHeld] = useState<readonly HeldDelete[]>([]);
  // The last complete/reopen of a selection, undoable for the same window.
  const [changeUndo, setChangeUndo] = useState<ChangeUndo>();
  const [problem, setProblem] = useState<string>();
  const [selecting, setSelecting] = useState(false);
  // The first drawn page (list-window.ts), and a task to put the keyboard on once it is drawn.
  const [windowStart, setWindowStart] = useState(0);
  const [focusTask, setFocusTask] = useState<number>();
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const heading = useRef<HTMLHeadingElement>(null);

  const unhide = useCallback((item: HeldDelete) => setHidden((tasks) => without(tasks, item.tasks)), []);

  const pending = useMemo(
    () =>
      new PendingDeletes<HeldDelete>((item) => {
        setHeld((items) => items.filter((other) => other !== item));
        // mutateAsync: a held "clear completed" of more than 500 tasks is several bulk requests, and a mutation's
        // per-call callbacks fire only for its latest call.
        void Promise.all(
          deleteRequests(item).map((request) =>
            'id' in request ? remove.mutateAsync(request.id) : bulk.mutateAsync(request),
          ),
        )
          .catch((error: unknown) => setProblem(`Could not delete: ${describeError(error)}`))
          .finally(() => unhide(item));
      }, UNDO_WINDOW_MS),
    [remove.mutateAsync, bulk.mutateAsync, unhide],
  );

  // Leaving the page, or this screen (the session ended), commits the deletes still waiting for their undo window.
  useEffect(() => {
    const leave = () => {
      for (const item of pending.flush()) sendOnExit(item);
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
        await Promise.allSettled(pending.flush().map(sendNow));
      }),
    [onBeforeSignOut, pending],
  );

  useEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    if (focusTask === undefined) return;
    const row = document.querySelector<HTMLElement>(`[data-task-id="${focusTask}"]`);
    if (!row) return;
    row.querySelector<HTMLElement>('input, button')?.focus();
    setFocusTask(undefined);
  });

  // The Undo of a complete/reopen closes with the same window as a delete's.
  useEffect(() => {
    if (!changeUndo) return;
    const timer = setTimeout(() => setChangeUndo(undefined), UNDO_WINDOW_MS);
    return () => clearTimeout(timer);
  }, [changeUndo]);

  // A search's result count is announced politely once the counts for it are in.
  const matches = view.q && counts.data && !counts.isFetching ? counts.data.all : undefined;
  useEffect(() => {
    if (matches !== undefined) announce(`${matches} ${matches === 1 ? 'task matches' : 'tasks match'} “${view.q}”.`);
  }, [matches, view.q, announce]);

  const changeView = (next: Partial<View>) => {
    const updated = { ...view, ...next };
    setView(updated);
    setSelected(new Set());
    setWindowStart(0);
    window.history.replaceState(null, '', `${window.location.pathname}${viewSearch(updated)}`);
  };

  const holdDelete = (item: HeldDelete, message: string) => {
    setProblem(undefined);
    setChangeUndo(undefined);
    setHidden((tasks) => withTasks(tasks, item.tasks));
    setHeld((items) => [...items, item]);
    pending.schedule(item);
    announce(`${message} Undo is available for a few seconds.`);
    heading.current?.focus();
  };

  const deleteTask = (task: Task) => holdDelete({ tasks: [task] }, `Deleted “${task.title}”.`);

  const undoDelete = () => {
    const restored = held.filter((item) => pending.cancel(item));
    for (const item of restored) unhide(item);
    setHeld([]);
    const tasks = restored.flatMap((item) => item.tasks);
    if (restored.some((item) => item.cleared)) announce('Restored the completed tasks.');
    else if (tasks.length === 1) announce(`Restored “${tasks[0]?.title}”.`);
    else if (tasks.length > 1) announce(`Restored ${tasks.length} tasks.`);
  };

  const pages = list.data?.pages ?? [];
  const drawn = windowOver(windowStart, pages.length);
  const loaded = flattenPages({ pages: pages.slice(drawn.start, drawn.start + drawn.count) });
  const tasksBefore = pages.slice(0, drawn.start).reduce((sum, page) => sum + page.tasks.length, 0);
  const laterLoaded = drawn.start + drawn.count < pages.length;

  // Moving the window puts the keyboard on the first task it shows (or the last one "Show earlier" brought back),
  // so the reader continues from there whatever the browser does with the scroll position.
  const showMore = async () => {
    let first: number | undefined;
    if (laterLoaded) {
      first = pages[drawn.start + drawn.count]?.tasks[0]?.id;
      setWindowStart(drawn.start + 1);
    } else {
      const next = await list.fetchNextPage();
      const all = next.data?.pages ?? [];
      first = all[all.length - 1]?.tasks[0]?.id;
      setWindowStart(windowAfterMore(all.length));
    }
    if (first !== undefined) setFocusTask(first);
  };
  const showEarlier = () => {
    const page = pages[drawn.start - 1]?.tasks;
    setWindowStart(drawn.start - 1);
    const last = page?.[page.length - 1]?.id;
    if (last !== undefined) setFocusTask(last);
  };
  const visible = loaded.filter((task) => !hidden.has(task.id) && fitsFilter(task, view, today));
  const shownCounts = counts.data && withoutHidden(counts.data, [...hidden.values()], today);
  const selectedTasks = visible.filter((task) => selected.has(task.id));

  const changeSelection = (action: 'complete' | 'reopen') => {
    const ids = selectedTasks.map((task) => task.id);
    setProblem(undefined);
    bulk.mutate(
      { action, ids },
      {
        onSuccess: (result) => {
          const verb = action === 'complete' ? 'Completed' : 'Reopened';
          announce(`${verb} ${result.count} ${result.count === 1 ? 'task' : 'tasks'}.`);
          setChangeUndo(result.count > 0 ? { action, changed: result.changed } : undefined);
        },
        onError: (error) => setProblem(`Could not change the selected tasks: ${describeError(error)}`),
      },
    );
    setSelecting(false);
    setSelected(new Set());
    heading.current?.focus();
  };

  const undoChange = () => {
    if (!changeUndo) return;
    const { action, changed } = changeUndo;
    setChangeUndo(undefined);
    bulk.mutate(reverseAction(action, changed), {
      onSuccess: (result) =>
        announce(`Undone: ${result.count} ${result.count === 1 ? 'task' : 'tasks'} back as before.`),
      onError: (error) => setProblem(`Could not undo: ${describeError(error)}`),
    });
  };

  const deleteSelection = () => {
    const tasks = selectedTasks;
    setSelecting(false);
    setSelected(new Set());
    holdDelete({ tasks }, `Deleted ${tasks.length} ${tasks.length === 1 ? 'task' : 'tasks'}.`);
  };

  // The tasks completed at the click, by id: one ticked during the undo window stays.
  const clearCompleted = async () => {
    setProblem(undefined);
    setGathering(true);
    try {
      const tasks = await completedTasks(new Set(hidden.keys()));
      const count = tasks.length;
      if (count > 0)
        holdDelete({ tasks, cleared: true }, `Cleared ${count} completed ${count === 1 ? 'task' : 'tasks'}.`);
    } catch (error) {
      setProblem(`The completed tasks could not be cleared: ${describeError(error)}`);
    } finally {
      setGathering(false);
    }
  };

  const toggleSelected = (task: Task, on: boolean) =>
    setSelected((ids) => {
      const next = new Set(ids);
      if (on) next.add(task.id);
      else next.delete(task.id);
      return next;
    });

  return (
    <main className={`tasks${held.length > 0 || changeUndo ? ' with-toast' : ''}`}>
      <h1 ref={heading} tabIndex={-1} className="visually-hidden">
        Your tasks
      </h1>
      <NewTaskForm
        onAdded={(title) => {
          // Back to the start of the list, where the chosen sort puts most new tasks (newest first: the top).
          setWindowStart(0);
          announce(`Added “${title}”.`);
        }}
      />

      <div className="list-controls">
        <SearchBox value={view.q} onSearch={(q) => changeView({ q })} />
        <div className="sort">
          <label htmlFor="task-sort">Sort</label>
          <select
            id="task-sort"
            value={view.sort}
            onChange={(event) => changeView({ sort: event.target.value as Sort })}
          >
            {SORTS.map((sort) => (
              <option key={sort} value={sort}>
                {SORT_LABELS[sort]}
              </option>
            ))}
          </select>
        </div>
      </div>

      <div className="filter-row">
        <fieldset className="filters">
          <legend className="visually-hidden">Show</legend>
          {FILTERS.map((name) => (
            <label key={name} className={`filter filter-${name}${view.filter === name ? ' active' : ''}`}>
              <input
                type="radio"
                name="filter"
                value={name}
                checked={view.filter === name}
                onChange={() => changeView({ filter: name })}
              />
              {FILTER_LABELS[name]}{' '}
              {/* Counts only once the API has given them: zeros would claim the account is empty. */}
              {/* The span is there from the start (empty), so the pills do not grow and rewrap when the counts come. */}
              <span className="count">{shownCounts ? shownCounts[name] : ''}</span>
            </label>
          ))}
        </fieldset>
        <div className="list-actions">
          {/* Both buttons keep their place while they do not apply (visibility: hidden is also out of the tab order and
              the accessibility tree), so the list does not move down when the counts and the first page arrive. */}
          {!selecting && (
            <button
              type="button"
              className={`ghost${shownCounts && shownCounts.done > 0 ? '' : ' reserved'}`}
              onClick={() => void clearCompleted()}
              disabled={gathering}
            >
              Clear completed
            </button>
          )}
          <button
            type="button"
            className={`ghost${visible.length > 0 || selecting ? '' : ' reserved'}`}
            aria-pressed={selecting}
            onClick={() => {
              setSelecting(!selecting);
              setSelected(new Set());
            }}
          >
            {selecting ? 'Cancel selection' : 'Select'}
          </button>
        </div>
      </div>

      {selecting && (
        <SelectionBar
          count={selectedTasks.length}
          shown={visible.length}
          onSelectAll={() => setSelected(new Set(visible.map((task) => task.id)))}
          onSelectNone={() => setSelected(new Set())}
          onComplete={() => changeSelection('complete')}
          onReopen={() => changeSelection('reopen')}
          onDelete={deleteSelection}
        />
      )}

      {/* Before the list in the tab order (shown at the bottom): one Tab from the controls reaches Undo. */}
      {held.length > 0 ? (
        <div className="toast" role="status">
          {held.length === 1 && !held[0]?.cleared && held[0]?.tasks.length === 1 ? (
            <span>
              Deleted “<span className="toast-title">{held[0].tasks[0]?.title}</span>”.
            </span>
          ) : (
            <span>{describeHeld(held)}</span>
          )}
          <button type="button" className="link" onClick={undoDelete}>
            Undo
          </button>
        </div>
      ) : (
        changeUndo && (
          <div className="toast" role="status">
            <span>
              {changeUndo.action === 'complete' ? 'Completed' : 'Reopened'} {changeUndo.changed.length}{' '}
              {changeUndo.changed.length === 1 ? 'task' : 'tasks'}.
            </span>
            <button type="button" className="link" onClick={undoChange}>
              Undo
            </button>
          </div>
        )
      )}
      {problem && (
        <p className="banner banner-error" role="alert">
          {problem}
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
      ) : visible.length === 0 && !list.hasNextPage ? (
        <p className="empty">{view.q ? `No tasks match “${view.q}”.` : EMPTY[view.filter]}</p>
      ) : (
        <>
          {drawn.start > 0 && <ShowEarlier onEarlier={showEarlier} />}
          <ul className="task-list" aria-label={`${FILTER_LABELS[view.filter]} tasks`}>
            {visible.map((task) => (
              <TaskItem
                key={task.id}
                task={task}
                today={today}
                onDelete={deleteTask}
                {...(selecting
                  ? { selection: { selected: selected.has(task.id), onChange: (on) => toggleSelected(task, on) } }
                  : {})}
              />
            ))}
          </ul>
          {(laterLoaded || list.hasNextPage) && (
            <ShowMore
              loading={list.isFetchingNextPage}
              from={tasksBefore + 1}
              to={tasksBefore + visible.length}
              total={shownCounts ? shownCounts[view.filter] : undefined}
              onMore={() => void showMore()}
            />
          )}
        </>
      )}
    </main>
  );
}

function withTasks(tasks: ReadonlyMap<number, Task>, add: readonly Task[]): ReadonlyMap<number, Task> {
  const next = new Map(tasks);
  for (const task of add) next.set(task.id, task);
  return next;
}

function without(tasks: ReadonlyMap<number, Task>, remove: readonly Task[]): ReadonlyMap<number, Task> {
  const next = new Map(tasks);
  for (const task of remove) next.delete(task.id);
  return next;
}

/** The API's counts, less the tasks whose delete is held for its undo window (they are gone for the reader). */
export function withoutHidden(counts: TaskCounts, hidden: readonly Task[], today: string): Record<Filter, number> {
  let { all, open, done, overdue } = counts;
  for (const task of hidden) {
    all -= 1;
    if (task.completed) done -= 1;
    else open -= 1;
    if (!task.completed && task.due_on != null && task.due_on < today) overdue -= 1;
  }
  const floor = (n: number) => Math.max(0, n);
  return { all: floor(all), open: floor(open), done: floor(done), overdue: floor(overdue) };
}
