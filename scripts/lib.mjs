/** What the load scripts (bench, soak) share: the PostgreSQL they use and the server process's memory. */
import { readFileSync } from 'node:fs';
import pg from 'pg';

export const pgConfig = {
  host: process.env.TEST_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_PG_PORT ?? 5432),
  user: process.env.TEST_PG_USER ?? 'postgres',
};

/** Runs one statement (CREATE/DROP DATABASE) on the `postgres` database. */
export async function admin(sql) {
  const client = new pg.Client({ ...pgConfig, database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A field of /proc/<pid>/status in MB: VmRSS (now) or VmHWM (highest so far). */
export function memoryMb(pid, field = 'VmRSS') {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
