/**
 * Suites that run a build (the server as a process, the auditor's CLI, the web client in a browser) must never
 * test an old one: a suite run straight after an edit, without `npm run build`, would pass or fail on code that is
 * no longer there. `builtEntry` finds the entry file of a workspace's build and throws a clear error when it is
 * missing or older than any source it is built from (the workspace's own and those of the workspaces it bundles).
 * `npm test` builds first, so this only ever fires on a hand-run `npx vitest`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from './gate.js';

type Workspace = 'config' | 'server' | 'audit' | 'client';

const ENTRY: Record<Workspace, string> = {
  config: 'config/dist/load.js',
  server: 'server/dist/main.js',
  audit: 'audit/dist/cli.js',
  client: 'client/dist/index.html',
};

/** What each build is made from: its sources and the sibling workspaces it imports. */
const INPUTS: Record<Workspace, string[]> = {
  config: ['config/src', 'config/package.json'],
  server: ['server/src', 'server/package.json', 'server/drizzle'],
  audit: ['audit/src', 'audit/package.json'],
  client: [
    'client/src',
    'client/build',
    'client/index.html',
    'client/vite.config.ts',
    'client/package.json',
    'client/public',
  ],
};
/**
 * The file each build writes every time it runs: tsc -b (incremental) leaves unchanged outputs alone, so each
 * workspace's build script touches its build info afterwards (a checkout that only touched sources would otherwise
 * look stale forever); Vite rewrites index.html.
 */
const STAMP: Record<Workspace, string> = {
  config: 'config/dist/.tsbuildinfo',
  server: 'server/dist/.tsbuildinfo',
  audit: 'audit/dist/.tsbuildinfo',
  client: 'client/dist/index.html',
};
const DEPENDS: Record<Workspace, Workspace[]> = { config: [], server: ['config'], audit: ['config'], client: [] };

function newest(path: string): { path: string; mtime: number } | undefined {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isDirectory()) return { path, mtime: stat.mtimeMs };
  let best: { path: string; mtime: number } | undefined;
  for (const entry of readdirSync(path)) {
    if (entry.endsWith('.test.ts') || entry.endsWith('.test.tsx')) continue;
    const found = newest(join(path, entry));
    if (found && (!best || found.mtime > best.mtime)) best = found;
  }
  return best;
}

/** Throws unless `workspace` and what it depends on are built from their current sources. */
export function assertFresh(workspace: Workspace, root = REPO): void {
  for (const dependency of DEPENDS[workspace]) assertFresh(dependency, root);
  const entry = join(root, ENTRY[workspace]);
  const hint = `run \`npm run build\` (npm test builds first)`;
  const stamp = join(root, STAMP[workspace]);
  if (!existsSync(entry) || !existsSync(stamp)) throw new Error(`${ENTRY[workspace]} is missing: ${hint}`);
  const built = statSync(stamp).mtimeMs;
  for (const input of INPUTS[workspace]) {
    const source = newest(join(root, input));
    if (source && source.mtime > built) {
      throw new Error(
        `${ENTRY[workspace]} is older than ${relative(root, source.path)}: the build is stale, so this suite would test old code; ${hint}`,
      );
    }
  }
}

/** The absolute path of a workspace's built entry file, after checking it is fresh. */
export function builtEntry(workspace: Workspace): string {
  assertFresh(workspace);
  return join(REPO, ENTRY[workspace]);
}
