/**
 * One server process's life: open and migrate the database, build the app, listen, and on SIGTERM/SIGINT drain
 * in-flight requests and close the pool. Started by main-process.ts (after the configuration was loaded and checked).
 */
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Config } from '@ironclad/config/load';
import { buildApp } from '../app.js';
import { type Database, openDatabase } from '../db/connect.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { databaseAddress } from './database-address.js';
import { resolveSecretKey } from './secret-key.js';
import { closeListener, drainFor, drainTimer, type ShutdownMessage, type ShutdownState } from './shutdown.js';
import { announce, flushed, whereToOpen } from './where-to-open.js';

const MIGRATION_ATTEMPTS = 15;

/** Resolves after `ms`, or rejects at once when the start-up is aborted (a stop was asked for). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function migrateWithRetry(
  database: Database,
  address: string,
  log: (message: string) => void,
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await database.migrate({ signal, log });
      return;
    } catch (error) {
      if (signal.aborted || !isDatabaseUnavailable(error) || attempt >= MIGRATION_ATTEMPTS) throw error;
      log(`database not reachable yet at ${address} (attempt ${attempt}/${MIGRATION_ATTEMPTS}); retrying in 1s`);
      await pause(1000, signal);
    }
  }
}

/**
 * The signals as main.ts catches them from the first moment: `received` holds a stop that came before anyone could
 * act on it; once set, `forward` gets every later one, and `hangup` every SIGHUP.
 */
export interface Signals {
  received?: string;
  forward?: (signal: string) => void;
  hangup?: () => void;
}

/** The web client built beside this server (`npm run build`); absent in the API's container image. */
const BUILT_CLIENT = fileURLToPath(new URL('../../../client/dist/', import.meta.url));

export async function start(config: Config, signals: Signals): Promise<void> {
  const values = config.values;
  // A stop asked for while starting (the embedded database can take seconds to create, a migration can wait for
  // another instance's) aborts what can be aborted and is honoured as soon as there is something to close; the
  // process still exits 0.
  const startup = new AbortController();
  let stop: ((signal: string) => void) | undefined;
  signals.forward = (signal) => {
    signals.received ??= signal;
    startup.abort(new Error(`stopped by ${signal} while starting`));
    stop?.(signal);
  };
  if (signals.received) startup.abort(new Error(`stopped by ${signals.received} while starting`));
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  signals.hangup = () => {
    const message = 'SIGHUP: settings are read once, at start-up; restart the server to apply changes. Carrying on.';
    if (app) app.log.info(message);
    else process.stderr.write(`${message}\n`);
  };

  const key = resolveSecretKey(config);
  const database = await openDatabase(config.database, {
    poolMax: values.DB_POOL_MAX,
    poolMode: values.DB_POOL_MODE,
    connectTimeoutMs: values.DB_CONNECT_TIMEOUT,
    queryTimeoutMs: values.DB_QUERY_TIMEOUT,
    onIdleError: (error) =>
      app?.log.warn({ code: (error as NodeJS.ErrnoException).code }, 'idle database connection lost'),
    onPoolerWarning: (message) => app?.log.warn(message),
  });
  const shutdown: ShutdownState = { draining: false };
  app = await buildApp({ config, database, secretKey: key.key, webRoot: BUILT_CLIENT, shutdown });
  const log = app.log;
  for (const warning of config.warnings) log.warn({ warning }, 'configuration warning');
  if (key.origin === 'generated')
    log.info(
      { path: key.path ?? '(memory)' },
      'SECRET_KEY not set: generated a new key and stored it with owner-only permissions',
    );
  if (key.origin === 'stored') log.info({ path: key.path }, 'SECRET_KEY not set: using the key generated earlier');

  if (!startup.signal.aborted) {
    try {
      await migrateWithRetry(database, databaseAddress(config), (message) => log.warn(message), startup.signal);
      log.info({ database: database.kind }, 'database ready');
    } catch (error) {
      // Stopped while waiting: not a failure. Anything else is (main-process.ts says what and exits 1).
      if (!startup.signal.aborted) {
        await database.close().catch(() => {});
        throw error;
      }
    }
  }

  let stopping = false;
  let cutDrain = () => {};
  stop = (signal: string) => {
    if (stopping) {
      cutDrain();
      return;
    }
    stopping = true;
    void stopServer(signal);
  };
  const stopServer = async (signal: string) => {
    const listening = app.server.listening;
    const drainMs = listening ? drainFor(signal, values.SHUTDOWN_DRAIN) : 0;
    shutdown.draining = true;
    log.info(
      { signal, drain_ms: drainMs },
      drainMs > 0
        ? 'shutting down: /readyz now answers 503; still serving while load balancers notice'
        : 'shutting down: finishing in-flight requests',
    );
    const drain = drainTimer(drainMs);
    cutDrain = drain.cut;
    await drain.done;
    if (drainMs > 0) log.info('drain over: no longer accepting connections; finishing in-flight requests');
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting');
      process.exit(1);
    }, values.SHUTDOWN_TIMEOUT);
    timer.unref();
    try {
      if (listening) await closeListener(app.server, shutdown);
      await app.close();
      await database.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'error while shutting down');
      process.exit(1);
    }
  };
  if (signals.received) return stop(signals.received);
  await app.listen({ host: values.HOST, port: values.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : values.PORT;
  if (cluster.isWorker) {
    // Said once for all the workers, by the supervisor, when every one of them listens (cluster.ts).
    await flushed(log);
    process.send?.({ ironclad: 'listening', port } satisfies ShutdownMessage);
    return;
  }
  await announce(whereToOpen(values.HOST, port, values.ALLOWED_HOSTS), log);
}
