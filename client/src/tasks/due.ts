/**
 * Due dates are calendar dates ("2026-03-14"), with no time and no time zone: "today" is the reader's LOCAL date,
 * never the UTC one (at 23:30 in New York it is already tomorrow in UTC).
 */

/** The local calendar date of `now`, as YYYY-MM-DD. */
export function localDate(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(now.getFullYear()).padStart(4, '0')}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Whole days from `from` to `to` (both YYYY-MM-DD); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export type DueTone = 'overdue' | 'today' | 'soon' | 'later';

export interface DueLabel {
  text: string;
  tone: DueTone;
}

// The date part in the reader's locale; formatted as UTC so that the calendar date never shifts by a time zone.
const DATE = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const DATE_WITH_YEAR = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});

/** The date in the reader's locale ("14 Mar", or "14 Mar 2027" in another year than `today`'s). */
export function formatDueDate(due: string, today: string): string {
  const date = new Date(`${due}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return due;
  return (due.slice(0, 4) === today.slice(0, 4) ? DATE : DATE_WITH_YEAR).format(date);
}

/**
 * What a task's due date says at a glance, in words (never colour alone): "Overdue · 3 days", "Today", "Tomorrow",
 * or the date. An overdue label is for open tasks only: a done task was simply due then.
 */
export function dueLabel(due: string, today: string, completed = false): DueLabel {
  const days = daysBetween(today, due);
  if (days < 0 && !completed) {
    const late = -days;
    return { text: `Overdue · ${late} ${late === 1 ? 'day' : 'days'}`, tone: 'overdue' };
  }
  if (days === 0) return { text: 'Today', tone: 'today' };
  if (days === 1) return { text: 'Tomorrow', tone: 'soon' };
  return { text: formatDueDate(due, today), tone: days > 0 && days < 7 ? 'soon' : 'later' };
}

/** Milliseconds from `now` to the next local midnight: when "today" changes and the labels must follow. */
export function msToLocalMidnight(now: Date = new Date()): number {
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  return midnight.getTime() - now.getTime();
}
