import cluster from 'node:cluster';
import type { Signals } from './start.js';

/**
 * WEB_CONCURRENCY > 1: this process only supervises; each worker is a whole server on the shared
 * port (node:cluster hands connections out round-robin). A worker that dies is replaced; SIGTERM is
 * passed on and the supervisor exits once every worker has drained.
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
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  signals.forward = stop;
  if (signals.received) stop();
  cluster.on('exit', () => {
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
}
