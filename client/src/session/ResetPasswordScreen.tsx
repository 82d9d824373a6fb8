/**
 * Opened from a reset email (`#reset=<token>`, taken out of the address bar by reset-link.ts): choose a new
 * password. The server signs this browser in with a new session and ends every older one; a used, expired or
 * superseded link says so and offers to send a new one.
 */
import { type FormEvent, useRef, useState } from 'react';
import { api } from '../api/client';
import { ApiError, describeError, fieldErrors } from '../api/errors';
import { ScreenHeading } from '../ui/ScreenHeading';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';
import { ForgotPassword } from './ForgotPassword';
import { MISMATCH, NewPasswordFields } from './NewPasswordFields';
import type { ResetLink } from './reset-link';

interface Props {
  link: ResetLink;
  /** The new password is set and the browser signed in as `email`. */
  onSignedIn: (email: string) => void;
  /** Leaves the reset screen without resetting. */
  onLeave: () => void;
  leaveLabel: string;
}

type Step = 'choose' | 'invalid' | 'ask-again';

export function ResetPasswordScreen({ link, onSignedIn, onLeave, leaveLabel }: Props) {
  const [step, setStep] = useState<Step>(link.token ? 'choose' : 'invalid');
  return (
    <main className="auth">
      <div className="card auth-card">
        {step === 'ask-again' ? (
          <ForgotPassword initialEmail="" onBack={onLeave} backLabel={leaveLabel} />
        ) : step === 'invalid' || !link.token ? (
          <InvalidLink
            damaged={!link.token}
            onAskAgain={() => setStep('ask-again')}
            onLeave={onLeave}
            leaveLabel={leaveLabel}
          />
        ) : (
          <ChoosePassword token={link.token} onSignedIn={onSignedIn} onInvalid={() => setStep('invalid')} />
        )}
      </div>
    </main>
  );
}

function ChoosePassword({
  token,
  onSignedIn,
  onInvalid,
}: {
  token: string;
  onSignedIn: (email: string) => void;
  onInvalid: () => void;
}) {
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [mismatch, setMismatch] = useState<object>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useFocusOnProblem(form, error ?? mismatch);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    if (password !== confirmation) {
      // A new object each time, so the focus goes back to the field on every refused try.
      setMismatch({});
      return;
    }
    setMismatch(undefined);
    setBusy(true);
    try {
      const answer = await api.confirmPasswordReset({ token, new_password: password });
      onSignedIn(answer.email);
    } catch (caught) {
      setBusy(false);
      if (caught instanceof ApiError && caught.status === 400 && caught.fields.token) onInvalid();
      else setError(caught);
    }
  };

  const fields = fieldErrors(error);
  const general = error && !fields.new_password ? describeError(error) : undefined;
  return (
    <>
      <ScreenHeading>Choose a new password</ScreenHeading>
      <p className="lead">After this you are logged in here, and logged out on every other device.</p>
      <form ref={form} onSubmit={submit} noValidate>
        <NewPasswordFields
          password={password}
          confirmation={confirmation}
          onPassword={setPassword}
          onConfirmation={(value) => {
            setConfirmation(value);
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
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? 'Please wait…' : 'Set the new password'}
        </button>
      </form>
    </>
  );
}

function InvalidLink({
  damaged,
  onAskAgain,
  onLeave,
  leaveLabel,
}: {
  damaged: boolean;
  onAskAgain: () => void;
  onLeave: () => void;
  leaveLabel: string;
}) {
  return (
    <>
      <ScreenHeading>This reset link is invalid or has expired</ScreenHeading>
      <p>
        {damaged
          ? 'The link looks cut short. Open the whole link from the email, or ask for a new one.'
          : 'A reset link works once, for a short time, and only the newest one you asked for. Ask for a new one and use the link in the latest email.'}
      </p>
      <button type="button" className="primary wide" onClick={onAskAgain}>
        Send me a new link
      </button>
      <p className="switch">
        <button type="button" className="link" onClick={onLeave}>
          {leaveLabel}
        </button>
      </p>
    </>
  );
}
