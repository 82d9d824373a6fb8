/** Change the password: the current one, the new one twice. Every other session ends; this one stays. */
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { MISMATCH, NewPasswordFields } from '../session/NewPasswordFields';
import { TextField } from '../ui/Field';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';

export const PASSWORD_CHANGED =
  'Your password was changed. Every other device was logged out; this one stays logged in.';

export function ChangePassword({ email, onChanged }: { email: string; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [mismatch, setMismatch] = useState<object>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const heading = useId();
  const form = useRef<HTMLFormElement>(null);
  const success = useRef<HTMLParagraphElement>(null);

  useFocusOnProblem(form, error ?? mismatch);
  // The button that was pressed was disabled on the way: the focus goes to the news instead.
  useEffect(() => {
    if (done) success.current?.focus();
  }, [done]);

  const editing = (set: (value: string) => void) => (value: string) => {
    set(value);
    setDone(false);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setDone(false);
    if (password !== confirmation) {
      setMismatch({});
      return;
    }
    setMismatch(undefined);
    setBusy(true);
    try {
      await api.changePassword({ current_password: current, new_password: password });
      setCurrent('');
      setPassword('');
      setConfirmation('');
      setDone(true);
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const fields = fieldErrors(error);
  const general = error && !fields.current_password && !fields.new_password ? describeError(error) : undefined;
  return (
    <section className="card" aria-labelledby={heading}>
      <h2 id={heading}>Change password</h2>
      {done && (
        <p ref={success} className="banner banner-success" role="status" tabIndex={-1}>
          {PASSWORD_CHANGED}
        </p>
      )}
      <form ref={form} onSubmit={submit} noValidate aria-labelledby={heading}>
        {/* For password managers: which account's saved password to update. */}
        <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
        <TextField
          label="Current password"
          type="password"
          name="current-password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(event) => editing(setCurrent)(event.target.value)}
          error={fields.current_password}
        />
        <NewPasswordFields
          password={password}
          confirmation={confirmation}
          onPassword={editing(setPassword)}
          onConfirmation={(value) => {
            editing(setConfirmation)(value);
            setMismatch(undefined);
          }}
          passwordError={fields.new_password}
          confirmationError={mismatch ? MISMATCH : undefined}
        />
        {general && (
          <p className="form-error" role="alert" tabIndex={-1}>
            {general}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}
