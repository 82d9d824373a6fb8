/**
 * Pipeline step: the framing rules Node leaves to the application. One Host, one Authorization, one
 * Content-Type (Node would silently keep the first of each, and a proxy may have read the other), no
 * body encodings, HTTP/1.x only. Runs just before the Host check, which would otherwise report a
 * repeated Host in its own words anyway.
 */
import type { IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';
import { HttpError } from '../errors.js';

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

export const wireFraming = fp(
  async (app) => {
    app.addHook('onRequest', async (request) => {
      const problem = framingProblem(request.raw);
      if (problem) throw problem;
    });
  },
  { name: 'wire-framing', fastify: '5.x' },
);
