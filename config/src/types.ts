/**
 * Building blocks for the settings schema. A setting knows its name, how to
 * parse its raw string, its default, whether it is a secret and how to
 * document itself. Everything else (loader, docs, .env.example, the deploy
 * audit) reads these objects instead of keeping its own list.
 */

export type Group =
  | 'Core'
  | 'Database'
  | 'HTTP'
  | 'Sessions and rate limits'
  | 'Email and accounts'
  | 'Operations'
  | 'Deployment';

export class ParseError extends Error {
  /**
   * Whether the loader may repeat the raw value after the message (`(got "...")`). It does for every setting that is
   * not a secret, which is what makes a typo easy to see; a parser turns it off for a value that may hold a credential
   * or a line break although its setting is not a secret (a PUBLIC_URL written with user:password@).
   */
  readonly echo: boolean;

  constructor(message: string, options: { echo?: boolean } = {}) {
    super(message);
    this.echo = options.echo ?? true;
  }
}

export interface Setting<T> {
  readonly group: Group;
  /** One or two sentences for the docs table; plain Markdown. */
  readonly doc: string;
  /** Raw default as it would be written in the environment; undefined = unset. */
  readonly default?: string;
  /** Value shown in .env.example (never a real secret). Falls back to the default. */
  readonly example?: string;
  /** Secret values are never printed, logged or echoed in errors. */
  readonly secret?: boolean;
  /** Accept `<NAME>_FILE` naming a file that holds the value (Docker secrets). */
  readonly file?: boolean;
  /** Shown commented out in .env.example instead of set. */
  readonly exampleCommented?: boolean;
  readonly parse: (raw: string) => T;
}

export function csv(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

export function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ParseError('must be true or false');
}

export function parseInteger(min: number, max: number) {
  return (raw: string): number => {
    const value = raw.trim();
    if (!/^[0-9]+$/.test(value)) throw new ParseError(`must be a whole number from ${min} to ${max}`);
    const number = Number(value);
    if (number < min || number > max) throw new ParseError(`must be a whole number from ${min} to ${max}`);
    return number;
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "15m", "12h", "7d"; a bare number means seconds. Returns milliseconds. */
export function parseDuration(min: number, max: number) {
  return (raw: string): number => {
    const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(raw.trim().toLowerCase());
    const hint = 'must be a duration such as 30s, 15m, 12h or 7d';
    if (!match) throw new ParseError(hint);
    const ms = Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000);
    if (ms < min || ms > max) throw new ParseError(`${hint}, from ${formatDuration(min)} to ${formatDuration(max)}`);
    return ms;
  };
}

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface RateLimit {
  max: number;
  windowMs: number;
}

/** "10/15m": at most 10 attempts per 15 minutes. */
export function parseRateLimit(raw: string): RateLimit {
  const [count, window, ...rest] = raw.trim().split('/');
  if (count === undefined || window === undefined || rest.length > 0 || !/^[0-9]+$/.test(count)) {
    throw new ParseError('must look like 10/15m (attempts per window)');
  }
  const max = Number(count);
  if (max < 1 || max > 1_000_000) throw new ParseError('attempts must be from 1 to 1000000');
  return { max, windowMs: parseDuration(1000, 86_400_000)(window) };
}

export function parseEnum<const T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const value = raw.trim().toLowerCase();
    const found = values.find((candidate) => candidate === value);
    if (found === undefined) throw new ParseError(`must be one of: ${values.join(', ')}`);
    return found;
  };
}

export function parseText(raw: string): string {
  return raw;
}
