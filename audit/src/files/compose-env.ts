/**
 * A compose service's environment as the container would get it: `env_file:` files in order (later over earlier),
 * then `environment:` over them, with compose's `${VAR}` interpolation resolved from the project `.env` beside the
 * compose file and from the defaults written in the file. Each variable keeps where it was set (file and line) and
 * whether the compose setup itself chose it ("owned"): a value that only repeats the repository's root `.env` under a
 * name the configuration audit already reads is that audit's finding, not this one's.
 *
 * Scanners here are hand-written loops, not regexes: they read text chosen by the audited repository.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { parseEnv } from 'node:util';

/** What a `${...}` resolution drew on. */
export interface Resolution {
  /** Undefined when some variable could not be resolved (compose would substitute nothing: treated as unset). */
  value: string | undefined;
  /** Literal text or a default written in the compose file (or the env_file) took part. */
  fromText: boolean;
  /** A variable of the project `.env` took part. */
  fromProjectEnv: boolean;
}

/** The project `.env` used for interpolation, and whether it is the repository's root `.env`. */
export interface ProjectEnv {
  vars: ReadonlyMap<string, string>;
  /** Repo-relative path of the `.env`, when there is one on disk. */
  path: string | undefined;
  isRoot: boolean;
}

/** Nested `${A:-${B:-...}}` deeper than this is not resolved: bounded work on hostile text. */
const MAX_DEPTH = 8;

function isNameStart(char: string | undefined): boolean {
  return char !== undefined && ((char >= 'A' && char <= 'Z') || (char >= 'a' && char <= 'z') || char === '_');
}
function isNameChar(char: string | undefined): boolean {
  return isNameStart(char) || (char !== undefined && char >= '0' && char <= '9');
}

/** Index of the `}` closing the `${` whose body starts at `from`, or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Compose interpolation (https://docs.docker.com/reference/compose-file/interpolation/): `$$` is a literal `$`;
 * `${VAR}`, `$VAR`; `${VAR:-default}` / `${VAR-default}`; `${VAR:?err}` / `${VAR?err}`; `${VAR:+alt}` / `${VAR+alt}`.
 */
export function interpolate(text: string, vars: ReadonlyMap<string, string>, depth = 0): Resolution {
  const result: Resolution = { value: '', fromText: false, fromProjectEnv: false };
  let out = '';
  let unresolved = false;
  const use = (inner: Resolution) => {
    result.fromText ||= inner.fromText;
    result.fromProjectEnv ||= inner.fromProjectEnv;
    if (inner.value === undefined) unresolved = true;
    else out += inner.value;
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char !== '$') {
      out += char;
      result.fromText = true;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      result.fromText = true;
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end === -1 || depth >= MAX_DEPTH) {
        // Unterminated (compose refuses the file) or too deep: nothing is known about the value.
        unresolved = true;
        break;
      }
      use(resolveBraced(text.slice(i + 2, end), vars, depth));
      i = end + 1;
    } else if (isNameStart(next)) {
      let j = i + 1;
      while (isNameChar(text[j])) j += 1;
      const value = vars.get(text.slice(i + 1, j));
      use({ value, fromText: false, fromProjectEnv: value !== undefined });
      i = j;
    } else {
      out += '$';
      result.fromText = true;
      i += 1;
    }
  }
  result.value = unresolved ? undefined : out;
  return result;
}

function resolveBraced(body: string, vars: ReadonlyMap<string, string>, depth: number): Resolution {
  let j = 0;
  while (isNameChar(body[j])) j += 1;
  const name = body.slice(0, j);
  const value = vars.get(name);
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  const own: Resolution = { value, fromText: false, fromProjectEnv: set };
  const colon = body[j] === ':';
  const op = body[colon ? j + 1 : j];
  const arg = body.slice(colon ? j + 2 : j + 1);
  const present = colon ? nonEmpty : set;
  if (op === undefined) return own;
  if (op === '-') {
    if (present) return own;
    const fallback = interpolate(arg, vars, depth + 1);
    return { ...fallback, fromText: fallback.fromText || arg === '' };
  }
  if (op === '?') return present ? own : { value: undefined, fromText: false, fromProjectEnv: false };
  if (op === '+') {
    if (!present) return { value: '', fromText: false, fromProjectEnv: false };
    return interpolate(arg, vars, depth + 1);
  }
  // Not a form compose knows: it refuses the file; nothing is known.
  return { value: undefined, fromText: false, fromProjectEnv: false };
}

/** The text of an interpolated value as the compose file alone writes it: every variable unset, defaults used. */
export function writtenPart(text: string): string {
  return interpolate(text, new Map()).value ?? literalOutsideInterpolation(text);
}

/** Literal text outside `${...}` and `$VAR` (for a value whose variables have no default). */
function literalOutsideInterpolation(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '$' && text[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (text[i] === '$' && text[i + 1] === '{') {
      const end = closingBrace(text, i + 2);
      if (end === -1) break;
      i = end + 1;
    } else if (text[i] === '$' && isNameStart(text[i + 1])) {
      i += 1;
      while (isNameChar(text[i])) i += 1;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** `KEY=VALUE` files (env_file, .env) as compose reads them; undefined when unreadable or too big. */
export function readEnvFile(
  fullPath: string,
  maxBytes: number,
): { vars: Map<string, string>; text: string } | undefined {
  try {
    if (!existsSync(fullPath) || !statSync(fullPath).isFile() || statSync(fullPath).size > maxBytes) return undefined;
    const text = readFileSync(fullPath, 'utf8');
    const parsed = parseEnv(text);
    const vars = new Map<string, string>();
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') vars.set(key, value);
    return { vars, text };
  } catch {
    return undefined;
  }
}

/** 1-based line where an env file sets `name` (`NAME=`, `export NAME=`), or undefined. */
export function lineOfKey(text: string, name: string): number | undefined {
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    let line = (lines[index] ?? '').trimStart();
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    if (!line.startsWith(name)) continue;
    const after = line.slice(name.length).trimStart();
    if (after.startsWith('=') || after.startsWith(':')) return index + 1;
  }
  return undefined;
}

/** One variable of a service's effective environment. */
export interface EnvEntry {
  name: string;
  /** Undefined: unset, empty, or not resolvable from what is on disk. */
  value: string | undefined;
  /** Set by the compose setup itself (see the file comment), not merely repeated from the root `.env`. */
  owned: boolean;
  /** `file:line` where it is set. */
  where: string;
  /** How it got its value, for the message. */
  how: string;
}

export interface EnvFileRef {
  /** Repo-relative, normalised. */
  path: string;
  required: boolean;
}

/** The `env_file:` entries of a service, resolved against the compose file's folder (all forms of the spec). */
export function envFileRefs(envFile: unknown, composeDir: string, vars: ReadonlyMap<string, string>): EnvFileRef[] {
  const list = Array.isArray(envFile) ? envFile : envFile === undefined || envFile === null ? [] : [envFile];
  const refs: EnvFileRef[] = [];
  for (const item of list) {
    let raw: unknown = item;
    let required = true;
    if (item && typeof item === 'object') {
      raw = (item as { path?: unknown }).path;
      required = (item as { required?: unknown }).required !== false;
    }
    if (typeof raw !== 'string' || raw === '') continue;
    const resolved = interpolate(raw, vars).value;
    if (resolved === undefined || resolved.startsWith('/')) continue;
    refs.push({ path: normalize(join(composeDir, resolved)), required });
  }
  return refs;
}

/** Environment entries as written: `KEY: value` map or `KEY=VALUE` list; a bare `KEY` has a null value. */
export function environmentEntries(environment: unknown): [string, string | null][] {
  if (Array.isArray(environment)) {
    return environment.map((item) => {
      const text = String(item);
      const eq = text.indexOf('=');
      return eq < 0 ? [text.trim(), null] : [text.slice(0, eq).trim(), text.slice(eq + 1)];
    });
  }
  if (environment && typeof environment === 'object') {
    return Object.entries(environment as Record<string, unknown>).map(([key, value]) => [
      key,
      value === null || value === undefined ? null : String(value),
    ]);
  }
  return [];
}

export interface ServiceEnvironmentInput {
  dir: string;
  composeFile: string;
  composeDir: string;
  project: ProjectEnv;
  envFile: unknown;
  environment: unknown;
  /** `file:line` of an `environment:` key, for locations. */
  lineOfVariable: (name: string, index: number) => string;
  maxBytes: number;
}

/** The effective environment of one service, and the env files it read (existing ones only). */
export function effectiveEnvironment(input: ServiceEnvironmentInput): {
  env: Map<string, EnvEntry>;
  envFiles: string[];
} {
  const { dir, project } = input;
  const env = new Map<string, EnvEntry>();
  const envFiles: string[] = [];
  for (const ref of envFileRefs(input.envFile, input.composeDir, project.vars)) {
    const read = readEnvFile(join(dir, ref.path), input.maxBytes);
    if (!read) continue; // a missing file: compose fails (required) or skips it; either way nothing to judge here
    envFiles.push(ref.path);
    const isRootDotEnv = ref.path === '.env';
    for (const [name, raw] of read.vars) {
      // Compose interpolates env_file values with the project environment too.
      const resolved = interpolate(raw, project.vars);
      const value = resolved.value === '' ? undefined : resolved.value;
      const line = lineOfKey(read.text, name);
      env.set(name, {
        name,
        value,
        owned: !isRootDotEnv || (resolved.fromProjectEnv && !project.isRoot),
        where: line ? `${ref.path}:${line}` : ref.path,
        how: `from env_file ${ref.path}`,
      });
    }
  }
  environmentEntries(input.environment).forEach(([name, raw], index) => {
    if (!name) return;
    const before = env.get(name);
    const where = input.lineOfVariable(name, index);
    // A bare `KEY` takes its value from the project environment, as `${KEY}` would.
    const resolved = interpolate(raw === null ? `\${${name}}` : raw, project.vars);
    if (raw === null && resolved.value === undefined && before) return;
    const fromProjectOnly = !resolved.fromText && resolved.fromProjectEnv;
    const how =
      raw === null || fromProjectOnly
        ? `from ${project.path ?? '.env'} through environment:`
        : resolved.fromProjectEnv
          ? `set in environment: with ${project.path ?? '.env'}`
          : 'set in environment:';
    env.set(name, {
      name,
      value: resolved.value === '' ? undefined : resolved.value,
      owned: resolved.fromText || (resolved.fromProjectEnv && !project.isRoot),
      where,
      how: before ? `${how}; compose's environment: wins over ${before.where.split(':')[0]}` : how,
    });
  });
  return { env, envFiles };
}
