/** The `migrate` verb (compose's one-shot `migrate` service): apply the committed migrations and close. */
import { loadConfig } from '@ironclad/config/load';
import { openDatabase } from '../db/connect.js';
import { resolveSecretKey } from './secret-key.js';
import { StartupError } from './startup-error.js';

export async function migrateOnce(): Promise<void> {
  const config = loadConfig();
  resolveSecretKey(config);
  const v = config.values;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    // On the embedded database this takes DATA_DIR's lock: migrating under a running server would be two
    // processes writing one data directory.
    database = await openDatabase(config.database, {
      poolMax: 1,
      poolMode: v.DB_POOL_MODE,
      connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
      queryTimeoutMs: v.DB_QUERY_TIMEOUT,
    });
  } catch (error) {
    // The operator's one line (DATA_DIR in use, read-only, full), as `npm start` prints it, not a stack.
    if (!(error instanceof StartupError)) throw error;
    process.stderr.write(`Cannot migrate: ${error.message}\n`);
    process.exit(1);
  }
  try {
    await database.migrate({ log: (message) => process.stderr.write(`${message}\n`) });
  } finally {
    await database.close();
  }
}
