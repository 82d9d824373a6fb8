/**
 * Deleting the account: says plainly what goes, asks for the password, and needs a second, explicit button.
 * Afterwards the login screen says it is done.
 */
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { useSession } from '../session/session';
import { TextField } from '../ui/Field';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';

export const ACCOUNT_DELETED = 'Your account and all its tasks were deleted.';

export function DeleteAccount({ email }: { email: string }) {
  const { signedOut } = useSession();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const headingId = useId();
  const warningId = useId();
  const form = useRef<HTMLFormElement>(null);
  const warning = useRef<HTMLParagraphElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(false);

  useFocusOnProblem(form, error);
  // Opening moves the keyboard to the warning, so it is read first; cancelling returns it to the button.
  useEffect(() => {
    if (open) warning.current?.focus();
    else if (wasOpen.current) trigger.current?.focus();
    wasOpen.current = open;
  }, [open]);

  const cancel = () => {
    setOpen(false);
    setPassword('');
    setError(undefined);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteAccount(password);
      signedOut(ACCOUNT_DELETED, 'account-deleted');
    } catch (caught) {
      setBusy(false);
      setError(caught);
    }
  };

  const fields = fieldErrors(error);
  const general = error && !fields.password ? describeError(error) : undefined;
  return (
    <section className="card danger-zone" aria-labelledby={headingId}>
      <h2 id={headingId}>Delete account</h2>
      {!open ? (
        <>
          <p>Deleting your account removes it and all your tasks for good. There is no undo.</p>
          <div className="section-actions">
            <button ref={trigger} type="button" className="danger" onClick={() => setOpen(true)}>
              Delete my account…
            </button>
          </div>
        </>
      ) : (
        <form ref={form} onSubmit={submit} noValidate aria-labelledby={headingId} aria-describedby={warningId}>
          <p id={warningId} ref={warning} className="banner banner-error" tabIndex={-1}>
            <strong>This cannot be undone.</strong> The account <span className="break">{email}</span>, all its tasks,
            sessions and activity will be gone for good. Download your data first if you want to keep it.
          </p>
          <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
          <TextField
            label="Your password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={fields.password}
            hint="To be sure it is you."
          />
          {general && (
            <p className="form-error" role="alert" tabIndex={-1}>
              {general}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="danger-solid" disabled={busy || password === ''}>
              {busy ? 'Deleting…' : 'Delete my account and all my tasks'}
            </button>
            <button type="button" onClick={cancel} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
