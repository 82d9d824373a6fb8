/**
 * /api/v1/users/: what a person does with their account once signed in (password change, sessions, activity,
 * export, deletion) and the password reset by email. Signup, login, info and logout are routes.ts.
 *
 * Every route that asks for the password again counts a wrong one like a wrong login (login-guard.ts), so a stolen
 * session cannot be used to guess the password faster than a stranger could.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../db/connect.js';
import { enqueueEmail } from '../email/outbox.js';
import { type Authenticate, authOf, invalidToken } from '../http/auth.js';
import type { Counters } from '../http/counters.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import { type Limiter, tooManyAttempts } from '../http/rate-limit.js';
import { Message } from '../http/schemas.js';
import type { ActivityLog } from './activity.js';
import { clientOf } from './client-info.js';
import { refuseBrowserCrossSite } from './csrf.js';
import { accountDigest, type DeviceCookies } from './device-cookie.js';
import { normalizeEmail, trimBodyEmail } from './email.js';
import { EXPORT_IDLE_MS, exportFileName, exportParts, exportStream } from './export.js';
import type { LoginGuard } from './login-guard.js';
import type { PasswordResets } from './password-reset.js';
import type { PasswordHasher } from './passwords.js';
import { passwordProblem } from './passwords.js';
import type { UsersRepository } from './repository.js';
import {
  ActivityEntry,
  DeleteAccountBody,
  PasswordChangeBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  SessionInfo,
  SessionParams,
  TokenResponse,
} from './schemas.js';
import { clearSessionCookie, sessionBody, setSessionCookie } from './session-cookie.js';
import type { SessionStore } from './sessions.js';

export interface AccountRoutesOptions {
  db: Db;
  repository: UsersRepository;
  sessions: SessionStore;
  activity: ActivityLog;
  resets: PasswordResets;
  authenticate: Authenticate;
  passwords: PasswordHasher;
  allowedOrigins: ReadonlySet<string>;
  tokenTtlMs: number;
  limiter: Limiter;
  counters: Counters;
  limits: { reset: RateLimit; resetEmail: RateLimit; resetConfirm: RateLimit; exports: RateLimit };
  loginGuard: LoginGuard;
  devices: DeviceCookies;
  /** An email was queued here: send it now rather than at the next poll. */
  emailQueued: () => void;
}

export const RESET_ACCEPTED =
  'If an account uses this address, an email with a reset link is on its way. The link works for a limited time.';
const RESET_LINK_INVALID = 'This reset link is invalid, already used or expired; ask for a new one.';

export const accountRoutes: FastifyPluginAsyncTypebox<AccountRoutesOptions> = async (app, options) => {
  const { db, repository, sessions, activity, resets, authenticate, passwords, limiter, limits, counters } = options;
  const { loginGuard, devices, allowedOrigins, tokenTtlMs, emailQueued } = options;
  const byIp = (prefix: string) => (request: FastifyRequest) => `${prefix}:${request.ip}`;
  const tx = (handle: unknown) => handle as Db;
  // Once the answer is out, never while it is being written (email/outbox.ts, `soon`).
  const sendQueuedEmail = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (reply.statusCode < 300) emailQueued();
  };

  app.addHook('preValidation', trimBodyEmail);

  /**
   * Checks the account's password again. A wrong one counts against the same budgets as a wrong login for this
   * account (per address or known browser, and per account), so a 429 comes before the password is even checked.
   */
  async function confirmPassword(request: FastifyRequest, userId: number, password: string, field: string) {
    const account = await repository.credentialsById(userId);
    if (!account) throw invalidToken();
    const charge = await loginGuard.admit(request, accountDigest(account.email));
    if (!(await passwords.verify(account.passwordHash, password))) {
      // Someone holding a session guessed at the password: the owner sees it in the activity.
      await activity.record(userId, 'password-check-failed', clientOf(request));
      throw badRequest({ [field]: 'is not correct' }, 'The password is not correct.');
    }
    await loginGuard.succeeded(charge);
    return account;
  }

  app.post(
    '/password/change/',
    {
      onResponse: sendQueuedEmail,
      schema: {
        body: PasswordChangeBody,
        response: { 200: Message },
        tags: ['account'],
        summary: 'Change the password; every other session ends',
      },
      onRequest: authenticate,
    },
    async (request) => {
      const auth = authOf(request);
      const { current_password: current, new_password: next } = request.body;
      const account = await confirmPassword(request, auth.userId, current, 'current_password');
      const problem = passwordProblem(next, account.email);
      if (problem) throw badRequest({ new_password: problem });
      if (next === current) throw badRequest({ new_password: 'must differ from the current password' });
      const hash = await passwords.hash(next);
      const client = clientOf(request);
      await db.transaction(async (handle) => {
        const t = tx(handle);
        await repository.setPassword(auth.userId, hash, t);
        await sessions.endAll(auth.userId, 'password-changed', { except: auth.sessionId, db: t });
        await resets.clear(auth.userId, t);
        await activity.record(auth.userId, 'password-changed', client, t);
        await enqueueEmail(t, { kind: 'password-changed', recipient: account.email, userId: auth.userId, client });
      });
      return { message: 'Password changed. Every other device was signed out.' };
    },
  );

  app.post(
    '/password/reset/',
    {
      onResponse: sendQueuedEmail,
      schema: {
        body: PasswordResetBody,
        response: { 202: Message },
        tags: ['account'],
        summary: 'Email a password-reset link (the same answer whether or not an account has the address)',
      },
      onRequest: limiter(limits.reset, byIp('reset-ip')),
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      // Counted by address whether or not an account has it: a 429 says nothing about which addresses exist.
      const { windowMs, max } = limits.resetEmail;
      const count = await counters.add(`reset-email:${accountDigest(email)}`, windowMs, 1);
      if (count.count > max) {
        throw tooManyAttempts(
          Math.max(1, Math.ceil(count.ttlMs / 1000)),
          'Too many reset requests for this address; check the inbox for the last link, or try again later.',
        );
      }
      await resets.request(email, clientOf(request));
      reply.code(202);
      return { message: RESET_ACCEPTED };
    },
  );

  app.post(
    '/password/reset/confirm/',
    {
      onResponse: sendQueuedEmail,
      schema: {
        body: PasswordResetConfirmBody,
        response: { 200: TokenResponse },
        tags: ['account'],
        summary: 'Set a new password with a reset link; every session ends and a new one starts',
      },
      // It sets the session cookie, like login: a page on another site must not be able to start it.
      onRequest: [refuseBrowserCrossSite(allowedOrigins), limiter(limits.resetConfirm, byIp('reset-confirm-ip'))],
    },
    async (request, reply) => {
      const { token, new_password: next } = request.body;
      const invalid = () => badRequest({ token: 'is invalid, used or expired' }, RESET_LINK_INVALID);
      // Checked before hashing, so a made-up token costs a lookup, not an argon2 hash.
      const userId = await resets.peek(token);
      if (userId === undefined) throw invalid();
      const account = await repository.credentialsById(userId);
      if (!account) throw invalid();
      const problem = passwordProblem(next, account.email);
      if (problem) throw badRequest({ new_password: problem });
      const hash = await passwords.hash(next);
      const client = clientOf(request);
      const fresh = await db.transaction(async (handle) => {
        const t = tx(handle);
        // The single use: only one of two racing confirmations finds the row to delete.
        if ((await resets.consume(token, t)) !== userId) return undefined;
        await repository.setPassword(userId, hash, t);
        await sessions.endAll(userId, 'password-changed', { db: t });
        await activity.record(userId, 'password-reset-completed', client, t);
        await enqueueEmail(t, { kind: 'password-changed', recipient: account.email, userId, client });
        return sessions.issue(userId, client, t);
      });
      if (fresh === undefined) throw invalid();
      setSessionCookie(request, reply, fresh, tokenTtlMs);
      devices.issue(request, reply, accountDigest(account.email));
      return sessionBody(request, fresh, account.email);
    },
  );

  app.get(
    '/sessions/',
    {
      schema: {
        response: { 200: Type.Array(SessionInfo) },
        tags: ['account'],
        summary: 'The account’s live sessions, newest first',
      },
      onRequest: authenticate,
    },
    async (request) => {
      const auth = authOf(request);
      const rows = await sessions.list(auth.userId);
      return rows.map((row) => ({ ...row, current: row.id === auth.sessionId }));
    },
  );

  app.delete(
    '/sessions/:id/',
    {
      schema: {
        params: SessionParams,
        response: { 200: Message },
        tags: ['account'],
        summary: 'End one of the account’s sessions (another account’s id: 404)',
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const auth = authOf(request);
      const { id } = request.params;
      const client = clientOf(request);
      const ended = await db.transaction(async (handle) => {
        const t = tx(handle);
        if (!(await sessions.end(auth.userId, id, 'ended', t))) return false;
        await activity.record(auth.userId, 'session-ended', client, t);
        return true;
      });
      if (!ended) throw notFound();
      if (id === auth.sessionId) clearSessionCookie(request, reply);
      return { message: 'Session ended.' };
    },
  );

  app.post(
    '/logout-all/',
    {
      schema: {
        response: { 200: Message },
        tags: ['account'],
        summary: 'End every session of the account, this one included',
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const auth = authOf(request);
      const client = clientOf(request);
      await db.transaction(async (handle) => {
        const t = tx(handle);
        await sessions.endAll(auth.userId, 'logged-out-everywhere', { db: t });
        await activity.record(auth.userId, 'logout-all', client, t);
      });
      clearSessionCookie(request, reply);
      return { message: 'Logged out everywhere.' };
    },
  );

  app.get(
    '/activity/',
    {
      schema: {
        response: { 200: Type.Array(ActivityEntry) },
        tags: ['account'],
        summary: 'The account’s security events, newest first (the latest 200)',
      },
      onRequest: authenticate,
    },
    async (request) => activity.list(authOf(request).userId),
  );

  app.get(
    '/export/',
    {
      schema: {
        tags: ['account'],
        summary: 'Everything stored about the account, as a JSON download (never a password hash or a token)',
        produces: ['application/json'],
      },
      onRequest: [
        authenticate,
        limiter(limits.exports, (request) => `export:${(request.auth as { userId: number }).userId}`),
      ],
    },
    async (request, reply: FastifyReply) => {
      const auth = authOf(request);
      const account = await repository.info(auth.userId);
      if (!account) throw invalidToken();
      const all = (await sessions.listAll(auth.userId)).map((row) => ({ ...row, current: row.id === auth.sessionId }));
      await activity.record(auth.userId, 'export', clientOf(request));
      const parts = await exportParts(account, all, activity, await resets.pending(auth.userId));
      // A client that stops reading holds the stream (and a page of tasks) only this long without progress.
      const socket = request.raw.socket as { setTimeout?: unknown } | undefined;
      if (typeof socket?.setTimeout === 'function') {
        request.raw.socket.setTimeout(EXPORT_IDLE_MS, () => request.raw.socket.destroy());
      }
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${exportFileName()}"`)
        .header('cache-control', 'no-store');
      return reply.send(exportStream(db, parts));
    },
  );

  app.delete(
    '/me/',
    {
      schema: {
        body: DeleteAccountBody,
        response: { 200: Message },
        tags: ['account'],
        summary: 'Delete the account with its tasks, sessions and activity',
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const auth = authOf(request);
      const account = await confirmPassword(request, auth.userId, request.body.password, 'password');
      await db.transaction(async (handle) => {
        const t = tx(handle);
        // Reset requests name only an address (no account): they go too, so nothing of the account stays queued.
        await resets.forgetAddress(account.email, t);
        if (!(await repository.delete(auth.userId, t))) throw new HttpError(404, 'The account no longer exists.');
      });
      clearSessionCookie(request, reply);
      devices.forget(request, reply);
      return { message: 'Account deleted, with its tasks, sessions and activity.' };
    },
  );
};
