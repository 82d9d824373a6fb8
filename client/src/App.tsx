import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { AccountScreen } from './account/AccountScreen';
import { describeError } from './api/errors';
import { AuthScreen } from './session/AuthScreen';
import { ResetPasswordScreen } from './session/ResetPasswordScreen';
import { dropResetLink, useResetLink } from './session/reset-link';
import { useSession } from './session/session';
import { TasksScreen } from './tasks/TasksScreen';
import { ConnectionBanner } from './ui/ConnectionBanner';
import { forgetScreen, useScreen } from './ui/use-screen';

export function App() {
  const session = useSession();
  const { state } = session;
  const [announcement, setAnnouncement] = useState('');
  const [logoutError, setLogoutError] = useState<string>();
  const announce = useCallback((message: string) => setAnnouncement(message), []);
  const [screen, goTo] = useScreen();
  const resetLink = useResetLink();
  // What was announced about one account (task titles) must not outlive its session on the screen.
  useEffect(() => {
    if (state.status !== 'signed-in') setAnnouncement('');
    if (state.status === 'signed-out') forgetScreen();
  }, [state.status]);

  const logOut = async () => {
    setLogoutError(undefined);
    try {
      await session.signOut();
    } catch (error) {
      setLogoutError(`Could not log out: ${describeError(error)}`);
    }
  };

  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ✓
          </span>
          Ironclad Tasks
        </div>
        {state.status === 'signed-in' && (
          <div className="account">
            <span className="email" title={state.email}>
              {breakableEmail(state.email)}
            </span>
            <button
              type="button"
              onClick={() => {
                // Going to the account screen gives up a reset link the page was showing.
                dropResetLink();
                goTo('account');
              }}
              aria-current={screen === 'account' && !resetLink ? 'page' : undefined}
            >
              Account
            </button>
            <button type="button" onClick={logOut}>
              Log out
            </button>
          </div>
        )}
      </header>
      <ConnectionBanner />
      {logoutError && (
        <p className="banner banner-error" role="alert">
          {logoutError}
        </p>
      )}
      {/* Screen readers hear what happened after actions that change no focused element. */}
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {state.status === 'checking' && !resetLink ? (
        // Said to screen readers, not drawn, and no content box yet: the header grows when the session is known
        // (email, Account, Log out), and a box here would be pushed down with it, a layout shift on every visit
        // (Lighthouse counted 0.05 of CLS on a phone).
        <p className="visually-hidden" role="status">
          Loading…
        </p>
      ) : (
        <div id="content" className="content">
          {resetLink ? (
            // A reset link wins over whatever else the page would show: it was opened to use it.
            <ResetPasswordScreen
              link={resetLink}
              leaveLabel={state.status === 'signed-in' ? 'Back to your tasks' : 'Back to log in'}
              onLeave={dropResetLink}
              onSignedIn={(email) => {
                dropResetLink();
                session.signedIn(email);
                goTo('tasks');
              }}
            />
          ) : state.status === 'signed-in' ? (
            screen === 'account' ? (
              <AccountScreen key={state.email} email={state.email} onBack={() => goTo('tasks')} announce={announce} />
            ) : (
              <TasksScreen key={state.email} announce={announce} />
            )
          ) : state.status === 'signed-out' ? (
            <AuthScreen notice={state.notice} email={state.email} />
          ) : null}
        </div>
      )}
    </>
  );
}

/** The address with break opportunities after "@" and before each ".", so a narrow header wraps it at a boundary. */
function breakableEmail(email: string): ReactNode[] {
  const parts: ReactNode[] = [];
  let offset = 0;
  for (const part of email.split(/(?=[.])|(?<=@)/)) {
    // Keyed by where the break sits in the address: stable for one address, unique within it.
    if (offset > 0) parts.push(<wbr key={`break-${offset}`} />);
    parts.push(part);
    offset += part.length;
  }
  return parts;
}
