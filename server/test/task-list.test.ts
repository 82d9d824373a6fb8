/**
 * Issue 17's task API on both databases: due dates, sorts, search, overdue, counts, keyset cursors and bulk actions.
 */
import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasks } from '../src/db/schema.js';
import { MALFORMED_QUERY_MESSAGE } from '../src/http/plugins/wire-framing.js';
import { BULK_IDS_MAX, TASK_SEARCH_SENT_MAX } from '../src/rules/limits.js';
import { SEARCH_RULE } from '../src/tasks/schemas.js';
import { authed, describeOn, MODES, signup, startTestApp, type TestApp } from './helpers.js';

interface TaskBody {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  due_on: string | null;
}

for (const mode of MODES)
  describeOn(mode)(`task list, search, cursors and bulk on ${mode} database`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode);
    });
    afterAll(async () => {
      await t?.close();
    });

    const as = (token: string, options: InjectOptions) => t.app.inject(authed(token, options));
    const list = async (token: string, query: string): Promise<LightMyRequestResponse> =>
      as(token, { method: 'GET', url: `/api/v1/tasks/?${query}` });
    const ids = (response: LightMyRequestResponse) => (response.json() as TaskBody[]).map((task) => task.id);

    async function create(token: string, body: Record<string, unknown>): Promise<TaskBody> {
      const response = await as(token, { method: 'POST', url: '/api/v1/tasks/', payload: body });
      expect(response.statusCode, response.body).toBe(201);
      return response.json();
    }

    async function userId(token: string): Promise<number> {
      return (await as(token, { method: 'GET', url: '/api/v1/users/info/' })).json().id;
    }

    /** Many tasks at once, straight into the table (the API path is tested elsewhere). */
    async function insertMany(token: string, rows: Partial<typeof tasks.$inferInsert>[]): Promise<void> {
      const owner = await userId(token);
      await t.database.db.insert(tasks).values(rows.map((row, i) => ({ title: `task ${i}`, ...row, userId: owner })));
    }

    /** Follows Link rel="next" to the end; returns every id in order and the number of pages. */
    async function walk(token: string, query: string): Promise<{ ids: number[]; pages: number }> {
      const seen: number[] = [];
      let url: string | undefined = `/api/v1/tasks/?${query}`;
      let pages = 0;
      while (url) {
        const response = await as(token, { method: 'GET', url });
        expect(response.statusCode, response.body).toBe(200);
        seen.push(...ids(response));
        pages++;
        const link = response.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
        if (link) expect(url).toBeDefined();
        expect(pages).toBeLessThan(1000);
      }
      return { ids: seen, pages };
    }

    async function offsetWalk(token: string, query: string, limit: number): Promise<number[]> {
      const seen: number[] = [];
      for (let offset = 0; ; offset += limit) {
        const page = ids(await list(token, `${query}&limit=${limit}&offset=${offset}`));
        seen.push(...page);
        if (page.length < limit) return seen;
      }
    }

    describe('due_on', () => {
      it('is set on create, changed and cleared by PATCH and PUT, and null by default', async () => {
        const { token } = await signup(t.app);
        expect((await create(token, { title: 'no date' })).due_on).toBeNull();
        const task = await create(token, { title: 'dated', due_on: '2026-02-28' });
        expect(task.due_on).toBe('2026-02-28');
        const url = `/api/v1/tasks/${task.id}/`;
        const patched = await as(token, { method: 'PATCH', url, payload: { due_on: '2028-02-29' } });
        expect(patched.json().due_on).toBe('2028-02-29');
        const untouched = await as(token, { method: 'PATCH', url, payload: { title: 'renamed' } });
        expect(untouched.json().due_on).toBe('2028-02-29');
        const cleared = await as(token, { method: 'PUT', url, payload: { due_on: null } });
        expect(cleared.json().due_on).toBeNull();
        expect((await as(token, { method: 'GET', url })).json().due_on).toBeNull();
      });

      it('refuses impossible dates, years outside 1900..9999 and other spellings with a 400 naming the field', async () => {
        const { token } = await signup(t.app);
        const task = await create(token, { title: 'x' });
        for (const due_on of [
          '2026-02-30',
          '2027-02-29',
          '2026-13-01',
          '2026-00-10',
          '1899-12-31',
          '10000-01-01',
          '2026-1-1',
          '2026-01-01T00:00:00Z',
          ' 2026-01-01',
          '',
          20260101,
          true,
        ]) {
          for (const [method, url] of [
            ['POST', '/api/v1/tasks/'],
            ['PATCH', `/api/v1/tasks/${task.id}/`],
          ] as const) {
            const response = await as(token, { method, url, payload: { title: 'x', due_on } });
            expect(response.statusCode, `${method} ${JSON.stringify(due_on)}`).toBe(400);
            expect(Object.keys(response.json().fields)).toEqual(['due_on']);
          }
        }
        for (const due_on of ['1900-01-01', '9999-12-31', '2000-02-29']) {
          expect((await create(token, { title: 'edge', due_on })).due_on).toBe(due_on);
        }
      });

      it('is also a database rule: a year outside the range cannot be stored', async () => {
        const { token } = await signup(t.app);
        await expect(insertMany(token, [{ dueOn: '1800-01-01' }])).rejects.toThrow();
      });
    });

    describe('sort', () => {
      let token: string;
      let made: TaskBody[];
      beforeAll(async () => {
        ({ token } = await signup(t.app));
        made = [];
        for (const [title, due_on] of [
          ['banana', '2026-03-01'],
          ['Apple', null],
          ['cherry', '2026-01-15'],
          ['apple', '2026-03-01'],
          ['Éclair', null],
          ['date', '2026-01-15'],
          ['zucchini', '1999-12-31'],
        ] as const) {
          made.push(await create(token, { title, due_on }));
        }
      });
      const idsOf = (...titles: string[]) => titles.map((title) => made.find((task) => task.title === title)?.id);

      it('oldest (the default) is id ascending, newest is id descending', async () => {
        const ascending = made.map((task) => task.id);
        expect(ids(await list(token, ''))).toEqual(ascending);
        expect(ids(await list(token, 'sort=oldest'))).toEqual(ascending);
        expect(ids(await list(token, 'sort=newest'))).toEqual([...ascending].reverse());
      });

      it('due is date ascending, undated last, ties by id', async () => {
        expect(ids(await list(token, 'sort=due'))).toEqual(
          idsOf('zucchini', 'cherry', 'date', 'banana', 'apple', 'Apple', 'Éclair'),
        );
      });

      it('title ignores case and accents, ties by id', async () => {
        expect(ids(await list(token, 'sort=title'))).toEqual(
          idsOf('Apple', 'apple', 'banana', 'cherry', 'date', 'Éclair', 'zucchini'),
        );
      });

      it('every sort answers exactly the Task fields: the cursor key stays on the server', async () => {
        // The repository leaves the sort key on its rows and relies on the response schema to drop it.
        for (const sort of ['oldest', 'newest', 'due', 'title']) {
          for (const task of (await list(token, `sort=${sort}&limit=2`)).json()) {
            expect(Object.keys(task).sort()).toEqual([
              'completed',
              'created_at',
              'description',
              'due_on',
              'id',
              'title',
              'updated_at',
            ]);
          }
        }
      });

      it('an unknown sort is a 400 on sort', async () => {
        const response = await list(token, 'sort=random');
        expect(response.statusCode).toBe(400);
        expect(Object.keys(response.json().fields)).toEqual(['sort']);
      });

      it('a value outside a choice is answered with the choices, for every choice parameter', async () => {
        for (const [query, fields] of [
          ['sort=random', { sort: 'must be one of oldest, newest, due, title' }],
          ['completed=yes', { completed: 'must be one of true, false' }],
          ['overdue=1', { overdue: 'must be one of true, false' }],
        ] as const) {
          const response = await list(token, query);
          expect(response.statusCode, query).toBe(400);
          expect(response.json().fields, query).toEqual(fields);
        }
        // A union with its own sentence answers with it, whichever branch came closest.
        for (const due_on of [true, '2026-02-30', 20260101]) {
          const response = await as(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'x', due_on } });
          expect(response.json().fields, JSON.stringify(due_on)).toEqual({
            due_on: 'must be a date YYYY-MM-DD between 1900-01-01 and 9999-12-31, or null',
          });
        }
      });
    });

    describe('search (q)', () => {
      let token: string;
      let other: string;
      const titles: Record<string, number> = {};
      beforeAll(async () => {
        ({ token } = await signup(t.app));
        ({ token: other } = await signup(t.app));
        for (const [title, description] of [
          ['Café au lait', ''],
          ['CAFE NOIR', ''],
          ['Straße fegen', ''],
          ['100% done', ''],
          ['1000 done', ''],
          ['snake_case', ''],
          ['snakeXcase', ''],
          ['back\\slash', ''],
          ['backslash', ''],
          ['Groceries', 'buy crème fraîche'],
          ['ПРИВЕТ мир', ''],
          ['Œuvre', ''],
        ]) {
          titles[title as string] = (await create(token, { title, description })).id;
        }
        await create(other, { title: 'Café of another user', description: 'cafe' });
      });
      const search = async (q: string) => {
        const response = await list(token, `q=${encodeURIComponent(q)}`);
        expect(response.statusCode, response.body).toBe(200);
        return (response.json() as TaskBody[]).map((task) => task.title).sort();
      };

      it('ignores case and accents both ways', async () => {
        expect(await search('cafe')).toEqual(['CAFE NOIR', 'Café au lait']);
        expect(await search('CAFÉ')).toEqual(['CAFE NOIR', 'Café au lait']);
        expect(await search('café au')).toEqual(['Café au lait']);
        expect(await search('привет')).toEqual(['ПРИВЕТ мир']);
      });

      it('folds ß and ligatures', async () => {
        expect(await search('strasse')).toEqual(['Straße fegen']);
        expect(await search('STRAßE')).toEqual(['Straße fegen']);
        expect(await search('oeuvre')).toEqual(['Œuvre']);
      });

      it('matches the description too', async () => {
        expect(await search('creme FRAICHE')).toEqual(['Groceries']);
      });

      it('takes %, _ and \\ literally', async () => {
        expect(await search('%')).toEqual(['100% done']);
        expect(await search('0%')).toEqual(['100% done']);
        expect(await search('_')).toEqual(['snake_case']);
        expect(await search('e_c')).toEqual(['snake_case']);
        expect(await search('\\')).toEqual(['back\\slash']);
        expect(await search('k\\s')).toEqual(['back\\slash']);
      });

      it('trims the text; no match is []; another user’s tasks are never found', async () => {
        expect(await search('  noir  ')).toEqual(['CAFE NOIR']);
        expect(await search('nothing like this')).toEqual([]);
        expect(await search('another user')).toEqual([]);
      });

      it('never matches across title and description', async () => {
        const { token: fresh } = await signup(t.app);
        await create(fresh, { title: 'ends with foo', description: 'bar starts here' });
        expect(ids(await list(fresh, 'q=foo'))).toHaveLength(1);
        expect(ids(await list(fresh, `q=${encodeURIComponent('foo bar')}`))).toEqual([]);
        expect(ids(await list(fresh, `q=${encodeURIComponent('foobar')}`))).toEqual([]);
      });

      it('refuses an empty, all-space, too long or control-character search with a 400 on q', async () => {
        for (const q of ['', '   ', 'a'.repeat(201), 'a\u0000b', 'a\nb']) {
          const response = await list(token, `q=${encodeURIComponent(q)}`);
          expect(response.statusCode, JSON.stringify(q)).toBe(400);
          expect(Object.keys(response.json().fields)).toEqual(['q']);
        }
        expect((await list(token, `q=${'a'.repeat(200)}`)).statusCode).toBe(200);
      });

      it('counts only the trimmed text: surrounding spaces do not count against the 200 characters', async () => {
        const { token: mine } = await signup(t.app);
        const longest = 'a'.repeat(200);
        await create(mine, { title: longest });
        const padded = [
          `${'a'.repeat(199)}     `,
          `     ${longest}     `,
          `${longest}${' '.repeat(TASK_SEARCH_SENT_MAX - 200)}`,
          `\u00a0${longest}\u3000`,
        ];
        for (const q of padded) {
          for (const path of ['/api/v1/tasks/', '/api/v1/tasks/counts/']) {
            const response = await as(mine, { method: 'GET', url: `${path}?q=${encodeURIComponent(q)}` });
            expect(response.statusCode, `${path} ${JSON.stringify(q).slice(0, 40)}`).toBe(200);
          }
        }
        const found = await list(mine, `q=${encodeURIComponent(`  ${longest}  `)}`);
        expect((found.json() as TaskBody[]).map((task) => task.title)).toEqual([longest]);
        // Over the limit once trimmed, or over the bound on the text as sent: the same sentence, stating the rule.
        for (const q of [`  ${'a'.repeat(201)}  `, `${'a'.repeat(200)}${' '.repeat(TASK_SEARCH_SENT_MAX - 199)}`]) {
          for (const path of ['/api/v1/tasks/', '/api/v1/tasks/counts/']) {
            const response = await as(mine, { method: 'GET', url: `${path}?q=${encodeURIComponent(q)}` });
            expect(response.statusCode, `${path} ${q.length}`).toBe(400);
            expect(response.json().fields).toEqual({ q: SEARCH_RULE });
          }
        }
      });

      it('refuses a query string that is not percent-encoded UTF-8 (also on counts)', async () => {
        for (const path of ['/api/v1/tasks/', '/api/v1/tasks/counts/']) {
          for (const q of ['%FF', '%ED%A0%80', 'caf%C3', '%ZZ']) {
            const response = await as(token, { method: 'GET', url: `${path}?q=${q}` });
            expect(response.statusCode, `${path} ${q}`).toBe(400);
            expect(response.json()).toEqual({ error: MALFORMED_QUERY_MESSAGE });
          }
        }
        expect(await search('café')).toEqual(['CAFE NOIR', 'Café au lait']);
      });

      it('combines with completed and sort', async () => {
        await as(token, {
          method: 'PATCH',
          url: `/api/v1/tasks/${titles['CAFE NOIR']}/`,
          payload: { completed: true },
        });
        const open = await list(token, 'q=cafe&completed=false');
        expect(ids(open)).toEqual([titles['Café au lait']]);
        const byTitle = await list(token, 'q=cafe&sort=title');
        expect(ids(byTitle)).toEqual([titles['Café au lait'], titles['CAFE NOIR']]);
      });
    });

    describe('overdue and counts', () => {
      it('overdue is open tasks due before today; counts agree, in one answer, within a search', async () => {
        const { token } = await signup(t.app);
        const late = await create(token, { title: 'late report', due_on: '2026-05-01' });
        await create(token, { title: 'late but done', due_on: '2026-05-01', completed: true });
        const due = await create(token, { title: 'due today', due_on: '2026-05-10' });
        await create(token, { title: 'someday' });
        const overdue = await list(token, 'overdue=true&today=2026-05-10');
        expect(ids(overdue)).toEqual([late.id]);
        expect(ids(await list(token, 'overdue=true&today=2026-05-11&sort=newest'))).toEqual([due.id, late.id]);
        expect(ids(await list(token, 'overdue=true&today=2026-05-01'))).toEqual([]);
        expect(ids(await list(token, 'overdue=true&today=2026-05-11&q=report'))).toEqual([late.id]);

        const counts = await as(token, { method: 'GET', url: '/api/v1/tasks/counts/?today=2026-05-10' });
        expect(counts.statusCode).toBe(200);
        expect(counts.json()).toEqual({ all: 4, open: 3, done: 1, overdue: 1 });
        const within = await as(token, { method: 'GET', url: '/api/v1/tasks/counts/?today=2026-05-11&q=LATE' });
        expect(within.json()).toEqual({ all: 2, open: 1, done: 1, overdue: 1 });
        const noToday = await as(token, { method: 'GET', url: '/api/v1/tasks/counts' });
        expect(noToday.json()).toMatchObject({ all: 4, overdue: 2 });
      });

      it('an empty account counts zeros; a bad today or q is a 400 on that parameter', async () => {
        const { token } = await signup(t.app);
        const counts = await as(token, { method: 'GET', url: '/api/v1/tasks/counts/' });
        expect(counts.json()).toEqual({ all: 0, open: 0, done: 0, overdue: 0 });
        for (const [query, field] of [
          ['today=2026-02-30', 'today'],
          ['today=yesterday', 'today'],
          ['q=%20', 'q'],
        ]) {
          for (const path of ['/api/v1/tasks/counts/', '/api/v1/tasks/']) {
            const response = await as(token, { method: 'GET', url: `${path}?overdue=true&${query}` });
            expect(response.statusCode, `${path} ${query}`).toBe(400);
            expect(Object.keys(response.json().fields)).toEqual([field]);
          }
        }
      });
    });

    describe('keyset pagination', () => {
      let token: string;
      beforeAll(async () => {
        ({ token } = await signup(t.app));
        // Repeated titles and dates, so that ties (broken by id) fall across page boundaries.
        await insertMany(
          token,
          Array.from({ length: 97 }, (_, i) => ({
            title: ['Alpha', 'alpha', 'Bravo', 'çharlie', 'delta'][i % 5] as string,
            description: i % 3 === 0 ? 'has coffee' : '',
            completed: i % 4 === 0,
            dueOn: i % 7 === 0 ? null : `2026-0${1 + (i % 3)}-1${i % 2}`,
          })),
        );
      });

      it('walks every sort and filter to the end, matching the offset walk, with a Link on every page but the last', async () => {
        const filters = ['', 'completed=true', 'completed=false', 'q=coffee', 'overdue=true&today=2026-02-11'];
        for (const sort of ['oldest', 'newest', 'due', 'title']) {
          for (const filter of filters) {
            const query = `sort=${sort}${filter ? `&${filter}` : ''}`;
            const expected = await offsetWalk(token, query, 500);
            const walked = await walk(token, `${query}&limit=7`);
            expect(walked.ids, query).toEqual(expected);
            expect(walked.pages, query).toBe(Math.max(1, Math.ceil(expected.length / 7)));
            expect(await offsetWalk(token, query, 7), query).toEqual(expected);
          }
        }
      });

      it('Link repeats the path and the query, with after, and no Link when nothing follows', async () => {
        const first = await list(token, 'limit=5&sort=title&q=coffee&completed=false');
        const link = first.headers.link as string;
        expect(link).toMatch(
          /^<\/api\/v1\/tasks\/\?limit=5&sort=title&q=coffee&completed=false&after=[\w-]+>; rel="next"$/,
        );
        const noSlash = await as(token, { method: 'GET', url: '/api/v1/tasks?limit=5&sort=due' });
        expect(noSlash.headers.link).toMatch(/^<\/api\/v1\/tasks\?limit=5&sort=due&after=[\w-]+>; rel="next"$/);
        const overdue = await list(token, 'limit=5&overdue=true');
        expect(overdue.headers.link).toMatch(/&overdue=true&today=\d{4}-\d\d-\d\d&after=/);
        expect((await list(token, 'limit=500')).headers.link).toBeUndefined();
      });

      it('stays stable under inserts and deletes between pages: no row that existed throughout is skipped or repeated', async () => {
        const { token: busy } = await signup(t.app);
        await insertMany(
          busy,
          Array.from({ length: 40 }, (_, i) => ({
            title: `t${i % 6}`,
            dueOn: i % 5 ? `2026-01-0${1 + (i % 9)}` : null,
          })),
        );
        for (const sort of ['oldest', 'newest', 'due', 'title']) {
          const before = new Set(await offsetWalk(busy, `sort=${sort}`, 500));
          const deleted = new Set<number>();
          const seen: number[] = [];
          let url: string | undefined = `/api/v1/tasks/?sort=${sort}&limit=6`;
          let round = 0;
          while (url) {
            const response = await as(busy, { method: 'GET', url });
            expect(response.statusCode).toBe(200);
            const page = ids(response);
            seen.push(...page);
            // Between pages: a new task of every kind of key, and one not-yet-seen existing task deleted.
            await create(busy, { title: `t${round % 6}`, due_on: round % 2 ? null : '2026-01-03' });
            const victim = [...before].find((id) => !seen.includes(id) && !deleted.has(id));
            if (victim !== undefined && round % 2 === 0) {
              await as(busy, { method: 'DELETE', url: `/api/v1/tasks/${victim}/` });
              deleted.add(victim);
            }
            // Delete the last row of this page too: the cursor must not depend on it still being there.
            const last = page.at(-1);
            if (last !== undefined && round % 3 === 1) {
              await as(busy, { method: 'DELETE', url: `/api/v1/tasks/${last}/` });
              before.delete(last);
            }
            const link = response.headers.link as string | undefined;
            url = link ? /^<([^>]+)>/.exec(link)?.[1] : undefined;
            round++;
          }
          expect(new Set(seen).size, sort).toBe(seen.length);
          for (const id of before) if (!deleted.has(id)) expect(seen, `${sort} ${id}`).toContain(id);
          // Reset for the next sort.
          for (const id of await offsetWalk(busy, 'sort=oldest', 500)) before.add(id);
        }
      });

      it('refuses a cursor that was edited, is garbage, or belongs to another sort, filter or account: 400, never 500', async () => {
        const first = await list(token, 'limit=3&sort=due&completed=false');
        const cursor = /after=([\w-]+)/.exec(first.headers.link as string)?.[1] as string;
        expect((await list(token, `sort=due&completed=false&after=${cursor}`)).statusCode).toBe(200);
        const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
        const { token: stranger } = await signup(t.app);
        const bad: [string, string][] = [
          [token, `sort=oldest&completed=false&after=${cursor}`],
          [token, `sort=due&completed=true&after=${cursor}`],
          [token, `sort=due&after=${cursor}`],
          [token, `sort=due&completed=false&q=x&after=${cursor}`],
          [stranger, `sort=due&completed=false&after=${cursor}`],
          [token, `sort=due&completed=false&after=${cursor.slice(0, -3)}`],
          [token, `sort=due&completed=false&after=${cursor}AA`],
          [token, 'sort=due&completed=false&after=A'],
          [token, `sort=due&completed=false&after=${'A'.repeat(2049)}`],
          [token, 'sort=due&completed=false&after=not%20base64'],
          [token, 'sort=due&completed=false&after=%2B%2F%3D'],
        ];
        for (let at = 0; at < cursor.length; at += 5) {
          bad.push([token, `sort=due&completed=false&after=${flip(cursor, at)}`]);
        }
        for (let i = 0; i < 200; i++) {
          bad.push([token, `sort=due&completed=false&after=${randomBytes(1 + (i % 90)).toString('base64url')}`]);
        }
        for (const [who, query] of bad) {
          const response = await list(who, query);
          expect(response.statusCode, query).toBe(400);
          expect(response.json().error).toBe('Invalid query parameters.');
          expect(Object.keys(response.json().fields)).toEqual(['after']);
        }
        const sealed = await list(token, `sort=title&completed=false&after=${flip(cursor, 20)}`);
        expect(sealed.json().detail).toMatch(/cursor/);
      });

      it('refuses after together with offset', async () => {
        const first = await list(token, 'limit=3');
        const cursor = /after=([\w-]+)/.exec(first.headers.link as string)?.[1] as string;
        const response = await list(token, `limit=3&offset=3&after=${cursor}`);
        expect(response.statusCode).toBe(400);
        expect(Object.keys(response.json().fields)).toEqual(['after']);
      });
    });

    describe('bulk', () => {
      const bulk = (token: string, payload: unknown) =>
        as(token, { method: 'POST', url: '/api/v1/tasks/bulk/', payload: payload as Record<string, unknown> });

      it('completes, reopens and deletes the given tasks, answering what changed; a retry changes nothing', async () => {
        const { token } = await signup(t.app);
        const a = await create(token, { title: 'a' });
        const b = await create(token, { title: 'b', completed: true });
        const c = await create(token, { title: 'c' });
        const complete = await bulk(token, { action: 'complete', ids: [c.id, a.id, b.id] });
        expect(complete.statusCode).toBe(200);
        expect(complete.json()).toEqual({ action: 'complete', changed: [a.id, c.id], count: 2 });
        const again = await bulk(token, { action: 'complete', ids: [c.id, a.id, b.id] });
        expect(again.json()).toEqual({ action: 'complete', changed: [], count: 0 });
        const reopen = await bulk(token, { action: 'reopen', ids: [a.id] });
        expect(reopen.json()).toEqual({ action: 'reopen', changed: [a.id], count: 1 });
        const task = (await as(token, { method: 'GET', url: `/api/v1/tasks/${a.id}/` })).json();
        expect(task.completed).toBe(false);
        expect(new Date(task.updated_at).getTime()).toBeGreaterThan(new Date(task.created_at).getTime() - 1);
        const del = await bulk(token, { action: 'delete', ids: [a.id, b.id, 999_999_999] });
        expect(del.json()).toEqual({ action: 'delete', changed: [a.id, b.id], count: 2 });
        expect((await bulk(token, { action: 'delete', ids: [a.id, b.id] })).json().count).toBe(0);
        expect(ids(await list(token, ''))).toEqual([c.id]);
      });

      it('clear_completed deletes every completed task of the caller and no one else’s', async () => {
        const { token } = await signup(t.app);
        const { token: other } = await signup(t.app);
        const done1 = await create(token, { title: 'd1', completed: true });
        const open = await create(token, { title: 'o' });
        const done2 = await create(token, { title: 'd2', completed: true });
        const theirs = await create(other, { title: 'theirs', completed: true });
        const cleared = await bulk(token, { action: 'clear_completed' });
        expect(cleared.json()).toEqual({ action: 'clear_completed', changed: [done1.id, done2.id], count: 2 });
        expect(ids(await list(token, ''))).toEqual([open.id]);
        expect(ids(await list(other, ''))).toEqual([theirs.id]);
        expect((await bulk(token, { action: 'clear_completed' })).json().count).toBe(0);
      });

      it("leaves another user's tasks untouched and does not reveal them", async () => {
        const { token } = await signup(t.app);
        const { token: other } = await signup(t.app);
        const theirs = await create(other, { title: 'theirs' });
        for (const action of ['complete', 'delete']) {
          const response = await bulk(token, { action, ids: [theirs.id] });
          expect(response.json()).toEqual({ action, changed: [], count: 0 });
        }
        const still = (await as(other, { method: 'GET', url: `/api/v1/tasks/${theirs.id}/` })).json();
        expect(still.completed).toBe(false);
      });

      it('refuses more than 500 ids, duplicates, an empty list, an unknown action and ids with clear_completed', async () => {
        const { token } = await signup(t.app);
        const many = Array.from({ length: 501 }, (_, i) => i + 1);
        const cases: [unknown, string][] = [
          [{ action: 'complete', ids: many }, 'ids'],
          [{ action: 'complete', ids: [1, 2, 1] }, 'ids'],
          [{ action: 'delete', ids: [] }, 'ids'],
          [{ action: 'delete' }, 'ids'],
          [{ action: 'delete', ids: [0] }, 'ids.0'],
          [{ action: 'delete', ids: ['1'] }, 'ids.0'],
          [{ action: 'archive', ids: [1] }, 'action'],
          [{ ids: [1] }, 'action'],
          [{ action: 'clear_completed', ids: [1] }, 'ids'],
          [{ action: 'complete', ids: [1], extra: true }, 'extra'],
        ];
        for (const [payload, field] of cases) {
          const response = await bulk(token, payload);
          expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
          expect(Object.keys(response.json().fields), JSON.stringify(payload).slice(0, 80)).toContain(field);
        }
        const ok = await bulk(token, { action: 'complete', ids: many.slice(0, 500) });
        expect(ok.statusCode).toBe(200);
      });

      it('says which rule failed, in the words the OpenAPI document gives', async () => {
        const { token } = await signup(t.app);
        const rule = `list 1 to ${BULK_IDS_MAX} different task ids`;
        const cases: [Record<string, unknown>, Record<string, string>][] = [
          [{ action: 'complete', ids: [7, 7] }, { ids: `lists a task id more than once: ${rule}` }],
          [
            { action: 'complete', ids: Array.from({ length: BULK_IDS_MAX + 1 }, (_, i) => i + 1) },
            { ids: `lists more than ${BULK_IDS_MAX} ids: ${rule} (send more in several requests)` },
          ],
          [{ action: 'delete', ids: [] }, { ids: `is empty: ${rule}` }],
          [{ action: 'reopen' }, { ids: `is required with reopen: ${rule}` }],
          [{ action: 'archive', ids: [1] }, { action: 'must be one of complete, reopen, delete, clear_completed' }],
          [{ action: 7, ids: [1] }, { action: 'must be one of complete, reopen, delete, clear_completed' }],
        ];
        for (const [payload, fields] of cases) {
          const response = await bulk(token, payload);
          expect(response.statusCode).toBe(400);
          expect(response.json().fields, JSON.stringify(payload).slice(0, 60)).toEqual(fields);
        }
        const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
        const body = doc.paths['/api/v1/tasks/bulk/'].post.requestBody.content['application/json'].schema;
        expect(body.properties.action.errorMessage).toBe('must be one of complete, reopen, delete, clear_completed');
        expect(body.properties.ids.errorMessage.uniqueItems).toBe(`lists a task id more than once: ${rule}`);
      });

      it('is all or nothing: a failure on one row leaves every row as it was', async () => {
        const { token } = await signup(t.app);
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await create(token, { title: `row ${i}` }));
        const poisoned = made[3]?.id as number;
        // A database rule that fails on one row part-way through the statement.
        const client = t.database.db as unknown as { execute: (query: string) => Promise<unknown> };
        const trigger = `bulk_poison_${mode}`;
        await client.execute(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.id = ${poisoned} THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$`);
        await client.execute(
          `CREATE TRIGGER ${trigger} BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION ${trigger}()`,
        );
        try {
          const response = await bulk(token, { action: 'complete', ids: made.map((task) => task.id) });
          expect(response.statusCode).toBe(500);
        } finally {
          await client.execute(`DROP TRIGGER ${trigger} ON tasks`);
          await client.execute(`DROP FUNCTION ${trigger}()`);
        }
        const after = (await list(token, '')).json() as TaskBody[];
        expect(after.map((task) => task.completed)).toEqual([false, false, false, false, false]);
      });

      it('runs beside concurrent creates of the same account without deadlock', async () => {
        const { token } = await signup(t.app);
        const made = [];
        for (let i = 0; i < 20; i++) made.push(await create(token, { title: `c${i}` }));
        const work = [];
        for (let i = 0; i < 10; i++) {
          work.push(create(token, { title: `new ${i}` }));
          work.push(bulk(token, { action: i % 2 ? 'complete' : 'reopen', ids: made.map((task) => task.id) }));
        }
        await Promise.all(work);
        expect(ids(await list(token, 'limit=500'))).toHaveLength(30);
      });
    });
  });
