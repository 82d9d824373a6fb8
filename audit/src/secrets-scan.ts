/**
 * Finds credentials in file contents. Known credential formats (private keys, AWS/GCP/GitHub/Slack/npm
 * tokens, database URLs with passwords, ...) are secretlint's job: its recommended preset runs
 * in-process through @secretlint/node; the formats it lacks (Stripe, GitLab, PyPI, Docker Hub, Google API keys, ...)
 * are in secret-patterns.ts. Written here by hand besides:
 *  - generic high-entropy strings (an unknown vendor's key, a random SECRET_KEY), with an allowlist for
 *    what is random but not secret (lockfile integrity hashes, sha-prefixed digests, hex digests), and keys
 *    Django generated (no upper case, so the entropy rule alone misses them);
 *  - a string literal assigned to a secret-named setting in source code (the seed's
 *    hard-coded key and database password in settings.py), which no pattern rule catches because the
 *    value itself looks like anything; unquoted ones in env files, shell scripts and Dockerfiles
 *    (files/env-files.ts).
 * What is scanned how: text files get every rule; minified bundles and source maps (their `sourcesContent`) only the
 * key-format rules (files/bundles.ts); binary files only the key-format rules, on their printable runs
 * (files/binary-strings.ts). A hit carries the rule and line, never the matched text.
 */

import { isPlaceholderPassword } from '@ironclad/config/secrets';
import { createEngine } from '@secretlint/node';
import { isBinaryText, printableRuns } from './files/binary-strings.js';
import { isBundle, isSourceMap, sourceMapSources } from './files/bundles.js';
import { configLiteralHits } from './files/config-literals.js';
import { assignmentRulesFor, onePerLine, TEMPLATE_FILE } from './files/env-files.js';
import { LineIndex } from './files/lines.js';
import { declaresKind } from './files/manifest-kind.js';
import { silenceSecretlintProfiler } from './files/secretlint-profiler.js';
import { findCredentials, isPlaceholderToken } from './secret-patterns.js';
import { isPlaceholderText, looksLikeDjangoKey, looksLikeRandomSecret } from './secret-values.js';

export { looksLikeRandomSecret, shannonEntropy } from './secret-values.js';

export interface SecretHit {
  /** `test-credential`: a vendor's test-mode key (files.secret.test-credential, a warning). */
  kind: 'pattern' | 'test-credential' | 'entropy' | 'hardcoded';
  /** secretlint rule id, or a short name for the hand-written checks. */
  rule: string;
  /** 1-based line; in a binary file, the line as `grep -a -n` counts it. */
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
  '.terraform.lock.hcl',
  'composer.lock',
]);
/**
 * Media, fonts and compressed archives: their bytes are encoded, so no credential is readable in them. Other binary
 * files (databases, pickles, .pyc, executables) are scanned for key formats in their printable runs.
 */
const SKIPPED_EXTENSIONS =
  /\.(png|jpe?g|gif|ico|webp|bmp|tiff?|avif|heic|woff2?|ttf|otf|eot|pdf|zip|gz|tgz|bz2|xz|zst|7z|rar|jar|war|whl|egg|wasm|mp[34]|mov|avi|webm|ogg|wav|flac|psd)$/i;

export function isScannable(path: string, _content?: Buffer): boolean {
  const base = path.split('/').pop() ?? path;
  return !SKIPPED_BASENAMES.has(base) && !SKIPPED_EXTENSIONS.test(path);
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

// A candidate must be assigned (`=`, `:`) or quoted: bare words in prose are not keys.
const CANDIDATE = /(?:[=:]\s*["'`]?|["'`])([A-Za-z0-9+/_-]{32,}={0,2})(?=["'`\s,;)]|$)/g;
// A quoted string without white space or quotes (its length is checked in code: a bounded repeat defeats the ReDoS
// analyser): a Django key's alphabet has symbols that end CANDIDATE's runs. One pattern per quote character (no
// back-reference); each attempt starts at a quote and stops at the next one.
const DOUBLE_QUOTED = /"([^"\s\\]+)"/g;
const SINGLE_QUOTED = /'([^'\s\\]+)'/g;

const BOOLEAN_WORDS = new Set(['yes', 'no', 'true', 'false', 'on', 'off', 'none', 'null', 'enabled', 'disabled']);

const SECRET_NAME = '[A-Z0-9_]*(?:SECRET|SECRET_KEY|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY)';
const HARDCODED = new RegExp(`["']?\\b(${SECRET_NAME})\\b["']?\\s*[:=]\\s*["']([^"'\\s]{3,})["']`, 'g');

/** The generic heuristics: secret-named string literals, generated-looking values. Not run on tests and docs. */
function heuristics(content: string, path: string, lines: LineIndex): SecretHit[] {
  // Templates (.env.example, settings.sample) document variables; auditEnvExample judges .env.example's values.
  if (isTestOrDoc(path) || TEMPLATE_FILE.test(path)) return [];
  const hits: SecretHit[] = [];
  for (const match of content.matchAll(HARDCODED)) {
    const value = match[2] ?? '';
    // An interpolation, a documented placeholder, or an elision like '...'.
    if (/^\$\{|^%\(|^<.*>$/.test(value) || !/[A-Za-z0-9]/.test(value)) continue;
    // A flag, not a secret: MYSQL_ALLOW_EMPTY_PASSWORD: "yes", USE_TOKEN = 'true'; or a placeholder: 'change-me'.
    if (BOOLEAN_WORDS.has(value.toLowerCase()) || isPlaceholderText(value)) continue;
    hits.push({ kind: 'hardcoded', rule: match[1] ?? 'secret', line: lines.lineOf(match.index) });
  }
  hits.push(...(assignmentRulesFor(path)?.(content) ?? []));
  // Encrypted secrets (Sealed Secrets, SOPS) are random by design; Kubernetes Secrets are files/k8s-secrets.ts's.
  if (declaresKind(content, ['Secret', 'SealedSecret']) || content.includes('ENC[AES256_GCM')) return hits;
  const seen = new Set(hits.map((hit) => hit.line));
  for (const hit of configLiteralHits(content, path, lines)) {
    if (seen.has(hit.line)) continue;
    hits.push(hit);
    seen.add(hit.line);
  }
  for (const match of content.matchAll(CANDIDATE)) {
    const token = match[1] ?? '';
    const start = match.index + match[0].length - token.length;
    const line = lines.lineOf(start);
    // One finding per line: a hard-coded secret is not reported again as an entropy hit.
    if (seen.has(line)) continue;
    if (looksLikeRandomSecret(token, content.slice(Math.max(0, start - 8), start))) {
      hits.push({ kind: 'entropy', rule: 'high-entropy-string', line });
      seen.add(line);
    }
  }
  for (const quoted of [DOUBLE_QUOTED, SINGLE_QUOTED]) {
    for (const match of content.matchAll(quoted)) {
      const line = lines.lineOf(match.index);
      if (seen.has(line) || !looksLikeDjangoKey(match[1] ?? '')) continue;
      hits.push({ kind: 'entropy', rule: 'django-secret-key', line });
      seen.add(line);
    }
  }
  return hits;
}

/** A key-format hit at an offset of the scanned text; the caller turns offsets into lines of the file. */
interface KeyMatch {
  kind: 'pattern' | 'test-credential';
  rule: string;
  index: number;
  length: number;
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

type Engine = Awaited<ReturnType<typeof createEngine>>;

/**
 * secretlint's findings and secret-patterns.ts's, as offsets. `strict`: connection strings and basic-auth URLs count
 * only outside tests, docs and built bundles (libraries ship example URLs), and only with a real-looking password.
 */
async function keyMatches(engine: Engine, text: string, path: string, strict: boolean): Promise<KeyMatch[]> {
  const found: KeyMatch[] = [];
  const result = await engine.executeOnContent({ content: text, filePath: path });
  if (!result.ok) {
    // The JSON formatter echoes the source; only rule ids and ranges are taken from it.
    const parsed = JSON.parse(result.output) as { messages: SecretlintMessage[] }[];
    for (const message of parsed.flatMap((file) => file.messages)) {
      const matched = text.slice(message.range[0], message.range[1]);
      const url = message.ruleId.endsWith('database-connection-string') || message.ruleId.endsWith('basicauth');
      if (url && (strict || isExampleConnectionString(matched))) continue;
      // A key's shape filled with a placeholder (40 x's for an AWS secret key). Private keys are validated by
      // secretlint itself (a well-formed PEM body).
      if (!message.ruleId.endsWith('privatekey') && isPlaceholderToken(matched)) continue;
      found.push({
        kind: 'pattern',
        rule: message.ruleId.replace('@secretlint/secretlint-rule-', ''),
        index: message.range[0],
        length: message.range[1] - message.range[0],
      });
    }
  }
  for (const match of findCredentials(text)) {
    found.push({ kind: match.class === 'test' ? 'test-credential' : 'pattern', ...match });
  }
  return found;
}

function toHits(matches: KeyMatch[], lineOf: (match: KeyMatch) => number): SecretHit[] {
  return matches.map((match) => ({ kind: match.kind, rule: match.rule, line: lineOf(match) }));
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
      if (isBinaryText(content)) {
        const runs = printableRuns(content);
        if (!runs.text) return [];
        const lines = new LineIndex(content);
        const matches = await keyMatches(engine, runs.text, path, false);
        return onePerLine(toHits(matches, (match) => lines.lineOf(runs.origin(match.index))));
      }
      if (isSourceMap(path)) {
        const sources = sourceMapSources(content);
        if (sources !== undefined) {
          // Lines of the map file: the token is found again in the JSON text (key formats need no JSON escaping).
          const lines = new LineIndex(content);
          const matches = await keyMatches(engine, sources, path, true);
          return onePerLine(
            toHits(matches, (match) => {
              const at = content.indexOf(sources.slice(match.index, match.index + Math.min(match.length, 24)));
              return at === -1 ? 1 : lines.lineOf(at);
            }),
          );
        }
      }
      const lines = new LineIndex(content);
      if (isBundle(path, content)) {
        return onePerLine(toHits(await keyMatches(engine, content, path, true), (m) => lines.lineOf(m.index)));
      }
      const keys = toHits(await keyMatches(engine, content, path, isTestOrDoc(path)), (m) => lines.lineOf(m.index));
      return onePerLine([...keys, ...heuristics(content, path, lines)]);
    },
  };
}
