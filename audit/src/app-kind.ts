/**
 * Is the audited directory a deployment of Ironclad Tasks, or another application (a Django or Node app audited for
 * the same classes of fault)? Some checks only make sense for this project: its settings' defaults (TRUST_PROXY off
 * means cookies without Secure *for this server*), its `.env.example` completeness against its own schema. On another
 * application those would be noise on every clean repository, so they are judged only where the repository itself
 * sets the variable, and the schema-completeness checks are left out (a note says so).
 *
 * Ironclad when any of: the source checkout (config/src/schema.ts beside a package.json named ironclad-tasks); a
 * variable only this project reads, in the environment given, in `.env`/`.env.example` or in a compose file; a
 * compose image named ironclad. `--app ironclad|other` overrides the guess.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const APP_KINDS = ['auto', 'ironclad', 'other'] as const;
export type AppKind = 'ironclad' | 'other';

/** Variables no other framework reads: their presence says the configuration is for this server. */
export const IRONCLAD_ONLY_VARIABLES = [
  'SECRET_KEY_FALLBACKS',
  'DB_POOL_MAX',
  'DB_POOL_MODE',
  'DB_QUERY_TIMEOUT',
  'DB_POOL_QUEUE_MAX',
  'REQUEST_BODY_TIMEOUT',
  'TRUST_PROXY',
  'OVERLOAD_EVENT_LOOP_DELAY',
  'SHUTDOWN_DRAIN',
  'PASSWORD_HASH_CONCURRENCY',
  'PASSWORD_HASH_QUEUE_MAX',
  'RATE_LIMIT_SIGNUP',
  'RATE_LIMIT_LOGIN',
  'RATE_LIMIT_STORE',
  'TASK_QUOTA',
  'HTTPS_PUBLISH',
];

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function mentionsIroncladVariable(text: string): boolean {
  // Word scan, not a regex over the whole text: names appear as `NAME=`, `NAME:` or `${NAME}`.
  const words = new Set(text.split(/[^A-Z0-9_]+/));
  return IRONCLAD_ONLY_VARIABLES.some((name) => words.has(name));
}

export function detectAppKind(
  dir: string,
  env: Record<string, string | undefined>,
  composeFiles: readonly string[] = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yaml', 'compose.yml'],
): { kind: AppKind; reason: string } {
  const manifest = read(join(dir, 'package.json'));
  if (existsSync(join(dir, 'config/src/schema.ts')) && manifest.includes('"ironclad-tasks"')) {
    return { kind: 'ironclad', reason: 'the Ironclad Tasks source checkout' };
  }
  if (IRONCLAD_ONLY_VARIABLES.some((name) => env[name] !== undefined && env[name] !== '')) {
    return { kind: 'ironclad', reason: 'the environment sets a variable only Ironclad Tasks reads' };
  }
  for (const file of ['.env', '.env.example', ...composeFiles]) {
    const text = read(join(dir, file));
    if (!text) continue;
    if (mentionsIroncladVariable(text))
      return { kind: 'ironclad', reason: `${file} sets a variable only Ironclad Tasks reads` };
    if (file !== '.env' && file !== '.env.example' && text.toLowerCase().includes('ironclad')) {
      return { kind: 'ironclad', reason: `${file} runs an Ironclad image` };
    }
  }
  return { kind: 'other', reason: 'no Ironclad Tasks source, variable or image found' };
}
