/** /api/v1/users/: signup, login, info, logout (the rest of the account is account-routes.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyRequest } from 'fastify';
import { type Authenticate, authOf, invalidToken } from '../http/auth.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { Limiter } from '../http/rate-limit.js';
import { Message } from '../http/schemas.js';
import type { ActivityLog } from './activity.js';
import { type ClientInfo, clientOf } from './client-info.js';
import { refuseBrowserCrossSite } from './csrf.js';
import { accountDigest, type DeviceCookies } from './device-cookie.js';
import { normalizeEmail, trimBodyEmail } from './email.js';
import type { LoginGuard } from './login-guard.js';
import { dummyPasswordHash, type PasswordHasher, passwordProblem } from './passwords.js';
import type { UsersRepository } from './repository.js';
import { LoginBody, SignupBody, TokenResponse, UserInfo } from './schemas.js';
import { clearSessionCookie, sessionBody, setSessionCookie } from './session-cookie.js';
import type { SessionStore } from './sessions.js';

export interface UserRoutesOptions {
  repository: UsersRepository;
  sessions: SessionStore;
  authenticate: Authenticate;
  passwords: PasswordHasher;
  /** For the login-CSRF check of signup and login. */
  allowedOrigins: ReadonlySet<string>;
  tokenTtlMs: number;
  limiter: Limiter;
  /** Per client IP, every attempt. */
  limits: { signup: RateLimit; login: RateLimit };
  /** Wrong passwords per account (login-guard.ts). */
  loginGuard: LoginGuard;
  devices: DeviceCookies;
  activity: ActivityLog;
}

const WRONG_CREDENTIALS = 'Invalid email or password.';

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, options) => {
  const { repository, sessions, authenticate, passwords, limiter, limits, allowedOrigins, tokenTtlMs } = options;
  const { loginGuard, devices, activity } = options;
  const failedLogins = new WeakMap<FastifyRequest, { userId: number; client: ClientInfo }>();
  // Signup and login set the session cookie, so a page on another site must not be able to start them.
  const refuseCrossSite = refuseBrowserCrossSite(allowedOrigins);
  const byIp = (prefix: string) => (request: FastifyRequest) => `${prefix}:${request.ip}`;
  app.addHook('preValidation', trimBodyEmail);
  // Warm the dummy hash now so the first unknown-email login costs what every other does.
  void dummyPasswordHash();

  app.post(
    '/signup/',
    {
      schema: { body: SignupBody, response: { 201: TokenResponse }, tags: ['users'], summary: 'Create an account' },
      onRequest: [refuseCrossSite, limiter(limits.signup, byIp('signup-ip'))],
    },
    async (request, reply) => {
      const { body } = request;
      const email = normalizeEmail(body.email);
      const problem = passwordProblem(body.password, email);
      if (problem) throw badRequest({ password: problem });
      const passwordHash = await passwords.hash(body.password);
      const client = clientOf(request);
      const created = await repository.create(email, passwordHash, async (userId, tx) => {
        const token = await sessions.issue(userId, client, tx);
        await activity.record(userId, 'signup', client, tx);
        return token;
      });
      if (!created) {
        throw new HttpError(409, 'An account with this email already exists.', {
          fields: { email: 'is already registered' },
        });
      }
      setSessionCookie(request, reply, created.value, tokenTtlMs);
      devices.issue(request, reply, accountDigest(email));
      reply.code(201);
      return sessionBody(request, created.value, email);
    },
  );

  app.post(
    '/login/',
    {
      schema: {
        body: LoginBody,
        response: { 200: TokenResponse },
        tags: ['users'],
        summary: 'Log in; returns a new session token',
      },
      onRequest: [refuseCrossSite, limiter(limits.login, byIp('login-ip'))],
      onResponse: async (request) => {
        const failed = failedLogins.get(request);
        if (!failed) return;
        await activity
          .record(failed.userId, 'login-failed', failed.client)
          .catch((error: unknown) => request.log.warn({ err: error }, 'could not record a failed login'));
      },
    },
    async (request, reply) => {
      const { body } = request;
      const email = normalizeEmail(body.email);
      // Counted by email, whether or not an account has it, so a 429 tells nothing about which emails exist.
      const account = accountDigest(email);
      const charge = await loginGuard.admit(request, account);
      const user = await repository.credentials(email);
      // Same work for a known and an unknown email: always one argon2 verification.
      const ok = await passwords.verify(user?.passwordHash ?? (await dummyPasswordHash()), body.password);
      const client = clientOf(request);
      // Recorded once the answer is out: writing it first would make a wrong password slower for an account that
      // exists than for an address that has none.
      if (user && !ok) failedLogins.set(request, { userId: user.id, client });
      if (!user || !ok) throw new HttpError(401, WRONG_CREDENTIALS);
      await loginGuard.succeeded(charge);
      devices.issue(request, reply, account);
      await sessions.purgeExpired(user.id);
      const token = await sessions.issue(user.id, client);
      await activity.record(user.id, 'login', client);
      setSessionCookie(request, reply, token, tokenTtlMs);
      return sessionBody(request, token, email);
    },
  );

  app.get(
    '/info/',
    {
      schema: { response: { 200: UserInfo }, tags: ['users'], summary: 'The account behind the token' },
      onRequest: authenticate,
    },
    async (request) => {
      // The session outlived its account only in a race with a deletion: the token names no one now.
      const user = await repository.info(authOf(request).userId);
      if (!user) throw invalidToken();
      return user;
    },
  );

  app.post(
    '/logout/',
    {
      schema: {
        response: { 200: Message },
        tags: ['users'],
        summary: 'End this session; the token stops working everywhere',
      },
      onRequest: authenticate,
    },
    async (request, reply) => {
      const auth = authOf(request);
      await sessions.revoke(auth.sessionId);
      await activity.record(auth.userId, 'logout', clientOf(request));
      clearSessionCookie(request, reply);
      return { message: 'Logged out.' };
    },
  );
};
