/**
 * Pipeline step, after the API's routes: serves the built web client (client/dist) in single-process
 * mode. In production nginx serves the same files with the same headers (deploy/nginx), and the API
 * container does not carry them.
 *
 * Only two kinds of path are pages: `/` (the app; its views live in the query string and in state, so there
 * is no client-side route to fall back to) and the content-hashed files under `/assets/`. Any other path,
 * under `/api/` or not, is still the API's JSON 404.
 *
 * Assets are sent precompressed when the client accepts it: the build writes `.br` and `.gz` siblings
 * (client/build/precompress.ts) and @fastify/static picks one by Accept-Encoding, with Content-Encoding, the
 * original's Content-Type and `Vary: Accept-Encoding` (on the identity answer too, for shared caches). Nothing is
 * compressed on the fly, and API answers never are (BREACH: they carry tokens next to reflected input).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { helmetHeaders } from '@ironclad/config/headers';
import { PAGE_CSP } from '@ironclad/config/page-csp';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

/** Headers only HTML documents need, computed once by helmet as for the API (security-headers.ts). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...helmetHeaders({
    contentSecurityPolicy: false,
    strictTransportSecurity: false,
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  }),
  'content-security-policy': PAGE_CSP,
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
});

/** True when `dir` holds a built client. */
export function isWebRoot(dir: string | undefined): dir is string {
  return dir !== undefined && existsSync(join(dir, 'index.html'));
}

export interface WebClientOptions {
  /** A folder for which isWebRoot holds. */
  webRoot: string;
}

export const webClient = fp<WebClientOptions>(
  async (app, { webRoot }) => {
    // Read once: it is small, and a deploy replaces the process anyway.
    const indexHtml = readFileSync(join(webRoot, 'index.html'));
    const sendIndex = async (_request: unknown, reply: FastifyReply) => {
      // Revalidated on every visit, so a deploy's new asset names are picked up at once.
      reply.headers({ ...PAGE_HEADERS, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8');
      return indexHtml;
    };
    app.get('/', { schema: { hide: true } }, sendIndex);

    await app.register(fastifyStatic, {
      root: join(webRoot, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      list: false,
      dotfiles: 'ignore',
      // File names carry a content hash: a changed file is a new URL, so a year-long cache is safe.
      maxAge: '365d',
      immutable: true,
      // Encoded siblings of an asset, chosen by Accept-Encoding; when none fits, the file itself.
      preCompressed: true,
      // Source maps are not published (the build makes none; this is the second lock). The .br and .gz files are
      // encodings of an asset, not assets: reached by negotiation only (allowedPath sees the asset's own path).
      allowedPath: (pathName) => !/\.(?:map|br|gz)$/.test(pathName),
      setHeaders: (reply) => {
        reply.headers(PAGE_HEADERS);
      },
      schemaHide: true,
    });
  },
  { name: 'web-client', fastify: '5.x' },
);
