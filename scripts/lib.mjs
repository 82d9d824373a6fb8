/** What the load scripts (bench, soak) share: the PostgreSQL they use and the server process's memory. */
import { readFileSync } from 'node:fs';
import pg from 'pg';

export const pgConfig = {
  host: process.env.TEST_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_PG_PORT ?? 5432),
  user: process.env.TEST_PG_USER ?? 'postgres',
};

/** Runs one statement (CREATE/DROP DATABASE) on the `postgres` database. */
export async function admin(sql, { database = 'postgres', values } = {}) {
  const client = new pg.Client({ ...pgConfig, database });
  await client.connect();
  try {
    await client.query(sql, values);
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

/** What the bench, the memory run and any other wrk caller read from wrk's --latency output (times in ms). */
export function parseWrk(output) {
  const number = (text) => {
    const match = /([\d.]+)(us|ms|s)/.exec(text);
    if (!match) return Number.NaN;
    return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]];
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  const p50 = number(/\s50%\s+(\S+)/.exec(output)?.[1] ?? '');
  const p99 = number(/\s99%\s+(\S+)/.exec(output)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { rps, p50, p99, errors: non2xx + socketErrors };
}
