/**
 * Password-reset email end to end, with real parts: the built server as a process, a real SMTP server (smtp-server
 * on a loopback port, STARTTLS on a throwaway certificate, AUTH), hostile Host and X-Forwarded-Host headers, and a
 * kill -9 between the request and the send. On the embedded database and on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOOD_PASSWORD, STRONG_KEY, uniqueEmail } from '@ironclad/testkit/accounts';
import { createTestDatabase, postgresEnv } from '@ironclad/testkit/database';
import { type Running, start, stop } from '@ironclad/testkit/process';
import { rawExchange } from '@ironclad/testkit/raw-http';
import { type SmtpSink, startSmtpSink } from '@ironclad/testkit/smtp-sink';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOn, MODES, type Mode } from './helpers.js';

const PUBLIC_URL = 'https://tasks.example.com';
const RELAY = { user: 'tasks', password: 'relay-Secret-7f3k9Q2x' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** What a server on `mode` needs, with its own data: a DATA_DIR, or a fresh PostgreSQL database. */
async function databaseFor(mode: Mode): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (mode === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'ironclad-email-'));
    return { env: { DATA_DIR: join(dir, 'data') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const database = await createTestDatabase();
  return { env: { ...postgresEnv(database.name), SECRET_KEY: STRONG_KEY }, drop: () => database.drop() };
}

function post(server: Running, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', host: 'tasks.example.com', ...headers },
    body: JSON.stringify(body),
  });
}

function resetLink(text: string | undefined): string {
  const match = /(\S+#reset=icr_[A-Za-z0-9_-]{43})/.exec(text ?? '');
  if (!match?.[1]) throw new Error(`no reset link in: ${text}`);
  return match[1];
}

async function waitFor(read: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const mode of MODES) {
  describeOn(mode)(`password-reset email through a real SMTP server (${mode})`, () => {
    let sink: SmtpSink;
    let server: Running | undefined;
    let database: Awaited<ReturnType<typeof databaseFor>>;
    let env: Record<string, string>;

    beforeAll(async () => {
      sink = await startSmtpSink({ tls: 'starttls', auth: RELAY });
      database = await databaseFor(mode);
      env = {
        ...database.env,
        SMTP_URL: sink.url,
        SMTP_CA_FILE: sink.caFile as string,
        PUBLIC_URL,
        ALLOWED_HOSTS: 'tasks.example.com,localhost,127.0.0.1',
        LOG_LEVEL: 'info',
        // Not what is tested here; on a loaded 2-core machine a start-up stall must not turn requests into 503s.
        OVERLOAD_EVENT_LOOP_DELAY: '0',
      };
      server = await start(env, undefined, { startupMs: 60_000 });
    }, 90_000);
    afterAll(async () => {
      await stop(server);
      await sink?.stop();
      await database?.drop();
    });

    it('sends the link over STARTTLS with AUTH; it starts with PUBLIC_URL whatever X-Forwarded-Host says', async () => {
      const live = server as Running;
      const email = uniqueEmail();
      expect((await post(live, '/api/v1/users/signup/', { email, password: GOOD_PASSWORD })).status).toBe(201);
      const asked = await post(
        live,
        '/api/v1/users/password/reset/',
        { email },
        { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
      );
      expect(asked.status).toBe(202);
      const message = await sink.waitForMessage(
        (m) => m.to !== undefined && JSON.stringify(m.to).includes(email),
        20_000,
      );
      const delivery = sink.deliveries.find((d) => d.message === message);
      expect(delivery?.secure).toBe(true);
      expect(delivery?.user).toBe(RELAY.user);
      const link = resetLink(message.text);
      expect(link.startsWith(`${PUBLIC_URL}/#reset=icr_`)).toBe(true);
      expect(delivery?.raw).not.toContain('evil.example');

      // The link works, once, and signs in.
      const token = link.slice(link.indexOf('#reset=') + '#reset='.length);
      const confirmed = await post(live, '/api/v1/users/password/reset/confirm/', {
        token,
        new_password: 'a brand new passphrase 9',
      });
      expect(confirmed.status).toBe(200);
      expect(
        (await post(live, '/api/v1/users/password/reset/confirm/', { token, new_password: 'x another one 77' })).status,
      ).toBe(400);
      const notice = await sink.waitForMessage(
        (m) => m.subject === 'Your Ironclad Tasks password was changed' && JSON.stringify(m.to).includes(email),
        20_000,
      );
      expect(notice.text).toContain(PUBLIC_URL);
    });

    it('a hostile Host is refused before any route runs; no email is sent', async () => {
      const live = server as Running;
      const email = uniqueEmail();
      await post(live, '/api/v1/users/signup/', { email, password: GOOD_PASSWORD });
      const before = sink.messages.length;
      const url = new URL(live.url);
      const body = JSON.stringify({ email });
      const answer = await rawExchange(
        Number(url.port),
        `POST /api/v1/users/password/reset/ HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toContain('Invalid Host header');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(sink.messages.length).toBe(before);
    });

    it('never logs the relay password or a reset token', () => {
      const output = (server as Running).output();
      expect(output).not.toContain(RELAY.password);
      expect(output).not.toMatch(/icr_[A-Za-z0-9_-]{43}/);
      expect(output).toMatch(/email: sending through the relay/);
    });

    it('survives kill -9 between the request and the send: sent once after the restart', async () => {
      const live = server as Running;
      const email = uniqueEmail();
      await post(live, '/api/v1/users/signup/', { email, password: GOOD_PASSWORD });
      await stop(live);
      // The relay is down: the request is accepted, the send fails and is retried later.
      const downPort = await freePort();
      const downUrl = sink.url.replace(/:\d+$/, `:${downPort}`);
      const withDownRelay = { ...env, SMTP_URL: downUrl };
      const first = await start(withDownRelay, undefined, { startupMs: 60_000 });
      server = first;
      expect((await post(first, '/api/v1/users/password/reset/', { email })).status).toBe(202);
      await waitFor(first.output, /email not sent yet; will retry/, 20_000);
      first.child.kill('SIGKILL');
      await first.exited;
      // The relay comes back on that port; the server restarts.
      const back = await startSmtpSink({ tls: 'starttls', auth: RELAY, port: downPort });
      try {
        server = await start(withDownRelay, undefined, { startupMs: 60_000 });
        const message = await back.waitForMessage((m) => JSON.stringify(m.to).includes(email), 30_000);
        expect(resetLink(message.text).startsWith(`${PUBLIC_URL}/#reset=`)).toBe(true);
        // Once: nothing more for this address after a few more drain rounds.
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        expect(back.messages.filter((m) => JSON.stringify(m.to).includes(email))).toHaveLength(1);
      } finally {
        await back.stop();
      }
    }, 120_000);
  });
}
