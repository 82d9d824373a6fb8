import cluster from 'node:cluster';
import type { ShutdownMessage } from './shutdown.js';
import type { Signals } from './start.js';
import { readyLine, whereToOpen } from './where-to-open.js';

/** Where the workers listen, to say where to open the app once all of them do (start.ts says it in one process). */
export interface Listen {
  host: string;
  allowedHosts: readonly string[];
}

/**
 * WEB_CONCURRENCY > 1: this process only supervises; each worker is a whole server on the shared
 * port (node:cluster hands connections out round-robin). A worker that dies is replaced; SIGTERM and
 * SIGINT are passed on as they came (each worker drains: lifecycle/shutdown.ts) and the supervisor
 * exits once every worker has stopped.
 */
export function supervise(workers: number, signals: Signals, listen: Listen): void {
  let stopping = false;
  // The start-up log's last line, once: when the first `workers` workers have all said they listen.
  const listening = new Set<number>();
  let announced = false;
  const onListening = (workerId: number, port: number) => {
    listening.add(workerId);
    if (announced || listening.size < workers) return;
    announced = true;
    const hint = whereToOpen(listen.host, port, listen.allowedHosts);
    if (hint?.level === 'info') process.stdout.write(readyLine({ ...hint, level: 'info' }));
    else if (hint) process.stderr.write(`${hint.message}\n`);
  };
  const fork = () =>
    cluster.fork().on('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`worker exited with ${code}; starting another\n`);
        fork();
      }
    });
  for (let i = 0; i < workers; i++) fork();
  // The workers close the shared listener together (shutdown.ts, closeListener): `close` once every live worker that
  // is still open has been quiet at once for CONFIRM_MS (a worker that got a connection meanwhile says `busy` and stays
  // open; asked again when quiet), a forced `close` CLOSE_AFTER_MS after the first quiet for a load that never lets
  // up, and `release` once every one has closed. A worker that dies meanwhile no longer counts.
  const CONFIRM_MS = 30;
  const CLOSE_AFTER_MS = 1500;
  const quiet = new Set<number>();
  const closed = new Set<number>();
  let released = false;
  let confirm: NodeJS.Timeout | undefined;
  let forced: NodeJS.Timeout | undefined;
  const live = () => Object.values(cluster.workers ?? {}).flatMap((worker) => (worker ? [worker] : []));
  const open = () => live().filter((worker) => !closed.has(worker.id));
  const sendClose = (force: boolean) => {
    for (const worker of open())
      if (worker.isConnected()) worker.send({ ironclad: 'close', force } satisfies ShutdownMessage);
  };
  const advance = () => {
    if (!stopping || live().length === 0) return;
    clearTimeout(confirm);
    const waiting = open();
    if (waiting.length > 0 && waiting.every((worker) => quiet.has(worker.id)))
      // Confirmed one turn of this loop later too: this process's own hand-outs of accepted connections run there.
      confirm = setTimeout(
        () => setImmediate(() => open().every((worker) => quiet.has(worker.id)) && sendClose(false)),
        CONFIRM_MS,
      );
    if (!released && waiting.length === 0) {
      released = true;
      clearTimeout(forced);
      for (const worker of live())
        if (worker.isConnected()) worker.send({ ironclad: 'release' } satisfies ShutdownMessage);
    }
  };
  cluster.on('message', (worker, message: ShutdownMessage) => {
    switch (message?.ironclad) {
      case 'quiet':
        forced ??= setTimeout(() => sendClose(true), CLOSE_AFTER_MS);
        quiet.add(worker.id);
        break;
      case 'busy':
        quiet.delete(worker.id);
        break;
      case 'closed':
        closed.add(worker.id);
        break;
      case 'listening':
        onListening(worker.id, message.port);
        return;
      default:
        return;
    }
    advance();
  });
  const stop = (signal = 'SIGTERM') => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal as NodeJS.Signals);
  };
  signals.forward = stop;
  // Workers drain on their own (start.ts); the supervisor only says that SIGHUP changes nothing.
  signals.hangup = () =>
    process.stderr.write('SIGHUP: settings are read once, at start-up; restart the server to apply changes.\n');
  if (signals.received) stop(signals.received);
  cluster.on('exit', () => {
    advance();
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
}
