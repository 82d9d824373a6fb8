/**
 * Which signed-in screen is shown, tasks or account, kept in the browser history so Back and Forward move between
 * them and a reload stays where it was. The address does not change: the server serves the app at `/` only.
 * Fragment jumps (the skip link's `#content`) make history entries of their own without a screen; they change
 * nothing.
 */
import { useCallback, useEffect, useState } from 'react';

export type Screen = 'tasks' | 'account';

function screenOf(state: unknown): Screen | undefined {
  const screen = (state as { screen?: unknown } | null)?.screen;
  return screen === 'tasks' || screen === 'account' ? screen : undefined;
}

export function useScreen(): [Screen, (next: Screen) => void] {
  const [screen, setScreen] = useState<Screen>(() => screenOf(window.history.state) ?? 'tasks');

  useEffect(() => {
    const moved = (event: PopStateEvent) => {
      const next = screenOf(event.state);
      if (next) setScreen(next);
      else if (!window.location.hash) setScreen('tasks');
    };
    window.addEventListener('popstate', moved);
    return () => window.removeEventListener('popstate', moved);
  }, []);

  const go = useCallback((next: Screen) => {
    const here = `${window.location.pathname}${window.location.search}`;
    if (screenOf(window.history.state) !== next) window.history.pushState({ screen: next }, '', here);
    setScreen(next);
  }, []);

  return [screen, go];
}

/** Forgets the screen (signed out): the next account starts on its tasks. */
export function forgetScreen(): void {
  if (screenOf(window.history.state)) {
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
  }
}
