/**
 * One process per embedded DATA_DIR. PGlite has no locking of its own: two processes on one data directory each
 * believe they own it, and the later writer's files silently replace the earlier one's (acknowledged tasks lost).
 * So the server takes `DATA_DIR/server.lock` before PGlite opens anything, holds it for the process's life and
 * removes it on exit.
 *
 * Hand-written because no well-kept library does what a restart needs: proper-lockfile (and lockfile, lock-file)
 * judge a lock only by its mtime, so after `kill -9` the next start would have to wait out the staleness window;
 * here a holder on this machine is judged by its pid AND that pid's start time, so a dead holder is taken over at
 * once and a reused pid (pid 1 in a restarted container) is not mistaken for it. Node 20 has no flock().
 *
 * The rules (judgeHolder):
 * - same host and boot: alive iff the pid exists (kill 0 does not say ESRCH) and its /proc start time matches; a
 *   recorded pid equal to ours is stale (we have not written it yet, so it is an earlier life of this pid).
 * - same host, other boot (boot_id differs): stale, the machine restarted.
 * - other host, or other pid namespace (a volume shared between containers or machines): the pid cannot be checked;
 *   the holder refreshes the file's mtime every REFRESH_MS, so it is stale only when not refreshed for
 *   OTHER_HOST_STALE_MS.
 * - unreadable content (a crash between create and write on a filesystem without link()): stale after
 *   GARBAGE_STALE_MS.
 * A takeover is serialised by a mkdir mutex (`server.lock.takeover`): under it the lock is read again and removed
 * only if it still holds the very content judged stale; then the exclusive create is retried, so of several
 * processes that found the same stale lock exactly one gets it.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { StartupError } from '../lifecycle/startup-error.js';

export const LOCK_FILE = 'server.lock';
const TAKEOVER_DIR = 'server.lock.takeover';

/** How often the holder touches the lock, so a holder on another host can be told from a dead one. */
export const REFRESH_MS = 5_000;
/** Six missed refreshes: a paused container or a slow NFS write is not mistaken for a dead holder. */
export const OTHER_HOST_STALE_MS = 30_000;
/** An unreadable lock younger than this may be a create still being written. */
export const GARBAGE_STALE_MS = 10_000;
/** A takeover mutex older than this was left by a process killed during its (milliseconds long) takeover. */
export const TAKEOVER_STALE_MS = 10_000;
/** How long to wait for another process's takeover before giving up: it takes milliseconds. */
const TAKEOVER_WAIT_MS = 2_000;

export interface LockRecord {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: tells a reboot (pids start over) from the same boot. */
  boot_id?: string;
  /** /proc/self/ns/pid: two containers on one host may share a host name and a boot id but never their pids. */
  pid_ns?: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells the holder from a later process with its pid. */
  start_time?: string;
  acquired_at: string;
}

/** Who this process is, as a lock records it; a parameter so the rules can be tested with other identities. */
export interface Identity {
  pid: number;
  host: string;
  bootId?: string;
  pidNamespace?: string;
}

export function currentIdentity(): Identity {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    pidNamespace: pidNamespace(),
  };
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 (starttime) of /proc/<pid>/stat; undefined where there is no /proc or no such process. */
export function processStartTime(pid: number): string | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Field 2 (the command name, in parentheses) may itself contain spaces and parentheses: count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[22 - 3];
}

/** Whether a pid exists on this machine: EPERM means it exists but belongs to another user. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function parseRecord(content: string): LockRecord | undefined {
  try {
    const value = JSON.parse(content) as Partial<LockRecord>;
    if (
      typeof value === 'object' &&
      value !== null &&
      Number.isInteger(value.pid) &&
      (value.pid as number) > 0 &&
      typeof value.host === 'string' &&
      typeof value.acquired_at === 'string'
    )
      return value as LockRecord;
  } catch {
    // not JSON: judged by age below
  }
  return undefined;
}

export type Verdict = { stale: false; record?: LockRecord } | { stale: true; reason: string };

/** Whether the lock's holder is gone. `mtimeMs` is the lock file's; `probe` is replaceable for tests. */
export function judgeHolder(
  content: string,
  mtimeMs: number,
  me: Identity,
  now = Date.now(),
  probe: { exists: (pid: number) => boolean; startTime: (pid: number) => string | undefined } = {
    exists: pidExists,
    startTime: processStartTime,
  },
): Verdict {
  const record = parseRecord(content);
  if (!record) {
    return now - mtimeMs > GARBAGE_STALE_MS ? { stale: true, reason: 'unreadable lock file' } : { stale: false };
  }
  // Another host, or another pid namespace (a container with the same host name): its pid means nothing here.
  const elsewhere = record.pid_ns !== undefined && me.pidNamespace !== undefined && record.pid_ns !== me.pidNamespace;
  if (record.host !== me.host || elsewhere) {
    return now - mtimeMs > OTHER_HOST_STALE_MS
      ? { stale: true, reason: `holder on host ${record.host} stopped refreshing the lock` }
      : { stale: false, record };
  }
  if (record.boot_id && me.bootId && record.boot_id !== me.bootId) {
    return { stale: true, reason: 'the machine restarted since' };
  }
  if (record.pid === me.pid) return { stale: true, reason: `pid ${record.pid} is this process's own` };
  if (!probe.exists(record.pid)) return { stale: true, reason: `pid ${record.pid} is not running` };
  const startTime = probe.startTime(record.pid);
  if (record.start_time && startTime && record.start_time !== startTime) {
    return { stale: true, reason: `pid ${record.pid} is now another process` };
  }
  return { stale: false, record };
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Idempotent; also done on process exit. */
  release(): void;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function inUse(dataDir: string, record: LockRecord | undefined): StartupError {
  const holder = record
    ? `pid ${record.pid} on host ${record.host}, since ${record.acquired_at}`
    : 'a lock being written right now';
  return new StartupError(
    `DATA_DIR ${dataDir} is in use by another Ironclad server (${holder}): stop it first, or give this one its own DATA_DIR`,
  );
}

/**
 * Takes DATA_DIR's lock or throws a StartupError naming the holder. Synchronous: it takes milliseconds, and nothing
 * else may touch DATA_DIR meanwhile. DATA_DIR must exist.
 */
/**
 * Locks this process already holds, by path: main-process.ts takes the lock before loading the server (so a second
 * server is refused at once) and openEmbedded asks again; the second asker shares the first one's lock, which is
 * released when the last of them releases it (or at exit).
 */
const heldHere = new Map<string, { lock: DataDirLock; users: number }>();

export function acquireDataDirLock(dataDir: string, me: Identity = currentIdentity()): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  if (me.pid !== process.pid) return acquireFreshLock(path, dataDir, me); // a test's stand-in identity
  const key = resolve(path);
  let entry = heldHere.get(key);
  if (entry) entry.users++;
  else {
    entry = { lock: acquireFreshLock(path, dataDir, me), users: 1 };
    heldHere.set(key, entry);
  }
  const shared = entry;
  let released = false;
  return {
    path,
    release: () => {
      if (released) return;
      released = true;
      if (--shared.users > 0) return;
      heldHere.delete(key);
      shared.lock.release();
    },
  };
}

function acquireFreshLock(path: string, dataDir: string, me: Identity): DataDirLock {
  const record: LockRecord = {
    pid: me.pid,
    host: me.host,
    boot_id: me.bootId,
    pid_ns: me.pidNamespace,
    start_time: processStartTime(me.pid),
    acquired_at: new Date().toISOString(),
  };
  const content = `${JSON.stringify(record)}\n`;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    if (createExclusive(path, content)) return holdLock(path, content);
    let existing: string;
    let mtimeMs: number;
    try {
      existing = readFileSync(path, 'utf8');
      mtimeMs = statSync(path).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw error;
    }
    const verdict = judgeHolder(existing, mtimeMs, me);
    if (!verdict.stale) throw inUse(dataDir, verdict.record);
    if (!takeOver(dataDir, path, existing) && Date.now() > deadline) throw inUse(dataDir, parseRecord(existing));
  }
}

/**
 * Creates the lock with its content in one step: written to a private file, then hard-linked to the lock's name,
 * which fails with EEXIST if it exists. So no reader ever sees a half-written lock. Filesystems without hard links
 * fall back to O_CREAT|O_EXCL.
 */
function createExclusive(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeDurably(temporary, content, 'w');
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    unlinkSync(temporary);
  }
  try {
    writeDurably(path, content, 'wx');
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function writeDurably(path: string, content: string, flag: 'w' | 'wx'): void {
  const fd = openSync(path, flag, 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a stale lock under the takeover mutex, only if it still holds `staleContent`. Returns false when another
 * process holds the mutex (after a short wait: the caller retries).
 */
function takeOver(dataDir: string, path: string, staleContent: string): boolean {
  const mutex = join(dataDir, TAKEOVER_DIR);
  try {
    mkdirSync(mutex, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      // Left by a process killed during its takeover. Two processes removing it at the same moment is possible
      // but needs a crash inside a milliseconds-long window first; the content check below still guards the lock.
      if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) rmdirSync(mutex);
    } catch {
      // gone already
    }
    sleep(10 + Math.random() * 20);
    return false;
  }
  try {
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (current === staleContent) unlinkSync(path);
    return true;
  } finally {
    rmdirSync(mutex);
  }
}

/** Holds the lock: refreshes its mtime (for readers on other hosts) and removes it on exit if it is still ours. */
function holdLock(path: string, content: string): DataDirLock {
  let released = false;
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // DATA_DIR unmounted or full: the next refresh tries again; a reader on this host checks the pid anyway.
    }
  }, REFRESH_MS);
  refresh.unref();
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    process.removeListener('exit', release);
    try {
      // Only ours: a lock taken over by another process (after we were judged stale) is not ours to remove.
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // already gone, or the filesystem is gone: the next start judges the pid
    }
  };
  process.on('exit', release);
  return { path, release };
}
