/**
 * Remembers which methods each registered path accepts, so that a request
 * that matches a path but not a method gets 405 with `Allow` instead of
 * Fastify's default 404. Hand-written: Fastify has no built-in 405.
 */
import type { FastifyInstance } from 'fastify';

interface Entry {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * `url` without its trailing slashes. A loop, not `replace(/\/+$/, '')`: that regex is quadratic on a long run of
 * slashes followed by anything else (it retries from every slash), and test/regex-everywhere.test.ts refuses it.
 */
export function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end -= 1;
  return url.slice(0, end);
}

/** The pattern a route URL is matched by: literal segments escaped, `:param` segments one `[^/]+` each. */
export function routePattern(url: string): RegExp {
  const trimmed = url.length > 1 ? withoutTrailingSlashes(url) : url;
  const source = trimmed
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

export class RoutesTable {
  private readonly entries = new Map<string, Entry>();

  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      if (route.url.includes('*')) return; // the CORS preflight catch-all
      const key = withoutTrailingSlashes(route.url) || '/';
      const entry = this.entries.get(key) ?? { pattern: routePattern(route.url), methods: new Set<string>() };
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) entry.methods.add(method);
      this.entries.set(key, entry);
    });
  }

  /** The methods allowed on this path, or undefined when no route has the path. */
  allowed(path: string): string[] | undefined {
    for (const entry of this.entries.values()) {
      if (entry.pattern.test(path)) return [...entry.methods].sort();
    }
    return undefined;
  }
}
