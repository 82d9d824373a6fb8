/**
 * `npm start` runs this file. It catches SIGTERM, SIGINT and SIGHUP before anything heavy is loaded, so a
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
// SIGHUP's default is to die on the spot, with no drain and no word; here it is answered (start.ts says settings are
// read once) and the server carries on.
process.on('SIGHUP', () => {
  if (signals.hangup) signals.hangup();
  else process.stderr.write('SIGHUP while starting: settings are read once, at start-up. Carrying on.\n');
});

const { main } = await import('./lifecycle/main-process.js');
main(signals);
