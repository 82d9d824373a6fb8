/**
 * "Forgot password?": asks for the email and sends a reset link. The confirmation reads the same whether or not
 * an account uses the address (the server answers the same either way), so the page tells no one who has an account.
 */
import { type FormEvent, useRef, useState } from 'react';
import { api } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { TextField } from '../ui/Field';
import { ScreenHeading } from '../ui/ScreenHeading';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';

interface Props {
  initialEmail: string;
  onBack: () => void;
  backLabel: string;
}

export function ForgotPassword({ initialEmail, onBack, backLabel }: Props) {
  const [email, setEmail] = useState(initialEmail);
  const [sentTo, setSentTo] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useFocusOnProblem(form, error);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const address = email.trim();
      await api.requestPasswordReset(address);
      setSentTo(address);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (sentTo !== undefined) {
    return (
      <>
        {/* Each step starts at its heading (keyed apart, so it is focused again): the button that led here is gone. */}
        <ScreenHeading key="sent">Check your inbox</ScreenHeading>
        <p>
          If an account uses <strong className="break">{sentTo}</strong>, an email with a link to choose a new password
          is on its way.
        </p>
        <p className="hint">
          The link works once and for a short time. Nothing after a few minutes? Look in your spam folder, or{' '}
          <button type="button" className="link inline" onClick={() => setSentTo(undefined)}>
            send another link
          </button>
          .
        </p>
        <button type="button" className="primary wide spaced" onClick={onBack}>
          {backLabel}
        </button>
      </>
    );
  }

  const fields = fieldErrors(error);
  const general = error && !fields.email ? describeError(error) : undefined;
  return (
    <>
      <ScreenHeading key="ask">Reset your password</ScreenHeading>
      <p className="lead">Enter your account’s email address and we will send you a link to choose a new password.</p>
      <form ref={form} onSubmit={submit} noValidate>
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          error={fields.email}
        />
        {general && (
          <p className="form-error" role="alert" tabIndex={-1}>
            {general}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
      <p className="switch">
        <button type="button" className="link" onClick={onBack}>
          {backLabel}
        </button>
      </p>
    </>
  );
}
