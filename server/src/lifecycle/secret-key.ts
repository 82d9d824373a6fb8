/**
 * Zero-config start with the embedded database: when SECRET_KEY is unset, a
 * strong key is generated once into DATA_DIR (owner-only permissions) and
 * reused on every later start, so sessions survive restarts.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@ironclad/config/load';
import { ConfigError, MEMORY_DATA_DIR } from '@ironclad/config/load';
import { generateSecretKey, secretKeyWeakness } from '@ironclad/config/secrets';
import { dataDirProblem, prepareDataDir } from '../db/data-dir.js';

export interface ResolvedKey {
  key: string;
  /** What happened, for the start-up log; never the key itself. */
  origin: 'configured' | 'generated' | 'stored';
  path?: string;
}

export function resolveSecretKey(config: Config): ResolvedKey {
  if (config.secretKey !== undefined) return { key: config.secretKey, origin: 'configured' };
  if (config.database.kind !== 'embedded') {
    throw new ConfigError(['SECRET_KEY: is not set; it is required with PostgreSQL']);
  }
  const dir = config.database.dataDir;
  if (dir === MEMORY_DATA_DIR) return { key: generateSecretKey(), origin: 'generated' };
  const path = join(dir, 'secret_key');
  // The same one-line refusals as the database's for a DATA_DIR that cannot be written (read-only, no permission).
  prepareDataDir(dir);
  if (existsSync(path)) return storedKey(path);
  const key = generateSecretKey();
  try {
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process wrote it first (it will hold the DATA_DIR lock; this one is then refused by it): use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return storedKey(path);
    throw dataDirProblem(dir, error);
  }
  return { key, origin: 'generated', path };
}

function storedKey(path: string): ResolvedKey {
  // Someone (a backup restore, a copy) may have widened the permissions.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = readFileSync(path, 'utf8').trim();
  const weakness = secretKeyWeakness(key);
  if (weakness)
    throw new ConfigError([`SECRET_KEY: the stored key in ${path} ${weakness}; delete the file to make a new one`]);
  return { key, origin: 'stored', path };
}
