/**
 * The HTTP wire, below routes: answers that Node would otherwise write itself (bare 400, 417,
 * a dropped CONNECT) become our JSON with our headers and a log line, and the framing rules that
 * Node leaves to the application (one Host, one Authorization, one Content-Type; no body encodings;
 * UTF-8 only) are enforced. Hand-written: this is Node http server plumbing no plugin covers.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';
import { BASELINE_HEADERS } from './security-headers.js';

function rawAnswer(_status: number, message: string, extraHeaders: Record<string, string> = {}) {
  const body = JSON.stringify({ error: message });
  const requestId = randomUUID();
  const headers = {
    ...BASELINE_HEADERS,
    'x-request-id': requestId,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
    ...extraHeaders,
  };
  return { requestId, body, headers };
}

function logRaw(log: FastifyBaseLogger, requestId: string, status: number, method: string | null, reason: string) {
  log.info({ request_id: requestId, method, route: null, path: null, status, ms: 0, reason }, 'request');
}

/** For Fastify's clientErrorHandler option: malformed HTTP, oversized headers, timeouts. */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'Request headers are too large.' : status === 408 ? 'Request timeout.' : 'Malformed HTTP request.';
  const { requestId, body, headers } = rawAnswer(status, message);
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
  logRaw(this.log, requestId, status, null, error.code ?? 'client error');
}

/** Node answers an unknown `Expect` with a bare 417 and drops CONNECT; answer both in JSON. */
export function attachServerGuards(server: Server, log: FastifyBaseLogger): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const { requestId, body, headers } = rawAnswer(417, 'Unsupported Expect header; only 100-continue is understood.');
    response.writeHead(417, headers);
    response.end(body);
    logRaw(log, requestId, 417, request.method ?? null, 'expectation');
  });
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    const { requestId, body, headers } = rawAnswer(405, 'Method CONNECT is not allowed.');
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\n${head}\r\n${body}`);
    logRaw(log, requestId, 405, request.method ?? null, 'connect');
  });
}

/** Headers that must appear at most once: Node would silently keep the first. */
const SINGLETONS = new Set(['host', 'authorization', 'content-type']);

function repeatedSingleton(rawHeaders: string[]): string | undefined {
  let seen: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!SINGLETONS.has(name)) continue;
    seen ??= new Set();
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/**
 * The framing checks of every request, run first (before the Host check, which reports a repeated
 * Host in its own words).
 */
export function framingProblem(request: IncomingMessage): HttpError | undefined {
  if (request.httpVersionMajor !== 1) return new HttpError(505, 'HTTP version not supported.');
  const repeated = repeatedSingleton(request.rawHeaders);
  if (repeated === 'host') return new HttpError(400, 'Invalid Host header.');
  if (repeated) return new HttpError(400, `The ${repeated} header may be sent only once.`);
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new HttpError(415, 'Unsupported Content-Encoding: send the JSON body uncompressed.');
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON bodies must be valid UTF-8: Fastify's parser would turn invalid bytes into U+FFFD and store
 * them. Decoding is strict here; the parsing (with prototype-poisoning protection) stays Fastify's.
 */
export function registerStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new HttpError(400, 'Request body is not valid UTF-8.'), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/**
 * A deadline for receiving the body. Node's own request timeout stops watching once the headers are
 * in, so a client trickling one byte every few seconds could hold a connection (and a parser)
 * forever. Past the deadline the request gets 408 and the connection is closed.
 */
export function registerBodyDeadline(app: FastifyInstance, timeoutMs: number): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    const hasBody = raw.headers['content-length'] !== undefined || raw.headers['transfer-encoding'] !== undefined;
    if (!hasBody || raw.complete) return done();
    const timer = setTimeout(() => {
      if (raw.complete) return;
      // Fastify's body reader listens for errors on the stream and answers with our error handler.
      if (raw.listenerCount('error') > 0) {
        raw.emit('error', new HttpError(408, 'Request body took too long to arrive.', {}, { connection: 'close' }));
      } else raw.destroy();
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
    done();
  });
}
