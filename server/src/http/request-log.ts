/**
 * The log: JSON lines on stdout, secrets redacted, and exactly one "request" line per request. That
 * line is defined once (writeRequestLine) because three kinds of answer need it: the ones Fastify's
 * lifecycle completes (RequestLogController), router errors that never enter the lifecycle, and
 * answers written straight to a socket (http/error-answer.ts writes those two).
 */
import type { Writable } from 'node:stream';
import type { Config } from '@ironclad/config/load';
import {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import pino from 'pino';

/** The field that carries the request id in every line about a request (and the answer's X-Request-Id). */
export const REQUEST_ID_LOG_LABEL = 'request_id';

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

/**
 * The request line: no headers, no query string, no body, so nothing a client sends can put a secret
 * in the log through it.
 */
export interface RequestLine {
  /** Only for answers made outside a Fastify request, whose logger is not bound to an id. */
  request_id?: string;
  method: string | null;
  /** The route pattern (`/api/v1/tasks/:id/`), never the raw path with its ids; null when no route matched. */
  route: string | null;
  /** The path without its query string; null when it could not be parsed. */
  path: string | null;
  status: number;
  ms: number;
  /** The client went away before the answer was complete. */
  aborted?: true;
  /** Why an answer was written straight to the socket (Node's error code, `expectation`, `connect`). */
  reason?: string;
}

export function writeRequestLine(log: FastifyBaseLogger, line: RequestLine): void {
  log.info(line, 'request');
}

/** One line per request (Fastify's default is two), with the route, status and time. */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: REQUEST_ID_LOG_LABEL });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    writeRequestLine(reply.log, {
      method: request.method,
      route: request.routeOptions.url ?? null,
      path: request.url.split('?', 1)[0] ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(error ? { aborted: true as const } : {}),
    });
  }
}

export function loggerOptions(config: Config, stream?: Writable): FastifyServerOptions['logger'] {
  return {
    level: config.values.LOG_LEVEL,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'ironclad-tasks', pid: process.pid },
    // stdout is written in 4 KiB batches (at least every 250 ms, and in full at exit): one write
    // syscall per log line cost about a tenth of the throughput under load (docs/performance.md).
    stream: stream ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
  };
}
