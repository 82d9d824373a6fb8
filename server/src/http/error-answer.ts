/**
 * The one writer of error answers. An error can be answered from three places, and each used to write
 * its own headers, body and log line, which is how one of them could drift (lose a header, log twice):
 *
 * - the error handler, for everything thrown inside Fastify's lifecycle (hooks, parsers, routes);
 * - the router's errors (a bad percent-encoding, an over-long id), which Fastify answers before any
 *   hook runs, so neither the security headers nor the request line would be written otherwise;
 * - answers written straight to a socket or a bare Node response (malformed HTTP, oversized headers,
 *   an unknown `Expect`, CONNECT: http/wire.ts), where there is no Fastify request at all.
 *
 * All three get the same headers (the security baseline, X-Request-Id, JSON), the same body shape
 * (`{error, ...}`, described by errors.ts: never a stack, SQL, a path or a library name) and the
 * same request line (request-log.ts).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UnavailableLog } from '../db/unavailable.js';
import { describeError, type ErrorBody, HttpError } from './errors.js';
import { BASELINE_HEADERS } from './plugins/security-headers.js';
import { writeRequestLine } from './request-log.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  /** What this answer needs beyond the baseline: Allow, Retry-After, WWW-Authenticate, Connection. */
  headers: Record<string, string>;
}

/**
 * Every header of an error answer but Content-Length, Date and Connection. The baseline is written here
 * again even where the security-headers step already set it: an error answer must not depend on which
 * steps ran before the failure, nor keep headers a route set for a success (a page's CSP or caching).
 */
export function errorAnswerHeaders(requestId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...BASELINE_HEADERS, 'x-request-id': requestId, 'content-type': JSON_TYPE, ...extra };
}

function sendErrorAnswer(request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer): void {
  reply.code(answer.status).headers(errorAnswerHeaders(request.id, answer.headers)).send(answer.body);
}

/**
 * Drizzle puts the SQL parameters (password hashes, token hashes, emails) into its error's message
 * and stack: keep the query and the driver's error, drop the parameters.
 */
function withoutQueryParams(error: unknown): unknown {
  if (!(error instanceof DrizzleQueryError)) return error;
  // PGlite's driver error repeats the parameters too: keep only its diagnostic fields.
  const cause = (error.cause ?? {}) as Record<string, unknown>;
  const fields = ['name', 'message', 'code', 'severity', 'routine', 'position', 'stack'];
  return {
    type: 'DrizzleQueryError',
    query: error.query,
    cause: Object.fromEntries(
      fields.filter((field) => cause[field] !== undefined).map((field) => [field, cause[field]]),
    ),
  };
}

/** For app.setErrorHandler. The request line is written by the lifecycle when the answer is sent. */
export function buildErrorHandler(debug: boolean) {
  // Database trouble fails every request the same way: one line per cause per interval says what to check.
  const databaseTrouble = new UnavailableLog();
  return function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
    const answer = describeError(error, request, debug);
    // One line per failure that needs a human: crashes in full, database trouble by its cause. Other
    // refusals (4xx, overload 503s) are already in the request line and would only flood the log.
    if (answer.status === 500) request.log.error({ err: withoutQueryParams(error) }, 'unhandled error');
    else if (answer.status === 503 && !(error instanceof HttpError)) {
      databaseTrouble.note(request.log, error, { err: withoutQueryParams(error) });
    }
    sendErrorAnswer(request, reply, answer);
  };
}

/**
 * For Fastify's frameworkErrors option. These requests never enter the lifecycle: no hook runs and
 * no request line is written unless we write it. The path is left out because it is the part that
 * could not be parsed.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer = describeError(error, request, false);
  writeRequestLine(request.log, { method: request.method, route: null, path: null, status: answer.status, ms: 0 });
  sendErrorAnswer(request, reply, answer);
}

/** An error answer with no Fastify request behind it: the connection is closed after it. */
export interface RawErrorAnswer {
  requestId: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawErrorAnswer(status: number, message: string): RawErrorAnswer {
  const requestId = randomUUID();
  const body = JSON.stringify({ error: message } satisfies ErrorBody);
  const headers = {
    ...errorAnswerHeaders(requestId),
    'content-length': String(Buffer.byteLength(body)),
    // Whatever broke the request may have left the connection's framing unknown: never reuse it.
    connection: 'close',
  };
  return { requestId, status, headers, body };
}

/** The bytes of an answer as HTTP/1.1, for a socket that Node's HTTP server has given up on. */
export function renderRawAnswer(answer: RawErrorAnswer): string {
  const head = Object.entries(answer.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n${answer.body}`;
}

/** The request line of a raw answer: it has no route, and its path is unknown or untrustworthy. */
export function logRawAnswer(
  log: FastifyBaseLogger,
  answer: RawErrorAnswer,
  method: string | null,
  reason: string,
): void {
  writeRequestLine(log, {
    request_id: answer.requestId,
    method,
    route: null,
    path: null,
    status: answer.status,
    ms: 0,
    reason,
  });
}
