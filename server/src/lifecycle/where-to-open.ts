/**
 * The start-up line a person reads first: where to open the app. And the one mistake that makes that address answer
 * 400 (an ALLOWED_HOSTS copied from the production example, naming only the real domain, on a server that listens on
 * this machine only): said at start, in words, instead of as `Invalid Host header` in a browser.
 */
import { createHostMatcher } from '@ironclad/config/hosts';

export interface OpenHint {
  level: 'info' | 'warn';
  message: string;
  url?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** `host` and `port` as the server listens; `allowedHosts` as configured; `port` the real one (PORT=0 picks one). */
export function whereToOpen(host: string, port: number, allowedHosts: readonly string[]): OpenHint | undefined {
  // Bound to every interface (a container, a VM): it is reached by its public name through nginx, not from here.
  if (!LOOPBACK.has(host)) return undefined;
  const allowed = createHostMatcher(allowedHosts);
  const name = ['localhost', '127.0.0.1', '[::1]'].find((candidate) => allowed(candidate));
  if (name) {
    const url = `http://${name}:${port}/`;
    return { level: 'info', message: `open ${url} in a browser`, url };
  }
  return {
    level: 'warn',
    message: `listening on this machine only, but ALLOWED_HOSTS (${allowedHosts.join(',')}) allows neither localhost nor 127.0.0.1: a browser here gets 400 "Invalid Host header". Add localhost to ALLOWED_HOSTS, or start from .env.local.example`,
  };
}
