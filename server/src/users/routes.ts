/** /api/v1/users/: signup, login, info, logout. */
import { createHash } from 'node:crypto';
import type { RateLimit } from '@ironclad/config/types';
import { eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/connect.js';
import { users } from '../db/schema.js';
import { browserCrossSiteProblem } from '../http/csrf.js';
import { badRequest, HttpError } from '../http/errors.js';
import type { Limiter } from '../http/rate-limit.js';
import { type Authenticate, authOf } from './authenticate.js';
import { dummyPasswordHash, type PasswordHasher, passwordProblem } from './passwords.js';
import { LoginBody, Message, SignupBody, TokenResponse, UserInfo } from './schemas.js';
import { clearSessionCookie, sessionBody, setSessionCookie } from './session-cookie.js';
import type { SessionStore } from './sessions.js';

export interface UserRoutesOptions {
  db: Db;
  sessions: SessionStore;
  authenticate: Authenticate;
  passwords: PasswordHasher;
  /** For the login-CSRF check of signup and login. */
  allowedOrigins: ReadonlySet<string>;
  tokenTtlMs: number;
  limiter: Limiter;
  limits: { signup: RateLimit; login: RateLimit; loginAccount: RateLimit };
}

const WRONG_CREDENTIALS = 'Invalid email or password.';
const UNIQUE_VIOLATION = '23505';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function isUniqueViolation(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export async function userRoutes(app: FastifyInstance, options: UserRoutesOptions): Promise<void> {
  const { db, sessions, authenticate, passwords, limiter, limits, allowedOrigins, tokenTtlMs } = options;
  // Signup and login set the session cookie, so a page on another site must not be able to start them.
  const refuseCrossSite = async (request: FastifyRequest) => {
    const problem = browserCrossSiteProblem(request, allowedOrigins);
    if (problem) throw problem;
  };
  const byIp = (prefix: string) => (request: FastifyRequest) => `${prefix}:${request.ip}`;
  const byAccount = (request: FastifyRequest) => {
    const email = (request.body as { email?: unknown } | undefined)?.email;
    const digest = createHash('sha256')
      .update(typeof email === 'string' ? normalizeEmail(email) : '')
      .digest('hex');
    return `login-account:${digest}`;
  };
  // Mobile keyboards and copy-paste add spaces around emails: trim before the schema checks the format.
  app.addHook('preValidation', async (request) => {
    const body = request.body as { email?: unknown } | undefined;
    if (body && typeof body === 'object' && typeof body.email === 'string') body.email = body.email.trim();
  });
  // Warm the dummy hash now so the first unknown-email login costs what every other does.
  void dummyPasswordHash();

  app.post(
    '/signup/',
    {
      schema: { body: SignupBody, response: { 201: TokenResponse }, tags: ['users'], summary: 'Create an account' },
      onRequest: [refuseCrossSite, limiter(limits.signup, byIp('signup-ip'))],
    },
    async (request, reply) => {
      const body = request.body as { email: string; password: string };
      const email = normalizeEmail(body.email);
      const problem = passwordProblem(body.password, email);
      if (problem) throw badRequest({ password: problem });
      const passwordHash = await passwords.hash(body.password);
      try {
        const token = await db.transaction(async (tx) => {
          const [user] = await tx.insert(users).values({ email, passwordHash }).returning({ id: users.id });
          return sessions.issue((user as { id: number }).id, tx as unknown as Db);
        });
        setSessionCookie(request, reply, token, tokenTtlMs);
        reply.code(201);
        return sessionBody(request, token, email);
      } catch (error) {
        if (isUniqueViolation(error))
          throw new HttpError(409, 'An account with this email already exists.', {
            fields: { email: 'is already registered' },
          });
        throw error;
      }
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
      preHandler: limiter(limits.loginAccount, byAccount),
    },
    async (request, reply) => {
      const body = request.body as { email: string; password: string };
      const email = normalizeEmail(body.email);
      const [user] = await db
        .select({ id: users.id, passwordHash: users.passwordHash })
        .from(users)
        .where(eq(users.email, email))
        .limit(1);
      // Same work for a known and an unknown email: always one argon2 verification.
      const ok = await passwords.verify(user?.passwordHash ?? (await dummyPasswordHash()), body.password);
      if (!user || !ok) throw new HttpError(401, WRONG_CREDENTIALS);
      await sessions.purgeExpired(user.id);
      const token = await sessions.issue(user.id);
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
      const { userId } = authOf(request);
      const [user] = await db
        .select({ id: users.id, email: users.email, created_at: users.createdAt })
        .from(users)
        .where(eq(users.id, userId));
      if (!user) throw new HttpError(401, 'Invalid or expired token.');
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
      await sessions.revoke(authOf(request).sessionId);
      clearSessionCookie(request, reply);
      return { message: 'Logged out.' };
    },
  );
}
