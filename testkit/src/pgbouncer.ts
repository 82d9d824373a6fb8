/**
 * A real PgBouncer in front of the test PostgreSQL server (postgres-address.ts), for suites that prove the server
 * works behind a connection pooler. Suites gate on 'pgbouncer' and 'postgres' (gate.ts) first.
 *
 * The configuration is PgBouncer's stock one but for what a test must choose (address, port, pool mode, trust auth
 * for the listed users): in particular no `ignore_startup_parameters`, since the point is that stock settings work.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './gate.js';
import { PG_HOST, PG_PORT, PG_USER } from './postgres-address.js';

export type PgBouncerPoolMode = 'session' | 'transaction';

export interface PgBouncer {
  host: string;
  port: number;
  poolMode: PgBouncerPoolMode;
  /** What PgBouncer wrote (it logs to stderr in the foreground). */
  output: () => string;
  /** SIGTERM, then SIGKILL after 3 s; removes the temporary directory. Safe to call twice. */
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host);
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Signals the whole process group: runuser keeps pgbouncer as its child. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts PgBouncer in the foreground on a free loopback port, pooling every database of the test PostgreSQL server,
 * and waits until it accepts connections (at most 10 s).
 */
export async function startPgBouncer(
  poolMode: PgBouncerPoolMode,
  options: { users?: string[]; settings?: Record<string, string> } = {},
): Promise<PgBouncer> {
  const binary = requireTool('pgbouncer');
  const users = options.users ?? [PG_USER];
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-pgbouncer-'));
  // PgBouncer refuses to run as root; the user it runs as must read its files (nothing secret: trust auth).
  chmodSync(dir, 0o755);
  const port = await freePort();
  const host = '127.0.0.1';
  const authFile = join(dir, 'userlist.txt');
  writeFileSync(authFile, `${users.map((user) => `"${user}" ""`).join('\n')}\n`, { mode: 0o644 });
  const configFile = join(dir, 'pgbouncer.ini');
  writeFileSync(
    configFile,
    [
      '[databases]',
      `* = host=${PG_HOST} port=${PG_PORT}`,
      '',
      '[pgbouncer]',
      `listen_addr = ${host}`,
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${authFile}`,
      `pool_mode = ${poolMode}`,
      // Anything a caller sets beyond the stock settings (e.g. max_client_conn for many app processes).
      ...Object.entries(options.settings ?? {}).map(([name, value]) => `${name} = ${value}`),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const [command, args] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, configFile]] : [binary, [configFile]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    signalGroup(child, 'SIGTERM');
    const killer = setTimeout(() => signalGroup(child, 'SIGKILL'), 3000);
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await accepts(host, port)) return { host, port, poolMode, output: () => output, stop };
    await new Promise((done) => setTimeout(done, 100));
  }
  await stop();
  throw new Error(`pgbouncer did not start on ${host}:${port}:\n${output}`);
}
