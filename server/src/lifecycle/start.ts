/**
 * One server process's life: open and migrate the database, build the app, listen, and on SIGTERM/SIGINT drain
 * in-flight requests and close the pool. Started by main-process.ts (after the configuration was loaded and checked).
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '@ironclad/config/load';
import { buildApp } from '../app.js';
import { type Database, openDatabase } from '../db/connect.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { databaseAddress } from './database-address.js';
import { resolveSecretKey } from './secret-key.js';
import { whereToOpen } from './where-to-open.js';

const MIGRATION_ATTEMPTS = 15;

async function migrateWithRetry(database: Database, address: string, log: (message: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await database.migrate();
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error) || attempt >= MIGRATION_ATTEMPTS) throw error;
      log(`database not reachable yet at ${address} (attempt ${attempt}/${MIGRATION_ATTEMPTS}); retrying in 1s`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * SIGTERM/SIGINT as main.ts catches them from the first moment: `received` holds a signal that came
 * before anyone could act on it; once set, `forward` gets every later one.
 */
export interface Signals {
  received?: string;
  forward?: (signal: string) => void;
}

/** The web client built beside this server (`npm run build`); absent in the API's container image. */
const BUILT_CLIENT = fileURLToPath(new URL('../../../client/dist/', import.meta.url));

export async function start(config: Config, signals: Signals): Promise<void> {
  // A stop asked for while starting (the embedded database can take seconds to create) is honoured
  // as soon as there is something to close, and still exits 0.
  let stop: ((signal: string) => Promise<void>) | undefined;
  const requested = () => signals.received;

  const key = resolveSecretKey(config);
  const values = config.values;
  const database = await openDatabase(config.database, {
    poolMax: values.DB_POOL_MAX,
    connectTimeoutMs: values.DB_CONNECT_TIMEOUT,
    queryTimeoutMs: values.DB_QUERY_TIMEOUT,
    onIdleError: (error) =>
      app?.log.warn({ code: (error as NodeJS.ErrnoException).code }, 'idle database connection lost'),
  });
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  app = await buildApp({ config, database, secretKey: key.key, webRoot: BUILT_CLIENT });
  const log = app.log;
  for (const warning of config.warnings) log.warn({ warning }, 'configuration warning');
  if (key.origin === 'generated')
    log.info(
      { path: key.path ?? '(memory)' },
      'SECRET_KEY not set: generated a new key and stored it with owner-only permissions',
    );
  if (key.origin === 'stored') log.info({ path: key.path }, 'SECRET_KEY not set: using the key generated earlier');

  if (!requested()) {
    await migrateWithRetry(database, databaseAddress(config), (message) => log.warn(message));
    log.info({ database: database.kind }, 'database ready');
  }

  let stopping = false;
  stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, values.SHUTDOWN_TIMEOUT);
    timer.unref();
    try {
      await app?.close();
      await database.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
  };
  signals.forward = (signal) => void stop?.(signal);
  const early = requested();
  if (early) return stop(early);
  await app.listen({ host: values.HOST, port: values.PORT });
  const address = app.server.address();
  const hint = whereToOpen(
    values.HOST,
    typeof address === 'object' && address ? address.port : values.PORT,
    values.ALLOWED_HOSTS,
  );
  if (hint?.level === 'info') log.info({ url: hint.url }, hint.message);
  else if (hint) log.warn(hint.message);
}
