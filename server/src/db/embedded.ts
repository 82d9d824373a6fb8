/**
 * The embedded database: PGlite (a real PostgreSQL compiled to WebAssembly), data in DATA_DIR, or in memory.
 *
 * DATA_DIR belongs to one process (data-dir-lock.ts): the lock is taken before PGlite opens a file. A full disk
 * is an outage, not a bug: PGlite answers disk_full (53100) and keeps working once space is freed, so those
 * errors are rethrown as ServiceUnavailableError (503 + Retry-After) rather than left to become 500s.
 */
import { accessSync, constants, existsSync, mkdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { MEMORY_DATA_DIR } from '@ironclad/config/load';
import { StartupError } from '../lifecycle/startup-error.js';
import type { Database, Db } from './connect.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { migrateEmbedded } from './migrate.js';
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
 * Creates DATA_DIR (owner-only) or says in one line why it cannot: read-only filesystem, no permission, a file in
 * the way, no space. Exported for the other writer of DATA_DIR at start-up (the generated SECRET_KEY).
 */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // mkdir succeeds on an existing directory whatever its filesystem: check it can be written now, not later.
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw dataDirProblem(dataDir, error);
  }
}

/** The one line for a DATA_DIR that cannot be written, from the error and a look at the path. */
export function dataDirProblem(dataDir: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const who = uid === undefined ? 'this user' : `uid ${uid}`;
  const blocker = fileInTheWay(dataDir);
  if (blocker)
    return new StartupError(
      `DATA_DIR ${dataDir} cannot be created: ${blocker} is a file, not a directory; point DATA_DIR at a directory`,
      { cause: error },
    );
  // mkdir -p on a read-only filesystem reports ENOENT for the missing part; ask the nearest existing directory.
  const existing = nearestExisting(dataDir);
  const writable = existing ? writeAccess(existing) : undefined;
  if (code === 'EROFS' || writable === 'EROFS')
    return new StartupError(
      `DATA_DIR ${dataDir} is on a read-only filesystem: mount it read-write, or set DATA_DIR to a writable directory`,
      { cause: error },
    );
  if (code === 'EACCES' || code === 'EPERM' || writable === 'EACCES' || writable === 'EPERM')
    return new StartupError(
      `DATA_DIR ${dataDir} is not writable by ${who} (no permission on ${existing ?? dataDir}): give this user write access (chown/chmod), or set DATA_DIR to a directory it owns`,
      { cause: error },
    );
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new StartupError(
      `DATA_DIR ${dataDir}: no space left on its filesystem (${freeSpace(existing ?? dataDir)} free): free some space, or set DATA_DIR on a larger filesystem`,
      { cause: error },
    );
  if (error instanceof StartupError) return error;
  return new StartupError(
    `DATA_DIR ${dataDir} cannot be used (${code ?? describe(error)}): check the path exists and is writable`,
    { cause: error },
  );
}

function fileInTheWay(path: string): string | undefined {
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      return statSync(current).isDirectory() ? undefined : current;
    } catch {
      // missing: look at its parent
    }
    if (dirname(current) === current) return undefined;
  }
}

function nearestExisting(path: string): string | undefined {
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      statSync(current);
      return current;
    } catch {
      if (dirname(current) === current) return undefined;
    }
  }
}

function writeAccess(path: string): string | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/** Free space for an operator, e.g. "1.2 MB"; "unknown" where statfs cannot tell. */
function freeSpace(path: string): string {
  try {
    const stats = statfsSync(path);
    return `${((stats.bavail * stats.bsize) / 1_000_000).toFixed(1)} MB`;
  } catch {
    return 'unknown';
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

function lockDataDir(dataDir: string): DataDirLock {
  try {
    return acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw dataDirProblem(dataDir, error);
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
    return await PGliteClass.create(dataDir);
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

/** Below this a start-up failure is put down to space: PostgreSQL writes whole 8 kB pages and 16 MB WAL segments. */
const MIN_FREE = 17_000_000;

function statfsFree(path: string): number | undefined {
  try {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

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
