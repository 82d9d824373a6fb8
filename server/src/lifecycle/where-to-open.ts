/**
 * The start-up line a person reads first, and the last one of the start-up log: where to open the app. And the one mistake that makes that address answer
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

/**
 * The one plain-text line (not JSON: it is for the person who typed `npm start`) that ends the start-up log of a
 * server on this machine. Printed once: by the process itself, or with WEB_CONCURRENCY > 1 by the supervisor once every
 * worker listens (cluster.ts).
 */
export function readyLine(hint: OpenHint & { level: 'info' }): string {
  return `Ironclad Tasks is ready: ${hint.message}\n`;
}

/** Writes `readyLine` after everything the batched JSON log still holds, so that it really is the last line. */
export async function announce(hint: OpenHint | undefined, log: LogWithFlush): Promise<void> {
  if (!hint) return;
  if (hint.level === 'warn') {
    log.warn(hint.message);
    await flushed(log);
    return;
  }
  await flushed(log);
  process.stdout.write(readyLine({ ...hint, level: 'info' }));
}

/** Fastify's logger as typed (pino's `flush` is not in FastifyBaseLogger's type, though pino always has it). */
export interface LogWithFlush {
  warn: (message: string) => void;
  flush?: (done?: (error?: Error) => void) => void;
}

/**
 * Resolves once the log's buffered lines are written (pino's destination batches them: request-log.ts). Flushed
 * twice: a flush asked while a periodic write is in flight is answered when that write ends, and sonic-boom 4 then
 * keeps whatever was added meanwhile, if shorter than minLength, for later (a worker's "Server listening" line came
 * after the supervisor's ready line in one CI-like run); the second flush, with nothing in flight, writes it.
 */
export async function flushed(log: LogWithFlush): Promise<void> {
  const { flush } = log;
  if (typeof flush !== 'function') return;
  for (let round = 0; round < 2; round += 1) await new Promise<void>((resolve) => flush.call(log, () => resolve()));
}
