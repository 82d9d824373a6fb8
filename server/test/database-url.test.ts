/**
 * DATABASE_URL is parsed once, by the configuration (@ironclad/config/database), into the parts the security rules
 * and the deploy auditor judge; the server hands the URL as written to node-postgres. This checks that the parts are
 * the ones the driver will connect with, so a rule never judges a different password than the one in use.
 */
import { parsePostgresUrl } from '@ironclad/config/database';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

interface ResolvedParameters {
  user: string;
  password: string | undefined;
  host: string;
  port: number;
  database: string;
}

/** What node-postgres resolves a connection string to, without connecting (a Client property @types/pg omits). */
function driverView(url: string): ResolvedParameters {
  const client = new pg.Client({ connectionString: url }) as unknown as { connectionParameters: ResolvedParameters };
  const { user, password, host, port, database } = client.connectionParameters;
  return { user, password, host, port, database };
}

describe('DATABASE_URL as the driver reads it', () => {
  it.each([
    'postgres://tasks:Xk29-strong-pass@db.internal:6432/app',
    'postgresql://ta%73ks:p%40ss%3Aw%2Fd%25x@db:5432/tasks',
    'postgres://tasks:pa ss@db/tasks',
    'postgres://tasks:plus+sign@db/tasks',
    'postgres://tasks@db/tasks?password=changeme',
    'postgres://ignored:ignored@db/tasks?user=owner&password=Sq3-from-query',
    'postgres://tasks:Xk29@db/tasks?host=replica.internal&port=6543',
    'postgres://tasks:Xk29@[::1]:5433/app%20db',
  ])('%s', (url) => {
    const ours = parsePostgresUrl(url);
    const driver = driverView(url);
    expect({ user: ours.user, password: ours.password, host: ours.host, database: ours.database }).toEqual({
      user: driver.user,
      password: driver.password,
      host: driver.host,
      database: driver.database,
    });
    // The driver fills in 5432 where the URL names no port.
    expect(ours.port ?? 5432).toBe(driver.port);
  });
});
