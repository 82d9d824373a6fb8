/**
 * The embedded database: PGlite (a real PostgreSQL compiled to WebAssembly), data in DATA_DIR, or in memory.
 *
 * DATA_DIR belongs to one process (data-dir-lock.ts): the lock is taken before PGlite opens a file. A full disk
 * is an outage, not a bug: PGlite answers disk_full (53100) and keeps working once space is freed, so those
 * errors are rethrown as ServiceUnavailableError (503 + Retry-After) rather than left to become 500s.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { MEMORY_DATA_DIR } from '@ironclad/config/load';
import { StartupError } from '../lifecycle/startup-error.js';
import type { Database, Db } from './connect.js';
import {
  dataDirProblem,
  describe,
  freeSpace,
  lockDataDir,
  prepareDataDir,
  statfsFree,
  writeAccess,
} from './data-dir.js';
import type { DataDirLock } from './data-dir-lock.js';
import { migrateEmbedded } from './migrate.js';
import { unpackTemplate } from './pglite-template.js';
import * as schema from './schema.js';
import { ServiceUnavailableError } from './unavailable.js';

export async function openEmbedded(dataDirSetting: string): Promise<Database> {
  let dataDir = MEMORY_DATA_DIR;
  let lock: DataDirLock | undefined;
  if (dataDirSetting !== MEMORY_DATA_DIR) {
    prepareDataDir(dataDirSetting);
    lock = lockDataDir(dataDirSetting);
    dataDir = join(dataDirSetting, 'pglite');
  }
  try {
    // Loaded only when used: a PostgreSQL-backed process saves the ~15 MB the WebAssembly build costs.
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
    const client = await createClient(PGlite, dataDir, dataDirSetting);
    const guarded = translatingDiskErrors(client);
    const db = drizzlePglite(guarded, { schema }) as unknown as Db;
    return {
      kind: 'embedded',
      db,
      ping: async () => {
        await guarded.query('SELECT 1');
      },
      migrate: () => migrateEmbedded(guarded),
      close: async () => {
        try {
          await client.close();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    lock?.release();
    throw error;
  }
}

/**
 * A new database needs about 40 MB (mostly the first 16 MB WAL segment and the catalogs). PGlite's start-up on a
 * full filesystem fails with a bare Emscripten error or even a non-Error value ("Failed to start: undefined"), so
 * the failure is explained by the filesystem's state rather than by what was thrown.
 */
async function createClient(PGliteClass: typeof PGlite, dataDir: string, dataDirSetting: string): Promise<PGlite> {
  const isNew = dataDir !== MEMORY_DATA_DIR && !existsSync(dataDir);
  try {
    // Search (migration 0004) needs pg_trgm and unaccent; PGlite ships them as extensions loaded here.
    const [{ pg_trgm }, { unaccent }] = await Promise.all([
      import('@electric-sql/pglite/contrib/pg_trgm'),
      import('@electric-sql/pglite/contrib/unaccent'),
    ]);
    if (isNew) unpackTemplate(dataDir);
    return await PGliteClass.create(dataDir, {
      extensions: { pg_trgm, unaccent },
      startParams: [...PGliteClass.defaultStartParams, ...memorySettings()],
    });
  } catch (error) {
    if (dataDir === MEMORY_DATA_DIR) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const free = statfsFree(dataDirSetting);
    const full =
      code === 'ENOSPC' || code === '53100' || hasErrno(error, 28) || (free !== undefined && free < MIN_FREE);
    // A database this attempt began creating is unusable half-made (the next start would fail on it), and it
    // holds nothing yet: remove it, so that freeing space and starting again is all the operator has to do.
    // Done after measuring the space (the half-made files are what filled it), before saying what is free.
    if (isNew) rmSync(dataDir, { recursive: true, force: true });
    if (full)
      throw new StartupError(
        `DATA_DIR ${dataDirSetting}: not enough free space to open the embedded database (${freeSpace(dataDirSetting)} free; a new one needs about 40 MB): free some space, or set DATA_DIR on a larger filesystem`,
        { cause: error },
      );
    const writable = writeAccess(dataDirSetting);
    if (writable) throw dataDirProblem(dataDirSetting, Object.assign(new Error(writable), { code: writable }));
    if (error instanceof Error) throw error;
    throw new StartupError(
      `DATA_DIR ${dataDirSetting}: the embedded database could not be opened (${describe(error)}): check the disk and the files in ${dataDir}`,
      { cause: error },
    );
  }
}

/**
 * PostgreSQL's defaults size it for a server of its own; inside one process beside the API they set most of the RSS
 * (docs/performance.md, "The embedded database's memory"). Measured with `npm run memory`: shared_buffers 128 MB ->
 * 16 MB takes ~110 MB off a started server. maintenance_work_mem bounds what CREATE INDEX (migration 0004's trigram
 * GIN index) takes. The WebAssembly heap only grows, so a peak stays for the life of the process.
 */
export function memorySettings(): string[] {
  return ['-c', 'shared_buffers=16MB', '-c', 'maintenance_work_mem=16MB'];
}

/** Below this a start-up failure is put down to space: PostgreSQL writes whole 8 kB pages and 16 MB WAL segments. */
const MIN_FREE = 17_000_000;

/** Emscripten's ErrnoError carries `errno` (28 is ENOSPC in its numbering, as in Linux's). */
function hasErrno(error: unknown, errno: number): boolean {
  return typeof error === 'object' && error !== null && (error as { errno?: unknown }).errno === errno;
}

/**
 * SQLSTATEs that mean the disk, not the query: disk_full and the rest of class 53 (insufficient resources), and
 * io_error (a filesystem turned read-only under the server). PGlite survives them: once space is freed the same
 * instance writes again (measured: 3,000 inserts on a full tmpfs all failed with 53100, then all succeeded after the
 * filler was removed), so no reopen is needed.
 */
function isDiskError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && (code.startsWith('53') || code === '58030')) return true;
  return isDiskError(cause, depth + 1);
}

function translate(error: unknown): unknown {
  if (!isDiskError(error)) return error;
  return new ServiceUnavailableError('the embedded database cannot write: its disk is full or failing', {
    cause: error,
  });
}

/**
 * The client, with disk errors of the calls Drizzle and the migrator make (query, exec, transaction) rethrown as
 * ServiceUnavailableError. Drizzle wraps that in DrizzleQueryError; isDatabaseUnavailable follows `cause`.
 */
function translatingDiskErrors(client: PGlite): PGlite {
  const wrapped = new Set<PropertyKey>(['query', 'exec', 'transaction', 'sql']);
  return new Proxy(client, {
    // The target, not the proxy, as `this`: PGlite's getters and methods use private fields.
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!wrapped.has(property)) return value.bind(target);
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw translate(error);
        }
      };
    },
  });
}
