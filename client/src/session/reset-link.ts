/**
 * The token of a password-reset link. Links are `PUBLIC_URL/#reset=<token>`: in the fragment, the token never
 * reaches a server log, a proxy or a Referer header. The page takes it out of the address bar the moment it sees
 * it (keeping the path and query), so it is not left in the history, a bookmark or a shared screen, and keeps it
 * only in this module's memory: never in storage, a log or another URL.
 */
import { useSyncExternalStore } from 'react';

const PREFIX = '#reset=';
/** What the server issues: `icr_` and 43 base64url characters (256 bits). */
const TOKEN_SHAPE = /^icr_[A-Za-z0-9_-]{43}$/;

/** A reset link the page was opened with; `token` is undefined when the link was cut short or damaged. */
export interface ResetLink {
  token: string | undefined;
}

/** Reads a reset link from the address and removes it from the address bar; undefined when there is none. */
export function takeResetLink(
  location: Pick<Location, 'hash' | 'pathname' | 'search'>,
  history: Pick<History, 'replaceState' | 'state'>,
): ResetLink | undefined {
  const { hash } = location;
  if (!hash.startsWith(PREFIX)) return undefined;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  const token = hash.slice(PREFIX.length);
  return { token: TOKEN_SHAPE.test(token) ? token : undefined };
}

let current: ResetLink | undefined;
const listeners = new Set<() => void>();
const changed = () => {
  for (const listener of listeners) listener();
};

/**
 * Takes the link the page was opened with, and any link pasted into the address bar of the open page later
 * (that changes only the fragment, so the page does not load again). Called once, before the app renders.
 */
export function watchResetLinks(window: Window): void {
  current = takeResetLink(window.location, window.history);
  window.addEventListener('hashchange', () => {
    const link = takeResetLink(window.location, window.history);
    if (!link) return;
    current = link;
    changed();
  });
}

/** Forgets the link: used, or given up. */
export function dropResetLink(): void {
  current = undefined;
  changed();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

export function useResetLink(): ResetLink | undefined {
  return useSyncExternalStore(subscribe, () => current);
}
