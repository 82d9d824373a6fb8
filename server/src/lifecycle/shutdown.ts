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
import type { Server as HttpServer } from 'node:http';
import { Server as NetServer, type Server } from 'node:net';

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
    const watch = watchQuiet(server, quietMs, maxMs, (quiet) => {
      if (!quiet) return;
      watch.stop();
      resolve();
    });
  });
}

/**
 * Tells `onChange(true)` when no connection has been accepted for `quietMs`, and `onChange(false)` when one is
 * accepted after that. The quiet is confirmed one loop turn later (setImmediate): a timer fires BEFORE the poll
 * phase in which pending accepts run, so a process that was starved of CPU would otherwise see its quiet timer
 * expire with connections waiting. After `maxMs` (an open-loop load is never quiet) every accept burst counts as
 * quiet right after it (see backlogEmpty).
 */
function watchQuiet(
  server: Server,
  quietMs: number,
  maxMs: number,
  onChange: (quiet: boolean) => void,
): { stop: () => void } {
  let accepted = 0;
  let quiet = false;
  let overdue = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    const seen = accepted;
    timer = setTimeout(() => setImmediate(() => accepted === seen && report(true)), quietMs);
  };
  const report = (value: boolean) => {
    if (quiet === value) return;
    quiet = value;
    onChange(value);
  };
  const onConnection = () => {
    accepted++;
    if (overdue) {
      report(false);
      setImmediate(() => report(true));
      return;
    }
    report(false);
    arm();
  };
  const limit = setTimeout(() => {
    overdue = true;
  }, maxMs);
  server.on('connection', onConnection);
  arm();
  return {
    stop: () => {
      clearTimeout(timer);
      clearTimeout(limit);
      server.off('connection', onConnection);
    },
  };
}

/** Stops the listener; resolves when every connection it accepted has ended. */
/**
 * Stops the listener; resolves when every connection it accepted has ended.
 *
 * Not `http.Server#close()`: since Node 19 that also destroys every connection without a request in progress, and a
 * connection accepted a moment ago whose request bytes this process has not read yet counts as one, so its client
 * would see a reset. Only the listening socket is closed here (net.Server's close); connections that still have
 * not sent a request after IDLE_GRACE_MS are closed then (an idle keep-alive client reconnects, elsewhere).
 */
const IDLE_GRACE_MS = 1000;

function closeServer(server: Server): Promise<void> {
  const ended = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  const idle = setTimeout(() => (server as Partial<HttpServer>).closeIdleConnections?.(), IDLE_GRACE_MS);
  return ended.finally(() => clearTimeout(idle));
}

/** The shutdown steps' messages between cluster workers and their supervisor (cluster.ts). */
export type ShutdownMessage =
  | { ironclad: 'quiet' | 'busy' | 'closed' | 'release' }
  /** `force`: close even if not quiet (a load that never lets up); otherwise only if still quiet. */
  | { ironclad: 'close'; force: boolean }
  /** A worker listens (on `port`, the real one) and its log so far is written: the supervisor may say where to open. */
  | { ironclad: 'listening'; port: number };

/** Resolves on the first message from the supervisor that `accept` takes. */
function fromSupervisor(accept: (message: ShutdownMessage) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      const step = message as ShutdownMessage | undefined;
      if (typeof step?.ironclad !== 'string' || !accept(step)) return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}

/**
 * Phase 2: hold new requests, wait for an empty backlog, close the listener, let the held requests run. Resolves
 * when every accepted connection has ended.
 *
 * Under node:cluster the listening socket is the supervisor's: it accepts, queues and hands connections out, and
 * it closes (resetting whatever it still holds) when the LAST worker stops listening. So the workers close
 * together, when all of them have been quiet at once: each says `quiet`, and `busy` again if a connection comes
 * after all; the supervisor says `close` once all are quiet and stay so for a moment. A worker that got a
 * connection meanwhile (the supervisor hands its queue out one connection per worker at a time, so a starved
 * supervisor can still hold some) stays open and has said `busy`: the supervisor tries again once all are quiet.
 * Each worker that closes says `closed`, and the supervisor says `release` once every one has.
 */
export async function closeListener(server: Server, shutdown: ShutdownState): Promise<void> {
  let release = () => {};
  shutdown.held = new Promise((resolve) => {
    release = resolve;
  });
  const supervised = typeof process.send === 'function' && process.env.NODE_UNIQUE_ID !== undefined;
  if (supervised) {
    let quietNow = false;
    const watch = watchQuiet(server, 50, 1000, (quiet) => {
      quietNow = quiet;
      process.send?.({ ironclad: quiet ? 'quiet' : 'busy' } satisfies ShutdownMessage);
    });
    // A connection handed over before this `close` was emitted before it (one IPC channel, in order): quietNow is
    // false then, and this worker waits for the next `close`.
    await fromSupervisor((step) => step.ironclad === 'close' && (step.force || quietNow));
    watch.stop();
  } else {
    await backlogEmpty(server);
  }
  const ended = closeServer(server);
  if (supervised) {
    const released = fromSupervisor((step) => step.ironclad === 'release');
    process.send?.({ ironclad: 'closed' } satisfies ShutdownMessage);
    await released;
  }
  release();
  await ended;
}
