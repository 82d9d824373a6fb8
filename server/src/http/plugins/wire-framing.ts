/**
 * Pipeline step: the framing rules Node leaves to the application. One Host, one Authorization, one
 * Content-Type (Node would silently keep the first of each, and a proxy may have read the other), no
 * body encodings, HTTP/1.x only, and a query string of percent-encoded UTF-8. Runs just before the Host
 * check, which would otherwise report a repeated Host in its own words anyway.
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

/**
 * The web client's pages (web-client.ts): the server never reads their query string (the page's view lives there and
 * the browser reads it, leniently), so a hand-typed `/?q=100%` still opens the app rather than a JSON 400.
 */
function isPage(path: string): boolean {
  return path === '/' || path.startsWith('/assets/');
}

export const MALFORMED_QUERY_MESSAGE =
  'Malformed query string: it must be percent-encoded UTF-8 (a lone % or %FF or an encoded surrogate is not).';

/**
 * Whether the query string decodes to text. Fastify's parser keeps a bad escape as it is (`%FF` stays the three
 * characters), so without this a search for `%FF` would silently look for other text, where a bad body is a 400.
 * decodeURIComponent is the strict decoder: it throws on a malformed escape, on bytes that are not UTF-8 (overlong
 * forms included) and on encoded surrogates (`%ED%A0%80`). Raw bytes above 0x7F never get here: Node's parser refuses
 * them in the request line (test/wire.test.ts).
 */
function queryIsText(url: string): boolean {
  const start = url.indexOf('?');
  if (start === -1 || isPage(url.slice(0, start))) return true;
  try {
    decodeURIComponent(url.slice(start + 1));
    return true;
  } catch {
    return false;
  }
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
  if (!queryIsText(request.url ?? '')) return new HttpError(400, MALFORMED_QUERY_MESSAGE);
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
