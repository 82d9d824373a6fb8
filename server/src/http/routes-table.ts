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

function toRegExp(url: string): RegExp {
  const trimmed = url.length > 1 ? url.replace(/\/+$/, '') : url;
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
      const key = route.url.replace(/\/+$/, '') || '/';
      const entry = this.entries.get(key) ?? { pattern: toRegExp(route.url), methods: new Set<string>() };
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
