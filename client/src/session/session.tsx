/**
 * Who is signed in. The app asks the API at start (the HttpOnly cookie is invisible to scripts, so the
 * answer to GET /users/info/ is the only way to know) and returns to the login screen, with the reason,
 * when any call says the session is over.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, whenSessionEnds } from '../api/client';
import { connection } from '../api/connection';
import { ApiError } from '../api/errors';
import { endedElsewhereNotice, sessionEndNotice } from './end-reasons';

export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'signed-in'; email: string };

interface Session {
  state: SessionState;
  signedIn: (email: string) => void;
  signOut: () => Promise<void>;
  /** The server has already ended the session (logged out everywhere, account deleted): show the login screen. */
  signedOut: (notice: string) => void;
  /** Work that must reach the server before logout ends the session (pending deletes); returns an unsubscribe. */
  onBeforeSignOut: (handler: () => Promise<void>) => () => void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'checking' });
  const [beforeSignOut] = useState(() => new Set<() => Promise<void>>());

  const end = useCallback(
    (notice?: string) => {
      // Nothing of the previous account stays in memory for the next one.
      queries.clear();
      setState(notice ? { status: 'signed-out', notice } : { status: 'signed-out' });
    },
    [queries],
  );

  useEffect(() => {
    whenSessionEnds((reason) => end(sessionEndNotice(reason)));
  }, [end]);

  // Ask once at start; if the server cannot be reached, ask again when it is back.
  useEffect(() => {
    if (state.status !== 'checking') return;
    let cancelled = false;
    const check = () =>
      api.account().then(
        (account) => !cancelled && setState({ status: 'signed-in', email: account.email }),
        (error) => {
          if (cancelled || !(error instanceof ApiError)) return;
          // Opened on a session that was ended elsewhere: say so, as when it ends while the page is open.
          const notice = endedElsewhereNotice(error.reason);
          setState(notice ? { status: 'signed-out', notice } : { status: 'signed-out' });
        },
      );
    void check();
    const unsubscribe = connection.subscribe(() => {
      if (connection.getStatus() === 'online') void check();
    });
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [state.status]);

  const session = useMemo<Session>(
    () => ({
      state,
      signedIn: (email) => {
        // A reset link can sign in another account over this one: nothing of the first stays in memory.
        queries.clear();
        setState({ status: 'signed-in', email });
      },
      signOut: async () => {
        await Promise.allSettled([...beforeSignOut].map((handler) => handler()));
        await api.logout();
        end();
      },
      signedOut: end,
      onBeforeSignOut: (handler) => {
        beforeSignOut.add(handler);
        return () => beforeSignOut.delete(handler);
      },
    }),
    [state, end, beforeSignOut, queries],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
