/** The few git questions the file audit asks, answered by the real git binary (no re-implementation). */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAX_BUFFER = 64 * 1024 * 1024;

async function git(dir: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
  try {
    const { stdout } = await run('git', ['-C', dir, ...args], { maxBuffer: MAX_BUFFER, encoding: 'utf8' });
    return { ok: true, stdout };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string };
    return { ok: false, stdout: failed.stdout ?? '' };
  }
}

/** True when a git binary can be run here (the API's container image has none). */
export async function gitAvailable(): Promise<boolean> {
  return (await git('.', ['--version'])).ok;
}

/** True when `dir` is the top of a git work tree (a subdirectory of another repository does not count). */
export async function isRepoRoot(dir: string): Promise<boolean> {
  const result = await git(dir, ['rev-parse', '--show-prefix']);
  return result.ok && result.stdout.trim() === '';
}

export async function trackedFiles(dir: string): Promise<string[]> {
  const result = await git(dir, ['ls-files', '-z']);
  return result.stdout.split('\0').filter(Boolean);
}

/** Every path ever added in any commit reachable from any ref. */
export async function pathsEverAdded(dir: string): Promise<string[]> {
  const result = await git(dir, ['log', '--all', '--diff-filter=A', '--name-only', '--format=', '-z']);
  return [...new Set(result.stdout.split(/[\0\n]/).filter(Boolean))];
}

/** Every blob a path has held in any commit reachable from any ref (undefined: git could not say). */
export async function blobsOfPath(dir: string, path: string): Promise<string[] | undefined> {
  const result = await git(dir, ['log', '--all', '--format=', '--raw', '--no-abbrev', '--', path]);
  if (!result.ok) return undefined;
  // `:100644 100644 <old> <new> M\tpath`: the new blob of each change; all zeros when the path was deleted.
  const blobs = result.stdout.split('\n').map((line) => line.split(' ')[3] ?? '');
  return [...new Set(blobs.filter((sha) => sha !== '' && !/^0+$/.test(sha)))];
}

/** gitignore semantics from git itself; --no-index so that a tracked file is still judged by the rules. */
export async function isIgnored(dir: string, path: string): Promise<boolean> {
  const result = await git(dir, ['check-ignore', '--no-index', '-q', path]);
  return result.ok;
}

export interface HistoryBlob {
  sha: string;
  /** One path the blob had (rev-list names each object once, under the first path it meets). */
  path: string;
  size: number;
}

export interface HistoryListing {
  blobs: HistoryBlob[];
  /** Why the listing may lack objects (rev-list failed, a shallow clone); empty when it is complete. */
  problems: string[];
}

/**
 * Every blob reachable in history, each once, with a path and a size: `rev-list --objects` over every ref (`--all`:
 * branches, tags, remote-tracking refs, refs/stash, custom refs such as an orphan commit under refs/backup/*), every
 * stash entry (the older ones, stash@{1} on, live only in refs/stash's reflog: fed on stdin) and the index
 * (`--indexed-objects`: staged content), piped straight into one `cat-file --batch-check` for the type and size.
 * Streamed line by line: no buffer limit on a big repository. Not listed, as git-secrets, gitleaks and trufflehog do
 * not: commits only the other reflogs reach (amended, rebased or reset away; not pushed, not cloned, expired by git in
 * 90 days: in a shared or long-lived repository they are mostly superseded work, and `--reflog` reported those as
 * leaks) and unreachable objects (gc deletes them; finding them means walking the whole store, `git fsck`).
 */
export async function historyBlobs(dir: string): Promise<HistoryListing> {
  const problems: string[] = [];
  const [shallow, stashes] = await Promise.all([
    git(dir, ['rev-parse', '--is-shallow-repository']),
    git(dir, ['reflog', 'show', '--format=%H', 'refs/stash', '--']),
  ]);
  if (shallow.stdout.trim() === 'true') {
    problems.push('a shallow clone: commits before the fetched depth are not here (git fetch --unshallow)');
  }
  const revList = spawn('git', ['-C', dir, 'rev-list', '--objects', '--all', '--indexed-objects', '--stdin'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  revList.stdin.on('error', () => {});
  revList.stdin.end(stashes.ok ? stashes.stdout : '');
  const check = spawn(
    'git',
    ['-C', dir, 'cat-file', '--batch-check=%(objecttype) %(objectname) %(objectsize) %(rest)'],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  revList.stdout.pipe(check.stdin);
  // A failed spawn ends the stream; rev-list's exit code below says the listing is incomplete.
  check.on('error', () => {});
  check.stdin.on('error', () => {});
  let revError = '';
  revList.stderr.on('data', (chunk: Buffer) => {
    if (revError.length < 2000) revError += chunk.toString('utf8');
  });
  const revDone = exitCode(revList);
  const blobs: HistoryBlob[] = [];
  for await (const line of createInterface({ input: check.stdout, crlfDelay: Number.POSITIVE_INFINITY })) {
    // "blob <sha> <size> <path>"; trees, commits and tags are walked by rev-list, not scanned.
    if (!line.startsWith('blob ')) continue;
    const shaEnd = line.indexOf(' ', 5);
    const sizeEnd = line.indexOf(' ', shaEnd + 1);
    blobs.push({
      sha: line.slice(5, shaEnd),
      size: Number(line.slice(shaEnd + 1, sizeEnd === -1 ? undefined : sizeEnd)),
      path: sizeEnd === -1 ? '' : line.slice(sizeEnd + 1),
    });
  }
  const code = await revDone;
  if (code !== 0) {
    const reason = revError.trim().split('\n')[0] || `exit code ${code}`;
    problems.push(`git rev-list could not walk the whole history (${reason})`);
  }
  return { blobs, problems };
}

/**
 * The contents of `shas`, in order, read through one `git cat-file --batch` and yielded one blob at a time as they
 * arrive: the whole history is never in memory, and reading waits while the caller scans (stream backpressure).
 * A blob git cannot read comes back with `content: undefined`.
 */
export async function* readBlobs(dir: string, shas: string[]): AsyncGenerator<{ sha: string; content?: Buffer }> {
  if (shas.length === 0) return;
  const child = spawn('git', ['-C', dir, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'ignore'] });
  // git gone early (or never started): the blobs not answered are reported by the caller.
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  child.stdin.end(`${shas.join('\n')}\n`);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let header: { sha: string; size: number } | undefined;
  try {
    for await (const chunk of readAhead(child.stdout, READ_AHEAD_BYTES)) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      for (;;) {
        if (!header) {
          const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
          const newline = joined.indexOf(10);
          if (newline === -1) {
            pending = [joined];
            break;
          }
          const [sha = '', type = '', size = ''] = joined.subarray(0, newline).toString('utf8').split(' ');
          const rest = joined.subarray(newline + 1);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
          if (type === 'missing' || type === 'ambiguous') {
            yield { sha };
            continue;
          }
          header = { sha, size: Number(size) };
        }
        // The content, then one newline; wait for all of it (chunks are kept apart until then: no re-copying).
        if (pendingBytes < header.size + 1) break;
        const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
        const content = joined.subarray(0, header.size);
        const rest = joined.subarray(header.size + 1);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        const sha = header.sha;
        header = undefined;
        yield { sha, content };
      }
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/**
 * How far git may read ahead of the scan. A pipe holds 64 KiB: without a queue git waits for every scan and the scan
 * for every read (a second of a 3,000-commit audit was spent idle). Bounded, so a big history is not held in memory.
 */
const READ_AHEAD_BYTES = 16 * 1024 * 1024;

/** The chunks of `stream`, read ahead into a queue of at most about `limit` bytes (paused above it). */
async function* readAhead(stream: Readable, limit: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  stream.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > limit) stream.pause();
    notify();
  });
  // 'close' as well: a stream destroyed without an 'end' (its process never started) must not leave us waiting.
  for (const event of ['end', 'close']) {
    stream.on(event, () => {
      ended = true;
      notify();
    });
  }
  stream.on('error', (error: Error) => {
    failure = error;
    notify();
  });
  let head = 0;
  for (;;) {
    if (head < queue.length) {
      const chunk = queue[head] as Buffer;
      queue[head] = EMPTY;
      head += 1;
      // Drop consumed slots now and then: shift() on a long queue is linear each time.
      if (head > 1024) {
        queue.splice(0, head);
        head = 0;
      }
      queued -= chunk.length;
      if (queued <= limit / 2 && stream.isPaused()) stream.resume();
      yield chunk;
    } else if (failure) throw failure;
    else if (ended) return;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}
const EMPTY = Buffer.alloc(0);

function exitCode(child: ChildProcess): Promise<number> {
  return new Promise((done) => {
    child.on('error', () => done(-1));
    child.on('close', (code) => done(code ?? -1));
  });
}

/**
 * Blob ids of the index entries whose file in the work tree is unchanged: the file scan read exactly these contents
 * from disk. A staged file edited since (or deleted) is not among them, so its staged content is scanned as history.
 */
export async function unchangedIndexBlobs(dir: string): Promise<Map<string, string>> {
  const [staged, modified] = await Promise.all([
    git(dir, ['ls-files', '-s', '-z']),
    git(dir, ['ls-files', '-m', '-z']),
  ]);
  const changed = new Set(modified.stdout.split('\0'));
  const blobs = new Map<string, string>();
  for (const entry of staged.stdout.split('\0')) {
    // "<mode> <sha> <stage>\t<path>"
    const tab = entry.indexOf('\t');
    const path = entry.slice(tab + 1);
    const sha = entry.split(' ')[1];
    if (tab > 0 && sha && !changed.has(path)) blobs.set(sha, path);
  }
  return blobs;
}
