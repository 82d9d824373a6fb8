/**
 * Judging one value: is this name a secret's, is this value a placeholder, does it look generated. Shared by the
 * content scan (secrets-scan.ts), env files (files/env-files.ts), .env.example and Kubernetes Secrets, so that a
 * value is judged the same wherever it is written.
 */

import { settingNames, settings } from '@ironclad/config/schema';
import { isPlaceholderPassword, secretKeyWeakness } from '@ironclad/config/secrets';
import type { Setting } from '@ironclad/config/types';
import { findCredentials } from './secret-patterns.js';

/** Secret-looking names: the schema's secret settings plus the usual suffixes. `*_FILE` names a path, not a value. */
const SCHEMA_SECRETS = new Set(
  settingNames.filter((name) => (settings[name] as Setting<unknown>).secret === true) as string[],
);
export function isSecretName(name: string): boolean {
  if (/_FILE$/i.test(name)) return false;
  return (
    SCHEMA_SECRETS.has(name) ||
    /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY|SECRET_KEY|SIGNING_KEY|ENCRYPTION_KEY|DATABASE_URL)$/i.test(
      name,
    ) ||
    // DB_PASS, POSTGRES_PWD: the short spellings, as a whole last word only (not BYPASS).
    /(^|_)(PASS|PWD)$/i.test(name)
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

export function looksLikeRandomSecret(token: string, before: string): boolean {
  if (token.length < ENTROPY_MIN_LENGTH) return false;
  if (/(sha(1|256|384|512)|md5)-$/i.test(before)) return false; // SRI / integrity digests
  if (/^[0-9a-f]+$/i.test(token)) return false; // hex digests: commit ids, checksums
  if (token.includes('EXAMPLE')) return false; // AWS's documented example keys
  // Publishable keys are public by design (Stripe.js in the browser): `pk_live_…`, `pk_test_…`.
  if (token.startsWith('pk_live_') || token.startsWith('pk_test_')) return false;
  if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || !/[0-9]/.test(token)) return false;
  if ((token.match(/\//g) ?? []).length > 3) return false; // a path or URL segment, not base64
  return shannonEntropy(token) >= ENTROPY_THRESHOLD;
}

/** Django's get_random_secret_key() alphabet: lower case, digits and these symbols (no upper case). */
const DJANGO_SYMBOLS = '!@#$%^&*(-_=+)';
const DJANGO_PREFIX = 'django-insecure-';

function inDjangoAlphabet(text: string): boolean {
  for (const char of text) {
    if (!((char >= 'a' && char <= 'z') || (char >= '0' && char <= '9') || DJANGO_SYMBOLS.includes(char))) return false;
  }
  return true;
}

/**
 * A key made by Django: `django-insecure-` + 50 characters (startproject since 3.1), or 50 characters of
 * get_random_secret_key()'s alphabet. No upper case, so looksLikeRandomSecret misses them. Random 50 characters of
 * that 50-letter alphabet score about 4.9 bits per character; hyphenated English (`my-local-dev-key-2024-...`)
 * about 4.0.
 */
export function looksLikeDjangoKey(value: string): boolean {
  const body = value.startsWith(DJANGO_PREFIX) ? value.slice(DJANGO_PREFIX.length) : value;
  if (body.length < 40 || body.length > 100 || !inDjangoAlphabet(body)) return false;
  if (!/[0-9]/.test(body) || !/[a-z]/.test(body)) return false;
  // Only words of 5+ characters: a random key holds `xxx`, `***` or `todo` about once in 700 keys (the CI flake of
  // issue 16), one of the longer words about once in 500,000.
  if (hasPlaceholderWord(body, 5)) return false;
  // 4.2: below every one of 200,000 random keys (lowest 4.21, median 4.84); hyphenated English scores 4.0-4.15.
  return shannonEntropy(body) >= 4.2;
}

const PLACEHOLDER_WORDS = [
  'changeme',
  'change-me',
  'change_me',
  'change-this',
  'replace',
  'placeholder',
  'example',
  'dummy',
  // Build-time stand-ins: `RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic`.
  'collectstatic',
  'build-only',
  'build-time',
  'buildtime',
  'not-a-secret',
  'notasecret',
  'unused',
  'redacted',
  'your-',
  'your_',
  'insert',
  'todo',
  'fixme',
  'xxx',
  '***',
  '...',
];

function hasPlaceholderWord(value: string, minWordLength = 0): boolean {
  const lower = value.toLowerCase();
  return PLACEHOLDER_WORDS.some((word) => word.length >= minWordLength && lower.includes(word));
}

function isReference(value: string): boolean {
  // Shell/compose interpolation, Helm/Jinja templates, Python %-format, a documented <placeholder>.
  return (
    value.startsWith('$') ||
    value.startsWith('{{') ||
    value.startsWith('%(') ||
    (value.startsWith('<') && value.endsWith('>')) ||
    (value.startsWith('[') && value.endsWith(']'))
  );
}

/**
 * Text that says it is not the value (`change-me`, `<your-key>`, `${VAR}`, `your-secret-here`, `xxxxxx`), as opposed
 * to a weak but real value (`password`, `postgres`), which isPlaceholderValue also accepts in templates.
 */
export function isPlaceholderText(raw: string): boolean {
  const value = raw.trim();
  const lower = value.toLowerCase();
  return (
    isReference(value) ||
    hasPlaceholderWord(value) ||
    lower.startsWith('your') ||
    (value.length > 0 && new Set(value).size <= 2)
  );
}

/** Values an operator is meant to replace, or that point elsewhere: never a leaked secret. */
export function isPlaceholderValue(raw: string): boolean {
  const value = raw.trim();
  if (value.length < 3) return true;
  const lower = value.toLowerCase();
  if (
    [
      'true',
      'false',
      'yes',
      'no',
      'on',
      'off',
      'none',
      'null',
      'nil',
      'undefined',
      'empty',
      'unset',
      'required',
    ].includes(lower)
  )
    return true;
  if (isReference(value) || hasPlaceholderWord(value)) return true;
  if (lower.startsWith('your') || lower.startsWith('my-') || lower.startsWith('some-')) return true;
  if (isPlaceholderPassword(value) || secretKeyWeakness(value) === 'is a known placeholder value') {
    // django-insecure-… counts as a placeholder to the settings rules, but a generated one is a real key here.
    return !looksLikeDjangoKey(value);
  }
  if (new Set(value).size <= 2) return true; // ****, xxxxxx, 000000
  return false;
}

/** A database URL's password, or undefined when the value is not a URL with one. */
export function urlPassword(value: string): string | undefined {
  // No `/` in the password (RFC 3986 userinfo has none unescaped): each attempt stops at the next `://`.
  return /:\/\/[^:/@\s]*:([^/@\s]+)@/.exec(value)?.[1];
}

/**
 * Whether a value written where a placeholder belongs (.env.example, docs) looks like a real secret: generated
 * (high entropy, a Django key) or a live credential of a known format. Test-mode keys are left to the
 * test-credential check.
 */
export function looksLikeRealSecretValue(value: string): boolean {
  const password = urlPassword(value);
  const candidates = password ? [password] : value.split(',');
  return candidates.some((candidate) => {
    const text = candidate.trim();
    if (!text || isReference(text)) return false;
    return (
      looksLikeRandomSecret(text, '') ||
      looksLikeDjangoKey(text) ||
      findCredentials(text).some((match) => match.class === 'live')
    );
  });
}
