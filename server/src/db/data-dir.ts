/**
 * DATA_DIR at start-up: created owner-only, checked writable, locked for this process (data-dir-lock.ts), and when
 * any of that fails, one line saying why and what to do (read-only filesystem, no permission, a file in the way, no
 * space). Kept apart from embedded.ts, which loads PGlite's machinery, so that main-process.ts can take the lock
 * before it loads anything heavy: a second server on the same DATA_DIR is refused in a fraction of a second.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StartupError } from '../lifecycle/startup-error.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';

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

export function writeAccess(path: string): string | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/** Free space for an operator, e.g. "1.2 MB"; "unknown" where statfs cannot tell. */
export function freeSpace(path: string): string {
  try {
    const stats = statfsSync(path);
    return `${((stats.bavail * stats.bsize) / 1_000_000).toFixed(1)} MB`;
  } catch {
    return 'unknown';
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

export function lockDataDir(dataDir: string): DataDirLock {
  try {
    return acquireDataDirLock(dataDir);
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw dataDirProblem(dataDir, error);
  }
}

export function statfsFree(path: string): number | undefined {
  try {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
