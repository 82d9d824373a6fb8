import { randomBytes } from 'node:crypto';

/** Values copied from tutorials and templates, the seed's included. Compared case-insensitively. */
const PLACEHOLDER_KEYS = new Set([
  'local-dev-secret-key',
  'your-long-random-secret-key-here',
  'your-secret-key',
  'your-secret-key-here',
  'secret',
  'secret-key',
  'secretkey',
  'changeme',
  'change-me',
  'change-this',
  'replace-me',
  'insecure',
  'development',
  'dev-secret',
  'test',
  'xxx',
]);

const PLACEHOLDER_PASSWORDS = new Set([
  'password',
  'passw0rd',
  'password1',
  'password123',
  'your-db-password',
  'your-password',
  'a-strong-password-here',
  'postgres',
  'postgres-password',
  'root',
  'admin',
  'changeme',
  'change-me',
  'secret',
  'example',
  '123456',
  '12345678',
  'qwerty',
]);

export const MIN_SECRET_KEY_LENGTH = 50;
export const MIN_SECRET_KEY_DISTINCT = 5;

/** What is wrong with a signing key, or undefined when it is strong enough. Never mentions the value. */
export function secretKeyWeakness(key: string): string | undefined {
  const lower = key.trim().toLowerCase();
  if (PLACEHOLDER_KEYS.has(lower) || lower.startsWith('django-insecure') || lower.includes('your-')) {
    return 'is a known placeholder value';
  }
  if (key.length < MIN_SECRET_KEY_LENGTH) {
    return `is too short (${key.length} characters; at least ${MIN_SECRET_KEY_LENGTH} needed)`;
  }
  if (new Set(key).size < MIN_SECRET_KEY_DISTINCT) {
    return `has too few distinct characters (at least ${MIN_SECRET_KEY_DISTINCT} needed)`;
  }
  return undefined;
}

export function isPlaceholderPassword(password: string): boolean {
  return PLACEHOLDER_PASSWORDS.has(password.trim().toLowerCase());
}

/** 48 random bytes as 64 URL-safe characters: 384 bits, safe in .env files and shells. */
export function generateSecretKey(): string {
  return randomBytes(48).toString('base64url');
}
