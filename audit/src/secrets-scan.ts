/**
 * Finds credentials in file contents. Known credential formats (private keys, AWS/GCP/GitHub/Slack/npm
 * tokens, database URLs with passwords, ...) are secretlint's job: its recommended preset runs
 * in-process through @secretlint/node. Written here by hand only what secretlint does not do:
 *  - generic high-entropy strings (an unknown vendor's key, a random SECRET_KEY), with an allowlist for
 *    what is random but not secret (lockfile integrity hashes, sha-prefixed digests, hex digests);
 *  - a string literal assigned to a secret-named setting in source code (the seed's
 *    hard-coded key and database password in settings.py), which no pattern rule catches because the
 *    value itself looks like anything.
 * A hit carries the rule and line, never the matched text.
 */

import { isPlaceholderPassword } from '@ironclad/config/secrets';
import { createEngine } from '@secretlint/node';
import { silenceSecretlintProfiler } from './files/secretlint-profiler.js';

export interface SecretHit {
  kind: 'pattern' | 'entropy' | 'hardcoded';
  /** secretlint rule id, or a short name for the hand-written checks. */
  rule: string;
  line: number;
}

export interface Scanner {
  scan(content: string, path: string): Promise<SecretHit[]>;
}

/** Files whose randomness is not secret: lockfiles are integrity hashes from top to bottom. */
const SKIPPED_BASENAMES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'poetry.lock',
  'Pipfile.lock',
  'Cargo.lock',
  'go.sum',
  'composer.lock',
]);
const SKIPPED_EXTENSIONS = /\.(png|jpe?g|gif|ico|webp|woff2?|ttf|otf|eot|pdf|zip|gz|tgz|wasm|map|min\.js)$/i;

export function isScannable(path: string, content: Buffer): boolean {
  const base = path.split('/').pop() ?? path;
  if (SKIPPED_BASENAMES.has(base) || SKIPPED_EXTENSIONS.test(path)) return false;
  // Binary files: a NUL byte in the first 8 KiB, as git decides.
  return !content.subarray(0, 8192).includes(0);
}

/**
 * Tests, benchmarks, examples and documentation hold fake credentials on purpose (a throwaway
 * account's password, a connection URL for a database the test creates). There the hand-written
 * heuristics and secretlint's connection-string rule stay quiet; the token and key rules still run.
 */
export function isTestOrDoc(path: string): boolean {
  return (
    /(^|\/)(test|tests|testkit|__tests__|spec|e2e|fixtures?|bench|benchmarks?|examples?|docs?)\//.test(path) ||
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(path) ||
    /\.md$/i.test(path)
  );
}

export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const ENTROPY_MIN_LENGTH = 32;
// Random base64/base64url of 32+ characters scores about 4.7-5.5 bits per character; English-like
// identifiers and paths stay well under 4.3.
const ENTROPY_THRESHOLD = 4.3;
// A candidate must be assigned (`=`, `:`) or quoted: bare words in prose are not keys.
const CANDIDATE = /(?:[=:]\s*["'`]?|["'`])([A-Za-z0-9+/_-]{32,}={0,2})(?=["'`\s,;)]|$)/g;

export function looksLikeRandomSecret(token: string, before: string): boolean {
  if (token.length < ENTROPY_MIN_LENGTH) return false;
  if (/(sha(1|256|384|512)|md5)-$/i.test(before)) return false; // SRI / integrity digests
  if (/^[0-9a-f]+$/i.test(token)) return false; // hex digests: commit ids, checksums
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/[0-9]/.test(token)) return false;
  if ((token.match(/\//g) ?? []).length > 3) return false; // a path or URL segment, not base64
  return shannonEntropy(token) >= ENTROPY_THRESHOLD;
}

const SECRET_NAME = '[A-Z0-9_]*(?:SECRET|SECRET_KEY|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY)';
const HARDCODED = new RegExp(`["']?\\b(${SECRET_NAME})\\b["']?\\s*[:=]\\s*["']([^"'\\s]{3,})["']`, 'g');

/**
 * Line starts of the content last asked about. lineAt is called once per hit; counting newlines from the top each
 * time was quadratic in hits (a 550 KB file of `API_TOKEN = "..."` lines took 8 s, and history blobs go up to 32 MiB).
 * Keyed on the string itself (the same string object is a pointer comparison), so interleaved scans stay correct.
 */
let indexed: { content: string; starts: number[] } | undefined;

function lineAt(content: string, index: number): number {
  if (indexed?.content !== content) {
    const starts = [0];
    for (let i = content.indexOf('\n'); i !== -1; i = content.indexOf('\n', i + 1)) starts.push(i + 1);
    indexed = { content, starts };
  }
  // The number of line starts at or before `index` (binary search).
  const { starts } = indexed;
  let low = 0;
  let high = starts.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((starts[middle] as number) <= index) low = middle + 1;
    else high = middle;
  }
  return low;
}

// An AWS access key id on its own (secretlint's AWS rule looks for it only beside its secret key). Scanned
// everywhere, tests included, like secretlint's key rules; AWS's documented examples end in EXAMPLE.
const AWS_ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;

function handWritten(content: string, path: string): SecretHit[] {
  const keyIds: SecretHit[] = [];
  for (const match of content.matchAll(AWS_ACCESS_KEY_ID)) {
    if (match[0].endsWith('EXAMPLE')) continue;
    keyIds.push({ kind: 'pattern', rule: 'aws-access-key-id', line: lineAt(content, match.index) });
  }
  if (isTestOrDoc(path)) return keyIds;
  const hits: SecretHit[] = [...keyIds];
  for (const match of content.matchAll(HARDCODED)) {
    const value = match[2] ?? '';
    // An interpolation, a documented placeholder, or an elision like '...'.
    if (/^\$\{|^%\(|^<.*>$/.test(value) || !/[A-Za-z0-9]/.test(value)) continue;
    hits.push({ kind: 'hardcoded', rule: match[1] ?? 'secret', line: lineAt(content, match.index) });
  }
  const hitLines = new Set(hits.map((hit) => hit.line));
  for (const match of content.matchAll(CANDIDATE)) {
    const token = match[1] ?? '';
    const start = match.index + match[0].length - token.length;
    const line = lineAt(content, start);
    // One finding per line: a hard-coded secret is not reported again as an entropy hit. (A set: `hits.some` per
    // candidate was quadratic on a file of many hits.)
    if (hitLines.has(line)) continue;
    if (looksLikeRandomSecret(token, content.slice(Math.max(0, start - 8), start))) {
      hits.push({ kind: 'entropy', rule: 'high-entropy-string', line });
      hitLines.add(line);
    }
  }
  return hits;
}

interface SecretlintMessage {
  ruleId: string;
  range: [number, number];
  loc: { start: { line: number } };
}

/** Database URLs whose password is a documented placeholder or an interpolation are examples, not leaks. */
function isExampleConnectionString(text: string): boolean {
  // No `/` in the password (RFC 3986 userinfo has none unescaped): it also stops each attempt at the next `://`, so
  // a text of many `://:` is scanned once, not once per repeat.
  const match = /:\/\/[^:/@\s]*:([^/@\s]*)@/.exec(text);
  const password = match?.[1] ?? '';
  return password === '' || /^[$%{<]/.test(password) || isPlaceholderPassword(decodeURIComponent(password));
}

export async function createScanner(): Promise<Scanner> {
  // Before the engine exists: its profiler's cost grows with every file scanned (see files/secretlint-profiler.ts).
  silenceSecretlintProfiler();
  const engine = await createEngine({
    formatter: 'json',
    color: false,
    maskSecrets: true,
    configFileJSON: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] },
  });
  return {
    async scan(content, path) {
      const result = await engine.executeOnContent({ content, filePath: path });
      const hits: SecretHit[] = [];
      if (!result.ok) {
        // The JSON formatter echoes the source; only rule ids, ranges and lines are taken from it.
        const parsed = JSON.parse(result.output) as { messages: SecretlintMessage[] }[];
        for (const message of parsed.flatMap((file) => file.messages)) {
          const text = content.slice(message.range[0], message.range[1]);
          if (
            message.ruleId.endsWith('database-connection-string') &&
            (isTestOrDoc(path) || isExampleConnectionString(text))
          ) {
            continue;
          }
          hits.push({
            kind: 'pattern',
            rule: message.ruleId.replace('@secretlint/secretlint-rule-', ''),
            line: message.loc.start.line,
          });
        }
      }
      return [...hits, ...handWritten(content, path)];
    },
  };
}
