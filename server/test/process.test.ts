/**
 * The built server as a real process: start-up refusals, zero-config start,
 * production start on PostgreSQL, graceful shutdown, and a database outage
 * through a TCP proxy of the test's own. Loopback only, bounded in time.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtEntry } from '@ironclad/testkit/build';
import { json, type Running, run, start, stop, ToggleProxy } from '@ironclad/testkit/process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  GOOD_PASSWORD,
  postgres,
  postgresEnv,
  SEED_BEFORE_SETTINGS,
  STRONG_KEY,
  uniqueEmail,
} from './helpers.js';

/** A relay password as people make them; neither it nor any 6-character piece of it may be printed. */
const smtpPassword = () => `Sm7-${randomBytes(24).toString('base64url')}`;
function expectNoSmtpPassword(output: string, password: string): void {
  expect(output).not.toContain(password);
  for (let i = 0; i + 6 <= password.length; i += 1) expect(output).not.toContain(password.slice(i, i + 6));
}

describe('start-up refusals', () => {
  it('refuses the seed’s insecure "before" settings, listing every problem, without listening or printing secrets', async () => {
    const proc = run({ ...SEED_BEFORE_SETTINGS }, mkdtempSync(join(tmpdir(), 'ironclad-refuse-')));
    expect(await proc.exited).toBe(1);
    const output = proc.output();
    expect(output).toBe(
      [
        'Refusing to start: 4 configuration problems.',
        '  - ALLOWED_HOSTS: contains "*", which accepts any Host header; list your domains',
        '  - CORS_ALLOWED_ORIGINS: "*" would let every website call the API; list the exact origins instead',
        '  - POSTGRES_PASSWORD: is a known placeholder value; set a strong password',
        '  - SECRET_KEY: is a known placeholder value; make one with `npm run secret`',
        '',
      ].join('\n'),
    );
    expect(output).not.toContain('local-dev-secret-key');
    expect(output).not.toMatch(/listening/i);
  });

  it('refuses a malformed SMTP_URL without printing its password', async () => {
    const password = smtpPassword();
    const proc = run(
      { DATA_DIR: 'memory://', SMTP_URL: `smtps://tasks:${password}@smtp.example.com?tls=none` },
      mkdtempSync(join(tmpdir(), 'ironclad-refuse-')),
    );
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/^Refusing to start: 1 configuration problem\.\n {2}- SMTP_URL: must look like /);
    expectNoSmtpPassword(proc.output(), password);
  });

  it('refuses PostgreSQL without a SECRET_KEY', async () => {
    const proc = run(
      { POSTGRES_DB: 'x', POSTGRES_PASSWORD: 'a-real-password-9x' },
      mkdtempSync(join(tmpdir(), 'ironclad-refuse-')),
    );
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain('SECRET_KEY: is not set; it is required with PostgreSQL');
  });
});

describe('the start-up log says where to open the app', () => {
  const logged = async (server: Running, pattern: RegExp) => {
    // The log is written in batches (at least every 250 ms): wait for the line rather than race it.
    const deadline = Date.now() + 5000;
    while (!pattern.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return server.output();
  };

  /** The start-up log's lines once it has said it is ready and stayed quiet for longer than a log batch. */
  const startupLines = async (server: Running) => {
    await logged(server, /Ironclad Tasks is ready/);
    await new Promise((r) => setTimeout(r, 700));
    return server.output().trimEnd().split('\n');
  };
  const readyLine = (server: Running) =>
    `Ironclad Tasks is ready: open http://localhost:${new URL(server.url).port}/ in a browser`;

  it('with the defaults: the local address that ALLOWED_HOSTS allows, with the real port, as the last line', async () => {
    const server = await start({ DATA_DIR: 'memory://' });
    try {
      const lines = await startupLines(server);
      // One plain line for a person, after every JSON line of the start-up (the log is written in batches).
      expect(lines.at(-1)).toBe(readyLine(server));
      expect(lines.filter((line) => line.includes('in a browser'))).toHaveLength(1);
      expect(lines.slice(0, -1).every((line) => line.startsWith('{'))).toBe(true);
    } finally {
      await stop(server);
    }
  });

  postgres.it('on PostgreSQL: the same last line', async () => {
    const database = await createTestDatabase();
    let server: Running | undefined;
    try {
      server = await start(postgresEnv(database.name));
      const lines = await startupLines(server);
      expect(lines.at(-1)).toBe(readyLine(server));
      expect(lines.filter((line) => line.includes('in a browser'))).toHaveLength(1);
    } finally {
      await stop(server);
      await database.drop();
    }
  });

  postgres.it('with WEB_CONCURRENCY=3: said once, by the supervisor, after every worker listens', async () => {
    const database = await createTestDatabase();
    let server: Running | undefined;
    try {
      server = await start({ ...postgresEnv(database.name), WEB_CONCURRENCY: '3' }, undefined, { startupMs: 40_000 });
      const lines = await startupLines(server);
      expect(lines.at(-1)).toBe(readyLine(server));
      expect(lines.filter((line) => line.includes('in a browser'))).toHaveLength(1);
      expect(lines.filter((line) => line.includes('Server listening'))).toHaveLength(3);
    } finally {
      await stop(server);
      await database.drop();
    }
  });

  it('with DEBUG and a plain-text relay across the network: the warning names its host, never its password', async () => {
    const password = smtpPassword();
    const server = await start({
      DATA_DIR: 'memory://',
      DEBUG: 'true',
      PUBLIC_URL: 'http://localhost:8000',
      SMTP_URL: `smtp://tasks:${password}@smtp.invalid:25?tls=none`,
    });
    try {
      const output = await logged(server, /sends in plain text/);
      expect(output).toContain('SMTP_URL: sends in plain text (?tls=none) to smtp.invalid, which is not loopback');
      await new Promise((r) => setTimeout(r, 500)); // and whatever the server logs about the relay right after
      expectNoSmtpPassword(server.output(), password);
    } finally {
      await stop(server);
    }
    expectNoSmtpPassword(server.output(), password);
  });

  it('with only a public domain allowed on a loopback server: a warning naming the fix, not a silent 400', async () => {
    const server = await start({ DATA_DIR: 'memory://', ALLOWED_HOSTS: 'tasks.example.com' });
    try {
      const output = await logged(server, /allows neither localhost/);
      expect(output).toContain('ALLOWED_HOSTS (tasks.example.com) allows neither localhost nor 127.0.0.1');
      expect(output).not.toContain('in a browser');
    } finally {
      await stop(server);
    }
  });
});

describe('an unreachable database is named by its address, never by its credentials', () => {
  it.each([
    ['a closed port on this machine', { DB_HOST: '127.0.0.1', DB_PORT: '1' }, '127.0.0.1:1 (DB_HOST, DB_PORT)'],
    [
      'a host name that does not resolve (DB_HOST=db copied from the compose example)',
      { DB_HOST: 'db.invalid' },
      'db.invalid:5432 (DB_HOST, DB_PORT)',
    ],
  ])('%s', async (_case, where, address) => {
    const password = 'a-real-looking-password-7Qx9';
    const env = {
      ...where,
      POSTGRES_DB: 'tasks',
      POSTGRES_USER: 'tasks',
      POSTGRES_PASSWORD: password,
      SECRET_KEY: STRONG_KEY,
      DB_CONNECT_TIMEOUT: '200ms',
    };
    const proc = run(env, mkdtempSync(join(tmpdir(), 'ironclad-nodb-')));
    try {
      const deadline = Date.now() + 20_000;
      while (!proc.output().includes('not reachable yet') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(proc.output()).toContain(`database not reachable yet at ${address} (attempt 1/`);
      expect(proc.output()).not.toContain(password);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });
});

describe('a stop while starting', () => {
  it('SIGTERM while the embedded database is still being created exits 0', async () => {
    const proc = run({}, mkdtempSync(join(tmpdir(), 'ironclad-early-stop-')));
    // Modules load in ~0.5 s; creating the database takes seconds more on a first start.
    await new Promise((r) => setTimeout(r, 1200));
    proc.child.kill('SIGTERM');
    expect(await proc.exited, proc.output()).toBe(0);
  });
});

describe('zero-config start on the embedded database', () => {
  let cwd: string;
  let server: Running | undefined;
  afterAll(async () => {
    await stop(server);
  });

  it('serves the API with no configuration, generates a key once and keeps sessions across restarts', async () => {
    cwd = mkdtempSync(join(tmpdir(), 'ironclad-zero-'));
    server = await start({}, cwd);
    expect(server.output()).toContain('SECRET_KEY not set: generated a new key');
    const keyPath = join(cwd, 'data', 'secret_key');
    const key = readFileSync(keyPath, 'utf8').trim();
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(server.output()).not.toContain(key);

    expect((await json(`${server.url}/api/v1/test/`)).body).toEqual({ connected: true });
    const email = uniqueEmail('zero');
    const signup = await json(`${server.url}/api/v1/users/signup/`, {
      method: 'POST',
      body: JSON.stringify({ email, password: GOOD_PASSWORD }),
    });
    expect(signup.status).toBe(201);
    const token = signup.body.token as string;
    const created = await json(`${server.url}/api/v1/tasks/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: 'survives a restart' }),
    });
    expect(created.status).toBe(201);
    expect(server.output()).not.toContain(token);
    expect(server.output()).not.toContain(GOOD_PASSWORD);

    expect(await stop(server)).toBe(0);
    server = await start({}, cwd);
    expect(server.output()).toContain('SECRET_KEY not set: using the key generated earlier');
    const list = await fetch(`${server.url}/api/v1/tasks/`, { headers: { authorization: `Token ${token}` } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { title: string }[]).map((task) => task.title)).toEqual(['survives a restart']);
  });
});

postgres.describe('production start on PostgreSQL', () => {
  let drop: (() => Promise<void>) | undefined;
  let server: Running | undefined;
  const proxy = new ToggleProxy();
  const relayPassword = smtpPassword();

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    await proxy.open();
    server = await start({
      ...postgresEnv(database.name),
      DB_PORT: String(proxy.port),
      ALLOWED_HOSTS: 'localhost,127.0.0.1',
      DB_CONNECT_TIMEOUT: '1s',
      DB_QUERY_TIMEOUT: '2s',
      // A relay with a password (on loopback, where plain text is allowed; nothing listens on port 9).
      PUBLIC_URL: 'http://localhost:8000',
      SMTP_URL: `smtp://tasks:${relayPassword}@127.0.0.1:9?tls=none`,
    });
  });
  afterAll(async () => {
    await stop(server);
    await proxy.cut().catch(() => {});
    await drop?.();
  });

  it('answers 503 quickly while the database is away, and recovers by itself', async () => {
    const { body } = await json(`${server?.url}/api/v1/users/signup/`, {
      method: 'POST',
      body: JSON.stringify({ email: uniqueEmail('outage'), password: GOOD_PASSWORD }),
    });
    const token = body.token as string;
    const tasks = `${server?.url}/api/v1/tasks/`;
    const auth = { authorization: `Token ${token}` };
    expect((await json(tasks, { headers: auth })).status).toBe(200);

    await proxy.cut();
    const started = Date.now();
    const during = await json(tasks, { headers: auth });
    const elapsed = Date.now() - started;
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ error: 'Service temporarily unavailable; try again shortly.' });
    expect(during.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(during.body)).not.toMatch(/ECONN|pg|postgres|5432|terminated/i);
    expect(elapsed).toBeLessThan(8_000); // bounded by the connect timeout, not hanging
    const ready = await json(`${server?.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await json(`${server?.url}/healthz`)).status).toBe(200);

    await proxy.open();
    let recovered = 0;
    for (let i = 0; i < 50 && recovered !== 200; i++) {
      recovered = (await json(tasks, { headers: auth })).status;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(200);
    expect((await json(`${server?.url}/readyz`)).status).toBe(200);
    expect(server?.output()).not.toContain(STRONG_KEY);
    expectNoSmtpPassword(server?.output() ?? '', relayPassword);
  });

  it('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    // Signup spends ~50 ms in argon2: send it and signal while it is in flight.
    const pending = json(`${server?.url}/api/v1/users/signup/`, {
      method: 'POST',
      body: JSON.stringify({ email: uniqueEmail('drain'), password: GOOD_PASSWORD }),
    });
    await new Promise((r) => setTimeout(r, 15));
    server?.child.kill('SIGTERM');
    const response = await pending;
    expect(response.status).toBe(201);
    const code = await server?.exited;
    expect(code, server?.output()).toBe(0);
    expect(server?.output()).toContain('shutting down: finishing in-flight requests');
    await expect(fetch(`${server?.url}/healthz`)).rejects.toThrow();
  });
});

describe('command line', () => {
  const CLI = builtEntry('server').replace(/main\.js$/, 'cli.js');
  const runCli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: mkdtempSync(join(tmpdir(), 'ironclad-cli-')),
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.stderr.on('data', (chunk) => {
        out += chunk;
      });
      child.on('exit', (code) => done({ code, out }));
    });

  it('secret prints a fresh strong key', async () => {
    const first = await runCli(['secret']);
    const second = await runCli(['secret']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^[A-Za-z0-9_-]{64}\n$/);
    expect(second.out).not.toBe(first.out);
  });

  it('check-config runs the start-up checks without starting', async () => {
    expect(await runCli(['check-config'])).toEqual({
      code: 0,
      out: 'configuration OK (database: embedded, DEBUG: false)\n',
    });
    const bad = await runCli(['check-config'], { ALLOWED_HOSTS: '*', SECRET_KEY: 'changeme' });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Refusing to start: 2 configuration problems.');
    expect(bad.out).not.toContain('changeme');
  });

  it('check-config never prints the SMTP password: accepted, warned about, or refused', async () => {
    const password = smtpPassword();
    const local = { PUBLIC_URL: 'http://localhost:8000' };
    const good = await runCli(['check-config'], {
      ...local,
      SMTP_URL: `smtps://tasks:${encodeURIComponent(password)}@smtp.example.com:465`,
    });
    expect(good).toEqual({ code: 0, out: 'configuration OK (database: embedded, DEBUG: false)\n' });
    const plaintext = `smtp://tasks:${password}@smtp.example.com:25?tls=none`;
    const warned = await runCli(['check-config'], { ...local, SMTP_URL: plaintext, DEBUG: 'true' });
    expect(warned.code).toBe(0);
    expect(warned.out).toContain(
      'warning: SMTP_URL: sends in plain text (?tls=none) to smtp.example.com, which is not loopback',
    );
    expectNoSmtpPassword(warned.out, password);
    const refused = await runCli(['check-config'], { ...local, SMTP_URL: plaintext });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('Refusing to start: 1 configuration problem.');
    expectNoSmtpPassword(refused.out, password);
    const malformed = await runCli(['check-config'], { ...local, SMTP_URL: `${plaintext}&x=1` });
    expect(malformed.code).toBe(1);
    expect(malformed.out).toContain('SMTP_URL: must look like');
    expectNoSmtpPassword(malformed.out, password);
  });

  it('an unknown verb prints usage and exits 2', async () => {
    const result = await runCli(['nope']);
    expect(result.code).toBe(2);
    expect(result.out).toContain('usage: cli <secret | check-config | migrate>');
  });

  it('check --deploy is not in the API image: the verb says where the auditor is and exits 2', async () => {
    const result = await runCli(['check', '--deploy']);
    expect(result.code).toBe(2);
    expect(result.out).toContain('npm run check -- --deploy');
  });
});

postgres.describe('WEB_CONCURRENCY', () => {
  it('runs several workers on one port, spreads requests over them, and drains all on SIGTERM', async () => {
    const database = await createTestDatabase();
    let server: Running | undefined;
    try {
      server = await start({
        ...postgresEnv(database.name),
        WEB_CONCURRENCY: '2',
      });
      // Both workers log "listening"; wait for the second before counting.
      for (let i = 0; i < 100 && (server.output().match(/Server listening/g) ?? []).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${server.url}/api/v1/test/`, { headers: { connection: 'close' } })).status).toBe(200);
      }
      // Logs are written in batches: count them once the workers have exited (and flushed).
      expect(await stop(server)).toBe(0);
      const pids = new Set(
        server
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"request"'))
          .map((line) => JSON.parse(line).pid),
      );
      expect(pids.size).toBe(2);
      expect((server.output().match(/"msg":"stopped"/g) ?? []).length).toBe(2);
    } finally {
      await stop(server);
      await database.drop();
    }
  });
});
