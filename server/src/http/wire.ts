/**
 * Answers that Node's HTTP server would otherwise write itself (a bare 400 or 431, a bare 417, a
 * dropped CONNECT), outside any Fastify request: they become our JSON with our headers and a request
 * line, written by error-answer.ts. Hand-written: this is Node http server plumbing no plugin covers.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { logRawAnswer, rawErrorAnswer, renderRawAnswer } from './error-answer.js';

/** For Fastify's clientErrorHandler option: malformed HTTP, oversized headers, timeouts. */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'Request headers are too large.' : status === 408 ? 'Request timeout.' : 'Malformed HTTP request.';
  const answer = rawErrorAnswer(status, message);
  socket.end(renderRawAnswer(answer));
  logRawAnswer(this.log, answer, null, error.code ?? 'client error');
}

/** Node answers an unknown `Expect` with a bare 417 and drops CONNECT; answer both in JSON. */
export function attachServerGuards(server: Server, log: FastifyBaseLogger): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const answer = rawErrorAnswer(417, 'Unsupported Expect header; only 100-continue is understood.');
    // Node still owns this response (and writes its own framing); only the head and body are ours.
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
    logRawAnswer(log, answer, request.method ?? null, 'expectation');
  });
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    const answer = rawErrorAnswer(405, 'Method CONNECT is not allowed.');
    socket.on('error', () => socket.destroy());
    socket.end(renderRawAnswer(answer));
    logRawAnswer(log, answer, request.method ?? null, 'connect');
  });
}
