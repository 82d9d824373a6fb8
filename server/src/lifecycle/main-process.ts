/**
 * The `npm start` process: load and check the configuration (refusing to start on any problem), then run one
 * server, or supervise WEB_CONCURRENCY of them.
 */
import cluster from 'node:cluster';
import { type Config, ConfigError, loadConfig } from '@ironclad/config/load';
import { isDatabaseUnavailable } from '../db/unavailable.js';
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
    const { code, message } = error as NodeJS.ErrnoException;
    const what = isDatabaseUnavailable(error) ? `database unreachable at ${databaseAddress(config)}` : message;
    process.stderr.write(`Failed to start: ${code ? `${code} ` : ''}${what}\n`);
    process.exit(1);
  });
}
