/** A task's due date: how it reads in the list, and the date input that sets it. */
import { TextField } from '../ui/Field';
import { dueLabel } from './due';

/** "Overdue · 3 days", "Today", "Tomorrow" or the date: in words, and marked by more than its colour. */
export function DueDate({ due, today, completed }: { due: string; today: string; completed: boolean }) {
  const label = dueLabel(due, today, completed);
  return (
    <p className={`due due-${label.tone}`}>
      <span className="visually-hidden">Due: </span>
      <time dateTime={due}>{label.text}</time>
    </p>
  );
}

/** A native date input (the phone's own picker); empty means no due date. */
export function DueDateField({
  label,
  value,
  onChange,
  error,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
}) {
  return (
    <TextField
      label={label}
      name="due_on"
      type="date"
      min="1900-01-01"
      max="9999-12-31"
      value={value}
      onChange={(event) => onChange(event.target.value)}
      error={error}
    />
  );
}
