/**
 * Assembles the HTTP application from a checked configuration and an open database: Fastify's own
 * options, the request pipeline (one named plugin per step, in http/plugins/), then the routes.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Config } from '@ironclad/config/load';
import type { TrustProxy } from '@ironclad/config/schema';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from './db/connect.js';
import { checkWritable, type Writability } from './db/writable.js';
import { EmailOutbox, type Mailer, OUTBOX_DEFAULTS, type OutboxOptions } from './email/outbox.js';
import { createMailTransport, defaultFrom } from './email/transport.js';
import { frameworkErrors } from './http/error-answer.js';
import { HttpError } from './http/errors.js';
import { authentication } from './http/plugins/authentication.js';
import { cookies } from './http/plugins/cookies.js';
import { cors } from './http/plugins/cors.js';
import { errorAnswers } from './http/plugins/error-answers.js';
import { hostAllowlist } from './http/plugins/host-allowlist.js';
import { routeNotFound } from './http/plugins/not-found.js';
import { openApi } from './http/plugins/openapi.js';
import { overloadGuards } from './http/plugins/overload-guards.js';
import { rateLimits } from './http/plugins/rate-limits.js';
import { requestBody } from './http/plugins/request-body.js';
import { requestId } from './http/plugins/request-id.js';
import { securityHeaders } from './http/plugins/security-headers.js';
import { shutdownGate } from './http/plugins/shutdown-gate.js';
import { isWebRoot, webClient } from './http/plugins/web-client.js';
import { wireFraming } from './http/plugins/wire-framing.js';
import { loggerOptions, RequestLogController } from './http/request-log.js';
import { validatorCompiler } from './http/validation.js';
import { clientErrorHandler } from './http/wire.js';
import type { ShutdownState } from './lifecycle/shutdown.js';
import { TaskRepository } from './tasks/repository.js';
import { taskRoutes } from './tasks/routes.js';
import { accountRoutes } from './users/account-routes.js';
import { ActivityLog } from './users/activity.js';
import { DeviceCookies } from './users/device-cookie.js';
import { scheduleHousekeeping } from './users/housekeeping.js';
import { LoginGuard } from './users/login-guard.js';
import { PasswordResets, passwordChangedEmail } from './users/password-reset.js';
import { PasswordHasher } from './users/passwords.js';
import { UsersRepository } from './users/repository.js';
import { userRoutes } from './users/routes.js';
import { SessionStore } from './users/sessions.js';
import { TokenHasher } from './users/tokens.js';

export const BODY_LIMIT = 64 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The email outbox's drainer (tests drain it on demand). */
    outbox: EmailOutbox;
  }
}

export interface AppOptions {
  config: Config;
  database: Database;
  secretKey: string;
  /** Where JSON log lines go; stdout by default. */
  logStream?: Writable;
  /** A built web client (client/dist) to serve at `/`; none when undefined. */
  webRoot?: string;
  /** Set by the process lifecycle when a stop begins (lifecycle/shutdown.ts): /readyz then answers 503. */
  shutdown?: ShutdownState;
  /** What delivers email; by default SMTP_URL's relay, or `.eml` files in the data directory (email/transport.ts). */
  mailer?: Mailer;
  /** The outbox's timings (tests shorten them). */
  outbox?: Partial<OutboxOptions>;
}

/** Where `.eml` files go without SMTP_URL: the data directory's outbox/, also with PostgreSQL. */
function mailDataDir(config: Config): string {
  const dataDir = config.database.kind === 'embedded' ? config.database.dataDir : resolve(config.values.DATA_DIR);
  return dataDir.startsWith('memory://') ? join(tmpdir(), `ironclad-memory-${process.pid}`) : dataDir;
}

/** A hop count becomes proxy-addr's "trust the first n hops" function; the rest Fastify takes as is. */
function trustProxyOption(value: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, database } = options;
  const values = config.values;
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    logController: new RequestLogController(),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(values.TRUST_PROXY),
    requestTimeout: 30_000,
    // A request that reaches the router while the server closes is served like any other (its answer says
    // `Connection: close`), not refused with a 503: the listener is already closed by then, so whoever sent it
    // was accepted before the stop and deserves an answer (lifecycle/shutdown.ts).
    return503OnClosing: false,
    // Let a request without Host reach the host-allowlist step, which answers it in JSON like any other bad Host.
    http: { requireHostHeader: false },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    // The two ways an error is answered before any step runs; both go through http/error-answer.ts.
    clientErrorHandler,
    frameworkErrors,
  });
  app.setValidatorCompiler(validatorCompiler);

  const allowedOrigins = new Set(values.CORS_ALLOWED_ORIGINS);
  const shutdown = options.shutdown ?? { draining: false };
  const tokenHasher = new TokenHasher(options.secretKey, config.secretKeyFallbacks);
  const sessions = new SessionStore(database.db, tokenHasher, values.TOKEN_TTL);
  const rateLimitPool =
    values.RATE_LIMIT_STORE === 'memory' || (values.RATE_LIMIT_STORE === 'auto' && !database.pool)
      ? undefined
      : database.pool;

  /*
   * THE REQUEST PIPELINE. Fastify runs a request's hooks in the order they were added, so the order of
   * these steps is the security model of every request. Each step is a named plugin (http/plugins/) made
   * with fastify-plugin: its hooks, error handler and decorators then apply to every route (a plain
   * registered function is encapsulated, and its hooks would guard only routes declared inside it), and
   * its name shows in app.printPlugins(), which test/pipeline.test.ts reads to pin this order.
   *
   * The ordering rule: every answer is sure to carry the security headers and the request id before
   * anything can refuse; nothing touches a route or the database before the framing and the Host are
   * known good; then refusals that concern every request (overload) come before those that concern some
   * (CORS preflights), and all of them before the routes' own checks (rate limits, authentication),
   * which read the database.
   *
   *   request-body      first: its body deadline must be armed even when a later step refuses
   *   error-answers  ┐  no per-request hook; before the first route, because each route takes the error
   *   not-found      │  handler, and is entered in the 405 table and the OpenAPI document, as it is added
   *   openapi        ┘
   *   security-headers  the baseline headers, from here on on every answer, refusals included
   *   cookies           only parses the Cookie header (and writes Set-Cookie); refuses nothing
   *   request-id        X-Request-Id on every answer
   *   shutdown-gate     while stopping: Connection: close on every answer; requests wait just before the close
   *   wire-framing      the first refusal: ambiguous framing (a repeated Host, Authorization, Content-Type)
   *   host-allowlist    ALLOWED_HOSTS, before any route or database work (the probes are exempt)
   *   overload-guards   a saturated server refuses at once, before doing work that would make it worse
   *   cors              an unlisted preflight is refused; allowed origins get their headers
   *   rate-limits    ┐  no per-request hook: what the routes that need them run, after every hook above
   *   authentication ┘
   *   (the routes)
   *   web-client        the pages, when a built client is given
   */
  await app.register(requestBody, { timeoutMs: values.REQUEST_BODY_TIMEOUT });
  await app.register(errorAnswers, { debug: config.debug });
  await app.register(routeNotFound);
  await app.register(openApi);
  await app.register(securityHeaders);
  await app.register(cookies);
  await app.register(requestId);
  await app.register(shutdownGate, { shutdown });
  await app.register(wireFraming);
  await app.register(hostAllowlist, { allowedHosts: values.ALLOWED_HOSTS });
  await app.register(overloadGuards, {
    maxEventLoopDelayMs: values.OVERLOAD_EVENT_LOOP_DELAY,
    pool: database.pool,
    poolQueueMax: values.DB_POOL_QUEUE_MAX,
  });
  await app.register(cors, { allowedOrigins });
  await app.register(rateLimits, {
    pool: rateLimitPool,
    budgets: { reads: values.RATE_LIMIT_READS, writes: values.RATE_LIMIT_WRITES },
  });
  await app.register(authentication, { sessions, allowedOrigins, spendBudget: app.spendBudget });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  // Ready means a write would succeed: asked through the pool requests use, with their session settings.
  app.get('/readyz', { schema: { hide: true } }, async () => {
    // Stopping: tell load balancers to send elsewhere, while this server still serves what they send meanwhile.
    if (shutdown.draining) {
      throw new HttpError(503, 'Shutting down.', { status: 'stopping' }, { 'retry-after': '5' });
    }
    let writability: Writability;
    try {
      writability = await checkWritable(database.db);
    } catch {
      // Answered by the one error writer, like every other refusal; `status` is for probes that read the body.
      throw new HttpError(503, 'Database unavailable.', { status: 'unavailable' }, { 'retry-after': '5' });
    }
    if (writability === 'read-only') {
      throw new HttpError(503, 'Database is read-only.', { status: 'read-only' }, { 'retry-after': '5' });
    }
    return { status: 'ready' };
  });
  app.get('/api/v1/test/', { schema: { tags: ['health'], summary: 'The seed’s connection check' } }, async () => ({
    connected: true,
  }));
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  const devices = new DeviceCookies(tokenHasher);
  const users = new UsersRepository(database.db);
  const activity = new ActivityLog(database.db, values.ACTIVITY_RETENTION);
  const passwords = new PasswordHasher(values.PASSWORD_HASH_CONCURRENCY, values.PASSWORD_HASH_QUEUE_MAX);
  const loginGuard = new LoginGuard(app.counters, devices, {
    failures: values.RATE_LIMIT_LOGIN_FAILURES,
    account: values.RATE_LIMIT_LOGIN_ACCOUNT,
  });
  // Links in emails come from PUBLIC_URL, never from the request; unset (development), from where this server listens.
  const linkBase = () => {
    if (values.PUBLIC_URL) return values.PUBLIC_URL.href;
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : values.PORT;
    return `http://localhost:${port}`;
  };
  const resets = new PasswordResets(database.db, tokenHasher, activity, {
    linkBase,
    ttlMs: values.PASSWORD_RESET_TTL,
  });
  const mailer =
    options.mailer ??
    createMailTransport({
      ...(values.SMTP_URL ? { smtp: values.SMTP_URL } : {}),
      ...(values.SMTP_CA_FILE ? { caFile: values.SMTP_CA_FILE } : {}),
      from: values.EMAIL_FROM ?? defaultFrom(values.PUBLIC_URL),
      dataDir: mailDataDir(config),
    });
  const outbox = new EmailOutbox(
    database.db,
    mailer,
    {
      'password-reset': (job) => resets.compose(job),
      'password-changed': async (job) => passwordChangedEmail(job.recipient, linkBase(), job),
    },
    app.log,
    { ...OUTBOX_DEFAULTS, ...options.outbox },
  );
  app.decorate('outbox', outbox);
  let stopHousekeeping = () => {};
  app.addHook('onReady', async () => {
    if (values.SMTP_URL) app.log.info({ relay: mailer.description }, 'email: sending through the relay');
    else
      app.log.warn(
        { outbox: mailer.description },
        'email: SMTP_URL is not set, so no email reaches anyone and password reset by email is disabled; emails are written as .eml files for development',
      );
    outbox.start();
    stopHousekeeping = scheduleHousekeeping(database.db, activity, app.log);
  });
  app.addHook('onClose', async () => {
    stopHousekeeping();
    await outbox.stop();
  });
  await app.register(userRoutes, {
    prefix: '/api/v1/users',
    repository: users,
    sessions,
    authenticate: app.authenticate,
    allowedOrigins,
    tokenTtlMs: values.TOKEN_TTL,
    passwords,
    limiter: app.rateLimiter,
    limits: { signup: values.RATE_LIMIT_SIGNUP, login: values.RATE_LIMIT_LOGIN },
    loginGuard,
    devices,
    activity,
  });
  await app.register(accountRoutes, {
    prefix: '/api/v1/users',
    db: database.db,
    repository: users,
    sessions,
    activity,
    resets,
    authenticate: app.authenticate,
    passwords,
    allowedOrigins,
    tokenTtlMs: values.TOKEN_TTL,
    limiter: app.rateLimiter,
    counters: app.counters,
    limits: {
      reset: values.RATE_LIMIT_PASSWORD_RESET,
      resetEmail: values.RATE_LIMIT_PASSWORD_RESET_EMAIL,
      resetConfirm: values.RATE_LIMIT_LOGIN,
      exports: values.RATE_LIMIT_EXPORT,
    },
    loginGuard,
    devices,
    emailQueued: () => outbox.soon(),
  });
  await app.register(taskRoutes, {
    prefix: '/api/v1/tasks',
    repository: new TaskRepository(database.db),
    authenticate: app.authenticate,
    quota: values.TASK_QUOTA,
    secretKey: options.secretKey,
  });

  if (isWebRoot(options.webRoot)) await app.register(webClient, { webRoot: options.webRoot });
  return app;
}
