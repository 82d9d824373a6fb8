/**
 * Probes run INSIDE a network namespace: the test process lives in the root namespace, so it runs this file with
 * `ip netns exec <ns> tsx testkit/src/netns-probe.ts <command> '<json>'` and reads one JSON line from stdout.
 *
 *   connect  {targets: [{host, port}], timeoutMs,        -> [{host, port, result: open|refused|timeout|<errno>}]
 *             localAddress?}                               (from that source address when given)
 *   scan     {host, timeoutMs, concurrency}              -> {open: [ports], outcomes: {refused: n, ...}, ms}
 *   requests {target, localAddress?, steps: [...],       -> [{status, headers, body} | {error}] (in order; a step
 *             parallel?}                                    may have its own localAddress; all at once if parallel)
 *   wait     {target, path, timeoutMs}                   -> {status, ms}: polls until a 200 or the deadline
 *   listen   {port}                                      -> prints {"listening":port}: a bare TCP listener on
 *                                                           0.0.0.0 that accepts and closes, until stdin closes
 *   load     LoadConfig                                  -> prints {"started":true}, runs until stdin closes,
 *                                                           then prints the LoadReport (netns-load.ts)
 */
import { connect, createServer } from 'node:net';
import { type Answer, type Step, send, type Target } from './netns-http.js';
import { type LoadConfig, runLoad } from './netns-load.js';

type Outcome = 'open' | 'refused' | 'timeout' | string;

/** One TCP connect; how it ended. */
function probe(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<Outcome> {
  return new Promise((done) => {
    const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      done(outcome);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.once('connect', () => finish('open'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNREFUSED' ? 'refused' : (error.code ?? error.message)),
    );
  });
}

async function scan(host: string, timeoutMs: number, concurrency: number) {
  const started = performance.now();
  const open: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 1;
  const worker = async () => {
    while (next <= 65535) {
      const port = next;
      next += 1;
      const outcome = await probe(host, port, timeoutMs);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome === 'open') open.push(port);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { host, open: open.sort((a, b) => a - b), outcomes, ms: Math.round(performance.now() - started) };
}

async function main(): Promise<unknown> {
  const [command, json] = process.argv.slice(2);
  const input = JSON.parse(json ?? '{}');
  switch (command) {
    case 'connect': {
      const { targets, timeoutMs, localAddress } = input as {
        targets: Array<{ host: string; port: number }>;
        timeoutMs: number;
        localAddress?: string;
      };
      return Promise.all(
        targets.map(async ({ host, port }) => ({
          host,
          port,
          result: await probe(host, port, timeoutMs, localAddress),
        })),
      );
    }
    case 'scan': {
      const { host, timeoutMs, concurrency } = input as { host: string; timeoutMs: number; concurrency: number };
      return scan(host, timeoutMs, concurrency);
    }
    case 'requests': {
      const { target, localAddress, steps, parallel } = input as {
        target: Target;
        localAddress?: string;
        steps: Array<Step & { localAddress?: string }>;
        parallel?: boolean;
      };
      const one = async (step: Step & { localAddress?: string }): Promise<Omit<Answer, 'ms'> | { error: string }> => {
        const from = step.localAddress ?? localAddress;
        try {
          const { status, headers, body } = await send(target, step, from ? { localAddress: from } : {});
          return { status, headers, body };
        } catch (error) {
          return { error: String((error as Error).message) };
        }
      };
      if (parallel) return Promise.all(steps.map(one));
      const answers: Array<Omit<Answer, 'ms'> | { error: string }> = [];
      for (const step of steps) answers.push(await one(step));
      return answers;
    }
    case 'wait': {
      const { target, path, timeoutMs } = input as { target: Target; path: string; timeoutMs: number };
      const started = performance.now();
      let status = 0;
      while (performance.now() - started < timeoutMs) {
        try {
          status = (await send(target, { path }, { timeoutMs: 2000 })).status;
          if (status === 200) break;
        } catch {
          status = 0;
        }
        await new Promise((done) => setTimeout(done, 50));
      }
      return { status, ms: Math.round(performance.now() - started) };
    }
    case 'listen': {
      const { port } = input as { port: number };
      const server = createServer((socket) => socket.end());
      await new Promise<void>((done) => server.listen(port, '0.0.0.0', done));
      process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
      await new Promise<void>((done) => {
        process.stdin.on('data', () => {});
        process.stdin.once('end', () => done());
        process.stdin.once('close', () => done());
      });
      server.close();
      return { stopped: port };
    }
    case 'load': {
      const stopped = new Promise<void>((done) => {
        process.stdin.on('data', () => {});
        process.stdin.once('end', () => done());
        process.stdin.once('close', () => done());
      });
      const running = runLoad(input as LoadConfig, stopped);
      process.stdout.write(`${JSON.stringify({ started: true })}\n`);
      return running;
    }
    default:
      throw new Error(`unknown probe command ${command}`);
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
