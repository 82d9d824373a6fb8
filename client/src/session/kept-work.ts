/**
 * What the person was typing when the session ended under them (expired, ended from another device, logged out in
 * another tab), kept for the same account's next login in this tab: the new task's draft, a task being edited, and
 * the email for the login form.
 *
 * Memory only (this module), never localStorage or sessionStorage: it dies with the tab. It belongs to one account:
 * a different account signing in finds it emptied, and this tab's own Log out (the person chose to leave) forgets it.
 */
import { type SetStateAction, useCallback, useEffect, useRef, useState } from 'react';

/** The account the kept work belongs to. */
let owner: string | undefined;
const kept = new Map<string, unknown>();
/** The email to offer on the login form after a session ended by itself. */
let email: string | undefined;

/** An account signs in: its own kept work stays; anyone else's is gone. */
export function enterAccount(account: string): void {
  if (owner !== account) kept.clear();
  owner = account;
  email = undefined;
}

/** The session ended without the person choosing it here: keep the work, and the email for the login form. */
export function sessionLost(): void {
  email = owner;
}

/** Logged out here on purpose, or the account is gone: nothing is kept. */
export function forgetKeptWork(): void {
  kept.clear();
  owner = undefined;
  email = undefined;
}

export function keptEmail(): string | undefined {
  return email;
}

/** Drops kept values whose slot is `slot` or starts with `slot.` (a finished edit). */
export function forgetKept(slot: string): void {
  for (const key of [...kept.keys()]) if (key === slot || key.startsWith(`${slot}.`)) kept.delete(key);
}

/**
 * useState whose value outlives the component while it differs from `initial`: a form that unmounts when the
 * session ends finds its value again when it mounts for the same account. `slot` names the value (e.g.
 * `new-task.title`); back at `initial` it is no longer kept.
 */
export function useKeptState<T>(slot: string, initial: T): [T, (next: SetStateAction<T>) => void] {
  const [value, setValue] = useState<T>(() => (kept.has(slot) ? (kept.get(slot) as T) : initial));
  const first = useRef(initial);
  useEffect(() => {
    if (Object.is(value, first.current)) kept.delete(slot);
    else kept.set(slot, value);
  }, [slot, value]);
  const set = useCallback((next: SetStateAction<T>) => setValue(next), []);
  return [value, set];
}
