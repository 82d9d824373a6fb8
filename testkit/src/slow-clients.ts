/**
 * Slow clients from one loopback address, the way a slowloris attacker holds a server's connections: in a child
 * process of its own, so the hundreds of TLS handshakes it makes do not slow down the test process that measures
 * another client's latency (which would then measure the attacker, not nginx).
 *
 *   const attack = await startSlowClients({ port, servername, caPath, localAddress: '127.0.0.2', headers: 150, bodies: 150 });
 *   ... attack.state().open ...
 *   await attack.stop();
 *
 * Each slow-header connection completes TLS, sends a request line and then one header line a second, never the
 * blank line that ends the header; each slow-body connection sends a complete header announcing 60,000 bytes of
 * body and then one byte every 2 s. A connection the server closes is reopened a second later. The child stops by
 * itself after `maxSeconds`, and when its parent goes away.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';

export interface SlowClientsOptions {
  port: number;
  servername: string;
  /** The certificate to trust (the topology's certPath). */
  caPath: string;
  /** The attacker's address; default 127.0.0.2. */
  localAddress?: string;
  headers: number;
  bodies: number;
  /** The child exits by itself after this long; default 120. */
  maxSeconds?: number;
}

export interface SlowClientsState {
  /** Connections open right now (TLS established, not yet closed). */
  open: number;
  /** The longest a slow-header connection lived before the server closed it, in ms. */
  longestHeaderLife: number;
  /** Status codes the server answered slow bodies with, and how often. */
  bodyStatuses: Record<string, number>;
}

export interface SlowClients {
  state: () => SlowClientsState;
  stop: () => Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** Starts the attack in a child process (run with tsx); resolves once the child has started. */
export async function startSlowClients(options: SlowClientsOptions): Promise<SlowClients> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let state: SlowClientsState = { open: 0, longestHeaderLife: 0, bodyStatuses: {} };
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    const last = lines.filter(Boolean).at(-1);
    if (last) state = JSON.parse(last) as SlowClientsState;
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await new Promise<void>((done, reject) => {
    child.once('spawn', () => done());
    child.once('error', reject);
  });
  return {
    state: () => state,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The child's side: runs the connections and prints its state as one JSON line every 250 ms. */
function attack(options: SlowClientsOptions): void {
  const ca = readFileSync(options.caPath, 'utf8');
  const localAddress = options.localAddress ?? '127.0.0.2';
  let stopped = false;
  const state: SlowClientsState = { open: 0, longestHeaderLife: 0, bodyStatuses: {} };
  const sockets = new Set<TLSSocket>();
  const open = (kind: 'header' | 'body') => {
    if (stopped) return;
    const socket = tlsConnect({
      socket: netConnect({ host: '127.0.0.1', port: options.port, localAddress }),
      servername: options.servername,
      ca,
    });
    sockets.add(socket);
    let opened = 0;
    let timer: NodeJS.Timeout | undefined;
    let reply = '';
    socket.on('secureConnect', () => {
      state.open += 1;
      opened = performance.now();
      const host = `Host: ${options.servername}\r\n`;
      if (kind === 'header') {
        socket.write(`GET / HTTP/1.1\r\n${host}`);
        let line = 0;
        timer = setInterval(() => {
          line += 1;
          socket.write(`X-Slow-${line}: ${'a'.repeat(20)}\r\n`);
        }, 1_000);
      } else {
        socket.write(
          `POST /api/v1/tasks/ HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{`,
        );
        timer = setInterval(() => socket.write(' '), 2_000);
      }
    });
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
    });
    socket.on('error', () => {
      // A reset is the server closing a timed-out connection: reopened on close.
    });
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      if (opened) {
        state.open -= 1;
        if (kind === 'header' && !stopped) {
          state.longestHeaderLife = Math.max(state.longestHeaderLife, Math.round(performance.now() - opened));
        }
      }
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1];
      if (kind === 'body' && status) state.bodyStatuses[status] = (state.bodyStatuses[status] ?? 0) + 1;
      if (!stopped) setTimeout(() => open(kind), 1_000);
    });
  };
  for (let i = 0; i < options.headers; i += 1) open('header');
  for (let i = 0; i < options.bodies; i += 1) open('body');
  const report = setInterval(() => process.stdout.write(`${JSON.stringify(state)}\n`), 250);
  const stop = () => {
    stopped = true;
    clearInterval(report);
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // The parent gone (its end of stdin closed): stop too, so no attacker outlives a crashed test run.
  process.stdin.on('end', stop);
  process.stdin.resume();
  setTimeout(stop, (options.maxSeconds ?? 120) * 1_000).unref();
}

if (process.argv[1] === SELF && process.argv[2]) attack(JSON.parse(process.argv[2]) as SlowClientsOptions);
