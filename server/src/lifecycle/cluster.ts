import cluster from 'node:cluster';
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
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
}
