/**
 * The embedded database: PGlite (a real PostgreSQL compiled to WebAssembly), data in DATA_DIR, or in memory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORY_DATA_DIR } from '@ironclad/config/load';
import type { Database, Db } from './connect.js';
import { migrateEmbedded } from './migrate.js';
import * as schema from './schema.js';

export async function openEmbedded(dataDirSetting: string): Promise<Database> {
  let dataDir = MEMORY_DATA_DIR;
  if (dataDirSetting !== MEMORY_DATA_DIR) {
    mkdirSync(dataDirSetting, { recursive: true, mode: 0o700 });
    dataDir = join(dataDirSetting, 'pglite');
  }
  // Loaded only when used: a PostgreSQL-backed process saves the ~15 MB the WebAssembly build costs.
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'embedded',
    db,
    ping: async () => {
      await client.query('SELECT 1');
    },
    migrate: () => migrateEmbedded(client),
    close: () => client.close(),
  };
}
