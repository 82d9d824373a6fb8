/**
 * Accounts a person can live with (issue 15): password change, reset by email, sessions, activity, export, deletion.
 * Each rule runs on the embedded database and on PostgreSQL; the cross-instance rules run on two apps sharing one
 * PostgreSQL database. Emails are read back as the `.eml` files the real file transport writes (the SMTP relay has
 * its own suite, email-transport.test.ts, and the end-to-end one, email-delivery.test.ts).
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_KINDS, FAILED_EVENTS_MAX } from '../src/users/activity.js';
import { SESSIONS_PER_ACCOUNT } from '../src/users/sessions.js';
import {
  authed,
  describeOn,
  GOOD_PASSWORD,
  MODES,
  postgres,
  readEmails,
  signup,
  startTestApp,
  type TestApp,
  uniqueEmail,
} from './helpers.js';

const NEW_PASSWORD = 'a fresh horse battery 42';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36';

function tokenFrom(text: string): string {
  const match = /#reset=(icr_[A-Za-z0-9_-]{43})/.exec(text);
  if (!match?.[1]) throw new Error(`no reset link in: ${text}`);
  return match[1];
}

async function login(t: TestApp, email: string, password = GOOD_PASSWORD, ua = UA) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/users/login/',
    payload: { email, password },
    headers: { 'user-agent': ua },
  });
}

async function info(t: TestApp, token: string) {
  return t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }));
}

for (const mode of MODES) {
  describeOn(mode)(`accounts (${mode})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode, { PUBLIC_URL: 'http://localhost:8000' });
    });
    afterAll(async () => {
      await t?.close();
    });

    describe('password change', () => {
      it('changes the password, ends every OTHER session at once, keeps this one, and emails a notice', async () => {
        const { token, email } = await signup(t.app);
        const other = (await login(t, email)).json().token as string;
        const response = await t.app.inject(
          authed(token, {
            method: 'POST',
            url: '/api/v1/users/password/change/',
            payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
          }),
        );
        expect(response.statusCode).toBe(200);
        expect((await info(t, token)).statusCode).toBe(200);
        const ended = await info(t, other);
        expect(ended.statusCode).toBe(401);
        expect(ended.json()).toMatchObject({ reason: 'password-changed' });
        expect((await login(t, email)).statusCode).toBe(401);
        expect((await login(t, email, NEW_PASSWORD)).statusCode).toBe(200);
        const notice = (await readEmails(t)).filter((mail) => mail.to === email);
        expect(notice.map((mail) => mail.subject)).toEqual(['Your Ironclad Tasks password was changed']);
        expect(notice[0]?.text).not.toContain(NEW_PASSWORD);
      });

      it('refuses a wrong current password (400 on the field), the policy, and the same password', async () => {
        const { token } = await signup(t.app);
        const change = (current: string, next: string) =>
          t.app.inject(
            authed(token, {
              method: 'POST',
              url: '/api/v1/users/password/change',
              payload: { current_password: current, new_password: next },
            }),
          );
        const wrong = await change('not my password at all', NEW_PASSWORD);
        expect(wrong.statusCode).toBe(400);
        expect(wrong.json().fields).toHaveProperty('current_password');
        expect((await change(GOOD_PASSWORD, 'password123')).json().fields).toHaveProperty('new_password');
        expect((await change(GOOD_PASSWORD, GOOD_PASSWORD)).json().fields).toHaveProperty('new_password');
        expect((await change(GOOD_PASSWORD, 'short')).statusCode).toBe(400);
      });

      it('needs a session', async () => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/v1/users/password/change/',
          payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
        });
        expect(response.statusCode).toBe(401);
      });
    });

    describe('password reset', () => {
      const ask = (email: string, headers: Record<string, string> = {}) =>
        t.app.inject({ method: 'POST', url: '/api/v1/users/password/reset/', payload: { email }, headers });
      const confirm = (token: string, password = NEW_PASSWORD) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/users/password/reset/confirm/',
          payload: { token, new_password: password },
        });

      it('answers 202 with one identical body for a known and an unknown address', async () => {
        const { email } = await signup(t.app);
        const known = await ask(email);
        const unknown = await ask(uniqueEmail());
        expect(known.statusCode).toBe(202);
        expect(unknown.statusCode).toBe(202);
        expect(unknown.body).toBe(known.body);
        expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(known.headers).sort());
      });

      it('emails a PUBLIC_URL link with the token in the fragment, whatever Host and X-Forwarded-Host say', async () => {
        const { email } = await signup(t.app);
        expect((await ask(` ${email.toUpperCase()} `, { 'x-forwarded-host': 'evil.example' })).statusCode).toBe(202);
        const mail = (await readEmails(t)).filter((m) => m.to === email).at(-1);
        expect(mail?.subject).toBe('Reset your Ironclad Tasks password');
        expect(mail?.text).toMatch(/^http:\/\/localhost:8000\/#reset=icr_[A-Za-z0-9_-]{43}$/m);
        expect(mail?.raw).not.toContain('evil.example');
      });

      it('a link works once, ends every session, signs this browser in, and emails a notice', async () => {
        const { token: session, email } = await signup(t.app);
        await ask(email);
        const link = tokenFrom((await readEmails(t)).filter((m) => m.to === email).at(-1)?.text ?? '');
        const used = await confirm(link);
        expect(used.statusCode).toBe(200);
        expect(used.json()).toMatchObject({ email });
        expect(typeof used.json().token).toBe('string');
        expect(used.cookies.some((cookie) => cookie.name === 'ironclad_session')).toBe(true);
        expect((await info(t, used.json().token)).statusCode).toBe(200);
        const old = await info(t, session);
        expect(old.statusCode).toBe(401);
        expect(old.json().reason).toBe('password-changed');
        const again = await confirm(link, 'yet another fine passphrase');
        expect(again.statusCode).toBe(400);
        expect(again.json().fields).toHaveProperty('token');
        expect((await login(t, email, NEW_PASSWORD)).statusCode).toBe(200);
        const subjects = (await readEmails(t)).filter((m) => m.to === email).map((m) => m.subject);
        expect(subjects.at(-1)).toBe('Your Ironclad Tasks password was changed');
      });

      it('a newer request kills the older link; a password change kills a pending link', async () => {
        const { token: session, email } = await signup(t.app);
        await ask(email);
        const first = tokenFrom((await readEmails(t)).filter((m) => m.to === email).at(-1)?.text ?? '');
        await ask(email);
        const second = tokenFrom((await readEmails(t)).filter((m) => m.to === email).at(-1)?.text ?? '');
        expect(second).not.toBe(first);
        expect((await confirm(first)).statusCode).toBe(400);
        await t.app.inject(
          authed(session, {
            method: 'POST',
            url: '/api/v1/users/password/change/',
            payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
          }),
        );
        expect((await confirm(second, 'yet another fine passphrase')).statusCode).toBe(400);
      });

      it('refuses a made-up, malformed or over-long token as an invalid link, and the policy on the new password', async () => {
        for (const token of [`icr_${'A'.repeat(43)}`, 'nonsense', 'x'.repeat(100)]) {
          const response = await confirm(token);
          expect(response.statusCode).toBe(400);
          expect(response.json().fields).toHaveProperty('token');
        }
        expect((await confirm('x'.repeat(101))).statusCode).toBe(400);
        const { email } = await signup(t.app);
        await ask(email);
        const link = tokenFrom((await readEmails(t)).filter((m) => m.to === email).at(-1)?.text ?? '');
        const weak = await confirm(link, 'password123');
        expect(weak.statusCode).toBe(400);
        expect(weak.json().fields).toHaveProperty('new_password');
        // A refused password does not use the link up.
        expect((await confirm(link)).statusCode).toBe(200);
      });

      it('an unknown address gets no email and leaves nothing queued', async () => {
        const before = (await readEmails(t)).length;
        await ask(uniqueEmail());
        expect((await readEmails(t)).length).toBe(before);
      });
    });

    describe('sessions and activity', () => {
      it('lists live sessions newest first with device, address and the current one marked', async () => {
        const { email } = await signup(t.app);
        const first = (await login(t, email, GOOD_PASSWORD, `${UA}\u0000\r\nX-Injected: 1`)).json().token as string;
        const second = (await login(t, email, GOOD_PASSWORD, 'curl/8.5.0')).json().token as string;
        const response = await t.app.inject(authed(second, { method: 'GET', url: '/api/v1/users/sessions/' }));
        expect(response.statusCode).toBe(200);
        const list = response.json() as { id: number; current: boolean; user_agent: string; ip: string }[];
        expect(list).toHaveLength(3);
        expect(list[0]).toMatchObject({ current: true, user_agent: 'curl/8.5.0', ip: '127.0.0.1' });
        expect(list.filter((s) => s.current)).toHaveLength(1);
        expect(list[1]?.user_agent).not.toMatch(/\p{Cc}/u);
        expect(Object.keys(list[0] ?? {}).sort()).toEqual(
          ['created_at', 'current', 'expires_at', 'id', 'ip', 'last_used_at', 'user_agent'].sort(),
        );
        expect(first).not.toBe(second);
      });

      it('keeps a user agent short: at most 200 characters, no control characters', async () => {
        const { email } = await signup(t.app);
        const token = (await login(t, email, GOOD_PASSWORD, `${'\u{1F600}'.repeat(150)}${'a'.repeat(5000)}`)).json()
          .token as string;
        const [row] = (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
        expect(Array.from(row.user_agent as string)).toHaveLength(200);
        expect(row.user_agent).not.toContain('\uFFFD');
      });

      it('ends one session by id (401 with the reason there), and answers 404 for a missing or foreign id', async () => {
        const { email, token: mine } = await signup(t.app);
        const laptop = (await login(t, email)).json().token as string;
        const stranger = await signup(t.app);
        const sessions = (await t.app.inject(authed(mine, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
        const laptopId = sessions.find((s: { current: boolean }) => !s.current).id as number;
        const strangerId = (
          await t.app.inject(authed(stranger.token, { method: 'GET', url: '/api/v1/users/sessions/' }))
        ).json()[0].id as number;
        const foreign = await t.app.inject(
          authed(mine, { method: 'DELETE', url: `/api/v1/users/sessions/${strangerId}/` }),
        );
        const missing = await t.app.inject(
          authed(mine, { method: 'DELETE', url: '/api/v1/users/sessions/999999999/' }),
        );
        expect(foreign.statusCode).toBe(404);
        expect(foreign.body).toBe(missing.body.replace(missing.json().request_id, foreign.json().request_id));
        expect((await info(t, stranger.token)).statusCode).toBe(200);
        const ended = await t.app.inject(authed(mine, { method: 'DELETE', url: `/api/v1/users/sessions/${laptopId}` }));
        expect(ended.statusCode).toBe(200);
        const refused = await info(t, laptop);
        expect(refused.statusCode).toBe(401);
        expect(refused.json()).toMatchObject({ reason: 'ended', error: 'This session was ended from another device.' });
        expect((await info(t, mine)).statusCode).toBe(200);
        // Ended sessions are no longer listed; ending it twice is a 404.
        const after = (await t.app.inject(authed(mine, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
        expect(after.map((s: { id: number }) => s.id)).not.toContain(laptopId);
        expect(
          (await t.app.inject(authed(mine, { method: 'DELETE', url: `/api/v1/users/sessions/${laptopId}` })))
            .statusCode,
        ).toBe(404);
      });

      it('logout-all ends every session, this one included', async () => {
        const { email, token } = await signup(t.app);
        const other = (await login(t, email)).json().token as string;
        const response = await t.app.inject(authed(token, { method: 'POST', url: '/api/v1/users/logout-all/' }));
        expect(response.statusCode).toBe(200);
        for (const each of [token, other]) {
          const refused = await info(t, each);
          expect(refused.statusCode).toBe(401);
          expect(refused.json().reason).toBe('logged-out-everywhere');
        }
        expect((await info(t, `ict_${'Z'.repeat(43)}`)).json().reason).toBe('invalid');
      });

      it('records the security events newest first, failed logins against the account included', async () => {
        const { email, token } = await signup(t.app);
        await login(t, email, 'not the right password');
        const second = (await login(t, email)).json().token as string;
        await t.app.inject({ method: 'POST', url: '/api/v1/users/password/reset/', payload: { email } });
        await readEmails(t);
        const sessions = (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
        await t.app.inject(
          authed(token, { method: 'DELETE', url: `/api/v1/users/sessions/${sessions[0].id as number}/` }),
        );
        const activity = await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/activity/' }));
        expect(activity.statusCode).toBe(200);
        const kinds = (activity.json() as { kind: string; ip: string; user_agent: string | null }[]).map((e) => e.kind);
        expect(kinds).toEqual(['session-ended', 'password-reset-requested', 'login', 'login-failed', 'signup']);
        expect(activity.json()[2]).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
        expect(second).toBeTruthy();
      });
    });

    describe('what one account or one stranger can store', () => {
      it(`keeps at most ${SESSIONS_PER_ACCOUNT} session rows per account: a new login drops the oldest`, async () => {
        const { email, token: first } = await signup(t.app);
        const { id } = (await info(t, first)).json() as { id: number };
        await t.database.db.execute(
          sql`INSERT INTO sessions (token_hash, user_id, expires_at) SELECT md5(g::text) || md5((g + 1)::text), ${id}, now() + interval '1 day' FROM generate_series(1, 150) AS g`,
        );
        const latest = (await login(t, email)).json().token as string;
        const listed = (await t.app.inject(authed(latest, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
        expect(listed).toHaveLength(SESSIONS_PER_ACCOUNT);
        expect(listed[0].current).toBe(true);
        expect((await info(t, first)).statusCode).toBe(401);
      });

      it('failures strangers cause never push the owner’s own events out; wrong passwords with a session are recorded', async () => {
        const { email, token } = await signup(t.app);
        const { id } = (await info(t, token)).json() as { id: number };
        await t.database.db.execute(
          sql`INSERT INTO security_events (user_id, kind) SELECT ${id}, 'login-failed' FROM generate_series(1, 250)`,
        );
        await login(t, email, 'not the right password');
        const wrong = await t.app.inject(
          authed(token, {
            method: 'POST',
            url: '/api/v1/users/password/change/',
            payload: { current_password: 'a wrong guess here', new_password: NEW_PASSWORD },
          }),
        );
        expect(wrong.statusCode).toBe(400);
        const kinds = (
          (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/activity/' }))).json() as {
            kind: string;
          }[]
        ).map((event) => event.kind);
        expect(kinds[0]).toBe('password-check-failed');
        const exported = (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/export/' }))).json();
        const all = (exported.activity as { kind: string }[]).map((event) => event.kind);
        expect(all.filter((kind) => kind === 'login-failed' || kind === 'password-check-failed')).toHaveLength(
          FAILED_EVENTS_MAX,
        );
        expect(all).toContain('signup');
      });

      it('refuses signup with an address no relay would take (quoted, literal, list-like)', async () => {
        for (const email of [
          '"a b"@example.com',
          'a@[127.0.0.1]',
          '"a,evil@evil.example"@example.com',
          'a;b@example.com',
        ]) {
          const response = await t.app.inject({
            method: 'POST',
            url: '/api/v1/users/signup/',
            payload: { email, password: GOOD_PASSWORD },
          });
          expect(response.statusCode, email).toBe(400);
          expect(response.json().fields).toHaveProperty('email');
        }
      });
    });

    describe('export and deletion', () => {
      it('exports everything stored about the account as a download, never a hash or a token', async () => {
        const { email, token } = await signup(t.app);
        for (let i = 0; i < 3; i++) {
          await t.app.inject(
            authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: `task ${i}`, description: 'd' } }),
          );
        }
        const response = await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/export/' }));
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-disposition']).toMatch(
          /^attachment; filename="ironclad-tasks-export-\d{4}-\d{2}-\d{2}\.json"$/,
        );
        expect(response.headers['cache-control']).toBe('no-store');
        const body = response.json();
        expect(body.account.email).toBe(email);
        expect(body.tasks.map((task: { title: string }) => task.title)).toEqual(['task 0', 'task 1', 'task 2']);
        expect(body.sessions).toHaveLength(1);
        expect(body.password_reset).toBeNull();
        expect(body.activity.map((e: { kind: string }) => e.kind)).toContain('export');
        expect(response.body).not.toContain(token);
        expect(Object.keys(body.sessions[0]).sort()).toEqual(
          [
            'created_at',
            'current',
            'end_reason',
            'ended_at',
            'expires_at',
            'id',
            'ip',
            'last_used_at',
            'user_agent',
          ].sort(),
        );
        expect(response.body).not.toMatch(/argon2|password_hash|token_hash|\$argon/i);
      });

      it('streams an account with more tasks than one page (500) as valid JSON', async () => {
        const { token } = await signup(t.app);
        for (let i = 0; i < 600; i += 100) {
          await Promise.all(
            Array.from({ length: 100 }, (_, j) =>
              t.app.inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: `t${i + j}` } })),
            ),
          );
        }
        const response = await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/export/' }));
        const tasks = response.json().tasks as { id: number }[];
        expect(tasks).toHaveLength(600);
        expect(new Set(tasks.map((task) => task.id)).size).toBe(600);
      }, 120_000);

      it('deletes the account with its tasks, sessions and activity after the password, and clears the cookie', async () => {
        const { email, token } = await signup(t.app);
        const other = (await login(t, email)).json().token as string;
        await t.app.inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'mine' } }));
        const wrong = await t.app.inject(
          authed(token, { method: 'DELETE', url: '/api/v1/users/me/', payload: { password: 'wrong password!' } }),
        );
        expect(wrong.statusCode).toBe(400);
        expect(wrong.json().fields).toHaveProperty('password');
        const response = await t.app.inject(
          authed(token, { method: 'DELETE', url: '/api/v1/users/me/', payload: { password: GOOD_PASSWORD } }),
        );
        expect(response.statusCode).toBe(200);
        const cleared = response.cookies.find((cookie) => cookie.name === 'ironclad_session');
        expect(cleared?.value).toBe('');
        expect((await info(t, token)).statusCode).toBe(401);
        expect((await info(t, other)).statusCode).toBe(401);
        expect((await login(t, email)).statusCode).toBe(401);
        // The address is free again.
        expect(
          (
            await t.app.inject({
              method: 'POST',
              url: '/api/v1/users/signup/',
              payload: { email, password: GOOD_PASSWORD },
            })
          ).statusCode,
        ).toBe(201);
      });
    });
  });
}

postgres.describe('two server instances on one PostgreSQL', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp('postgres', { PUBLIC_URL: 'http://localhost:8000' });
    b = await startTestApp('postgres', { PUBLIC_URL: 'http://localhost:8000' }, a.databaseName);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a session ended, a password changed or a logout-all on one instance takes effect at once on the other', async () => {
    const { email, token } = await signup(a.app);
    const onB = (await login(b, email)).json().token as string;
    const listed = (await b.app.inject(authed(onB, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
    const idOnA = listed.find((s: { current: boolean }) => !s.current).id as number;
    expect(
      (await a.app.inject(authed(onB, { method: 'DELETE', url: `/api/v1/users/sessions/${idOnA}/` }))).statusCode,
    ).toBe(200);
    expect((await info(b, token)).json().reason).toBe('ended');

    const again = (await login(b, email)).json().token as string;
    const kept = (await login(a, email)).json().token as string;
    await a.app.inject(
      authed(kept, {
        method: 'POST',
        url: '/api/v1/users/password/change/',
        payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
      }),
    );
    expect((await info(b, again)).json().reason).toBe('password-changed');
    expect((await info(b, kept)).statusCode).toBe(200);

    await b.app.inject(authed(kept, { method: 'POST', url: '/api/v1/users/logout-all/' }));
    expect((await info(a, kept)).json().reason).toBe('logged-out-everywhere');
  });

  it('a reset asked on one instance is sent once, and its link works on the other', async () => {
    const { email } = await signup(a.app);
    await a.app.inject({ method: 'POST', url: '/api/v1/users/password/reset/', payload: { email } });
    // Both drainers race for the row; exactly one sends it.
    await Promise.all([a.app.outbox.flush(), b.app.outbox.flush()]);
    const sent = [...(await readEmails(a)), ...(await readEmails(b))].filter((m) => m.to === email);
    expect(sent).toHaveLength(1);
    const link = tokenFrom(sent[0]?.text ?? '');
    const used = await b.app.inject({
      method: 'POST',
      url: '/api/v1/users/password/reset/confirm/',
      payload: { token: link, new_password: NEW_PASSWORD },
    });
    expect(used.statusCode).toBe(200);
    const twice = await a.app.inject({
      method: 'POST',
      url: '/api/v1/users/password/reset/confirm/',
      payload: { token: link, new_password: 'yet another fine passphrase' },
    });
    expect(twice.statusCode).toBe(400);
  });
});

describe('a client address that is not an address (TRUST_PROXY believes anything)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded', { TRUST_PROXY: 'true', PUBLIC_URL: 'http://localhost:8000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is stored and shown as unknown, never copied into the sessions list or an email', async () => {
    const { email } = await signup(t.app);
    const phishing = 'To cancel go to https://evil.example/cancel';
    const logged = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: GOOD_PASSWORD },
      headers: { 'x-forwarded-for': phishing },
    });
    const token = logged.json().token as string;
    const listed = (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/sessions/' }))).json();
    expect(listed[0].ip).toBeNull();
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/password/reset/',
      payload: { email },
      headers: { 'x-forwarded-for': phishing },
    });
    const mail = (await readEmails(t)).filter((m) => m.to === email).at(-1);
    expect(mail?.text).toContain('#reset=');
    expect(mail?.raw).not.toContain('evil.example');
  });
});

describe('the web client names every kind of security event the server records', () => {
  it('client/src/account/activity-kinds.ts has words for each of ACTIVITY_KINDS', async () => {
    const { readFileSync } = await import('node:fs');
    const source = readFileSync(new URL('../../client/src/account/activity-kinds.ts', import.meta.url), 'utf8');
    const missing = ACTIVITY_KINDS.filter((kind) => !source.includes(`['${kind}', '`));
    expect(missing).toEqual([]);
  });
});
