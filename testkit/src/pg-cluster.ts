/**
 * A throw-away PostgreSQL cluster a test owns outright, for what the shared server at 127.0.0.1:5432 must not be
 * put through: a role's password changed under a running server, a hot standby and its promotion, a database
 * turned read-only. initdb into a temp dir, a free loopback port, the unix socket inside that dir, fsync off.
 * (The multi-host topology runs one inside a network namespace on that host's address, pg_hba open to the API
 * hosts only: ClusterOptions.)
 *
 * Access: the test's superuser `postgres` over the unix socket (trust: the socket sits in a 0700 dir that only the
 * cluster's owner and root can enter); every TCP connection (what the server under test uses) must pass
 * scram-sha-256 as a role the test creates. PostgreSQL refuses to run as root: as uid 0 every binary runs as the
 * `postgres` user (runuser) and the temp dirs are given to it.
 *
 *   const gate = await clusterGate('database failures');
 *   const primary = await createCluster();        // started; primary.destroy() in afterAll
 *   await primary.admin("CREATE ROLE app LOGIN PASSWORD 'secret'");
 *   const standby = await primary.standby();      // pg_basebackup -R, hot standby on its own port
 *   await standby.promote();
 *
 * Every cluster is stopped (pg_ctl stop -m immediate) and removed when destroyed, and on process exit if the test
 * did not get that far.
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Gate, gateFor } from './gate.js';

const run = promisify(execFile);

/** The PostgreSQL server binaries: PG_BIN, or Debian's newest of the usual versions. */
export function findPgBin(): string | undefined {
  const candidates = [
    process.env.PG_BIN,
    ...['17', '16', '15', '14'].map((version) => `/usr/lib/postgresql/${version}/bin`),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      for (const tool of ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres']) accessSync(join(dir, tool), constants.X_OK);
      return dir;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * The gate for suites that run their own clusters: the server binaries (and the 'postgres' need, which CI's
 * REQUIRE_POSTGRES turns into a failure when absent). Skips with the reason printed, like every gate.
 */
export async function clusterGate(suite: string): Promise<Gate> {
  const gate = await gateFor(suite, ['postgres']);
  if (gate.skip || findPgBin()) return gate;
  const missing =
    'no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) in PG_BIN or /usr/lib/postgresql/<version>/bin (apt-get install postgresql)';
  if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`${suite}: REQUIRE_POSTGRES=1 but ${missing}`);
  process.stderr.write(`\n  SKIPPED ${suite}: ${missing}; set REQUIRE_POSTGRES=1 to make this a failure\n\n`);
  const { describe, it } = await import('vitest');
  return { paths: {}, missing, skip: true, describe: describe.skip, it: it.skip };
}

const asRoot = process.getuid?.() === 0;
const OWNER = 'postgres';

/**
 * Runs a PostgreSQL binary, as the `postgres` user when we are root; inside network namespace `netns` when given
 * (the server pg_ctl starts inherits it, and listens on that namespace's addresses).
 */
async function pgRun(bin: string, tool: string, args: string[], timeoutMs = 60_000, netns?: string): Promise<string> {
  const file = join(bin, tool);
  const [plain, plainArgv] = asRoot ? ['runuser', ['-u', OWNER, '--', file, ...args]] : [file, args];
  const [command, argv] = netns ? ['ip', ['netns', 'exec', netns, plain, ...plainArgv]] : [plain, plainArgv];
  try {
    const { stdout } = await run(command, argv, { timeout: timeoutMs });
    return stdout;
  } catch (error) {
    const { stderr, stdout, code, signal } = error as {
      stderr?: string;
      stdout?: string;
      code?: unknown;
      signal?: unknown;
    };
    throw new Error(
      `${tool} ${args.join(' ')} failed (exit ${String(code)}${signal ? `, ${String(signal)}` : ''}): ${stderr || stdout || String(error)}`,
    );
  }
}

function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (asRoot) spawnSync('chown', [OWNER, dir]);
  chmodSync(dir, 0o700);
  return dir;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** Clusters not yet destroyed: stopped and removed on exit whatever happened. */
const live = new Set<PgCluster>();
process.once('exit', () => {
  for (const cluster of live) cluster.destroySync();
});

/** Where a cluster listens and who may connect over TCP; the defaults are a loopback port of the root namespace. */
export interface ClusterOptions {
  /** Network namespace the server runs in (`ip netns`); its unix socket still serves the test's admin access. */
  netns?: string;
  /** listen_addresses; default 127.0.0.1. */
  host?: string;
  /** Default: a free loopback port (a namespace of our own can use 5432). */
  port?: number;
  /**
   * When given, pg_hba.conf is exactly: the unix socket (trust, for the test), then scram-sha-256 over TCP from these
   * addresses (CIDR) only; every other TCP client is refused by the server itself, whatever the firewall lets by.
   */
  tcpClients?: string[];
  /**
   * The start of the cluster's temp dir name (default `ironclad-pg-`): the multi-host topology names it after its
   * run's pid, so the next run removes it if this one was killed before it could.
   */
  dirPrefix?: string;
}

export class PgCluster {
  /** `dir/data` is the cluster, `dir` also holds the unix socket and the log. */
  private constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
    readonly host = '127.0.0.1',
    readonly netns?: string,
  ) {
    live.add(this);
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  /** A new cluster, started. */
  static async create(options: ClusterOptions = {}): Promise<PgCluster> {
    const bin = findPgBin();
    if (!bin) throw new Error('no PostgreSQL server binaries (see clusterGate)');
    const cluster = new PgCluster(
      bin,
      ownedTempDir(options.dirPrefix ?? 'ironclad-pg-'),
      options.port ?? (await freePort()),
      options.host,
      options.netns,
    );
    try {
      await pgRun(bin, 'initdb', [
        '-D',
        cluster.dataDir,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C',
      ]);
      cluster.configure({ wal_level: 'replica', max_wal_senders: '4', hot_standby: 'on' });
      if (options.tcpClients) {
        const lines = [
          '# ironclad test cluster: the unix socket for the test, scram over TCP from the listed clients only',
          'local all all trust',
          'local replication all trust',
          ...options.tcpClients.map((address) => `host all all ${address} scram-sha-256`),
        ];
        writeFileSync(join(cluster.dataDir, 'pg_hba.conf'), `${lines.join('\n')}\n`);
      }
      await cluster.start();
      return cluster;
    } catch (error) {
      cluster.destroySync();
      throw error;
    }
  }

  /** Appends settings to postgresql.conf (later lines win), plus the ones every test cluster has. */
  private configure(settings: Record<string, string>): void {
    const all: Record<string, string> = {
      port: String(this.port),
      listen_addresses: `'${this.host}'`,
      unix_socket_directories: `'${this.dir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '16MB',
      max_connections: '40',
      ...settings,
    };
    const lines = Object.entries(all).map(([name, value]) => `${name} = ${value}`);
    appendFileSync(join(this.dataDir, 'postgresql.conf'), `\n# ironclad test cluster\n${lines.join('\n')}\n`);
  }

  async start(): Promise<void> {
    await pgRun(
      this.bin,
      'pg_ctl',
      ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '60', 'start'],
      60_000,
      this.netns,
    );
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pgRun(this.bin, 'pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Ends recovery: a standby becomes a writable primary (waits until it is). */
  async promote(): Promise<void> {
    await pgRun(this.bin, 'pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', 'promote']);
  }

  /** A hot standby of this cluster (pg_basebackup -R over the unix socket), started on its own port. */
  async standby(): Promise<PgCluster> {
    const standby = new PgCluster(this.bin, ownedTempDir('ironclad-pg-standby-'), await freePort());
    try {
      await pgRun(this.bin, 'pg_basebackup', [
        '-D',
        standby.dataDir,
        '-R',
        '-X',
        'stream',
        '-h',
        this.dir,
        '-p',
        String(this.port),
        '-U',
        'postgres',
        '--no-sync',
        // An immediate checkpoint: the default spreads it over minutes when the primary has dirty pages.
        '--checkpoint=fast',
      ]);
      standby.configure({ hot_standby: 'on' });
      await standby.start();
      return standby;
    } catch (error) {
      standby.destroySync();
      throw error;
    }
  }

  /** A superuser client over the unix socket; the caller ends it. */
  async adminClient(database = 'postgres'): Promise<pg.Client> {
    const client = new pg.Client({ host: this.dir, port: this.port, user: 'postgres', database });
    await client.connect();
    return client;
  }

  /** One statement as the superuser, in `database`. */
  async admin(text: string, database = 'postgres'): Promise<pg.QueryResultRow[]> {
    const client = await this.adminClient(database);
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }

  /** Ends every session of `user` (what a restart of the database, or an operator's cut, does to them). */
  async terminate(user: string): Promise<number> {
    const rows = await this.admin(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE usename = '${user.replace(/'/g, "''")}'`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Stops at once and removes the cluster; safe to call twice. */
  destroySync(): void {
    if (!live.has(this)) return;
    live.delete(this);
    const ctl = join(this.bin, 'pg_ctl');
    const args = ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'];
    const [command, argv] = asRoot ? ['runuser', ['-u', OWNER, '--', ctl, ...args]] : [ctl, args];
    spawnSync(command, argv, { stdio: 'ignore', timeout: 40_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }
}

/** A new started cluster (see PgCluster). */
export function createCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  return PgCluster.create(options);
}
