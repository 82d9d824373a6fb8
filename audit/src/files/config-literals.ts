/**
 * Literal secrets in configuration and code written the way real projects write them, which the upper-case
 * `SECRET_KEY = '...'` heuristic misses:
 *  - lower- and camel-case keys: `"password": "…"` (config/default.json, appsettings.json), `password: …` (Helm
 *    values, Rails database.yml), `db_password = "…"` (Terraform), `new Pool({ password: '…' })`, a pydantic
 *    field `secret_key: str = "…"`;
 *  - a secret name handed a literal: `os.environ.setdefault("DJANGO_SECRET_KEY", "…")`, `process.env.X || '…'`,
 *    `raw_env = ["DJANGO_SECRET_KEY=…"]`, `Password=…;` in a connection string, a Kubernetes container's
 *    `- name: DB_PASSWORD` / `value: "…"`, a kustomize `literals: [DB_PASSWORD=…]`;
 *  - a password inside any URL (`amqp://shop:…@rabbitmq`), where secretlint knows only some database schemes.
 * A value counts only when it looks like a credential rather than a word: no spaces, 8+ characters, a digit or a
 * symbol besides letters, and not a placeholder, a reference (`${…}`, `{{ … }}`, `ENC[…]`), a path, an environment
 * variable's name or a dotted/kebab identifier (`auth.token`, `reset-password-form`). Hand-written because no library
 * reads these shapes across formats; each line is read once, by hand, with no regex that could backtrack.
 */

import { isPlaceholderText, isPlaceholderValue, isSecretName } from '../secret-values.js';
import type { SecretHit } from '../secrets-scan.js';
import type { LineIndex } from './lines.js';

/** Normalised key endings that name a secret (`db_password`, `clientSecret`, `apiKey`, `authToken`, ...). */
const SECRET_KEY_ENDINGS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secretkey',
  'apikey',
  'token',
  'privatekey',
  'accesskey',
  'authkey',
];

function normalise(name: string): string {
  let out = '';
  for (const char of name.toLowerCase()) if (char !== '_' && char !== '-' && char !== '.') out += char;
  return out;
}

export function isSecretKey(name: string): boolean {
  if (name.length > 80) return false;
  const key = normalise(name);
  if (key.endsWith('file') || key.endsWith('path') || key.endsWith('env')) return false;
  return SECRET_KEY_ENDINGS.some((ending) => key.endsWith(ending));
}

const UNQUOTED_FORMATS = ['.yml', '.yaml', '.tfvars', '.toml', '.ini', '.cfg', '.properties', '.conf'];

function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_]/.test(char);
}

function isKeyChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_.-]/.test(char);
}

function caseFlips(value: string): number {
  let flips = 0;
  let previousUpper: boolean | undefined;
  for (const char of value) {
    const isUpper = char >= 'A' && char <= 'Z';
    const isLower = char >= 'a' && char <= 'z';
    if (!isUpper && !isLower) continue;
    if (previousUpper !== undefined && previousUpper !== isUpper) flips += 1;
    previousUpper = isUpper;
  }
  return flips;
}

/** Whether a literal looks like a credential rather than a word, a name, a path or a placeholder. */
export function looksLikeLiteralSecret(raw: string): boolean {
  const value = raw.trim();
  if (value.length < 8 || value.length > 512) return false;
  if (isPlaceholderValue(value) || isPlaceholderText(value)) return false;
  if (/\s/.test(value)) return false;
  for (const prefix of ['ENC[', 'vault:', '!', '{{', '$', '%', '@', '~', '/', './', 'arn:', 'projects/']) {
    if (value.startsWith(prefix)) return false;
  }
  if (value.includes('://') || value.includes('/')) return false; // a URL or path (URL passwords: urlCredentials)
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  for (const char of value) {
    if (char >= 'a' && char <= 'z') lower = true;
    else if (char >= 'A' && char <= 'Z') upper = true;
    else if (char >= '0' && char <= '9') digit = true;
    else if (char !== '_' && char !== '-' && char !== '.') symbol = true;
  }
  // An environment variable's name (DB_PASSWORD), a word or identifier (passwordHash, reset-password-form,
  // auth.token): letters and separators only, unless the case flips like random text does (a generated password
  // of letters only: identifiers flip case a few times, 20 random letters about ten).
  if (!digit && !symbol) return value.length >= 12 && caseFlips(value) >= 6;
  return [lower, upper, digit, symbol].filter(Boolean).length >= 2;
}

/** `k=v` pairs of a connection string or an assignment inside a string: `Host=db;Password=…`, `SECRET_KEY=…`. */
function pairsIn(text: string): { name: string; value: string }[] {
  const pairs: { name: string; value: string }[] = [];
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) pairs.push({ name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() });
  }
  return pairs;
}

function secretPairIn(text: string): string | undefined {
  for (const { name, value } of pairsIn(text)) {
    if ((isSecretName(name) || isSecretKey(name)) && looksLikeLiteralSecret(value)) return name;
  }
  return undefined;
}

/** Reads a quoted string starting at `start` (the quote); returns its content and the offset after it. */
function quoted(line: string, start: number): { text: string; end: number } {
  const quote = line[start];
  let i = start + 1;
  let text = '';
  while (i < line.length && line[i] !== quote) {
    if (line[i] === '\\' && i + 1 < line.length) i += 1;
    text += line[i];
    i += 1;
  }
  return { text, end: Math.min(i + 1, line.length) };
}

function skipSpaces(line: string, i: number): number {
  let j = i;
  while (line[j] === ' ' || line[j] === '\t') j += 1;
  return j;
}

/** The value after a key's separator, if the line gives one: quoted, or (in YAML, INI, tfvars ...) bare. */
function valueAt(line: string, at: number, bare: boolean): { text: string; end: number } | undefined {
  const i = skipSpaces(line, at);
  const char = line[i];
  if (char === '"' || char === "'" || char === '`') return quoted(line, i);
  if (!bare || char === undefined || char === '|' || char === '>' || char === '&' || char === '*') return undefined;
  let end = i;
  while (end < line.length && line[end] !== ' ' && line[end] !== '\t' && line[end] !== '#' && line[end] !== ',') {
    end += 1;
  }
  return { text: line.slice(i, end), end };
}

function lineHits(line: string, bare: boolean, report: (rule: string) => void): string | undefined {
  let pendingName: string | undefined;
  let i = 0;
  while (i < line.length) {
    const char = line[i] as string;
    let key: string | undefined;
    let keyQuoted = false;
    let end = i + 1;
    if (char === '"' || char === "'") {
      const string = quoted(line, i);
      const inner = secretPairIn(string.text);
      if (inner) {
        report(inner);
        return undefined;
      }
      key = string.text;
      keyQuoted = true;
      end = string.end;
    } else if (isKeyChar(char) && !isKeyChar(line[i - 1])) {
      end = i;
      while (end < line.length && isKeyChar(line[end])) end += 1;
      key = line.slice(i, end);
    }
    if (key === undefined || key.length === 0) {
      i = end;
      continue;
    }
    // The separator: `:` `=` `=>` `||` `??`, a `,` after a quoted name (setdefault("NAME", "…")), or a type
    // annotation before `=` (pydantic: `secret_key: str = "…"`).
    let j = skipSpaces(line, end);
    let separated = false;
    if (line[j] === ':' || line[j] === '=') {
      j += line[j + 1] === '>' ? 2 : 1;
      separated = true;
      const after = skipSpaces(line, j);
      if (line[j - 1] === ':' && isWordChar(line[after])) {
        let k = after;
        while (k < line.length && (isWordChar(line[k]) || line[k] === '[' || line[k] === ']' || line[k] === '.'))
          k += 1;
        const eq = skipSpaces(line, k);
        if (line[eq] === '=' && line[eq + 1] !== '=') j = eq + 1;
      }
    } else if ((line[j] === '|' && line[j + 1] === '|') || (line[j] === '?' && line[j + 1] === '?')) {
      j += 2;
      separated = true;
    } else if (keyQuoted && line[j] === ',') {
      j += 1;
      separated = true;
    }
    if (!separated) {
      i = end;
      continue;
    }
    const value = valueAt(line, j, bare);
    if (key === 'name' && value && isSecretName(value.text)) pendingName = value.text;
    // A connection string as a value: `"Shop": "Host=db;Password=…"`.
    const inner = value ? secretPairIn(value.text) : undefined;
    if (inner) {
      report(inner);
      return undefined;
    }
    if (value && (isSecretKey(key) || isSecretName(key)) && looksLikeLiteralSecret(value.text)) {
      report(key);
      return undefined;
    }
    i = value ? Math.max(value.end, end) : end;
  }
  return pendingName;
}

/** Passwords inside URLs of any scheme: `amqp://user:pass@host`, `redis://:pass@host`. */
function urlCredentials(line: string): boolean {
  for (let at = line.indexOf('://'); at !== -1; at = line.indexOf('://', at + 3)) {
    let end = at + 3;
    while (end < line.length && !'/@ \t"\'`'.includes(line[end] as string)) end += 1;
    if (line[end] !== '@') continue;
    const userinfo = line.slice(at + 3, end);
    const colon = userinfo.indexOf(':');
    if (colon === -1) continue;
    const password = userinfo.slice(colon + 1);
    if (
      password.length >= 6 &&
      !isPlaceholderValue(password) &&
      !isPlaceholderText(password) &&
      !password.includes('$')
    )
      return true;
  }
  return false;
}

export function configLiteralHits(content: string, path: string, lines: LineIndex): SecretHit[] {
  const bare = UNQUOTED_FORMATS.some((ext) => path.toLowerCase().endsWith(ext)) || path.endsWith('/database.yml');
  const hits: SecretHit[] = [];
  let offset = 0;
  let pending: { name: string; line: number } | undefined;
  let lineNumber = 0;
  for (const line of content.split('\n')) {
    lineNumber += 1;
    const at = offset;
    offset += line.length + 1;
    if (line.length > 4096) continue; // minified or data lines: the key and token rules read those
    const trimmed = line.trimStart();
    if (trimmed.startsWith('#') || trimmed.startsWith('//')) continue;
    let reported = false;
    const report = (rule: string) => {
      hits.push({ kind: 'hardcoded', rule: `literal ${rule}`, line: lines.lineOf(at) });
      reported = true;
    };
    // A Kubernetes container env entry: `- name: DB_PASSWORD` then `value: "…"` on a following line.
    if (pending && lineNumber - pending.line <= 2 && trimmed.startsWith('value:')) {
      const value = valueAt(trimmed, 'value:'.length, true);
      if (value && looksLikeLiteralSecret(value.text)) report(pending.name);
      pending = undefined;
    }
    if (reported) continue;
    const name = lineHits(line, bare, report);
    if (name) pending = { name, line: lineNumber };
    if (!reported && urlCredentials(line)) report('url-credentials');
  }
  return hits;
}
