/**
 * Who is signed in. The app asks the API at start (the HttpOnly cookie is invisible to scripts, so the
 * answer to GET /users/info/ is the only way to know) and returns to the login screen, with the reason,
 * when any call says the session is over.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { api, whenSessionEnds } from '../api/client';
import { connection } from '../api/connection';
import { ApiError } from '../api/errors';
import { endedElsewhereNotice, otherTabNotice, sessionEndNotice, signOutReason } from './end-reasons';
import { enterAccount, forgetKeptWork, keptEmail, sessionLost } from './kept-work';
import { noTabSync, type TabSync } from './tab-sync';

export type SessionState =
  | { status: 'checking' }
  /** `email`: the account whose session ended by itself, to fill in on the login form. */
  | { status: 'signed-out'; notice?: string; email?: string }
  | { status: 'signed-in'; email: string };

interface Session {
  state: SessionState;
  signedIn: (email: string) => void;
  signOut: () => Promise<void>;
  /**
   * The server has already ended the session at this tab's request (logged out everywhere, account deleted): show
   * the login screen with `notice`, and tell the other tabs why.
   */
  signedOut: (notice: string, reason: 'logout-all' | 'account-deleted') => void;
  /** Work that must reach the server before logout ends the session (pending deletes); returns an unsubscribe. */
  onBeforeSignOut: (handler: () => Promise<void>) => () => void;
}

const SessionContext = createContext<Session | undefined>(undefined);

/** `tabs`: how this tab hears and tells the app's other tabs (session/tab-sync.ts); none by default. */
export function SessionProvider({ children, tabs = noTabSync }: { children: ReactNode; tabs?: TabSync }) {
  const queries = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'checking' });
  const [beforeSignOut] = useState(() => new Set<() => Promise<void>>());
  // The handlers below need the current state without being rebuilt on every change.
  const current = useRef(state);
  current.current = state;

  const enter = useCallback(
    (email: string) => {
      const before = current.current;
      // Nothing of another account stays in memory for this one.
      if (before.status !== 'signed-in' || before.email !== email) queries.clear();
      enterAccount(email);
      const next: SessionState = { status: 'signed-in', email };
      current.current = next;
      setState(next);
    },
    [queries],
  );

  /** The session is over; `chosen`: logged out on purpose here, so nothing typed is kept for later. */
  const end = useCallback(
    (notice: string | undefined, chosen: boolean) => {
      if (chosen) forgetKeptWork();
      else sessionLost();
      // Nothing of the previous account stays in memory for the next one.
      queries.clear();
      const email = keptEmail();
      const next: SessionState = { status: 'signed-out', ...(notice ? { notice } : {}), ...(email ? { email } : {}) };
      current.current = next;
      setState(next);
    },
    [queries],
  );

  useEffect(() => {
    whenSessionEnds((reason) => {
      if (current.current.status !== 'signed-in') return;
      end(sessionEndNotice(reason), false);
      tabs.post({ type: 'signed-out', reason: signOutReason(reason) });
    });
  }, [end, tabs]);

  // Ask once at start; if the server cannot be reached, ask again when it is back.
  useEffect(() => {
    if (state.status !== 'checking') return;
    let cancelled = false;
    const check = () =>
      api.account().then(
        (account) => !cancelled && enter(account.email),
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
  }, [state.status, enter]);

  // What the other tabs did. They share this tab's cookie, so their login or logout is this tab's too.
  useEffect(
    () =>
      tabs.subscribe((message) => {
        const now = current.current;
        if (message.type === 'tasks-changed') {
          if (now.status === 'signed-in') void queries.invalidateQueries({ queryKey: ['tasks'] });
          return;
        }
        if (message.type === 'signed-out') {
          if (now.status !== 'signed-in') return;
          const notice = otherTabNotice(message.reason);
          // A logout is certain; a 401 seen by another tab may predate a newer login, so ask the server first.
          if (message.reason === 'logout' || message.reason === 'logout-all' || message.reason === 'account-deleted') {
            end(notice, false);
            return;
          }
          api.account().then(
            (account) => current.current.status === 'signed-in' && enter(account.email),
            (error) => {
              if (current.current.status === 'signed-in' && error instanceof ApiError && error.status === 401) {
                end(notice, false);
              }
            },
          );
          return;
        }
        // Signed in in another tab: the cookie now names that account; follow it (a different one replaces this).
        api.account().then(
          (account) => enter(account.email),
          () => {},
        );
      }),
    [tabs, queries, end, enter],
  );

  const session = useMemo<Session>(
    () => ({
      state,
      signedIn: (email) => {
        // A reset link can sign in another account over this one: enter() clears the first from memory.
        enter(email);
        tabs.post({ type: 'signed-in' });
      },
      signOut: async () => {
        await Promise.allSettled([...beforeSignOut].map((handler) => handler()));
        await api.logout();
        end(undefined, true);
        tabs.post({ type: 'signed-out', reason: 'logout' });
      },
      signedOut: (notice, reason) => {
        end(notice, true);
        tabs.post({ type: 'signed-out', reason });
      },
      onBeforeSignOut: (handler) => {
        beforeSignOut.add(handler);
        return () => beforeSignOut.delete(handler);
      },
    }),
    [state, end, enter, beforeSignOut, tabs],
  );

  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
