import cluster from 'node:cluster';
import type { ShutdownMessage } from './shutdown.js';
import type { Signals } from './start.js';

/**
 * WEB_CONCURRENCY > 1: this process only supervises; each worker is a whole server on the shared
 * port (node:cluster hands connections out round-robin). A worker that dies is replaced; SIGTERM and
 * SIGINT are passed on as they came (each worker drains: lifecycle/shutdown.ts) and the supervisor
 * exits once every worker has stopped.
 */
export function supervise(workers: number, signals: Signals): void {
  let stopping = false;
  const fork = () =>
    cluster.fork().on('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`worker exited with ${code}; starting another\n`);
        fork();
      }
    });
  for (let i = 0; i < workers; i++) fork();
  // The workers close the shared listener together (shutdown.ts, closeListener): `close` once every live worker has
  // been quiet at once for CONFIRM_MS (or, for a load that never lets up, CLOSE_AFTER_MS after the drain), `release`
  // once every one has closed. A worker that dies meanwhile no longer counts.
  const CONFIRM_MS = 30;
  const CLOSE_AFTER_MS = 1500;
  const quiet = new Set<number>();
  const closed = new Set<number>();
  const sent = { close: false, release: false };
  let confirm: NodeJS.Timeout | undefined;
  let forced: NodeJS.Timeout | undefined;
  const live = () => Object.values(cluster.workers ?? {}).flatMap((worker) => (worker ? [worker] : []));
  const broadcast = (message: ShutdownMessage) => {
    for (const worker of live()) if (worker.isConnected()) worker.send(message);
  };
  const sendClose = () => {
    if (sent.close) return;
    sent.close = true;
    clearTimeout(confirm);
    clearTimeout(forced);
    broadcast({ ironclad: 'close' });
  };
  const advance = () => {
    const ids = live().map((worker) => worker.id);
    if (!stopping || ids.length === 0) return;
    clearTimeout(confirm);
    // Confirmed one turn of this loop later too: this process's own hand-outs of accepted connections run there.
    if (!sent.close && ids.every((id) => quiet.has(id)))
      confirm = setTimeout(() => setImmediate(() => live().every((w) => quiet.has(w.id)) && sendClose()), CONFIRM_MS);
    if (!sent.release && ids.every((id) => closed.has(id))) {
      sent.release = true;
      broadcast({ ironclad: 'release' });
    }
  };
  cluster.on('message', (worker, message: ShutdownMessage) => {
    switch (message?.ironclad) {
      case 'quiet':
        if (!forced) forced = setTimeout(sendClose, CLOSE_AFTER_MS);
        quiet.add(worker.id);
        break;
      case 'busy':
        quiet.delete(worker.id);
        break;
      case 'closed':
        closed.add(worker.id);
        break;
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
