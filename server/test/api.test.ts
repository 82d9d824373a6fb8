/** The API table of the README, on both databases: the embedded PGlite and a real PostgreSQL. */

import { sql } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_SEARCH_MAX, TASK_SEARCH_SENT_MAX } from '../src/rules/limits.js';
import {
  authed,
  describeOn,
  GOOD_PASSWORD,
  MODES,
  signup,
  startTestApp,
  type TestApp,
  uniqueEmail,
} from './helpers.js';

for (const mode of MODES)
  describeOn(mode)(`API on ${mode} database`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode);
    });
    afterAll(async () => {
      await t?.close();
    });

    const inject = (options: InjectOptions) => t.app.inject(options);

    it('GET /api/v1/test/ answers connected, with and without the trailing slash', async () => {
      for (const url of ['/api/v1/test/', '/api/v1/test']) {
        const response = await inject({ method: 'GET', url });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ connected: true });
      }
    });

    describe('users', () => {
      it('signs up with a normalized email and returns a token', async () => {
        const email = uniqueEmail('Signup').toUpperCase();
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          payload: { email, password: GOOD_PASSWORD },
        });
        expect(response.statusCode).toBe(201);
        const body = response.json();
        expect(body.email).toBe(email.toLowerCase());
        expect(body.token).toMatch(/^ict_[A-Za-z0-9_-]{43}$/);
        expect(Object.keys(body).sort()).toEqual(['email', 'token']);
      });

      it('refuses a second account for the same email, in any case', async () => {
        const email = uniqueEmail('dup');
        await signup(t.app, email);
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/signup',
          payload: { email: ` ${email.toUpperCase()} `, password: GOOD_PASSWORD },
        });
        expect(response.statusCode).toBe(409);
        expect(response.json()).toEqual({
          error: 'An account with this email already exists.',
          fields: { email: 'is already registered' },
        });
      });

      it.each([
        [
          'short',
          'short1234',
          'A password needs 10 to 256 characters and cannot contain invisible control characters.',
        ],
        ['common', 'password123', 'is too common; choose a less guessable password'],
        ['one repeated character', 'aaaaaaaaaaaa', 'is too common; choose a less guessable password'],
        [
          'over 256 characters',
          'x1'.repeat(129),
          'A password needs 10 to 256 characters and cannot contain invisible control characters.',
        ],
      ])('refuses a %s password', async (_name, password, message) => {
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          payload: { email: uniqueEmail(), password },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().fields.password).toBe(message);
      });

      it('refuses a password that contains the email name', async () => {
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          payload: { email: 'margaret.hamilton@example.com', password: 'Margaret.Hamilton-1936' },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().fields.password).toBe('must not contain your email address');
      });

      it('refuses an invalid email', async () => {
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          payload: { email: 'not-an-email', password: GOOD_PASSWORD },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({
          error: 'Invalid request body.',
          fields: { email: 'Enter a valid email address, like name@example.com (at most 254 characters).' },
        });
      });

      it('logs in with a new token per login; a wrong password and an unknown email get one identical 401', async () => {
        const { email, token: first } = await signup(t.app);
        const login = await inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email, password: GOOD_PASSWORD },
        });
        expect(login.statusCode).toBe(200);
        expect(login.json().email).toBe(email);
        const second = login.json().token;
        expect(second).not.toBe(first);

        const wrongPassword = await inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email, password: 'not the password at all' },
        });
        const unknownEmail = await inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: uniqueEmail('ghost'), password: GOOD_PASSWORD },
        });
        expect(wrongPassword.statusCode).toBe(401);
        expect(unknownEmail.statusCode).toBe(401);
        expect(wrongPassword.body).toBe(unknownEmail.body);
        expect(wrongPassword.json()).toEqual({ error: 'Invalid email or password.' });

        // Both sessions work at once (two devices).
        for (const token of [first, second]) {
          expect((await inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }))).statusCode).toBe(200);
        }
      });

      it('login accepts the email in another case and with spaces', async () => {
        const { email } = await signup(t.app);
        const response = await inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          payload: { email: `  ${email.toUpperCase()}`, password: GOOD_PASSWORD },
        });
        expect(response.statusCode).toBe(200);
      });

      it('info shows the account, never a hash or token', async () => {
        const { email, token } = await signup(t.app);
        const response = await inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }));
        expect(response.statusCode).toBe(200);
        const body = response.json();
        expect(Object.keys(body).sort()).toEqual(['created_at', 'email', 'id']);
        expect(body.email).toBe(email);
        expect(response.body).not.toContain(token);
        expect(response.body).not.toContain('argon2');
        expect(response.headers['cache-control']).toBe('no-store');
      });

      it('logout kills only the presented token, at once', async () => {
        const { email, token } = await signup(t.app);
        const other = (
          await inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password: GOOD_PASSWORD } })
        ).json().token as string;
        const logout = await inject(authed(token, { method: 'POST', url: '/api/v1/users/logout/' }));
        expect(logout.statusCode).toBe(200);
        expect(logout.json()).toEqual({ message: 'Logged out.' });
        const after = await inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(after.statusCode).toBe(401);
        // Its own logout deletes the session: nothing is left to say why.
        expect(after.json()).toEqual({ error: 'Invalid or expired token.', reason: 'invalid' });
        expect((await inject(authed(other, { method: 'GET', url: '/api/v1/tasks/' }))).statusCode).toBe(200);
        // Logging out twice is a 401, not a crash.
        expect((await inject(authed(token, { method: 'POST', url: '/api/v1/users/logout/' }))).statusCode).toBe(401);
      });

      it('stores only a keyed hash of each token and an argon2id hash of each password', async () => {
        const { token } = await signup(t.app);
        const tokens = await t.database.db.execute<{ token_hash: string }>('SELECT token_hash FROM sessions' as never);
        const hashes = ((tokens as { rows?: unknown[] }).rows ?? (tokens as unknown[])) as { token_hash: string }[];
        expect(hashes.length).toBeGreaterThan(0);
        for (const row of hashes) {
          expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
          expect(row.token_hash).not.toContain(token.slice(4));
        }
        const users = await t.database.db.execute('SELECT password_hash FROM users' as never);
        const rows = ((users as { rows?: unknown[] }).rows ?? (users as unknown[])) as { password_hash: string }[];
        for (const row of rows) {
          expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
          expect(row.password_hash).not.toContain(GOOD_PASSWORD);
        }
      });
    });

    describe('tasks', () => {
      let token: string;
      beforeAll(async () => {
        token = (await signup(t.app)).token;
      });
      const call = (options: Parameters<typeof authed>[1]) => inject(authed(token, options));

      it('an empty list is [] with 200 (not the seed’s 404)', async () => {
        const fresh = (await signup(t.app)).token;
        const response = await inject(authed(fresh, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual([]);
      });

      it('creates a task with trimmed title and defaults', async () => {
        const response = await call({ method: 'POST', url: '/api/v1/tasks/', payload: { title: '  Buy milk  ' } });
        expect(response.statusCode).toBe(201);
        const task = response.json();
        expect(Object.keys(task).sort()).toEqual([
          'completed',
          'created_at',
          'description',
          'due_on',
          'id',
          'title',
          'updated_at',
        ]);
        expect(task).toMatchObject({ title: 'Buy milk', description: '', completed: false, due_on: null });
        expect(Number.isInteger(task.id)).toBe(true);
        expect(new Date(task.created_at).toISOString()).toBe(task.created_at);
        expect(task.updated_at).toBe(task.created_at);
      });

      it('creates with description (newlines and tabs kept) and completed', async () => {
        const description = 'line one\n\tline two';
        const response = await call({
          method: 'POST',
          url: '/api/v1/tasks',
          payload: { title: 'Write report', description, completed: true },
        });
        expect(response.statusCode).toBe(201);
        expect(response.json()).toMatchObject({ description, completed: true });
      });

      it('accepts a 255-character title and a 10,000-character description, in characters not bytes', async () => {
        const response = await call({
          method: 'POST',
          url: '/api/v1/tasks/',
          payload: { title: 'é'.repeat(255), description: '字'.repeat(10_000) },
        });
        expect(response.statusCode).toBe(201);
      });

      it('reads, updates with PUT and PATCH (partial), and deletes', async () => {
        const created = (
          await call({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'Original', description: 'keep me' } })
        ).json();
        const url = `/api/v1/tasks/${created.id}/`;
        const read = await call({ method: 'GET', url });
        expect(read.statusCode).toBe(200);
        expect(read.json()).toEqual(created);

        const put = await call({ method: 'PUT', url, payload: { completed: true } });
        expect(put.statusCode).toBe(200);
        expect(put.json()).toMatchObject({
          id: created.id,
          title: 'Original',
          description: 'keep me',
          completed: true,
        });
        expect(Date.parse(put.json().updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));

        const patch = await call({
          method: 'PATCH',
          url: `/api/v1/tasks/${created.id}`,
          payload: { title: ' Renamed ' },
        });
        expect(patch.statusCode).toBe(200);
        expect(patch.json()).toMatchObject({ title: 'Renamed', completed: true, description: 'keep me' });

        const empty = await call({ method: 'PATCH', url, payload: {} });
        expect(empty.statusCode).toBe(200);
        expect(empty.json()).toEqual(patch.json());

        const removed = await call({ method: 'DELETE', url });
        expect(removed.statusCode).toBe(200);
        expect(removed.json()).toEqual({ message: `Task ${created.id} has been deleted.` });
        expect((await call({ method: 'GET', url })).statusCode).toBe(404);
        expect((await call({ method: 'DELETE', url })).statusCode).toBe(404);
      });

      it('an Idempotency-Key makes a retried create return the first task instead of a second one', async () => {
        const key = `retry-${Math.random().toString(36).slice(2)}`;
        const send = (title: string, as = token) =>
          inject(
            authed(as, {
              method: 'POST',
              url: '/api/v1/tasks/',
              headers: { 'idempotency-key': key },
              payload: { title },
            }),
          );
        const first = await send('once');
        const again = await send('once');
        expect(first.statusCode).toBe(201);
        expect(again.statusCode).toBe(201);
        expect(again.json()).toEqual(first.json());
        expect(first.headers['idempotent-replayed']).toBeUndefined();
        expect(again.headers['idempotent-replayed']).toBe('true');
        // Keys belong to their user.
        const other = (await signup(t.app)).token;
        const theirs = await send('theirs', other);
        expect(theirs.json().id).not.toBe(first.json().id);
        // Once its task is deleted, the key makes a new task.
        await call({ method: 'DELETE', url: `/api/v1/tasks/${first.json().id}/` });
        const after = await send('new life');
        expect(after.statusCode).toBe(201);
        expect(after.json().id).not.toBe(first.json().id);
        for (const bad of ['', 'has space', 'x'.repeat(101), 'naïve']) {
          const response = await inject(
            authed(token, {
              method: 'POST',
              url: '/api/v1/tasks/',
              headers: { 'idempotency-key': bad },
              payload: { title: 'x' },
            }),
          );
          expect(response.statusCode, bad).toBe(400);
          expect(response.json()).toEqual({
            error: 'Invalid request headers.',
            fields: { 'idempotency-key': 'An Idempotency-Key is 1 to 100 visible ASCII characters.' },
          });
        }
      });

      it('concurrent creates with one Idempotency-Key make exactly one task', async () => {
        const fresh = (await signup(t.app)).token;
        const responses = await Promise.all(
          Array.from({ length: 8 }, () =>
            inject(
              authed(fresh, {
                method: 'POST',
                url: '/api/v1/tasks/',
                headers: { 'idempotency-key': 'same' },
                payload: { title: 'race' },
              }),
            ),
          ),
        );
        expect(new Set(responses.map((response) => response.statusCode))).toEqual(new Set([201]));
        expect(new Set(responses.map((response) => response.json().id)).size).toBe(1);
        const list = await inject(authed(fresh, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(list.json()).toHaveLength(1);
      });

      it("a create whose account is deleted while it waits for the owner's lock is a 401, never a 500", async () => {
        // The create function itself, on either database: no account row, no insert, outcome 'gone'.
        const result = (await t.database.db.execute(
          sql`SELECT outcome FROM ironclad_create_task(${-1}, 'x', '', false, NULL, NULL, 10)`,
        )) as unknown as { rows: { outcome: string }[] };
        expect(result.rows).toEqual([{ outcome: 'gone' }]);
        const pool = t.database.pool;
        if (!pool) return; // the embedded database has one connection: no other session can hold the lock
        // PostgreSQL: the real race. Another session holds the owner's row; the create authenticates, then waits for
        // the lock; the account is deleted and the holder commits.
        const { token, email } = await signup(t.app);
        const holder = await pool.connect();
        try {
          await holder.query('BEGIN');
          await holder.query('SELECT id FROM users WHERE email = $1 FOR UPDATE', [email]);
          const pending = inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'late' } }));
          const waiting = async () =>
            (
              await pool.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%ironclad_create_task%'",
              )
            ).rows[0]?.n ?? 0;
          const deadline = Date.now() + 10_000;
          while ((await waiting()) === 0) {
            if (Date.now() > deadline) throw new Error('the create never waited for the lock');
            await new Promise((resume) => setTimeout(resume, 20));
          }
          await holder.query('DELETE FROM users WHERE email = $1', [email]);
          await holder.query('COMMIT');
          const response = await pending;
          expect(response.statusCode).toBe(401);
          expect(response.json()).toMatchObject({ error: expect.any(String) });
        } finally {
          holder.release();
        }
      });

      it('concurrent updates of one task leave it equal to one of the writes, never a mix', async () => {
        const created = (await call({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'contested' } })).json();
        const url = `/api/v1/tasks/${created.id}/`;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            call({
              method: i % 2 ? 'PUT' : 'PATCH',
              url,
              payload: { title: `w${i}`, description: `d${i}`, completed: i % 3 === 0 },
            }),
          ),
        );
        const final = (await call({ method: 'GET', url })).json();
        const winner = Number(String(final.title).slice(1));
        expect(final.description).toBe(`d${winner}`);
        expect(final.completed).toBe(winner % 3 === 0);
      });

      it('never lets a client set the owner, id or timestamps', async () => {
        const created = (await call({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'Mine' } })).json();
        for (const field of ['user_id', 'owner', 'user', 'id', 'created_at', 'updated_at']) {
          const response = await call({ method: 'PUT', url: `/api/v1/tasks/${created.id}/`, payload: { [field]: 1 } });
          expect(response.statusCode).toBe(400);
          expect(response.json()).toEqual({
            error: 'Invalid request body.',
            fields: { [field]: 'is not an allowed field' },
          });
          const onCreate = await call({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'x', [field]: 1 } });
          expect(onCreate.statusCode).toBe(400);
        }
      });

      it('lists oldest first with limit, offset and the completed filter', async () => {
        const fresh = (await signup(t.app)).token;
        const make = (title: string, completed: boolean) =>
          inject(authed(fresh, { method: 'POST', url: '/api/v1/tasks/', payload: { title, completed } }));
        for (let i = 1; i <= 5; i++) await make(`task ${i}`, i % 2 === 0);
        const list = async (query: string) =>
          (await inject(authed(fresh, { method: 'GET', url: `/api/v1/tasks/${query}` }))).json() as { title: string }[];
        expect((await list('')).map((task) => task.title)).toEqual(['task 1', 'task 2', 'task 3', 'task 4', 'task 5']);
        expect((await list('?limit=2')).map((task) => task.title)).toEqual(['task 1', 'task 2']);
        expect((await list('?limit=2&offset=3')).map((task) => task.title)).toEqual(['task 4', 'task 5']);
        expect((await list('?completed=true')).map((task) => task.title)).toEqual(['task 2', 'task 4']);
        expect((await list('?completed=false&limit=1&offset=1')).map((task) => task.title)).toEqual(['task 3']);
        expect(await list('?offset=50')).toEqual([]);
      });

      it('the default page is 100 tasks and the most is 500', async () => {
        const fresh = (await signup(t.app)).token;
        await Promise.all(
          Array.from({ length: 120 }, (_, i) =>
            inject(authed(fresh, { method: 'POST', url: '/api/v1/tasks/', payload: { title: `bulk ${i}` } })),
          ),
        );
        const page = await inject(authed(fresh, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(page.json()).toHaveLength(100);
        const all = await inject(authed(fresh, { method: 'GET', url: '/api/v1/tasks/?limit=500' }));
        expect(all.json()).toHaveLength(120);
        expect((await inject(authed(fresh, { method: 'GET', url: '/api/v1/tasks/?limit=501' }))).statusCode).toBe(400);
      });

      it('two users never see each other’s tasks: another user’s task is the same 404 as a missing one', async () => {
        const alice = (await signup(t.app, uniqueEmail('alice'))).token;
        const bob = (await signup(t.app, uniqueEmail('bob'))).token;
        const task = (
          await inject(authed(alice, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'alice secret' } }))
        ).json();
        const url = `/api/v1/tasks/${task.id}/`;
        const missing = await inject(authed(bob, { method: 'GET', url: '/api/v1/tasks/999999999/' }));
        for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
          const response = await inject(
            authed(bob, {
              method,
              url,
              ...(method === 'PUT' || method === 'PATCH' ? { payload: { title: 'mine now' } } : {}),
            }),
          );
          expect(response.statusCode).toBe(404);
          expect(response.body).toBe(missing.body);
        }
        const bobList = await inject(authed(bob, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(bobList.body).not.toContain('alice secret');
        const stillThere = await inject(authed(alice, { method: 'GET', url }));
        expect(stillThere.json().title).toBe('alice secret');
      });

      it('every task route needs a token', async () => {
        for (const [method, url] of [
          ['GET', '/api/v1/tasks/'],
          ['POST', '/api/v1/tasks/'],
          ['GET', '/api/v1/tasks/1/'],
          ['PUT', '/api/v1/tasks/1/'],
          ['PATCH', '/api/v1/tasks/1/'],
          ['DELETE', '/api/v1/tasks/1/'],
          ['GET', '/api/v1/users/info/'],
          ['POST', '/api/v1/users/logout/'],
        ] as const) {
          const response = await inject({ method, url });
          expect(response.statusCode, `${method} ${url}`).toBe(401);
          expect(response.json()).toEqual({ error: 'Authentication credentials were not provided.' });
        }
      });

      it('an expired token is refused', async () => {
        const { token: expiring } = await signup(t.app);
        await t.database.db.execute("UPDATE sessions SET expires_at = now() - interval '1 second'" as never);
        const response = await inject(authed(expiring, { method: 'GET', url: '/api/v1/tasks/' }));
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({ error: 'Invalid or expired token.', reason: 'expired' });
        token = (await signup(t.app)).token; // the shared token of this block expired too
      });
    });

    it('serves an OpenAPI document built from the route schemas', async () => {
      const response = await inject({ method: 'GET', url: '/api/v1/openapi.json' });
      expect(response.statusCode).toBe(200);
      const doc = response.json();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(['/api/v1/users/signup/', '/api/v1/tasks/', '/api/v1/tasks/{id}/']),
      );
      expect(
        doc.paths['/api/v1/tasks/'].post.requestBody.content['application/json'].schema.properties.title.maxLength,
      ).toBe(255);
    });

    it('the OpenAPI document describes the list: its Link header and the search limits', async () => {
      const doc = (await inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      const listing = doc.paths['/api/v1/tasks/'].get;
      expect(listing.responses['200'].headers.Link).toEqual({
        description: expect.stringContaining('rel="next"'),
        schema: { type: 'string' },
      });
      // The array schema does not carry the headers as if they were a keyword of the body.
      expect(listing.responses['200'].content['application/json'].schema.headers).toBeUndefined();
      const q = listing.parameters.find((parameter: { name: string }) => parameter.name === 'q');
      expect(q.schema).toMatchObject({ maxLength: TASK_SEARCH_SENT_MAX, 'x-trimmed-max-length': TASK_SEARCH_MAX });
      expect(q.description).toContain(`1 to ${TASK_SEARCH_MAX} characters once surrounding spaces are trimmed`);
    });

    it('health and readiness', async () => {
      expect((await inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      const ready = await inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready' });
    });
  });
