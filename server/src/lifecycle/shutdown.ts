/**
 * How a running server stops without breaking a request, in three phases:
 *
 * 1. Drain (SIGTERM only, `SHUTDOWN_DRAIN`): /readyz answers 503 at once and every answer carries
 *    `Connection: close`, but the server keeps accepting and serving new connections. A load balancer, nginx with
 *    health checks or Kubernetes needs a moment to notice and stop sending; until it has, a closed listener would
 *    turn its requests into resets and 502s. SIGINT (Ctrl-C at a terminal) skips this phase: nobody routes to a
 *    developer's terminal. A second signal during the drain ends it early.
 * 2. Stop accepting: new requests wait at the gate (http/plugins/shutdown-gate.ts) until the listen backlog is
 *    empty (backlogEmpty: at most about a second), then the listener closes: later connections are refused, none
 *    queued is reset.
 * 3. Finish: the held and in-flight requests are answered (with `Connection: close`; a request on a kept-alive
 *    connection is served too, not refused), then the database closes and the process exits 0; past
 *    `SHUTDOWN_TIMEOUT` it exits 1.
 */
import type { Server } from 'node:net';

/** What the HTTP layer reads: /readyz and the `Connection: close` step. */
export interface ShutdownState {
  draining: boolean;
  /** While set, new requests wait for it before being handled (http/plugins/shutdown-gate.ts). */
  held?: Promise<void>;
}

export interface ShutdownPlan {
  drainMs: number;
  timeoutMs: number;
}

/** Signals whose stop is interactive (a person at a terminal): no drain. */
const INTERACTIVE = new Set(['SIGINT']);

/** The drain a signal earns: the configured one for SIGTERM (orchestrators), none for Ctrl-C. */
export function drainFor(signal: string, drainMs: number): number {
  return INTERACTIVE.has(signal) ? 0 : drainMs;
}

/**
 * Resolves after `ms`, or at once when `cut` is called (a second signal), whichever is first. The timer is not
 * unref'd: the drain is the process's work while it lasts.
 */
export function drainTimer(ms: number): { done: Promise<void>; cut: () => void } {
  let cut = () => {};
  const done = new Promise<void>((resolve) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    cut = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cut: () => cut() };
}

/**
 * Resolves when the listen backlog is empty, so the listener can close without resetting anyone.
 *
 * Linux resets every connection still queued in the backlog when a listening socket closes, and Node can neither
 * ask the kernel how long that queue is nor stop it queuing (no SO_REUSEPORT handoff before Node 22.12, no BPF). What
 * it can do: by the time this is called, new requests wait at the shutdown gate (`ShutdownState.held`) instead of
 * being answered, and a client waiting for an answer opens no new connection. So connections stop arriving; once
 * none has been accepted for `quietMs`, none is queued. A client that opens connections regardless of its answers
 * (an open-loop load) never lets it be quiet: after `maxMs` this settles for the next best moment, right after
 * libuv has emptied the queue (it accepts until accept() says EAGAIN, emitting 'connection' for each; a
 * setImmediate from that handler runs in the same loop iteration, right after).
 */
export function backlogEmpty(server: Server, quietMs = 50, maxMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    let quiet: NodeJS.Timeout;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(quiet);
      clearTimeout(limit);
      server.off('connection', onConnection);
      resolve();
    };
    let overdue = false;
    const onConnection = () => {
      if (overdue) {
        setImmediate(finish);
        return;
      }
      clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    };
    quiet = setTimeout(finish, quietMs);
    const limit = setTimeout(() => {
      overdue = true;
    }, maxMs);
    server.on('connection', onConnection);
  });
}
