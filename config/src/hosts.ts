/**
 * Host header allowlist with Django's ALLOWED_HOSTS semantics, plus a strict
 * hostname grammar. Hand-written: no maintained Fastify plugin implements
 * these semantics (leading-dot subdomain patterns, trailing dot, IPv6).
 */
import { isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/**
 * A port as a Host header may carry one: 1 to 65535 in plain decimal, no sign, no leading zero. RFC 3986 allows
 * any run of digits, even none, but no client sends `:`, `:0`, `:00080` or `:99999`, and parsers disagree about
 * them (leading zeros read as octal or dropped, large numbers wrapped), which is what Host-confusion tricks rely on:
 * refused, like any other malformed Host (docs/configuration.md, ALLOWED_HOSTS).
 */
export function isHostPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= 65_535;
}

/**
 * Splits a Host header into its lower-cased domain (trailing dot stripped,
 * IPv6 kept in brackets) and drops the port. Returns undefined when the
 * header does not follow the grammar (a bad port included), so it never reaches the matcher.
 */
export function domainOfHost(header: string): string | undefined {
  const host = header.toLowerCase();
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    name = host.slice(0, end + 1);
    const rest = host.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
  }
  if (port !== undefined && !isHostPort(port)) return undefined;
  if (name.startsWith('[')) return isIPv6(name.slice(1, -1)) ? name : undefined;
  const domain = name.endsWith('.') ? name.slice(0, -1) : name;
  return isHostname(domain) ? domain : undefined;
}

/** Why an ALLOWED_HOSTS entry is unusable, or undefined when it is fine. */
export function hostPatternProblem(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  const lower = pattern.toLowerCase();
  if (lower.startsWith('[')) {
    return lower.endsWith(']') && isIPv6(lower.slice(1, -1))
      ? undefined
      : `"${pattern}" is not a bracketed IPv6 address`;
  }
  if (lower.includes(':')) return `"${pattern}" carries a port or scheme; list host names only`;
  const name = lower.startsWith('.') ? lower.slice(1) : lower;
  return isHostname(name.endsWith('.') ? name.slice(0, -1) : name)
    ? undefined
    : `"${pattern}" is not a valid host name`;
}

export type HostMatcher = (hostHeader: string | undefined) => boolean;

export function createHostMatcher(patterns: readonly string[]): HostMatcher {
  if (patterns.includes('*')) {
    return (header) => header !== undefined && domainOfHost(header) !== undefined;
  }
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of patterns) {
    let pattern = raw.toLowerCase();
    if (pattern.endsWith('.') && pattern.length > 1) pattern = pattern.slice(0, -1);
    if (pattern.startsWith('.')) {
      suffixes.push(pattern);
      exact.add(pattern.slice(1));
    } else {
      exact.add(pattern);
    }
  }
  // Most requests carry the same few Host values: remember verdicts, bounded.
  const seen = new Map<string, boolean>();
  return (header) => {
    if (header === undefined) return false;
    const cached = seen.get(header);
    if (cached !== undefined) return cached;
    const domain = domainOfHost(header);
    const ok = domain !== undefined && (exact.has(domain) || suffixes.some((suffix) => domain.endsWith(suffix)));
    if (seen.size >= 1000) seen.clear();
    seen.set(header, ok);
    return ok;
  };
}
