/**
 * Throw-away databases on the test PostgreSQL server (see postgres-address.ts): each suite creates its own, with a
 * random name, and drops it afterwards. Suites that use them pass 'postgres' to gateFor (gate.ts) first.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { STRONG_KEY } from './accounts.js';
import { PG_HOST, PG_PORT, PG_USER } from './postgres-address.js';

export { PG_HOST, PG_PORT, PG_USER };

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

/** The settings that point a server at one of those databases. */
export function postgresEnv(database: string): Record<string, string> {
  return {
    POSTGRES_DB: database,
    POSTGRES_USER: PG_USER,
    DB_HOST: PG_HOST,
    DB_PORT: String(PG_PORT),
    SECRET_KEY: STRONG_KEY,
  };
}
