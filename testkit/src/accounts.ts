/** Values the suites share: a strong key, a good password, unique emails, the seed's insecure settings. */
import { randomBytes } from 'node:crypto';

/** Passes every SECRET_KEY rule (@ironclad/config/rules); random per run, so no test depends on its value. */
export const STRONG_KEY = 'k'.repeat(10) + randomBytes(40).toString('base64url');

export const GOOD_PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${counter}.${randomBytes(3).toString('hex')}@example.com`;
}

/** The seed's insecure "before" settings (its settings.py and docker-compose.yml before the lesson). */
export const SEED_BEFORE_SETTINGS: Readonly<Record<string, string>> = {
  SECRET_KEY: 'local-dev-secret-key',
  DEBUG: 'False',
  ALLOWED_HOSTS: '0.0.0.0,localhost,*',
  CORS_ALLOWED_ORIGINS: '*',
  POSTGRES_DB: 'task_db',
  POSTGRES_USER: 'cp_user',
  POSTGRES_PASSWORD: 'password',
  DB_HOST: 'postgres-container',
  DB_PORT: '5432',
};
