/**
 * Pipeline step: the Host check (ALLOWED_HOSTS, with Django's semantics: @ironclad/config/hosts). It
 * runs before any route or database work, so nothing answers for a name we do not serve (DNS
 * rebinding, poisoned cache keys). A missing Host is refused here too, in the same JSON as a wrong one
 * (Fastify is told not to refuse it first: `requireHostHeader: false`).
 */
import { createHostMatcher } from '@ironclad/config/hosts';
import fp from 'fastify-plugin';
import { HttpError } from '../errors.js';

export interface HostAllowlistOptions {
  /** ALLOWED_HOSTS. */
  allowedHosts: readonly string[];
}

/** Paths exempt from the Host check: container and load-balancer probes use IPs as Host, and they reveal nothing. */
const PROBE_PATH = /^\/(?:healthz|readyz)\/?(?:\?.*)?$/;
const isProbe = (url: string) => PROBE_PATH.test(url);

/**
 * A request line may name the host itself (`GET http://other.example/ HTTP/1.1`); HTTP says that
 * authority then overrides the Host header, so it must pass the allowlist too.
 */
function absoluteTargetAllowed(target: string | undefined, allowed: (host: string | undefined) => boolean): boolean {
  if (!target || target.charCodeAt(0) === 47 /* "/" */ || target === '*') return true;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (!match) return false;
  const authority = (match[1] as string).replace(/^.*@/, '');
  return allowed(authority);
}

export const hostAllowlist = fp<HostAllowlistOptions>(
  async (app, { allowedHosts }) => {
    const hostAllowed = createHostMatcher(allowedHosts);
    app.addHook('onRequest', async (request) => {
      if (isProbe(request.url)) return;
      // request.host honours X-Forwarded-Host only from an address TRUST_PROXY trusts.
      if (!hostAllowed(request.host || undefined) || !absoluteTargetAllowed(request.raw.url, hostAllowed)) {
        throw new HttpError(400, 'Invalid Host header.');
      }
    });
  },
  { name: 'host-allowlist', fastify: '5.x' },
);
