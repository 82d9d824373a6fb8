/**
 * Secrets written as shell-style `NAME=value`: env files (`.env`, `prod.env`, a compose service's `env_file:`),
 * shell scripts, and Dockerfile ENV/ARG/RUN lines. Values are often unquoted there, which the quoted-literal rule
 * in secrets-scan.ts (HARDCODED) never sees.
 *
 *  - A secret-named variable (isSecretName) with a literal value that is not a placeholder is a `hardcoded` hit;
 *  - any value that looks generated (high entropy, a Django key) is an `entropy` hit, whatever its name;
 *  - known credential formats are pattern / test-credential hits (secret-patterns.ts).
 * A hit names the variable and line, never the value.
 */

import { findCredentials } from '../secret-patterns.js';
import {
  isPlaceholderValue,
  isSecretName,
  looksLikeDjangoKey,
  looksLikeRandomSecret,
  urlPassword,
} from '../secret-values.js';
import type { SecretHit } from '../secrets-scan.js';
import { LineIndex } from './lines.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The value of `NAME=value` as a shell or dotenv reads it: quotes removed, an inline ` #` comment cut. */
export function unquote(raw: string): string {
  const text = raw.trim();
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    return end === -1 ? text.slice(1) : text.slice(1, end);
  }
  const comment = text.search(/\s#/);
  return (comment === -1 ? text : text.slice(0, comment)).trim();
}

/**
 * Whether a literal value for a secret-named variable gives the secret away. `singleQuoted`: the value was written in
 * single quotes, where shells and dotenv substitute nothing, so `$(` and a backtick in it are plain characters (a
 * generated Django key holds `$(` about once in 70).
 */
export function isLiteralSecret(name: string, value: string, singleQuoted = false): boolean {
  // Shell command substitution and references read the value from elsewhere.
  if (!singleQuoted && (value.startsWith('`') || value.includes('$('))) return false;
  if (value.startsWith('/run/secrets/')) return false;
  // A URL is judged by its password alone: `db.internal.example.com` in its host says nothing about it.
  if (value.includes('://') && !value.startsWith('$')) {
    // A URL: only its password is secret (`postgres://app@db/app` and `${DB_PASSWORD}` in it are fine).
    const password = urlPassword(value);
    return password !== undefined && !isPlaceholderValue(decodeURIComponentSafe(password));
  }
  if (/(^|_)URL$/i.test(name)) return false; // a secret-named URL without a password in it
  return !isPlaceholderValue(value);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function valueHit(name: string, value: string, line: number, singleQuoted: boolean): SecretHit | undefined {
  if (isSecretName(name)) {
    return isLiteralSecret(name, value, singleQuoted) ? { kind: 'hardcoded', rule: name, line } : undefined;
  }
  if (looksLikeRandomSecret(value, '') || looksLikeDjangoKey(value)) {
    return { kind: 'entropy', rule: 'high-entropy-string', line };
  }
  return undefined;
}

/** `KEY=VALUE` lines of an env file (`export ` allowed), judged by name and value. No pattern rules. */
export function envAssignmentHits(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  text.split('\n').forEach((rawLine, index) => {
    let line = rawLine.replace(/^\uFEFF/, '').trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('export ')) line = line.slice('export '.length).trim();
    const eq = line.indexOf('=');
    if (eq <= 0) return;
    const name = line.slice(0, eq).trim();
    if (!NAME.test(name)) return;
    const raw = line.slice(eq + 1);
    const hit = valueHit(name, unquote(raw), index + 1, raw.trimStart().startsWith("'"));
    if (hit) hits.push(hit);
  });
  return hits;
}

function credentialHits(text: string): SecretHit[] {
  const lines = new LineIndex(text);
  return findCredentials(text).map((match) => ({
    kind: match.class === 'test' ? 'test-credential' : 'pattern',
    rule: match.rule,
    line: lines.lineOf(match.index),
  }));
}

/** One hit per line: a known credential format says more than "a secret-named variable is set". */
export function onePerLine(hits: SecretHit[]): SecretHit[] {
  const rank = { pattern: 0, 'test-credential': 1, hardcoded: 2, entropy: 3 } as const;
  const best = new Map<number, SecretHit>();
  for (const hit of hits) {
    const current = best.get(hit.line);
    if (!current || rank[hit.kind] < rank[current.kind]) best.set(hit.line, hit);
  }
  return [...best.values()].sort((a, b) => a.line - b.line);
}

/**
 * An env file (a compose `env_file:`, a tracked `.env`, `.env.production`, `prod.env`): secret-named variables with
 * literal values, generated-looking values, and every known credential format. For the integrator: call it only
 * for files git tracks (an ignored .env beside the code is where secrets belong).
 */
export function scanEnvFile(text: string, _path: string): SecretHit[] {
  return onePerLine([...credentialHits(text), ...envAssignmentHits(text)]);
}

/**
 * Shell-style assignments anywhere on a line (`export DB_PASSWORD=x`, `RUN API_TOKEN=x ./run`, `PGPASSWORD=x psql`):
 * only secret-named ones, with literal values. The name must start a word (`(?:^|[^\w$])`), so an attempt costs O(1)
 * inside a long word and each name is read once.
 */
export function shellAssignmentHits(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trimStart().startsWith('#')) return;
    for (const { name, value } of assignments(line)) {
      if (isSecretName(name) && isLiteralSecret(name, value))
        hits.push({ kind: 'hardcoded', rule: name, line: index + 1 });
    }
  });
  return hits;
}

/** `sh -c "A=b"`: the closing quote of an outer string is not part of the value. A loop (`/["']+$/` is quadratic). */
function withoutTrailingQuotes(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '"' || text[end - 1] === "'")) end -= 1;
  return text.slice(0, end);
}

const MAX_VALUE = 1024;

const isNameChar = (char: string | undefined) => char !== undefined && /[A-Za-z0-9_]/.test(char);

/**
 * The `NAME=value` assignments on a shell line, by hand: from each `=`, the name is read backwards (it must start a
 * word: not after `$` or another name character), the value forwards (quoted, or up to white space or a shell
 * operator). Each name is read once: the backward read stops at the previous `=` or separator.
 */
export function assignments(line: string): { name: string; value: string }[] {
  const found: { name: string; value: string }[] = [];
  for (let eq = line.indexOf('='); eq !== -1; eq = line.indexOf('=', eq + 1)) {
    let start = eq;
    while (start > 0 && isNameChar(line[start - 1])) start -= 1;
    const name = line.slice(start, eq);
    if (!name || /^[0-9]/.test(name) || line[start - 1] === '$') continue;
    const raw = line.slice(eq + 1, eq + 1 + MAX_VALUE);
    const quote = raw[0];
    let end = 0;
    // The read also stops at the next `=` (a value cut there is still judged literal or not): each character is read
    // by one value at most, where reading to the end of the line from every `=` of `a=a=a=…` is quadratic.
    while (end < raw.length && !' \t;&|)='.includes(raw[end] as string)) end += 1;
    const value = quote === '"' || quote === "'" ? unquote(raw) : raw.slice(0, end);
    found.push({ name, value: withoutTrailingQuotes(value) });
  }
  return found;
}

/**
 * Dockerfile values: `ENV NAME value`, `ENV NAME=value ...`, `ARG NAME=value`, whose name is not secret-like (those
 * are files.dockerfile.secret-build-arg already) but whose value looks generated; and secret-named shell assignments
 * inside RUN (continuation lines included).
 */
export function dockerfileValueHits(text: string): SecretHit[] {
  const hits: SecretHit[] = [];
  let keyword = '';
  let continued = false;
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    const lineNumber = index + 1;
    if (!line || line.startsWith('#')) return;
    if (!continued) keyword = (line.split(/\s/, 1)[0] ?? '').toUpperCase();
    continued = line.endsWith('\\');
    const body = (continued ? line.slice(0, -1) : line).trim();
    const args = body.toUpperCase().startsWith(keyword) ? body.slice(keyword.length).trim() : body;
    if (keyword === 'ENV' || keyword === 'ARG') {
      const words = args.split(/\s+/).filter(Boolean);
      const pairs: [string, string][] =
        keyword === 'ENV' && words[0] !== undefined && !words[0].includes('=')
          ? [[words[0], unquote(args.slice(words[0].length))]]
          : words.map((word) => {
              const eq = word.indexOf('=');
              return eq === -1 ? [word, ''] : [word.slice(0, eq), unquote(word.slice(eq + 1))];
            });
      for (const [name, value] of pairs) {
        if (!value || isSecretName(name)) continue;
        const hit = valueHit(name, value, lineNumber, false);
        if (hit) hits.push(hit);
      }
    } else if (keyword === 'RUN') {
      hits.push(...shellAssignmentHits(args).map((hit) => ({ ...hit, line: lineNumber })));
    }
  });
  return hits;
}

/** Committed templates of a file (`.env.example`, `settings.py.tpl`): they document values, they do not hold them. */
export const TEMPLATE_FILE = /\.(example|sample|template|dist|tmpl|tpl)$/i;

/** Which assignment rules a path gets in the content scan: env files, shell scripts, Dockerfiles. */
export function assignmentRulesFor(path: string): ((text: string) => SecretHit[]) | undefined {
  const base = path.split('/').pop() ?? path;
  if (TEMPLATE_FILE.test(base)) return undefined; // .env.example is judged by auditEnvExample
  if (/^\.env(\..+)?$/.test(base) || /\.env$/.test(base)) return envAssignmentHits;
  if (/\.(sh|bash|zsh|ksh)$/.test(base) || /^(docker-)?entrypoint$/.test(base)) return shellAssignmentHits;
  if (/^(Dockerfile|Containerfile)(\.[\w.-]+)?$/.test(base) || base.endsWith('.Dockerfile')) return dockerfileValueHits;
  return undefined;
}
