/**
 * The `npm start` process: load and check the configuration (refusing to start on any problem), then run one
 * server, or supervise WEB_CONCURRENCY of them. With the embedded database, DATA_DIR is locked before the server's
 * modules are even loaded, so a second server on it is refused at once (data-dir.ts).
 */
import cluster from 'node:cluster';
import { type Config, ConfigError, loadConfig, MEMORY_DATA_DIR } from '@ironclad/config/load';
import { lockDataDir, prepareDataDir } from '../db/data-dir.js';
import type { DataDirLock } from '../db/data-dir-lock.js';
import { errorCode, isDatabaseUnavailable } from '../db/unavailable.js';
import { supervise } from './cluster.js';
import { databaseAddress } from './database-address.js';
import { exitWithConfigError } from './exit.js';
import type { Signals } from './start.js';
import { StartupError } from './startup-error.js';

function refuse(message: string): never {
  process.stderr.write(`Failed to start: ${message}\n`);
  process.exit(1);
}

/** Loads the configuration and runs one server, or supervises WEB_CONCURRENCY of them. */
export function main(signals: Signals): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    exitWithConfigError(error);
  }
  if (cluster.isPrimary && config.values.WEB_CONCURRENCY > 1) {
    supervise(config.values.WEB_CONCURRENCY, signals, {
      host: config.values.HOST,
      allowedHosts: config.values.ALLOWED_HOSTS,
    });
    return;
  }
  let lock: DataDirLock | undefined;
  const { database } = config;
  if (database.kind === 'embedded' && database.dataDir !== MEMORY_DATA_DIR) {
    try {
      prepareDataDir(database.dataDir);
      lock = lockDataDir(database.dataDir);
    } catch (error) {
      if (error instanceof StartupError) refuse(error.message);
      throw error;
    }
  }
  // The database shares this lock once it opens (data-dir-lock.ts counts its holders); this hold ends once started.
  const started = import('./start.js').then(({ start }) => start(config, signals));
  started.then(
    () => lock?.release(),
    (error) => fail(config, error),
  );
}

/** Startup failures (port in use, database unreachable): say what and where, never the secrets around it. */
async function fail(config: Config, error: unknown): Promise<never> {
  if (error instanceof ConfigError) exitWithConfigError(error);
  if (error instanceof StartupError) refuse(error.message);
  const { DatabaseRefusedError } = await import('../db/read-only-start.js');
  // The database's refusals name the user, the address and the settings to check; never the password.
  const target = config.databaseTarget;
  const fromUrl = target.kind === 'postgres' && target.from === 'DATABASE_URL';
  const where = target.kind === 'postgres' ? `${target.host ?? 'localhost'}:${target.port ?? 5432}` : '';
  let what: string;
  if (error instanceof DatabaseRefusedError && error.reason === 'credentials') {
    const user = target.kind === 'postgres' ? (target.user ?? '(default user)') : '';
    what = `the database refused the credentials of ${user}@${where} (SQLSTATE ${error.sqlstate ?? '28P01'}): check ${fromUrl ? 'the user and password in DATABASE_URL' : 'POSTGRES_USER and POSTGRES_PASSWORD'}`;
  } else if (error instanceof DatabaseRefusedError) {
    const name = target.kind === 'postgres' ? (target.database ?? '(default)') : '';
    what = `database "${name}" does not exist at ${where} (SQLSTATE 3D000): check ${fromUrl ? 'the database name in DATABASE_URL' : 'POSTGRES_DB'}, or create it`;
  } else if (isDatabaseUnavailable(error)) {
    const code = errorCode(error);
    what = `cannot reach the database at ${databaseAddress(config)}${code ? ` (${code})` : ''}: check that PostgreSQL runs there and ${fromUrl ? 'DATABASE_URL' : 'DB_HOST and DB_PORT'}`;
  } else {
    const { code, message } = error as NodeJS.ErrnoException;
    what = `${code ? `${code} ` : ''}${String(message).split('\n')[0]}`;
  }
  refuse(what);
}
