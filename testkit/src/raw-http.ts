/**
 * Raw loopback sockets for what app.inject cannot send (bad framing, slow senders, oversized
 * headers), and the text that must never reach a client. Shared by the hostile-input suites.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { expect } from 'vitest';

/** Text that must never reach a client: stacks, paths, SQL, library names. */
export const LEAKS: RegExp[] = [
  /\n\s+at /,
  /\bat \S+ \(/,
  /:\d+:\d+\)?/,
  /\/work\b/,
  /\/src\//,
  /node_modules/,
  /\bSELECT\b/,
  /\bINSERT\b/,
  /Failed query/i,
  /fastify/i,
  /drizzle/i,
  /pglite/i,
  /postgres/i,
  /\bajv\b/i,
  /typebox/i,
  /Error:/,
];

/** An answer from app.inject or a raw socket. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Asserts a clean JSON error answer (status, content type, an `error` string, no leak) and returns its body. */
export function expectError(response: Answer, status: number, body?: Record<string, unknown>): Record<string, unknown> {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(status);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  const parsed = JSON.parse(response.body) as Record<string, unknown>;
  expect(parsed).toBeTypeOf('object');
  expect(parsed).not.toBeNull();
  expect(typeof parsed.error).toBe('string');
  if (body) expect(parsed).toEqual(body);
  for (const leak of LEAKS) expect(response.body, `leak ${leak}`).not.toMatch(leak);
  return parsed;
}

export interface RawAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** Whether anything came back before the socket closed. */
  answered: boolean;
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const end = body.indexOf('\r\n', offset);
    if (end < 0) break;
    const size = Number.parseInt(body.subarray(offset, end).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(end + 2, end + 2 + size));
    offset = end + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the first response in what a socket received. */
export function parseRaw(data: Buffer): RawAnswer {
  const split = data.indexOf('\r\n\r\n');
  if (data.length === 0 || split < 0) return { statusCode: 0, headers: {}, body: '', answered: data.length > 0 };
  const head = data.subarray(0, split).toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(head.shift() ?? '');
  const headers: Record<string, string> = {};
  for (const line of head) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = data.subarray(split + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = decodeChunked(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { statusCode: match ? Number(match[1]) : 0, headers, body: body.toString('utf8'), answered: true };
}

export type Step = string | Buffer | { wait: number } | 'half-close';

/**
 * Writes the steps (bytes, pauses, a half-close) to a fresh loopback connection and collects the
 * answer: until the server closes the connection, a complete response (by its Content-Length) has
 * arrived, or the time limit passes. Only the first response is parsed.
 */
export function rawExchange(port: number, steps: Step | Step[], timeoutMs = 5_000): Promise<RawAnswer> {
  return rawExchangeWith({ port }, steps, timeoutMs);
}

export interface RawTarget {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The local address to connect from (any 127.0.0.0/8 address works on Linux loopback). */
  localAddress?: string;
  /** Speak TLS: the SNI to send and the CA to trust. */
  tls?: { servername: string; ca: string };
}

/** rawExchange to any loopback target: from a chosen local address, over TLS when asked. */
export function rawExchangeWith(target: RawTarget, steps: Step | Step[], timeoutMs = 5_000): Promise<RawAnswer> {
  const plan = Array.isArray(steps) ? steps : [steps];
  return new Promise((resolve, reject) => {
    const tcp = connect({
      port: target.port,
      host: target.host ?? '127.0.0.1',
      allowHalfOpen: true,
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    });
    const socket = target.tls ? tlsConnect({ socket: tcp, servername: target.tls.servername, ca: target.tls.ca }) : tcp;
    const ready = target.tls ? 'secureConnect' : 'connect';
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(all.subarray(0, split).toString('latin1'));
      if (length && all.length >= split + 4 + Number(length[1])) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer is the server closing hard: keep what came.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish();
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on(ready, async () => {
      for (const step of plan) {
        if (done || socket.destroyed) return;
        if (step === 'half-close') socket.end();
        else if (typeof step === 'object' && !Buffer.isBuffer(step)) {
          await new Promise((r) => setTimeout(r, step.wait));
        } else socket.write(step);
      }
    });
  });
}
