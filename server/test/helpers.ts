/**
 * Test helpers: real databases (an in-memory PGlite, or a fresh database on
 * the PostgreSQL server at 127.0.0.1:5432 that is dropped afterwards) and an
 * app built from a real configuration.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Config, loadConfig } from '@ironclad/config/load';
import { GOOD_PASSWORD, uniqueEmail } from '@ironclad/testkit/accounts';
import { createTestDatabase, postgresEnv } from '@ironclad/testkit/database';
import { gateFor, type SuiteFunction } from '@ironclad/testkit/gate';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { describe } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Database, openDatabase } from '../src/db/connect.js';
import type { OutboxOptions } from '../src/email/outbox.js';
import { createMailTransport, defaultFrom } from '../src/email/transport.js';
import { resolveSecretKey } from '../src/lifecycle/secret-key.js';

// The server suites' own helpers sit on the shared test kit; these are re-exported because nearly every suite needs them.
export { GOOD_PASSWORD, SEED_BEFORE_SETTINGS, STRONG_KEY, uniqueEmail } from '@ironclad/testkit/accounts';
export { createTestDatabase, PG_HOST, PG_PORT, PG_USER, postgresEnv } from '@ironclad/testkit/database';

export type Mode = 'embedded' | 'postgres';
export const MODES: Mode[] = ['embedded', 'postgres'];

/** The PostgreSQL server's gate: suites on PostgreSQL are skipped (with the reason printed) where none runs. */
export const postgres = await gateFor('server tests on PostgreSQL', ['postgres']);

/** `describe` for a suite on one database kind: skipped, and says why, when that kind cannot run here. */
export function describeOn(mode: Mode): SuiteFunction {
  return mode === 'postgres' ? postgres.describe : describe;
}

/** Listens on a free loopback port (for raw-socket tests) and returns it. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

/**
 * The plugins registered directly on the root instance, in registration order, as drawn by
 * app.printPlugins() (avvio's tree: "├─┬ name 3 ms"); avvio's own "bound _after" entries left out.
 */
export function rootPlugins(app: FastifyInstance): string[] {
  return app
    .printPlugins()
    .split('\n')
    .filter((line) => /^[├└]/.test(line))
    .map((line) => line.replace(/^[├└]─[─┬] /, '').replace(/ \d+ ms$/, ''))
    .filter((name) => name !== 'bound _after');
}

export function configFor(env: Record<string, string | undefined>): Config {
  return loadConfig({ env: { LOG_LEVEL: 'silent', ...env }, dotEnv: false, cwd: process.cwd() });
}

/** Collects the JSON log lines an app writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestApp {
  app: FastifyInstance;
  /** PostgreSQL database name, when on PostgreSQL. */
  databaseName?: string;
  database: Database;
  config: Config;
  logs: LogCapture;
  /** Where the app writes `.eml` files when it has no SMTP_URL (readEmails). */
  mailDir: string;
  close: () => Promise<void>;
}

/**
 * An app on a fresh database of the given kind. `env` adds or overrides settings;
 * `DATA_DIR=memory://` keeps the embedded database in memory.
 */
export async function startTestApp(
  mode: Mode,
  env: Record<string, string | undefined> = {},
  /** Another app's PostgreSQL database to share (that app drops it). */
  sharedDatabase?: string,
  /** Adds test-only routes before the app is sealed. */
  extend?: (app: FastifyInstance, database: Database) => void,
  /** The email outbox's timings. */
  outbox?: Partial<OutboxOptions>,
): Promise<TestApp> {
  const created = mode === 'postgres' && !sharedDatabase ? await createTestDatabase() : undefined;
  const name = sharedDatabase ?? created?.name;
  const base = name ? postgresEnv(name) : { DATA_DIR: 'memory://' };
  // Limits high enough for the suite's many signups; the rate-limit tests set their own. Overload
  // detection off: many apps share this process, and one's PGlite start-up stalls the others' loop.
  const limits = {
    RATE_LIMIT_SIGNUP: '100000/1h',
    RATE_LIMIT_LOGIN: '100000/1h',
    RATE_LIMIT_LOGIN_ACCOUNT: '100000/1h',
    RATE_LIMIT_LOGIN_FAILURES: '100000/1h',
    RATE_LIMIT_READS: '1000000/1m',
    RATE_LIMIT_WRITES: '1000000/1m',
    OVERLOAD_EVENT_LOOP_DELAY: '0',
  };
  const config = configFor({ LOG_LEVEL: 'info', ...limits, ...base, ...env });
  const logs = new LogCapture();
  const v = config.values;
  const database = await openDatabase(config.database, {
    poolMax: v.DB_POOL_MAX,
    poolMode: v.DB_POOL_MODE,
    connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
    queryTimeoutMs: v.DB_QUERY_TIMEOUT,
  });
  await database.migrate();
  // Emails of an app without SMTP_URL go to its own folder (readEmails), never to a shared ./data.
  const mailDir = mkdtempSync(join(tmpdir(), 'ironclad-test-mail-'));
  const mailer = v.SMTP_URL
    ? undefined
    : createMailTransport({ from: v.EMAIL_FROM ?? defaultFrom(v.PUBLIC_URL), dataDir: mailDir });
  const app = await buildApp({
    config,
    database,
    secretKey: resolveSecretKey(config).key,
    logStream: logs,
    ...(mailer ? { mailer } : {}),
    ...(outbox ? { outbox } : {}),
  });
  extend?.(app, database);
  await app.ready();
  return {
    app,
    databaseName: name,
    database,
    config,
    logs,
    mailDir,
    close: async () => {
      await app.close();
      await database.close();
      await created?.drop();
      rmSync(mailDir, { recursive: true, force: true });
    },
  };
}

export async function signup(app: FastifyInstance, email = uniqueEmail()): Promise<{ token: string; email: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/users/signup/',
    payload: { email, password: GOOD_PASSWORD },
  });
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

export function authed(token: string, options: InjectOptions): InjectOptions {
  return { ...options, headers: { ...options.headers, authorization: `Token ${token}` } };
}

export interface ReadEmail {
  file: string;
  to: string;
  subject: string;
  text: string;
  raw: string;
}

/** The `.eml` files an app without SMTP_URL wrote, oldest first, after draining its outbox. */
export async function readEmails(t: TestApp): Promise<ReadEmail[]> {
  await t.app.outbox.flush();
  const dir = join(t.mailDir, 'outbox');
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const { simpleParser } = await import('mailparser');
  const out: ReadEmail[] = [];
  for (const file of files) {
    const raw = readFileSync(join(dir, file), 'utf8');
    const parsed = await simpleParser(raw);
    const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
    out.push({ file, to: to?.value[0]?.address ?? '', subject: parsed.subject ?? '', text: parsed.text ?? '', raw });
  }
  return out;
}
