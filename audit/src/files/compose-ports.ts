/**
 * The ports a compose service publishes, in every spelling the compose specification accepts:
 * short syntax `"5432"`, `"5433:5432"`, `"127.0.0.1:5433:5432"`, `"127.0.0.1::5432"`, `"[::1]:5433:5432"`,
 * `"::1:5433:5432"`, ranges `"5432-5433:5432-5433"`, `/tcp` and `/udp` suffixes, YAML numbers, interpolated parts
 * (`"${DB_PORT:-5432}:5432"`), and the long syntax `{ target, published, host_ip, protocol }`.
 */
import { interpolate } from './compose-env.js';

export interface PublishedPort {
  /** As written, for the message (a port mapping holds no secret). */
  text: string;
  /** The container ports it publishes (a range is expanded up to a bound), empty when unreadable. */
  targets: number[];
  /** The host ports, when written and resolvable. */
  published: number[];
  /** Bound to a loopback address only. */
  loopback: boolean;
}

const MAX_RANGE = 1024;

/** Splits at `:` outside `[...]` and `${...}`. */
function splitColons(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let bracket = 0;
  let brace = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char === '[') bracket += 1;
    else if (char === ']') bracket = Math.max(0, bracket - 1);
    else if (char === '$' && text[i + 1] === '{') {
      brace += 1;
      current += '${';
      i += 1;
      continue;
    } else if (char === '}') brace = Math.max(0, brace - 1);
    if (char === ':' && bracket === 0 && brace === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function portsOf(text: string): number[] {
  const [from, to = from] = text.trim().split('-');
  const start = Number(from);
  const end = Number(to);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) return [];
  const out: number[] = [];
  for (let port = start; port <= Math.min(end, start + MAX_RANGE); port += 1) out.push(port);
  return out;
}

export function isLoopback(ip: string): boolean {
  const host = ip.trim().toLowerCase();
  return host.startsWith('127.') || host === '[::1]' || host === '::1' || host === 'localhost';
}

function withoutProtocol(text: string): string {
  const slash = text.lastIndexOf('/');
  return slash >= 0 && !text.slice(slash).includes('}') ? text.slice(0, slash) : text;
}

export function publishedPorts(ports: unknown, vars: ReadonlyMap<string, string>): PublishedPort[] {
  if (!Array.isArray(ports)) return [];
  const resolve = (text: string) => interpolate(text, vars).value;
  return ports.map((entry): PublishedPort => {
    if (entry && typeof entry === 'object') {
      const long = entry as { host_ip?: unknown; published?: unknown; target?: unknown };
      const ip = long.host_ip === undefined ? '' : String(long.host_ip);
      const published = long.published === undefined ? '' : String(long.published);
      const resolvedIp = resolve(ip) ?? '';
      return {
        text: `${ip ? `${ip}:` : ''}${published}:${String(long.target)}`,
        targets: portsOf(resolve(String(long.target)) ?? ''),
        published: portsOf(resolve(published) ?? ''),
        loopback: isLoopback(resolvedIp),
      };
    }
    const text = String(entry);
    const parts = splitColons(withoutProtocol(text.trim()));
    const target = parts.at(-1) ?? '';
    // Three parts or more: the address comes first (an unbracketed IPv6 address has colons of its own).
    const ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
    const published = parts.length >= 2 ? (parts.at(-2) ?? '') : '';
    const resolvedIp = resolve(ip) ?? '';
    return {
      text,
      targets: portsOf(resolve(target) ?? ''),
      published: portsOf(resolve(published) ?? ''),
      loopback: isLoopback(resolvedIp),
    };
  });
}
