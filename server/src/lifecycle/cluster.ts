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
  // The workers close the shared listener together (shutdown.ts, closeListener): `close` once every live worker is
  // quiet, `release` once every one has closed. A worker that dies meanwhile no longer counts.
  const steps = { quiet: new Set<number>(), closed: new Set<number>() };
  const live = () => Object.values(cluster.workers ?? {}).flatMap((worker) => (worker ? [worker] : []));
  const sent = { close: false, release: false };
  const advance = () => {
    const ids = live().map((worker) => worker.id);
    if (!stopping || ids.length === 0) return;
    const broadcast = (message: ShutdownMessage) => {
      for (const worker of live()) if (worker.isConnected()) worker.send(message);
    };
    if (!sent.close && ids.every((id) => steps.quiet.has(id))) {
      sent.close = true;
      broadcast({ ironclad: 'close' });
    }
    if (!sent.release && ids.every((id) => steps.closed.has(id))) {
      sent.release = true;
      broadcast({ ironclad: 'release' });
    }
  };
  cluster.on('message', (worker, message: ShutdownMessage) => {
    if (message?.ironclad === 'quiet' || message?.ironclad === 'closed') {
      steps[message.ironclad].add(worker.id);
      advance();
    }
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
