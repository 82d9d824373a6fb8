/** Session lifetime and SECRET_KEY rotation with SECRET_KEY_FALLBACKS. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, postgres, signup, startTestApp, type TestApp } from './helpers.js';

const OLD_KEY = `old-${randomBytes(40).toString('base64url')}`;
const NEW_KEY = `new-${randomBytes(40).toString('base64url')}`;

postgres.describe('SECRET_KEY rotation', () => {
  let before: TestApp;
  const opened: TestApp[] = [];
  beforeAll(async () => {
    before = await startTestApp('postgres', { SECRET_KEY: OLD_KEY });
  });
  afterAll(async () => {
    for (const t of opened) await t.close();
    await before?.close();
  });

  it('tokens issued under the old key keep working while it is a fallback, and stop when it is removed', async () => {
    const { token } = await signup(before.app);
    const rotated = await startTestApp(
      'postgres',
      { SECRET_KEY: NEW_KEY, SECRET_KEY_FALLBACKS: OLD_KEY },
      before.databaseName,
    );
    opened.push(rotated);
    expect((await rotated.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }))).statusCode).toBe(
      200,
    );
    // New sessions are stored under the new key.
    const fresh = await signup(rotated.app);
    const afterCleanup = await startTestApp('postgres', { SECRET_KEY: NEW_KEY }, before.databaseName);
    opened.push(afterCleanup);
    expect(
      (await afterCleanup.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }))).statusCode,
    ).toBe(401);
    expect(
      (await afterCleanup.app.inject(authed(fresh.token, { method: 'GET', url: '/api/v1/users/info/' }))).statusCode,
    ).toBe(200);
  });

  it('a different SECRET_KEY makes every stored token useless (a leaked table cannot be replayed)', async () => {
    const { token } = await signup(before.app);
    const other = await startTestApp('postgres', { SECRET_KEY: `x${NEW_KEY}` }, before.databaseName);
    opened.push(other);
    expect((await other.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }))).statusCode).toBe(401);
  });
});

describe('TOKEN_TTL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded', { TOKEN_TTL: '90s' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sets each session to expire TOKEN_TTL after login', async () => {
    const started = Date.now();
    await signup(t.app);
    const result = await t.database.db.execute('SELECT expires_at FROM sessions' as never);
    const rows = ((result as { rows?: unknown[] }).rows ?? (result as unknown[])) as { expires_at: string | Date }[];
    const expires = new Date(rows[0]?.expires_at as string).getTime();
    expect(expires - started).toBeGreaterThan(85_000);
    expect(expires - started).toBeLessThan(95_000);
  });
});
