/** The central error handler: what a client sees of a crash (nothing), and what the log keeps (everything but secrets). */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/unavailable.js';
import { describeOn, startTestApp, type TestApp } from './helpers.js';

const LEAKY = 'boom at /work/main/server/src/secret.ts SELECT password_hash FROM users';

function withCrashRoutes(app: TestApp['app'], database: TestApp['database']) {
  app.get('/crash', async () => {
    throw new Error(LEAKY);
  });
  app.get('/crash-sql', async () => {
    await database.db.execute(sql`SELECT * FROM no_such_table WHERE secret = ${'SENSITIVE-PARAM-42'}`);
    return {};
  });
  app.get('/crash-string', async () => {
    throw 'a thrown string';
  });
}

for (const [mode, debug] of [
  ['embedded', false],
  ['embedded', true],
  ['postgres', false],
] as const)
  describeOn(mode)(`unexpected errors (${mode} database, DEBUG=${debug})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode, { DEBUG: String(debug) }, undefined, withCrashRoutes);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answer 500 with a request id and, unless DEBUG, nothing else', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/crash' });
      expect(response.statusCode).toBe(500);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = response.json();
      expect(body.request_id).toBe(response.headers['x-request-id']);
      if (debug) {
        expect(body).toEqual({
          error: 'Internal server error',
          request_id: body.request_id,
          detail: `Error: ${LEAKY}`,
        });
      } else {
        expect(body).toEqual({ error: 'Internal server error', request_id: body.request_id });
        expect(response.body).not.toMatch(/boom|\/work|SELECT|at |Error:/);
      }
      // The log keeps the full error under the same request id.
      const logged = t.logs.lines
        .map((line) => JSON.parse(line))
        .find((line) => line.level === 50 && line.request_id === body.request_id);
      expect(logged?.err?.message).toBe(LEAKY);
      expect(logged?.err?.stack).toContain('errors.test.ts');
    });

    it('a failed query is a 500 whose log names the query but never its parameters', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/crash-sql' });
      expect(response.statusCode).toBe(500);
      if (!debug) expect(response.body).not.toContain('no_such_table');
      expect(response.body).not.toContain('SENSITIVE-PARAM-42');
      expect(t.logs.text).toContain('no_such_table');
      expect(t.logs.text).not.toContain('SENSITIVE-PARAM-42');
    });

    it('a thrown non-Error is a 500 too', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/crash-string' });
      expect(response.statusCode).toBe(500);
      expect(response.json().error).toBe('Internal server error');
    });
  });

describe('isDatabaseUnavailable', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, true],
    [Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {}), true],
    [new Error('timeout exceeded when trying to connect'), true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ code: '57P01' }, true],
    [{ code: '08006' }, true],
    [{ message: 'Failed query', cause: { code: '57014' } }, true],
    [{ code: '23505' }, false],
    [new Error('something else'), false],
    [null, false],
  ])('%o -> %s', (error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });
});
