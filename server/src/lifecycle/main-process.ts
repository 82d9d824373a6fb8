/**
 * The `npm start` process: load and check the configuration (refusing to start on any problem), then run one
 * server, or supervise WEB_CONCURRENCY of them.
 */
import cluster from 'node:cluster';
import { type Config, ConfigError, loadConfig } from '@ironclad/config/load';
import { DatabaseRefusedError } from '../db/read-only-start.js';
import { errorCode, isDatabaseUnavailable } from '../db/unavailable.js';
import { supervise } from './cluster.js';
import { databaseAddress } from './database-address.js';
import { exitWithConfigError } from './exit.js';
import { type Signals, start } from './start.js';
import { StartupError } from './startup-error.js';

/** Loads the configuration and runs one server, or supervises WEB_CONCURRENCY of them. */
export function main(signals: Signals): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    exitWithConfigError(error);
  }
  if (cluster.isPrimary && config.values.WEB_CONCURRENCY > 1) {
    supervise(config.values.WEB_CONCURRENCY, signals);
    return;
  }
  start(config, signals).catch((error) => {
    if (error instanceof ConfigError) exitWithConfigError(error);
    // Startup failures (port in use, database unreachable): say what and where, never the secrets around it.
    if (error instanceof StartupError) {
      process.stderr.write(`Failed to start: ${error.message}\n`);
      process.exit(1);
    }
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
    process.stderr.write(`Failed to start: ${what}\n`);
    process.exit(1);
  });
}
