/** Running the built server as a real process, and a TCP proxy to cut its database. Loopback only. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtEntry } from './build.js';
import { PG_HOST, PG_PORT } from './postgres-address.js';

export interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

export function run(
  env: Record<string, string>,
  cwd: string,
  { netns }: { netns?: string } = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // In a network namespace through `ip netns exec`, which execs node: the child's pid is the server's own, so
  // signals reach it as they would reach `node` itself.
  const [command, args] = netns
    ? ['ip', ['netns', 'exec', netns, process.execPath, builtEntry('server')]]
    : [process.execPath, [builtEntry('server')]];
  const child = spawn(command, args, {
    cwd,
    // A clean environment: nothing of the developer's leaks in. No drain on SIGTERM unless a test asks for it:
    // the shipped 5 s would only slow every stop down (shutdown.test.ts tests the drain itself).
    env: { PATH: process.env.PATH ?? '', PORT: '0', SHUTDOWN_DRAIN: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

/**
 * Starts the built server and waits for its "listening" line. `startupMs`: suites that create an embedded database
 * on a loaded machine (~6 s alone, over 20 s with other suites on 2 cores) give it longer.
 */
export async function start(
  env: Record<string, string>,
  cwd = mkdtempSync(join(tmpdir(), 'ironclad-proc-')),
  { startupMs = 20_000, netns }: { startupMs?: number; netns?: string } = {},
): Promise<Running> {
  const proc = run(env, cwd, netns ? { netns } : {});
  const deadline = Date.now() + startupMs;
  while (Date.now() < deadline) {
    const match = /Server listening at (http:\/\/[^"\s]+)/.exec(proc.output());
    if (match) return { ...proc, url: match[1] as string };
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.child.kill('SIGKILL');
  throw new Error(`server did not start:\n${proc.output()}`);
}

export async function stop(server: Running | undefined): Promise<number | null | undefined> {
  if (!server || server.child.exitCode !== null) return server?.child.exitCode;
  server.child.kill('SIGTERM');
  return server.exited;
}

export async function json(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** A TCP proxy to PostgreSQL that the test can cut and restore. */
export class ToggleProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(PG_PORT, PG_HOST);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    await new Promise<void>((done) => server.listen(this.port, '127.0.0.1', done));
    this.port = (server.address() as { port: number }).port;
  }

  /** Stops accepting and kills every open connection, as a database crash would. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}
