/** The `migrate` verb (compose's one-shot `migrate` service): apply the committed migrations and close. */
import { loadConfig } from '@ironclad/config/load';
import { openDatabase } from '../db/connect.js';
import { resolveSecretKey } from './secret-key.js';

export async function migrateOnce(): Promise<void> {
  const config = loadConfig();
  resolveSecretKey(config);
  const v = config.values;
  const database = await openDatabase(config.database, {
    poolMax: 1,
    connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
    queryTimeoutMs: v.DB_QUERY_TIMEOUT,
  });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
}
