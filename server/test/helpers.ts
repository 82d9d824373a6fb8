/**
 * Test helpers: real databases (an in-memory PGlite, or a fresh database on
 * the PostgreSQL server at 127.0.0.1:5432 that is dropped afterwards) and an
 * app built from a real configuration.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config/load.js';
import { resolveSecretKey } from '../src/config/secret-key.js';
import { type Database, openDatabase } from '../src/db/connect.js';

export const PG_HOST = process.env.TEST_PG_HOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.TEST_PG_PORT ?? 5432);
export const PG_USER = process.env.TEST_PG_USER ?? 'postgres';

export type Mode = 'embedded' | 'postgres';
export const MODES: Mode[] = ['embedded', 'postgres'];

export const STRONG_KEY = 'k'.repeat(10) + randomBytes(40).toString('base64url');

export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates an empty database; returns its name and a function that drops it. */
export async function createTestDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `ironclad_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return { name, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function postgresEnv(database: string): Record<string, string> {
  return {
    POSTGRES_DB: database,
    POSTGRES_USER: PG_USER,
    DB_HOST: PG_HOST,
    DB_PORT: String(PG_PORT),
    SECRET_KEY: STRONG_KEY,
  };
}

/** The seed's insecure "before" settings (its settings.py and docker-compose.yml before the lesson). */
export const SEED_BEFORE_SETTINGS: Readonly<Record<string, string>> = {
  SECRET_KEY: 'local-dev-secret-key',
  DEBUG: 'False',
  ALLOWED_HOSTS: '0.0.0.0,localhost,*',
  CORS_ALLOWED_ORIGINS: '*',
  POSTGRES_DB: 'task_db',
  POSTGRES_USER: 'cp_user',
  POSTGRES_PASSWORD: 'password',
  DB_HOST: 'postgres-container',
  DB_PORT: '5432',
};

/** Listens on a free loopback port (for raw-socket tests) and returns it. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
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
    OVERLOAD_EVENT_LOOP_DELAY: '0',
  };
  const config = configFor({ LOG_LEVEL: 'info', ...limits, ...base, ...env });
  const logs = new LogCapture();
  const v = config.values;
  const database = await openDatabase(config.database, {
    poolMax: v.DB_POOL_MAX,
    connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
    queryTimeoutMs: v.DB_QUERY_TIMEOUT,
  });
  await database.migrate();
  const app = await buildApp({ config, database, secretKey: resolveSecretKey(config).key, logStream: logs });
  extend?.(app, database);
  await app.ready();
  return {
    app,
    databaseName: name,
    database,
    config,
    logs,
    close: async () => {
      await app.close();
      await database.close();
      await created?.drop();
    },
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${counter}.${randomBytes(3).toString('hex')}@example.com`;
}

export const GOOD_PASSWORD = 'correct horse battery staple';

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
