/** One task: tick it done and back, edit its title and description in place, delete it. */
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import type { Task } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { forgetKept, useKeptState } from '../session/kept-work';
import { TextAreaField, TextField } from '../ui/Field';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';
import { DueDate, DueDateField } from './DueDate';
import { TaskDescription } from './TaskDescription';
import { TitleCounter } from './TitleCounter';
import { taskFieldError } from './task-problems';
import { clampChars } from './title-limit';
import { useUpdateTask } from './use-tasks';

interface Props {
  task: Task;
  /** The reader's local date (YYYY-MM-DD), for "Today" and "Overdue". */
  today: string;
  onDelete: (task: Task) => void;
  /** In selection mode: the row's box selects it instead of ticking it done. */
  selection?: { selected: boolean; onChange: (selected: boolean) => void };
}

export function TaskItem({ task, today, onDelete, selection }: Props) {
  const update = useUpdateTask();
  // An edit under way when the session ended is open again after the same account logs back in.
  const [editing, setEditing] = useKeptState(`edit.${task.id}`, false);
  const checkboxId = useId();
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  // Back from the editor, the keyboard returns to the Edit button it left from.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  // The box follows the click at once: the list's own update reaches React a tick later, and a controlled
  // checkbox would spring back for that tick.
  const [checked, setChecked] = useState(task.completed);
  useEffect(() => setChecked(task.completed), [task.completed]);
  const toggle = () => {
    setChecked(!checked);
    update.change(task.id, { completed: !checked });
  };

  if (editing) {
    return (
      <TaskEditor
        task={task}
        onDone={() => {
          forgetKept(`edit.${task.id}`);
          setEditing(false);
        }}
      />
    );
  }

  return (
    <li className={`task${checked ? ' done' : ''}${selection?.selected ? ' selected' : ''}`} data-task-id={task.id}>
      {selection ? (
        <input
          id={checkboxId}
          type="checkbox"
          className="select-box"
          checked={selection.selected}
          onChange={(event) => selection.onChange(event.target.checked)}
          aria-label={`Select “${task.title}”`}
        />
      ) : (
        <input id={checkboxId} type="checkbox" checked={checked} onChange={toggle} />
      )}
      <div className="task-text">
        <label htmlFor={checkboxId} className="task-title" dir="auto">
          {task.title}
        </label>
        {task.due_on && <DueDate due={task.due_on} today={today} completed={checked} />}
        {task.description && <TaskDescription title={task.title} text={task.description} />}
        {update.isError && (
          <p className="field-error" role="alert">
            {describeError(update.error)}
          </p>
        )}
      </div>
      <div className="task-actions" hidden={selection !== undefined}>
        <button
          ref={editButton}
          type="button"
          className="ghost"
          onClick={() => setEditing(true)}
          aria-label={`Edit “${task.title}”`}
        >
          Edit
        </button>
        <button
          type="button"
          className="ghost danger"
          onClick={() => onDelete(task)}
          aria-label={`Delete “${task.title}”`}
        >
          Delete
        </button>
      </div>
    </li>
  );
}

function TaskEditor({ task, onDone }: { task: Task; onDone: () => void }) {
  const update = useUpdateTask();
  const [title, setTitle] = useKeptState(`edit.${task.id}.title`, task.title);
  const [description, setDescription] = useKeptState(`edit.${task.id}.description`, task.description);
  const [due, setDue] = useKeptState(`edit.${task.id}.due_on`, task.due_on ?? '');
  const titleInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    titleInput.current?.focus();
    titleInput.current?.select();
  }, []);

  const save = (event: FormEvent) => {
    event.preventDefault();
    const dueOn = due || null;
    if (title === task.title && description === task.description && dueOn === (task.due_on ?? null)) return onDone();
    update.change(task.id, { title, description, due_on: dueOn }, { onSuccess: onDone });
  };

  const cancelOnEscape = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onDone();
    }
  };

  const fields = fieldErrors(update.error);
  const sent = update.variables?.changes;
  const titleError = taskFieldError('title', sent?.title, fields.title);
  const descriptionError = taskFieldError('description', sent?.description, fields.description);
  const general =
    update.error && !fields.title && !fields.description && !fields.due_on ? describeError(update.error) : undefined;

  const form = useRef<HTMLFormElement>(null);
  useFocusOnProblem(form, update.error);

  return (
    <li className="task editing" data-task-id={task.id}>
      <form
        ref={form}
        className="task-editor"
        onSubmit={save}
        onKeyDown={cancelOnEscape}
        noValidate
        aria-label={`Edit “${task.title}”`}
      >
        <TextField
          ref={titleInput}
          label="Title"
          name="title"
          value={title}
          onChange={(event) => setTitle(clampChars(event.target.value))}
          error={titleError}
        />
        <TitleCounter title={title} />
        <TextAreaField
          label="Details"
          name="description"
          rows={3}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          error={descriptionError}
        />
        <DueDateField label="Due date" value={due} onChange={setDue} error={fields.due_on} />
        {general && (
          <p className="form-error" role="alert" tabIndex={-1}>
            {general}
          </p>
        )}
        <div className="editor-actions">
          <button type="submit" className="primary" disabled={update.isPending}>
            {update.isPending ? 'Saving…' : 'Save'}
          </button>
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </li>
  );
}
