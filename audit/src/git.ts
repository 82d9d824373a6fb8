/** The few git questions the file audit asks, answered by the real git binary (no re-implementation). */
import { execFile, spawn } from 'node:child_process';
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

/** gitignore semantics from git itself; --no-index so that a tracked file is still judged by the rules. */
export async function isIgnored(dir: string, path: string): Promise<boolean> {
  const result = await git(dir, ['check-ignore', '--no-index', '-q', path]);
  return result.ok;
}

export interface HistoryBlob {
  sha: string;
  path: string;
  size: number;
}

/**
 * Blobs reachable from any ref, each once, with a path it had. Sizes come from one batch-check so
 * that big blobs are skipped before they are read.
 */
export async function historyBlobs(dir: string): Promise<HistoryBlob[]> {
  const objects = await git(dir, ['rev-list', '--all', '--objects']);
  if (!objects.ok) return [];
  const pathOf = new Map<string, string>();
  for (const line of objects.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) pathOf.set(line.slice(0, space), line.slice(space + 1));
  }
  if (pathOf.size === 0) return [];
  const checked = await batch(
    dir,
    ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'],
    [...pathOf.keys()],
  );
  const blobs: HistoryBlob[] = [];
  for (const line of checked.toString('utf8').split('\n')) {
    const [sha, type, size] = line.split(' ');
    if (sha && type === 'blob') blobs.push({ sha, path: pathOf.get(sha) ?? '', size: Number(size) });
  }
  return blobs;
}

/** Contents of the given blobs, read through one `git cat-file --batch`. */
export async function readBlobs(dir: string, shas: string[]): Promise<Map<string, Buffer>> {
  const out = await batch(dir, ['cat-file', '--batch'], shas);
  const contents = new Map<string, Buffer>();
  let offset = 0;
  while (offset < out.length) {
    const newline = out.indexOf(10, offset);
    if (newline < 0) break;
    const [sha, type, size] = out.subarray(offset, newline).toString('utf8').split(' ');
    if (type === 'missing' || !sha) {
      offset = newline + 1;
      continue;
    }
    const length = Number(size);
    contents.set(sha, out.subarray(newline + 1, newline + 1 + length));
    offset = newline + 1 + length + 1;
  }
  return contents;
}

function batch(dir: string, args: string[], input: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', dir, ...args], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks)));
    child.stdin.end(`${input.join('\n')}\n`);
  });
}
