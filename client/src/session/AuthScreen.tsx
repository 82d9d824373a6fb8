/** Log in, sign up, or ask for a reset link. Field errors appear under their field; anything else above the button. */
import { type FormEvent, useRef, useState } from 'react';
import { api } from '../api/client';
import { describeError, fieldErrors } from '../api/errors';
import { PASSWORD_MIN } from '../api/limits';
import { TextField } from '../ui/Field';
import { ScreenHeading } from '../ui/ScreenHeading';
import { useFocusOnProblem } from '../ui/use-focus-on-problem';
import { ForgotPassword } from './ForgotPassword';
import { useSession } from './session';

type Mode = 'login' | 'signup' | 'forgot';

/** `email`: the account whose session just ended, filled in so only the password is left to type. */
export function AuthScreen({ notice, email: knownEmail }: { notice?: string | undefined; email?: string | undefined }) {
  const { signedIn } = useSession();
  const [mode, setMode] = useState<Mode>('login');
  const [email, setEmail] = useState(knownEmail ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  useFocusOnProblem(form, error);

  const switchTo = (next: Mode) => {
    setMode(next);
    setError(undefined);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const account = await (mode === 'login' ? api.login : api.signup)({ email, password });
      signedIn(account.email);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (mode === 'forgot') {
    return (
      <main className="auth">
        <div className="card auth-card">
          <ForgotPassword initialEmail={email} backLabel="Back to log in" onBack={() => switchTo('login')} />
        </div>
      </main>
    );
  }

  const fields = fieldErrors(error);
  const general = error && !fields.email && !fields.password ? describeError(error) : undefined;
  const title = mode === 'login' ? 'Log in' : 'Create your account';

  return (
    <main className="auth">
      <div className="card auth-card">
        {/* Focused when the screen appears, and when it comes back from "Forgot password?" (a new element then). */}
        <ScreenHeading>{title}</ScreenHeading>
        {notice && (
          <p className="banner banner-info" role="status">
            {notice}
          </p>
        )}
        <form ref={form} onSubmit={submit} noValidate>
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete={mode === 'login' ? 'username' : 'email'}
            required
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={fields.email}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            error={fields.password}
            {...(mode === 'signup' ? { hint: `At least ${PASSWORD_MIN} characters; not a common password.` } : {})}
          />
          {general && (
            <p className="form-error" role="alert" tabIndex={-1}>
              {general}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Sign up'}
          </button>
        </form>
        {mode === 'login' && (
          <p className="forgot">
            <button type="button" className="link" onClick={() => switchTo('forgot')}>
              Forgot password?
            </button>
          </p>
        )}
        <p className="switch">
          {mode === 'login' ? 'New here? ' : 'Already have an account? '}
          <button type="button" className="link" onClick={() => switchTo(mode === 'login' ? 'signup' : 'login')}>
            {mode === 'login' ? 'Create an account' : 'Log in instead'}
          </button>
        </p>
      </div>
    </main>
  );
}
