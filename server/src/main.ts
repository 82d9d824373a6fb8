/**
 * `npm start` runs this file. It catches SIGTERM and SIGINT before anything heavy is loaded, so a
 * stop that arrives while the server is still starting is honoured cleanly instead of killing the
 * process mid-way; then it loads the server (lifecycle/main-process.ts) and starts it.
 */
import type { Signals } from './lifecycle/start.js';

const signals: Signals = {};
for (const name of ['SIGTERM', 'SIGINT'] as const) {
  process.on(name, () => {
    if (signals.forward) signals.forward(name);
    else signals.received ??= name;
  });
}

const { main } = await import('./lifecycle/main-process.js');
main(signals);
