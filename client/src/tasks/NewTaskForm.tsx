/**
 * Adds a task. The draft stays in the form until the server has it: a failed save loses nothing, and a
 * retry reuses the draft's Idempotency-Key, so an answer lost on the way back cannot make a duplicate. A session
 * that ends meanwhile keeps the draft for the same account's next login (session/kept-work.ts).
 */
import { type FormEvent, useRef } from 'react';
import { newIdempotencyKey } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { useKeptState } from '../session/kept-work';
import { TextAreaField, TextField } from '../ui/Field';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';
import { DueDateField } from './DueDate';
import { TitleCounter } from './TitleCounter';
import { taskFieldError } from './task-problems';
import { clampChars } from './title-limit';
import { useCreateTask } from './use-tasks';

export function NewTaskForm({ onAdded }: { onAdded: (title: string) => void }) {
  const create = useCreateTask();
  const [title, setTitle] = useKeptState('new-task.title', '');
  const [description, setDescription] = useKeptState('new-task.description', '');
  const [showDetails, setShowDetails] = useKeptState('new-task.show-details', false);
  const [due, setDue] = useKeptState('new-task.due_on', '');
  const key = useRef(newIdempotencyKey());
  const titleInput = useRef<HTMLInputElement>(null);

  const edit = (apply: () => void) => {
    apply();
    if (!create.isError) return;
    // A changed draft is a new task: a new key, so it is not mistaken for a retry of the previous one.
    key.current = newIdempotencyKey();
    create.reset();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const task = { title, ...(description.trim() ? { description } : {}), ...(due ? { due_on: due } : {}) };
    create.mutate(
      { task, key: key.current },
      {
        onSuccess: (created) => {
          // Clear only what was sent: anything typed while it was on its way stays.
          setTitle((current) => (current === title ? '' : current));
          setDescription((current) => (current === description ? '' : current));
          setDue((current) => (current === due ? '' : current));
          setShowDetails(false);
          key.current = newIdempotencyKey();
          onAdded(created.title);
          titleInput.current?.focus();
        },
      },
    );
  };

  const form = useRef<HTMLFormElement>(null);
  useFocusOnProblem(form, create.error);

  const fields = fieldErrors(create.error);
  const sent = create.variables?.task;
  const titleError = taskFieldError('title', sent?.title, fields.title);
  const descriptionError = taskFieldError('description', sent?.description, fields.description);
  const general =
    create.error && !fields.title && !fields.description && !fields.due_on ? describeError(create.error) : undefined;

  return (
    <form ref={form} className="card new-task" onSubmit={submit} noValidate aria-label="Add a task">
      <div className="new-task-row">
        <TextField
          ref={titleInput}
          label="New task"
          name="title"
          placeholder="What needs doing?"
          autoComplete="off"
          value={title}
          onChange={(event) => edit(() => setTitle(clampChars(event.target.value)))}
          error={titleError}
        />
        <button type="submit" className="primary" disabled={create.isPending || title.trim() === ''}>
          {create.isPending ? 'Adding…' : 'Add'}
        </button>
      </div>
      <TitleCounter title={title} />
      <div className="new-task-due">
        <DueDateField
          label="Due date (optional)"
          value={due}
          onChange={(value) => edit(() => setDue(value))}
          error={fields.due_on}
        />
      </div>
      {showDetails ? (
        <TextAreaField
          label="Details (optional)"
          name="description"
          rows={3}
          value={description}
          onChange={(event) => edit(() => setDescription(event.target.value))}
          error={descriptionError}
        />
      ) : (
        <button type="button" className="link" onClick={() => setShowDetails(true)}>
          Add details
        </button>
      )}
      {general && (
        <p className="form-error" role="alert" tabIndex={-1}>
          {general}
        </p>
      )}
    </form>
  );
}
