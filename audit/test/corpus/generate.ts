/**
 * Writes the corpus: each repository of repos.ts as a real git repository. History is built with one
 * `git fast-import` stream per repository (fixed author, committer and dates, so commit ids are the same
 * on every run, and a 300-commit history takes milliseconds, not 300 `git commit` processes); a stash,
 * which fast-import cannot make as git does, is made by `git stash` with the same fixed identity.
 * Untracked files (the operator's `.env`) are written after the checkout, and stay untracked.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CheckId, Severity } from '../../src/findings.js';
import { type PlantedSecret, SecretGen } from './secrets.js';
import type { Files } from './templates.js';

export interface Expectation {
  /** The check that must fire; with a list, any one of them. */
  id: CheckId | CheckId[];
  /** The least severity that counts as found (default: the check's own severity). */
  severity?: Severity;
  /** The finding's location must start with this (a path, `path:line`, a setting name). */
  at?: string;
}

export type HistoryStep =
  /** A commit on `ref` (a branch name, or a full ref such as refs/tags/v1 or refs/backup/x), default main. */
  | { op: 'commit'; ref?: string; orphan?: boolean; write?: Files; remove?: string[]; message?: string }
  /** `count` ordinary commits on main (a changelog line each): makes "commit N of M" histories. */
  | { op: 'filler'; count: number }
  /** Changes left in a stash (`git stash push -u`), made after the history and the checkout. */
  | { op: 'stash'; write: Files; message?: string };

export interface RepoSpec {
  name: string;
  kind: 'fault' | 'clean';
  /** One line: what the repository is and what is planted (or what makes it tricky). */
  about: string;
  /** The first commit on main. */
  files: (g: SecretGen) => Files;
  /** Written to the checkout after the history and not committed (gitignored: the operator's `.env`). */
  untracked?: (g: SecretGen) => Files;
  /** Applied after the first commit, in order. */
  history?: (g: SecretGen) => HistoryStep[];
  /** Faults only: what the auditor must report. */
  expect?: Expectation[];
}

export interface GeneratedRepo {
  spec: RepoSpec;
  dir: string;
  secrets: PlantedSecret[];
  commits: number;
}

const EPOCH = 1_700_000_000; // 2023-11-14, then one minute per commit
const IDENTITY = { name: 'Corpus Dev', email: 'dev@corpus.example' };

function gitEnv(when: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: IDENTITY.name,
    GIT_AUTHOR_EMAIL: IDENTITY.email,
    GIT_COMMITTER_NAME: IDENTITY.name,
    GIT_COMMITTER_EMAIL: IDENTITY.email,
    GIT_AUTHOR_DATE: `${when} +0000`,
    GIT_COMMITTER_DATE: `${when} +0000`,
  };
}

function git(dir: string, args: string[], when = EPOCH, input?: Buffer): string {
  return execFileSync('git', ['-C', dir, ...args], { env: gitEnv(when), input, maxBuffer: 256 << 20 }).toString();
}

/** Builds the fast-import stream: chunks of bytes, since file contents may be binary. */
class Stream {
  readonly chunks: Buffer[] = [];
  private mark = 0;
  private readonly tips = new Map<string, number>();
  commits = 0;

  private text(value: string): void {
    this.chunks.push(Buffer.from(value, 'utf8'));
  }

  private data(content: string | Uint8Array): void {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    this.text(`data ${bytes.length}\n`);
    this.chunks.push(bytes);
    this.text('\n');
  }

  commit(ref: string, step: { orphan?: boolean; write?: Files; remove?: string[]; message?: string }): void {
    const full = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
    const when = EPOCH + 60 * this.commits;
    this.mark += 1;
    this.commits += 1;
    const parent = this.tips.get(full) ?? (step.orphan ? undefined : this.tips.get('refs/heads/main'));
    this.text(`commit ${full}\nmark :${this.mark}\n`);
    this.text(`author ${IDENTITY.name} <${IDENTITY.email}> ${when} +0000\n`);
    this.text(`committer ${IDENTITY.name} <${IDENTITY.email}> ${when} +0000\n`);
    this.data(step.message ?? `commit ${this.commits}`);
    // No `from`: a root commit with an empty tree (the first commit, or an orphan).
    if (parent !== undefined) this.text(`from :${parent}\n`);
    for (const path of step.remove ?? []) this.text(`D ${path}\n`);
    for (const [path, content] of Object.entries(step.write ?? {})) {
      this.text(`M 100644 inline ${path}\n`);
      this.data(content);
    }
    this.text('\n');
    this.tips.set(full, this.mark);
  }
}

const CHANGELOG_LINES = ['Fix pagination', 'Tidy imports', 'Bump gunicorn', 'Translate errors', 'Add index', 'Docs'];

/** Generates one repository under `root/<name>`; returns where and what secrets it holds. */
export function generateRepo(root: string, spec: RepoSpec): GeneratedRepo {
  const dir = join(root, spec.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const g = new SecretGen(spec.name);
  git(dir, ['init', '-q', '-b', 'main']);
  const stream = new Stream();
  stream.commit('main', { write: spec.files(g), message: 'Initial commit' });
  const stashes: Extract<HistoryStep, { op: 'stash' }>[] = [];
  let changelog = '';
  for (const step of spec.history?.(g) ?? []) {
    if (step.op === 'commit') stream.commit(step.ref ?? 'main', step);
    else if (step.op === 'filler') {
      for (let i = 0; i < step.count; i += 1) {
        const entry = `${CHANGELOG_LINES[stream.commits % CHANGELOG_LINES.length]} (#${stream.commits})`;
        changelog += `- ${entry}\n`;
        stream.commit('main', { write: { 'CHANGELOG.md': `# Changelog\n\n${changelog}` }, message: entry });
      }
    } else stashes.push(step);
  }
  git(dir, ['fast-import', '--quiet', '--done'], EPOCH, Buffer.concat([...stream.chunks, Buffer.from('done\n')]));
  git(dir, ['checkout', '-q', '-f', 'main']);
  for (const stash of stashes) {
    writeTree(dir, stash.write);
    git(dir, ['stash', 'push', '-q', '-u', '-m', stash.message ?? 'wip'], EPOCH + 60 * (stream.commits + 1));
  }
  writeTree(dir, spec.untracked?.(g) ?? {});
  return { spec, dir, secrets: g.planted, commits: stream.commits };
}

/** The secrets a repository plants, without writing it (the same calls, in the same order, as generateRepo). */
export function secretsOf(spec: RepoSpec): PlantedSecret[] {
  const g = new SecretGen(spec.name);
  spec.files(g);
  spec.history?.(g);
  spec.untracked?.(g);
  return g.planted;
}

function writeTree(dir: string, files: Files): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

export function generateCorpus(root: string, specs: readonly RepoSpec[]): GeneratedRepo[] {
  mkdirSync(root, { recursive: true });
  return specs.map((spec) => generateRepo(root, spec));
}
