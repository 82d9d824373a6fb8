/**
 * Assembles the HTTP application from a checked configuration and an open
 * database. Order matters: security headers first, then the Host check, then
 * CORS, so that even a refused request carries the headers and nothing
 * reaches a route or the database with a Host we do not serve.
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import { createHostMatcher } from '@ironclad/config/hosts';
import type { Config } from '@ironclad/config/load';
import type { TrustProxy } from '@ironclad/config/schema';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import pino from 'pino';
import type { Database } from './db/connect.js';
import { ERROR_BODY_SCHEMA } from './http/error-body.js';
import { buildErrorHandler, HttpError, NOT_FOUND_MESSAGE } from './http/errors.js';
import { registerOverloadGuards } from './http/overload.js';
import { registerRateLimits } from './http/rate-limit.js';
import { RoutesTable } from './http/routes-table.js';
import { BASELINE_HEADERS, registerSecurityHeaders } from './http/security-headers.js';
import { validatorCompiler } from './http/validation.js';
import { isWebRoot, registerWebClient } from './http/web-client.js';
import {
  attachServerGuards,
  clientErrorHandler,
  framingProblem,
  registerBodyDeadline,
  registerStrictJsonParser,
} from './http/wire.js';
import { TaskRepository } from './tasks/repository.js';
import { taskRoutes } from './tasks/routes.js';
import { buildAuthenticate } from './users/authenticate.js';
import { PasswordHasher } from './users/passwords.js';
import { userRoutes } from './users/routes.js';
import { SessionStore } from './users/sessions.js';
import { TokenHasher } from './users/tokens.js';

export const BODY_LIMIT = 64 * 1024;
/** Paths exempt from the Host check: container and load-balancer probes use IPs as Host, and they reveal nothing. */
const PROBE_PATH = /^\/(?:healthz|readyz)\/?(?:\?.*)?$/;
const isProbe = (url: string) => PROBE_PATH.test(url);

/**
 * A request line may name the host itself (`GET http://other.example/ HTTP/1.1`); HTTP says that
 * authority then overrides the Host header, so it must pass the allowlist too.
 */
function absoluteTargetAllowed(target: string | undefined, allowed: (host: string | undefined) => boolean): boolean {
  if (!target || target.charCodeAt(0) === 47 /* "/" */ || target === '*') return true;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (!match) return false;
  const authority = (match[1] as string).replace(/^.*@/, '');
  return allowed(authority);
}

export interface AppOptions {
  config: Config;
  database: Database;
  secretKey: string;
  /** Where JSON log lines go; stdout by default. */
  logStream?: Writable;
  /** A built web client (client/dist) to serve at `/`; none when undefined. */
  webRoot?: string;
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'token',
  '*.password',
  '*.token',
  'body.password',
];

/** One JSON line per request (Fastify's default is two), with the route, status and time; no headers, no query string. */
class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(error ? { aborted: true } : {}),
      },
      'request',
    );
  }
}

function loggerOptions(config: Config, stream?: Writable): FastifyServerOptions['logger'] {
  return {
    level: config.values.LOG_LEVEL,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'ironclad-tasks', pid: process.pid },
    // stdout is written in 4 KiB batches (at least every 250 ms, and in full at exit): one write
    // syscall per log line cost about a tenth of the throughput under load (docs/performance.md).
    stream: stream ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
  };
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
    logController: new RequestLogController({ requestIdLogLabel: 'request_id' }),
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(values.TRUST_PROXY),
    requestTimeout: 30_000,
    // Let a request without Host reach our Host check, which answers it in JSON like any other bad Host.
    http: { requireHostHeader: false },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    clientErrorHandler,
    // Router errors are answered before any hook runs, so they carry the headers themselves.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 404 : 400;
      // No hook runs for these, so neither does the request log line: write it here.
      request.log.info({ method: request.method, route: null, path: null, status, ms: 0 }, 'request');
      (reply as FastifyReply)
        .code(status)
        .headers({ ...BASELINE_HEADERS, 'x-request-id': request.id })
        .type('application/json; charset=utf-8')
        .send({ error: status === 404 ? NOT_FOUND_MESSAGE : 'Malformed URL.' });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  // The API speaks JSON only: without this, Fastify would read text/plain bodies as strings (400 instead of 415).
  app.removeContentTypeParser('text/plain');
  registerStrictJsonParser(app);
  registerBodyDeadline(app, values.REQUEST_BODY_TIMEOUT);
  attachServerGuards(app.server, app.log);
  app.setErrorHandler(buildErrorHandler(config.debug));
  app.decorateRequest('auth', null);

  const routes = new RoutesTable();
  routes.attach(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Ironclad Tasks API', version: '1.0.0' },
      components: {
        securitySchemes: {
          token: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: '`Token <key>` or `Bearer <key>`',
          },
        },
        // Every error answer has this shape (http/errors.ts); clients generate their error type from it.
        schemas: { ErrorBody: ERROR_BODY_SCHEMA },
      },
    },
  });

  registerSecurityHeaders(app);
  // Parses the session cookie of browser clients (users/session-cookie.ts); no signing: the token is the secret.
  await app.register(cookie);

  // While shutting down, ask each client to close its keep-alive connection after the answer it is
  // waiting for, so in-flight requests finish and the server can then stop without cutting anyone off.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // Every answer carries its request id, for a user to quote and an operator to find in the log.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  const hostAllowed = createHostMatcher(values.ALLOWED_HOSTS);
  app.addHook('onRequest', async (request) => {
    const framing = framingProblem(request.raw);
    if (framing) throw framing;
    if (isProbe(request.url)) return;
    if (!hostAllowed(request.host || undefined) || !absoluteTargetAllowed(request.raw.url, hostAllowed)) {
      throw new HttpError(400, 'Invalid Host header.');
    }
  });

  await registerOverloadGuards(app, {
    maxEventLoopDelayMs: values.OVERLOAD_EVENT_LOOP_DELAY,
    pool: database.pool,
    poolQueueMax: values.DB_POOL_QUEUE_MAX,
  });

  const allowedOrigins = new Set(values.CORS_ALLOWED_ORIGINS);
  // @fastify/cors answers an unlisted preflight with a bare 204; refuse it outright, with no CORS headers.
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    if (
      request.method === 'OPTIONS' &&
      origin &&
      request.headers['access-control-request-method'] &&
      !allowedOrigins.has(origin)
    ) {
      throw new HttpError(403, 'Origin not allowed.');
    }
  });
  await app.register(cors, {
    // A function, not the list: with a list @fastify/cors still sends Allow-Credentials to unlisted origins (its #297).
    origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
    exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
    maxAge: 600,
    strictPreflight: false,
  });

  const limiter = await registerRateLimits(app, {
    pool:
      values.RATE_LIMIT_STORE === 'memory' || (values.RATE_LIMIT_STORE === 'auto' && !database.pool)
        ? undefined
        : database.pool,
  });
  const sessions = new SessionStore(
    database.db,
    new TokenHasher(options.secretKey, config.secretKeyFallbacks),
    values.TOKEN_TTL,
  );

  const authenticate = buildAuthenticate(sessions, allowedOrigins);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await database.ping();
      return { status: 'ready' };
    } catch {
      reply.code(503).header('retry-after', '5');
      return { error: 'Database unavailable.', status: 'unavailable' };
    }
  });

  app.get('/api/v1/test/', { schema: { tags: ['health'], summary: 'The seed’s connection check' } }, async () => ({
    connected: true,
  }));
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(userRoutes, {
    prefix: '/api/v1/users',
    db: database.db,
    sessions,
    authenticate,
    allowedOrigins,
    tokenTtlMs: values.TOKEN_TTL,
    passwords: new PasswordHasher(values.PASSWORD_HASH_CONCURRENCY, values.PASSWORD_HASH_QUEUE_MAX),
    limiter,
    limits: {
      signup: values.RATE_LIMIT_SIGNUP,
      login: values.RATE_LIMIT_LOGIN,
      loginAccount: values.RATE_LIMIT_LOGIN_ACCOUNT,
    },
  });
  await app.register(taskRoutes, {
    prefix: '/api/v1/tasks',
    repository: new TaskRepository(database.db),
    authenticate,
  });

  if (isWebRoot(options.webRoot)) await registerWebClient(app, options.webRoot);

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    const allowed = routes.allowed(path);
    if (!allowed) throw new HttpError(404, NOT_FOUND_MESSAGE);
    const allow = allowed.join(', ');
    if (request.method === 'OPTIONS') {
      reply.code(204).header('allow', allow);
      return reply.send();
    }
    throw new HttpError(405, `Method ${request.method} is not allowed here.`, { allowed }, { allow });
  });

  return app;
}
