/**
 * The classifier of database failures (db/unavailable.ts): by SQLSTATE and errno, through drizzle's wrapping;
 * client mistakes and bugs stay non-503. Real errors where the real thing produces them (PGlite's unique violation
 * and syntax error, a refused TCP connect, a real read-only session), constructed driver errors for the rest.
 */
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeUnavailable,
  isDatabaseUnavailable,
  isSessionUnusable,
  UnavailableLog,
  type UnavailableReason,
  unavailableReason,
} from '../src/db/unavailable.js';
import { authed, signup, startTestApp, type TestApp } from './helpers.js';

/** What node-postgres hands over for an ErrorResponse from the server. */
function serverError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError('any words', 0, 'error');
  error.code = code;
  return error;
}

/** As drizzle throws it. */
const wrapped = (cause: unknown) => new DrizzleQueryError('insert into "tasks" ...', ['secret'], cause as Error);

describe('unavailableReason', () => {
  it.each<[string, UnavailableReason | undefined]>([
    ['25006', 'read-only'],
    ['57P01', 'connection'],
    ['57P02', 'connection'],
    ['57P03', 'connection'],
    ['57014', 'timeout'],
    ['53300', 'resources'],
    ['53100', 'resources'],
    ['53200', 'resources'],
    ['08006', 'connection'],
    ['08P01', 'connection'],
    ['28P01', 'credentials'],
    ['28000', 'credentials'],
    ['3D000', 'database-missing'],
    ['58030', 'system'],
    ['40001', 'contention'],
    ['40P01', 'contention'],
    ['55P03', 'contention'],
    // Client mistakes and bugs: never a 503.
    ['23505', undefined],
    ['23503', undefined],
    ['22P02', undefined],
    ['42601', undefined],
    ['42P01', undefined],
    ['XX000', undefined],
  ])('SQLSTATE %s -> %s, bare and wrapped by drizzle', (code, reason) => {
    expect(unavailableReason(serverError(code))).toBe(reason);
    expect(unavailableReason(wrapped(serverError(code)))).toBe(reason);
    expect(isDatabaseUnavailable(wrapped(serverError(code)))).toBe(reason !== undefined);
  });

  it('reads the code, not the words', () => {
    const error = serverError('23505');
    error.message = 'Connection terminated unexpectedly'; // a value echoed in a message cannot make it a 503
    expect(unavailableReason(error)).toBeUndefined();
  });

  it('a refused TCP connect (a real socket error, with its errno code) is a connection failure', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 2000 });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(unavailableReason(error)).toBe('connection');
    expect(unavailableReason(wrapped(error))).toBe('connection');
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'Client has encountered a connection error and is not queryable',
  ])('the driver’s own code-less error "%s" is a connection failure', (message) => {
    expect(unavailableReason(wrapped(new Error(message)))).toBe('connection');
  });

  it('a code-less error that only mentions a connection somewhere is not', () => {
    expect(unavailableReason(new Error('user input: Connection terminated'))).toBeUndefined();
    expect(unavailableReason(new TypeError('x is undefined'))).toBeUndefined();
    expect(unavailableReason({ code: 'ENOENT' })).toBeUndefined();
  });

  it('follows causes and AggregateErrors, within a bound', () => {
    const deep = new Error('outer', { cause: new Error('middle', { cause: serverError('57P01') }) });
    expect(unavailableReason(deep)).toBe('connection');
    expect(unavailableReason(new AggregateError([new Error('a'), serverError('28P01')]))).toBe('credentials');
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(unavailableReason(loop)).toBeUndefined();
  });

  it('sessions are discarded after read-only, credential and connection failures only', () => {
    expect(isSessionUnusable(wrapped(serverError('25006')))).toBe(true);
    expect(isSessionUnusable(serverError('28P01'))).toBe(true);
    expect(isSessionUnusable(serverError('57P01'))).toBe(true);
    expect(isSessionUnusable(serverError('40001'))).toBe(false);
    expect(isSessionUnusable(serverError('23505'))).toBe(false);
  });
});

describe('UnavailableLog', () => {
  it('logs one line per reason per interval, counting what it left out, and never the error’s words', () => {
    let now = 0;
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const log = { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) };
    const trouble = new UnavailableLog(10_000, () => now);
    for (let i = 0; i < 50; i++) trouble.note(log, wrapped(serverError('28P01')));
    trouble.note(log, serverError('25006'));
    expect(lines).toHaveLength(2);
    expect(lines[0]?.message).toBe(`database unavailable: ${describeUnavailable('credentials')}`);
    expect(lines[0]?.message).toMatch(/refused the credentials.*POSTGRES_PASSWORD.*DATABASE_URL/);
    expect(lines[0]?.fields).toMatchObject({ reason: 'credentials', code: '28P01' });
    expect(lines[1]?.fields).toMatchObject({ reason: 'read-only', code: '25006' });
    now = 10_000;
    trouble.note(log, serverError('28P01'));
    expect(lines).toHaveLength(3);
    expect(lines[2]?.fields).toMatchObject({ reason: 'credentials', suppressedSinceLast: 49 });
  });
});

describe('on the embedded database (PGlite is PostgreSQL: same codes, same questions)', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp('embedded');
    token = (await signup(t.app)).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a unique violation and a syntax error are not "unavailable"', async () => {
    const duplicate = await t.database.db
      .execute(sql`INSERT INTO users (email, password_hash) SELECT email, password_hash FROM users LIMIT 1`)
      .catch((e: unknown) => e);
    expect((duplicate as { cause?: { code?: string } }).cause?.code).toBe('23505');
    expect(isDatabaseUnavailable(duplicate)).toBe(false);
    const syntax = await t.database.db.execute(sql`SELEC 1`).catch((e: unknown) => e);
    expect(isDatabaseUnavailable(syntax)).toBe(false);
  });

  it('a read-only session: writes 503 with Retry-After, reads 200, /readyz 503 read-only; writable again: ready', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await t.database.db.execute(sql`SET SESSION default_transaction_read_only = on`);
    try {
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['retry-after']).toBe('5');
      expect(ready.json()).toEqual({ error: 'Database is read-only.', status: 'read-only' });
      const write = await t.app.inject(
        authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'while read-only' } }),
      );
      expect(write.statusCode).toBe(503);
      expect(write.headers['retry-after']).toBe('5');
      const read = await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }));
      expect(read.statusCode).toBe(200);
      expect(t.logs.text).toContain('the database is read-only');
    } finally {
      await t.database.db.execute(sql`SET SESSION default_transaction_read_only = off`);
    }
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const write = await t.app.inject(
      authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'writable again' } }),
    );
    expect(write.statusCode).toBe(201);
  });
});
