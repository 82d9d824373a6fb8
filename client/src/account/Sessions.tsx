/**
 * Where the account is logged in: one row per session (device, address, when it started and was last used), "End"
 * for each other one, and "Log out everywhere" after a confirmation.
 */
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { api, type DeviceSession } from '../api/client';
import { ApiError, describeError } from '../api/errors';
import { useSession } from '../session/session';
import { formatTime } from '../ui/time';
import { describeDevice } from './device';
import { loadProblem } from './load-problem';
import { useRefreshSecurity, useSessions } from './queries';

export const LOGGED_OUT_EVERYWHERE = 'You were logged out everywhere.';

export function Sessions({ announce }: { announce: (message: string) => void }) {
  const sessions = useSessions();
  const refresh = useRefreshSecurity();
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [ending, setEnding] = useState<number>();
  const [endError, setEndError] = useState<{ id: number; message: string }>();

  const end = async (session: DeviceSession) => {
    setEnding(session.id);
    setEndError(undefined);
    try {
      await api.endSession(session.id);
      announce(`Ended the session on ${describeDevice(session.user_agent)}.`);
    } catch (error) {
      // Already gone (ended elsewhere, or expired): the list below is simply out of date.
      if (!(error instanceof ApiError && error.status === 404)) {
        setEndError({ id: session.id, message: `Could not end this session: ${describeError(error)}` });
        setEnding(undefined);
        return;
      }
    }
    setEnding(undefined);
    refresh();
    // Its row (and the button that had the focus) is going away: the keyboard goes back to the list's heading.
    heading.current?.focus();
  };

  // This device first, then the others newest first (the server's order).
  const list = [...(sessions.data ?? [])].sort((a, b) => Number(b.current) - Number(a.current));
  const others = list.filter((session) => !session.current).length;

  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        Where you are logged in
      </h2>
      {sessions.isPending ? (
        <p className="placeholder" role="status">
          Loading your sessions…
        </p>
      ) : sessions.isError && !sessions.data ? (
        <div className="banner banner-error" role="alert">
          <p>{loadProblem('Your sessions', sessions.error)}</p>
          <button type="button" onClick={() => void sessions.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <ul className="rows" aria-labelledby={headingId}>
          {list.map((session) => {
            const device = describeDevice(session.user_agent);
            return (
              <li key={session.id} className="row">
                <div className="row-text">
                  <p className="row-title">
                    {device}
                    {session.current && <span className="badge">This device</span>}
                  </p>
                  <p className="row-meta">
                    <span>{session.ip ?? 'Unknown address'}</span>
                    <span>
                      Logged in <time dateTime={session.created_at}>{formatTime(session.created_at)}</time>
                    </span>
                    <span>
                      Last used <time dateTime={session.last_used_at}>{formatTime(session.last_used_at)}</time>
                    </span>
                  </p>
                  {endError?.id === session.id && (
                    <p className="field-error" role="alert">
                      {endError.message}
                    </p>
                  )}
                </div>
                {!session.current && (
                  <button
                    type="button"
                    className="danger"
                    disabled={ending === session.id}
                    aria-label={`End the session on ${device}, last used ${formatTime(session.last_used_at)}`}
                    onClick={() => void end(session)}
                  >
                    {ending === session.id ? 'Ending…' : 'End'}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {sessions.data && others === 0 && <p className="hint spaced">You are not logged in anywhere else.</p>}
      <LogOutEverywhere />
    </section>
  );
}

function LogOutEverywhere() {
  const { signedOut } = useSession();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const question = useRef<HTMLParagraphElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const questionId = useId();
  const wasAsking = useRef(false);

  // Asking moves the keyboard to the question; cancelling brings it back to the button that asked.
  useEffect(() => {
    if (asking) question.current?.focus();
    else if (wasAsking.current) trigger.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.logoutEverywhere();
      signedOut(LOGGED_OUT_EVERYWHERE, 'logout-all');
    } catch (caught) {
      setBusy(false);
      setError(`Could not log out everywhere: ${describeError(caught)}`);
    }
  };

  const cancelOnEscape = (event: KeyboardEvent) => {
    if (event.key === 'Escape' && !busy) {
      event.preventDefault();
      setAsking(false);
    }
  };

  if (!asking) {
    return (
      <div className="section-actions">
        <button ref={trigger} type="button" className="danger" onClick={() => setAsking(true)}>
          Log out everywhere…
        </button>
      </div>
    );
  }
  return (
    // Escape anywhere in the question cancels it, as in a dialog.
    <fieldset className="confirm" aria-labelledby={questionId} onKeyDown={cancelOnEscape}>
      <p id={questionId} ref={question} tabIndex={-1}>
        Log out on every device, this one included? You will need your password to log in again.
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="danger-solid" disabled={busy} onClick={() => void confirm()}>
          {busy ? 'Logging out…' : 'Yes, log out everywhere'}
        </button>
        <button type="button" disabled={busy} onClick={() => setAsking(false)}>
          Cancel
        </button>
      </div>
    </fieldset>
  );
}
