/**
 * Audits a checkout: compose files, Dockerfiles, ignore files, .env.example, git tracking and history,
 * and credentials in files (secrets-scan.ts). Reads the directory as it is on disk; git answers what is
 * tracked, ignored and in history when the directory is a repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, normalize, relative, resolve } from 'node:path';
import { settingNames } from '@ironclad/config/schema';
import type { AppKind } from './app-kind.js';
import { auditComposeFiles } from './files/compose.js';
import { scanEnvFile } from './files/env-files.js';
import { auditFrameworks, withoutClaimedSecretHits } from './files/frameworks.js';
import { scanHistory } from './files/history.js';
import { auditKubernetesSecrets } from './files/k8s-secrets.js';
import { auditKubernetesFiles } from './files/kubernetes.js';
import { auditNginx } from './files/nginx.js';
import { readForSecretScan } from './files/read-limits.js';
import { type Finding, finding } from './findings.js';
import { blobsOfPath, gitAvailable, isIgnored, isRepoRoot, pathsEverAdded, readBlobs, trackedFiles } from './git.js';
import { isSecretName, looksLikeRealSecretValue } from './secret-values.js';
import { createScanner, isScannable, isTestOrDoc, type Scanner, type SecretHit } from './secrets-scan.js';

export { isSecretName };

/** Bounds that keep the file scan fast on a big checkout. History has its own (files/history.ts). */
export const LIMITS = {
  fileBytes: 1024 * 1024,
  files: 5000,
};

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', '.venv', 'venv', '__pycache__']);

const RELOAD =
  /(--reload\b|--watch\b|\bwatch\b\s|nodemon|\brunserver\b|npm run dev\b|\bvite\b(?!\s+build)|\btsx watch\b)/;

/**
 * The part of a command that runs a development server with reloading, if any. `flask run ... --debug` is found by
 * a scan, not by `flask run .*--debug` in RELOAD: that rescans the line from every "flask run " (quadratic).
 */
export function reloadMode(command: string): string | undefined {
  const match = RELOAD.exec(command);
  if (match) return match[1]?.trim();
  const flask = command.indexOf('flask run ');
  if (flask === -1) return undefined;
  const line = command.slice(flask).split(/[\n\r\u2028\u2029]/)[0] ?? '';
  const debug = line.lastIndexOf('--debug');
  return debug === -1 ? undefined : line.slice(0, debug + '--debug'.length);
}

function isEnvFile(path: string): boolean {
  const base = basename(path);
  // Templates (`.env.example`, `.env.local.example`, ...) are meant to be committed; their contents are still scanned.
  return /^\.env(\..+)?$/.test(base) && !/^\.env(\.[\w-]+)?\.(example|sample|template|dist)$/.test(base);
}

function walk(dir: string, root = dir, out: string[] = []): string[] {
  if (out.length >= LIMITS.files) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(join(dir, entry.name), root, out);
    } else if (entry.isFile()) out.push(relative(root, join(dir, entry.name)));
  }
  return out;
}

/** Files present in the checkout that git would commit: tracked plus untracked-but-not-ignored. */
async function candidateFiles(dir: string, repo: boolean): Promise<string[]> {
  if (!repo) return walk(dir);
  const { execFile } = await import('node:child_process');
  const listed = await new Promise<string>((done) =>
    execFile('git', ['-C', dir, 'ls-files', '-co', '--exclude-standard', '-z'], { maxBuffer: 64 << 20 }, (_e, out) =>
      done(String(out ?? '')),
    ),
  );
  return [...new Set(listed.split('\0').filter(Boolean))].filter((path) => existsSync(join(dir, path)));
}

// ---------- ignore-file matching (Docker's rules: Go filepath.Match, `**`, `!` exceptions, last match wins) ----------

/**
 * `text` without its trailing slashes. A loop, not `replace(/\/+$/, '')`, which is quadratic on a long run of slashes
 * followed by anything else (server/test/regex-everywhere.test.ts refuses such patterns everywhere).
 */
function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '/') end -= 1;
  return text.slice(0, end);
}

export function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i] as string;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of directories, including none; a bare `**` anything.
      source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern also excludes everything under a directory it matches. `s`: a file name may hold any character but
  // `/` (as `[^/]` already says); without it, `.` stops at a newline and `(?:.*/)?…(/.*)?$` backtracks quadratically.
  return new RegExp(`^${source}(/.*)?$`, 's');
}

export function dockerIgnores(ignoreText: string, path: string): boolean {
  let excluded = false;
  for (const rawLine of ignoreText.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = withoutTrailingSlashes(normalize(negate ? line.slice(1) : line).replace(/^\/+/, ''));
    if (patternToRegExp(pattern).test(path)) excluded = !negate;
  }
  return excluded;
}

/** .gitignore without git: a pattern without a slash matches the name at any depth. */
function gitIgnoresWithoutGit(ignoreText: string, path: string): boolean {
  let excluded = false;
  for (const rawLine of ignoreText.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = withoutTrailingSlashes(negate ? line.slice(1) : line);
    const anchored = pattern.includes('/') ? pattern.replace(/^\//, '') : `**/${pattern}`;
    if (patternToRegExp(anchored).test(path) || patternToRegExp(pattern).test(path)) excluded = !negate;
  }
  return excluded;
}

// ---------- Dockerfiles ----------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*#/.test(line) || !line.trim()) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i += 1;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, ' ')}${next}`;
    }
    // `s`: the arguments run to the end whatever they hold; without it, `\s+(.*)$` backtracks quadratically over a
    // line ending in a separator `.` does not match (U+2028).
    const match = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(line);
    if (match)
      result.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim(), line: start + 1 });
  }
  return result;
}

/** Images that already run as an unprivileged user. */
// (Distroless's `:nonroot` tags are caught by `:nonroot\b`; the old `distroless\/.*:nonroot` added nothing but a
// quadratic scan of a line full of "distroless/".)
const NON_ROOT_IMAGES = /(nginx-unprivileged|chainguard\/|:nonroot\b)/;

function auditDockerfile(dir: string, file: string, findings: Finding[]): void {
  const stages = new Map<string, string | undefined>(); // stage name -> user at its end
  let user: string | undefined;
  let lastFrom: Instruction | undefined;
  for (const instruction of instructions(readFileSync(join(dir, file), 'utf8'))) {
    const where = `${file}:${instruction.line}`;
    if (instruction.keyword === 'FROM') {
      if (lastFrom) stages.set(stageName(lastFrom) ?? '', user);
      lastFrom = instruction;
      // Anchored: FROM's flags come before the image, and an unanchored `--platform=\S+\s+` rescans from every repeat.
      const image = instruction.args.replace(/^--platform=\S+\s+/, '').split(/\s+/)[0] ?? '';
      user = stages.has(image.toLowerCase())
        ? stages.get(image.toLowerCase())
        : NON_ROOT_IMAGES.test(image)
          ? 'nonroot'
          : undefined;
      if (image && image !== 'scratch' && !image.includes('$') && !stages.has(image.toLowerCase())) {
        const lastSlash = image.lastIndexOf('/');
        const tag = image.includes('@') ? 'digest' : image.slice(lastSlash + 1).split(':')[1];
        if (tag === undefined || tag === 'latest') {
          findings.push(
            finding('files.dockerfile.latest', `FROM ${image} is ${tag ? 'latest' : 'untagged (latest)'}`, where),
          );
        }
      }
    } else if (instruction.keyword === 'USER') {
      user = instruction.args.split(/\s+/)[0];
    } else if (instruction.keyword === 'ARG' || instruction.keyword === 'ENV') {
      const names =
        instruction.keyword === 'ARG'
          ? [instruction.args.split('=')[0] ?? '']
          : /=/.test(instruction.args.split(/\s+/)[0] ?? '')
            ? [...instruction.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? '')
            : [instruction.args.split(/\s+/)[0] ?? ''];
      for (const name of names) {
        if (isSecretName(name)) {
          findings.push(
            finding(
              'files.dockerfile.secret-build-arg',
              `${instruction.keyword} ${name} bakes a secret into the image`,
              where,
            ),
          );
        }
      }
    } else if (instruction.keyword === 'CMD' || instruction.keyword === 'ENTRYPOINT') {
      const reload = reloadMode(instruction.args);
      if (reload) findings.push(finding('files.reload-mode', `${instruction.keyword} runs "${reload}"`, where));
    }
  }
  if (!lastFrom) return;
  const name = user?.split(':')[0];
  if (name === undefined || name === 'root' || name === '0') {
    findings.push(
      finding(
        'files.dockerfile.root',
        name ? `the final stage sets USER ${name}` : 'the final stage has no USER: it runs as root',
        file,
      ),
    );
  }
}

/** `FROM image AS name`: the words, not a regex (`\s+as\s+(\S+)\s*$` rescans the line from every space). */
function stageName(from: Instruction): string | undefined {
  const words = from.args.trim().split(/\s+/);
  return words.length >= 3 && words.at(-2)?.toLowerCase() === 'as' ? words.at(-1)?.toLowerCase() : undefined;
}

// ---------- .env.example ----------

/** Committed templates of an env file, in any folder: `.env.example`, `.env.sample`, `prod.env.template`, `env.example`. */
export function isEnvTemplate(path: string): boolean {
  const base = basename(path);
  return /^(\.env|env|[\w-]+\.env)(\.[\w-]+)?\.(example|sample|template|dist)$/.test(base) || base === '.env.defaults';
}

// A line `NAME=...` or `# NAME=...`. One pass over the lines (a multi-line `^\s*` per name rescanned every blank line
// for every name: quadratic); `(?:#\s*)?` rather than `#?\s*`, which backtracks over a long run of spaces.
const ENV_ENTRY = /^\s*(?:#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Ironclad's own `.env.example` must exist and document every setting of its schema. */
function auditEnvExampleAgainstSchema(dir: string, findings: Finding[]): void {
  const path = join(dir, '.env.example');
  if (!existsSync(path)) {
    findings.push(finding('files.env-example.missing', 'there is no .env.example', '.env.example'));
    return;
  }
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const mentioned = new Set(lines.map((line) => ENV_ENTRY.exec(line)?.[1]));
  const missing = settingNames.filter((name) => !mentioned.has(name));
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, and ${missing.length - 8} more` : '');
    findings.push(finding('files.env-example.incomplete', `.env.example does not mention ${shown}`, '.env.example'));
  }
}

/** Any application's env templates must hold placeholders, not a real secret (a Django key, a token, a password). */
function auditEnvTemplateValues(dir: string, file: string, findings: Finding[]): void {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch {
    return;
  }
  text.split(/\r?\n/).forEach((line, index) => {
    const match = ENV_ENTRY.exec(line);
    if (!match || !isSecretName(match[1] as string)) return;
    const value = (match[2] as string)
      // An inline comment: from the first `#` after white space (`\s#`, fixed width, so each start costs O(1); the
      // old `\s+#.*$` rescanned a run of spaces from each of them). What was before it is trimmed next.
      .replace(/\s#.*$/s, '')
      .trim()
      .replace(/^["']|["']$/g, '');
    if (!value) return;
    if (looksLikeRealSecretValue(value)) {
      findings.push(
        finding(
          'files.env-example.real-secret',
          `${file}: ${match[1]} holds a value that looks like a real secret`,
          `${file}:${index + 1}`,
        ),
      );
    }
  });
}

// ---------- credentials in files and history ----------

function hitFinding(path: string, hit: SecretHit): Finding {
  const where = `${path}:${hit.line}`;
  if (hit.kind === 'pattern') return finding('files.secret.pattern', `${path} line ${hit.line}: ${hit.rule}`, where);
  if (hit.kind === 'test-credential')
    return finding('files.secret.test-credential', `${path} line ${hit.line}: ${hit.rule}`, where);
  if (hit.kind === 'hardcoded')
    return finding('files.secret.hardcoded', `${path} line ${hit.line} hard-codes ${hit.rule}`, where);
  return finding('files.secret.entropy', `${path} line ${hit.line} holds a high-entropy string`, where);
}

async function scanFiles(
  dir: string,
  files: string[],
  scanner: Scanner,
  findings: Finding[],
  skipped: string[],
  developmentFiles: readonly string[] = [],
  composeFileList: readonly string[] = [],
): Promise<void> {
  const composeFiles = new Set(composeFileList);
  const queue = files.filter((file) => !isEnvFile(file) && isScannable(file));
  const development = new Set(developmentFiles);
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const content = readForSecretScan(join(dir, file), file, LIMITS.fileBytes);
      if (content === undefined) continue;
      if (!Buffer.isBuffer(content)) {
        skipped.push(content.skipped);
        continue;
      }
      const text = content.toString('utf8');
      for (const hit of await scanner.scan(text, file)) {
        // .env.example gets its own, more specific check.
        if (file === '.env.example' && hit.kind === 'entropy') continue;
        // A development compose file's literals (a connection URL with the local password) are its local setup, like
        // a test fixture's: only the key and token formats count there, as everywhere.
        if (development.has(file) && (hit.kind !== 'pattern' || isUrlCredentialRule(hit.rule))) continue;
        // Compose files' literals are files.compose.literal-secret's, judged with the service's context.
        if (composeFiles.has(file) && hit.rule.startsWith('literal ') && hit.rule !== 'literal url-credentials')
          continue;
        findings.push(hitFinding(file, hit));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/**
 * Whether a committed env file is a secret leak. A `.env` always is (that is where secrets go). A mode file
 * (`.env.production`, `.env.development`) is committed on purpose by Next.js and Vite projects when it holds only
 * public settings (`NEXT_PUBLIC_API_URL=…`), so it counts when it (or, for history, any version of it) holds a
 * secret-named literal or a credential.
 */
async function envFileHoldsSecrets(dir: string, file: string, history: boolean): Promise<boolean> {
  if (basename(file) === '.env') return true;
  const holds = (text: string) => scanEnvFile(text, file).length > 0;
  if (!history) {
    try {
      return holds(readFileSync(join(dir, file), 'utf8'));
    } catch {
      return true; // cannot tell: report it
    }
  }
  const blobs = await blobsOfPath(dir, file);
  if (blobs === undefined) return true;
  for await (const blob of readBlobs(dir, blobs)) {
    if (blob.content === undefined || holds(blob.content.toString('utf8'))) return true;
  }
  return false;
}

/** secretlint's rules for credentials inside URLs, which a local setup writes on purpose. */
function isUrlCredentialRule(rule: string): boolean {
  return rule.endsWith('database-connection-string') || rule.endsWith('basicauth') || rule === 'url-credentials';
}

// ---------- orchestration ----------

export interface FileAudit {
  findings: Finding[];
  notes: string[];
}

export async function auditFiles(
  dirArg: string,
  options: { history?: boolean; app?: AppKind } = {},
): Promise<FileAudit> {
  const dir = resolve(dirArg);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const repo = await isRepoRoot(dir);
  if (!repo) {
    notes.push(
      (await gitAvailable())
        ? 'not the top of a git repository: tracking and history checks skipped; all files scanned'
        : 'git is not installed here: tracking and history checks skipped (run the audit where git is, e.g. on the checkout); all files scanned',
    );
  }
  const files = await candidateFiles(dir, repo);

  // Compose files anywhere in the checkout (files/compose.ts) and Kubernetes workloads (files/kubernetes.ts).
  const compose = auditComposeFiles(dir, files, { app: options.app });
  const { contexts } = compose;
  const kubernetes = auditKubernetesFiles(dir, files, { app: options.app });
  findings.push(...compose.findings, ...kubernetes.findings);
  // Where the Kubernetes audit named a literal secret, the secret scan's hit on the same line says it again.
  const kubernetesSecretLines = new Set(
    kubernetes.findings.filter((item) => item.id === 'files.secret.hardcoded').map((item) => item.location),
  );
  notes.push(...compose.notes);

  const dockerfiles = files.filter(
    (file) =>
      /(^|\/)(Dockerfile(\.[\w-]+)?|[\w-]+\.Dockerfile)$/.test(file) && !file.split('/').some((p) => SKIP_DIRS.has(p)),
  );
  for (const file of dockerfiles) auditDockerfile(dir, file, findings);

  // Build contexts: those compose names, else each Dockerfile's own directory.
  // Without a compose file naming the contexts, a Dockerfile's context is its folder, or the repository root when the
  // folder has no .dockerignore and the root has one: `docker build -f compose/production/django/Dockerfile .`, the
  // cookiecutter-django and CI layout.
  const guessedContext = (file: string): string => {
    const folder = dirname(file);
    const ownIgnore = existsSync(join(dir, folder, '.dockerignore')) || existsSync(join(dir, `${file}.dockerignore`));
    return !ownIgnore && folder !== '.' && existsSync(join(dir, '.dockerignore')) ? '.' : folder;
  };
  const wanted =
    contexts.length > 0 ? contexts : dockerfiles.map((file) => ({ context: guessedContext(file), dockerfile: file }));
  const seenContexts = new Set<string>();
  for (const { context, dockerfile } of wanted) {
    const perDockerfile = join(dir, `${dockerfile}.dockerignore`);
    const ignorePath = existsSync(perDockerfile) ? perDockerfile : join(dir, context, '.dockerignore');
    if (seenContexts.has(ignorePath)) continue;
    seenContexts.add(ignorePath);
    const shown = relative(dir, ignorePath) || '.dockerignore';
    if (!existsSync(ignorePath)) {
      findings.push(finding('files.dockerignore.missing', `build context "${context}" has no .dockerignore`, shown));
      continue;
    }
    const text = readFileSync(ignorePath, 'utf8');
    if (!dockerIgnores(text, '.env'))
      findings.push(finding('files.dockerignore.env', `${shown} does not exclude .env`, shown));
    if (!dockerIgnores(text, '.git'))
      findings.push(finding('files.dockerignore.git', `${shown} does not exclude .git`, shown));
  }

  const gitignorePath = join(dir, '.gitignore');
  const envIgnored = repo
    ? await isIgnored(dir, '.env')
    : existsSync(gitignorePath) && gitIgnoresWithoutGit(readFileSync(gitignorePath, 'utf8'), '.env');
  if (!envIgnored) findings.push(finding('files.gitignore.env', '.env is not ignored by .gitignore', '.gitignore'));

  // Another application's .env.example documents its own variables, not Ironclad's schema.
  if (options.app !== 'other') auditEnvExampleAgainstSchema(dir, findings);
  // Templates under tests and docs hold fake values on purpose, as everywhere else in the secret scan.
  const templates = files.filter(
    (f) => isEnvTemplate(f) && !isTestOrDoc(f) && !f.split('/').some((part) => SKIP_DIRS.has(part)),
  );
  for (const file of templates) {
    auditEnvTemplateValues(dir, file, findings);
  }
  findings.push(...auditNginx(dir, files));

  if (repo) {
    // An env_file holding secrets (deploy/prod.env) counts like a .env.
    const envLike = (file: string) => isEnvFile(file) || compose.secretEnvFiles.includes(file);
    for (const file of (await trackedFiles(dir)).filter(envLike)) {
      if (!(await envFileHoldsSecrets(dir, file, false))) continue;
      findings.push(finding('files.git.env-tracked', `${file} is tracked by git`, file));
    }
    const everAdded = [...new Set((await pathsEverAdded(dir)).filter(envLike))];
    for (const file of everAdded) {
      if (!(await envFileHoldsSecrets(dir, file, true))) continue;
      findings.push(finding('files.git.env-in-history', `${file} was committed to git history`, file));
    }
  }

  findings.push(...auditKubernetesSecrets(dir, files));
  const frameworks = auditFrameworks(dir, files, LIMITS.fileBytes);
  findings.push(...frameworks.findings);

  const scanner = await createScanner();
  const skipped: string[] = [];
  await scanFiles(dir, files, scanner, findings, skipped, compose.developmentFiles, compose.composeFiles);
  if (skipped.length > 0) {
    notes.push(
      `${skipped.length} files over the secret scan's size bounds were not scanned: ${skipped.slice(0, 5).join(', ')}`,
    );
  }
  if (repo && options.history !== false) {
    const history = await scanHistory(dir, scanner, { fileScanBytes: LIMITS.fileBytes });
    findings.push(...history.findings);
    notes.push(...history.notes);
  }
  const once = findings.filter(
    (item) =>
      kubernetes.findings.includes(item) ||
      !(
        (item.id === 'files.secret.hardcoded' || item.id === 'files.secret.entropy') &&
        kubernetesSecretLines.has(item.location)
      ),
  );
  return { findings: withoutClaimedSecretHits(once, frameworks), notes };
}
