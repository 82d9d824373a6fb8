/**
 * Tabs of the app in one browser agree: they share one session cookie, so a logout or login in one tab is a logout
 * or login in all of them, and a task changed in one should show in the others. Tabs tell each other over a
 * BroadcastChannel (same origin only; a channel never delivers a message to the object that posted it).
 *
 * Messages carry only what happened, never a token, an email or a task: the receiving tab asks the server itself.
 * Whatever arrives is checked against the few known shapes and ignored otherwise. Where BroadcastChannel does not
 * exist the tabs simply do not hear each other; each still notices a session ended elsewhere on its next call.
 */

/** Why the session is over in the tab that saw it end (the receiving tab words it; session/end-reasons.ts). */
export const SIGN_OUT_REASONS = [
  'logout',
  'logout-all',
  'account-deleted',
  'ended',
  'password-changed',
  'expired',
] as const;
export type SignOutReason = (typeof SIGN_OUT_REASONS)[number];

export type TabMessage =
  | { type: 'signed-out'; reason: SignOutReason }
  | { type: 'signed-in' }
  | { type: 'tasks-changed' };

export const CHANNEL_NAME = 'ironclad-tasks';

export interface TabSync {
  post: (message: TabMessage) => void;
  /** Calls `handler` for every valid message from another tab; returns the unsubscribe. */
  subscribe: (handler: (message: TabMessage) => void) => () => void;
  close: () => void;
}

/** The message, when `data` is exactly one of the known shapes; undefined for anything else. */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const record = data as Record<string, unknown>;
  const keys = Object.keys(record);
  if (record.type === 'signed-in' || record.type === 'tasks-changed') {
    return keys.length === 1 ? { type: record.type } : undefined;
  }
  if (record.type === 'signed-out' && keys.length === 2) {
    const reason = SIGN_OUT_REASONS.find((known) => known === record.reason);
    return reason ? { type: 'signed-out', reason } : undefined;
  }
  return undefined;
}

/** A TabSync that does nothing: no BroadcastChannel here, or a test that needs no other tabs. */
export const noTabSync: TabSync = { post: () => {}, subscribe: () => () => {}, close: () => {} };

export function openTabSync(
  Channel: typeof BroadcastChannel | undefined = globalThis.BroadcastChannel,
  name = CHANNEL_NAME,
): TabSync {
  if (typeof Channel !== 'function') return noTabSync;
  let channel: BroadcastChannel;
  try {
    channel = new Channel(name);
  } catch {
    // Some privacy modes refuse channels; the tabs then only learn on their next call.
    return noTabSync;
  }
  const handlers = new Set<(message: TabMessage) => void>();
  channel.onmessage = (event: MessageEvent) => {
    const message = parseTabMessage(event.data);
    if (!message) return;
    for (const handler of handlers) handler(message);
  };
  return {
    post: (message) => {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel (page unloading): nothing left to tell.
      }
    },
    subscribe: (handler) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    close: () => {
      handlers.clear();
      channel.close();
    },
  };
}
