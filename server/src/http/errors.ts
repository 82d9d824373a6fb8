/**
 * What each failure means for the client: its status, its one sentence and any header it needs. It
 * replaces the seed's `handle_exceptions` decorator and fixes it: a client never sees `str(e)`, SQL, a
 * stack, a path or a library name. Writing the answer (headers, body, log lines) is error-answer.ts's.
 */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { FastifyError, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { ErrorAnswer } from './error-answer.js';
import { fieldErrors } from './validation.js';

/** An error a handler throws on purpose; its message is written for the client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const NOT_FOUND_MESSAGE = 'The requested resource was not found.';

export const notFound = () => new HttpError(404, NOT_FOUND_MESSAGE);

export function badRequest(fields: Record<string, string>, message = 'Invalid request body.') {
  return new HttpError(400, message, { fields });
}

const GENERIC: Record<number, string> = {
  400: 'Bad request.',
  401: 'Authentication required.',
  403: 'Forbidden.',
  404: NOT_FOUND_MESSAGE,
  405: 'Method not allowed.',
  406: 'Not acceptable.',
  408: 'Request timeout.',
  409: 'Conflict.',
  413: 'Request body is too large.',
  414: 'URI too long.',
  415: 'Unsupported media type: send JSON with Content-Type: application/json.',
  429: 'Too many requests.',
  431: 'Request headers are too large.',
};

/** Fastify's own client-error codes, given our wording. */
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, GENERIC[415] as string],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Content-Length does not match the body.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, GENERIC[413] as string],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'Request body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'Malformed JSON in request body.'],
  FST_ERR_CTP_MALFORMED_JSON: [400, 'Malformed JSON in request body.'],
  FST_ERR_CTP_INVALID_CHARSET: [415, 'Unsupported charset: send UTF-8 JSON.'],
  FST_ERR_BAD_URL: [400, 'Malformed URL.'],
  FST_ERR_MAX_PARAM_LENGTH: [404, NOT_FOUND_MESSAGE],
  FST_ERR_ASYNC_CONSTRAINT: [400, GENERIC[400] as string],
};

export interface ErrorBody {
  error: string;
  [key: string]: unknown;
}

/** The answer to a thrown error; `debug` (DEBUG) adds the error's own message to a 500. */
export function describeError(
  error: FastifyError | HttpError | Error,
  request: FastifyRequest,
  debug: boolean,
): ErrorAnswer {
  if (error instanceof HttpError) {
    return { status: error.statusCode, body: { error: error.message, ...error.extra }, headers: error.headers };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    // A path parameter that cannot be an id names no resource: the same 404 as a missing one.
    if (fastifyError.validationContext === 'params') {
      return { status: 404, body: { error: NOT_FOUND_MESSAGE }, headers: {} };
    }
    const { fields, notAnObject } = fieldErrors(fastifyError.validation);
    if (fastifyError.validationContext === 'headers') {
      return { status: 400, body: { error: 'Invalid request headers.', fields }, headers: {} };
    }
    if (fastifyError.validationContext === 'querystring') {
      return { status: 400, body: { error: 'Invalid query parameters.', fields }, headers: {} };
    }
    if (notAnObject) return { status: 400, body: { error: 'Request body must be a JSON object.' }, headers: {} };
    return { status: 400, body: { error: 'Invalid request body.', fields }, headers: {} };
  }
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return { status: known[0], body: { error: known[1] }, headers: {} };
  // secure-json-parse: "Object contains forbidden prototype property"; JSON.parse SyntaxErrors.
  if (error instanceof SyntaxError || /prototype property/.test(error.message)) {
    return { status: 400, body: { error: 'Malformed JSON in request body.' }, headers: {} };
  }
  // A client that hangs up mid-body is its own problem (ECONNRESET with a 4xx), not the database's.
  const clientStatus = fastifyError.statusCode;
  if (typeof clientStatus === 'number' && clientStatus >= 400 && clientStatus < 500) {
    return {
      status: clientStatus,
      body: { error: GENERIC[clientStatus] ?? GENERIC[400] ?? 'Bad request.' },
      headers: {},
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      body: { error: 'Service temporarily unavailable; try again shortly.', request_id: request.id },
      headers: { 'retry-after': '5' },
    };
  }
  const body: ErrorBody = { error: 'Internal server error', request_id: request.id };
  if (debug) {
    const shown = error instanceof DrizzleQueryError && error.cause instanceof Error ? error.cause : error;
    body.detail = `${shown.name}: ${shown.message}`;
  }
  return { status: 500, body, headers: {} };
}
