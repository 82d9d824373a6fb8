/**
 * Audits a checkout: compose files, Dockerfiles, ignore files, .env.example, git tracking and history,
 * and credentials in files (secrets-scan.ts). Reads the directory as it is on disk; git answers what is
 * tracked, ignored and in history when the directory is a repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, normalize, relative, resolve } from 'node:path';
import { settingNames, settings } from '@ironclad/config/schema';
import type { Setting } from '@ironclad/config/types';
import { LineCounter, parseDocument } from 'yaml';
import { type Finding, finding } from './findings.js';
import { gitAvailable, historyBlobs, isIgnored, isRepoRoot, pathsEverAdded, readBlobs, trackedFiles } from './git.js';
import { createScanner, isScannable, looksLikeRandomSecret, type Scanner, type SecretHit } from './secrets-scan.js';

/** Bounds that keep the audit fast on a big repository; what is skipped is said in an info line. */
export const LIMITS = {
  fileBytes: 1024 * 1024,
  files: 5000,
  historyBlobBytes: 512 * 1024,
  historyBlobs: 5000,
  historyTotalBytes: 64 * 1024 * 1024,
};

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'data', 'coverage', '.venv', 'venv', '__pycache__']);

/** Secret-looking names: the schema's secret settings plus the usual suffixes. `*_FILE` names a path, not a value. */
const SCHEMA_SECRETS = new Set(
  settingNames.filter((name) => (settings[name] as Setting<unknown>).secret === true) as string[],
);
export function isSecretName(name: string): boolean {
  if (/_FILE$/i.test(name)) return false;
  return (
    SCHEMA_SECRETS.has(name) ||
    /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY|DATABASE_URL)$/i.test(name)
  );
}

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

// ---------- compose ----------

const COMPOSE_NAMES = /^(docker-)?compose(\.[\w-]+)?\.ya?ml$/;
const DATABASE_IMAGE = /(^|\/)(postgres|postgis|mysql|mariadb|mongo|redis|pgvector)(:|@|$)/;
const DATABASE_NAME = /^(db|database|postgres|postgresql|pg|mysql|mariadb|mongo|redis)$/;
const BACKEND_NAME = /^(backend|api|server|app|django|node)$/;

interface BuildContext {
  context: string;
  dockerfile: string;
}

function publishedPorts(ports: unknown): { text: string; loopback: boolean }[] {
  if (!Array.isArray(ports)) return [];
  return ports.map((entry) => {
    if (entry && typeof entry === 'object') {
      const long = entry as { host_ip?: string; published?: unknown; target?: unknown };
      const ip = long.host_ip ?? '';
      return {
        text: `${ip ? `${ip}:` : ''}${String(long.published ?? '')}:${String(long.target)}`,
        loopback: isLoopback(ip),
      };
    }
    const text = String(entry);
    const ip = /^(\[[^\]]+\]|\d+\.\d+\.\d+\.\d+):\d/.exec(text)?.[1] ?? '';
    return { text, loopback: isLoopback(ip) };
  });
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '[::1]' || ip === '::1' || ip === 'localhost';
}

function environmentEntries(environment: unknown): [string, string | null][] {
  if (Array.isArray(environment)) {
    return environment.map((item) => {
      const text = String(item);
      const eq = text.indexOf('=');
      return eq < 0 ? [text, null] : [text.slice(0, eq), text.slice(eq + 1)];
    });
  }
  if (environment && typeof environment === 'object') {
    return Object.entries(environment as Record<string, unknown>).map(([key, value]) => [
      key,
      value === null || value === undefined ? null : String(value),
    ]);
  }
  return [];
}

function commandText(command: unknown): string {
  if (Array.isArray(command)) return command.map(String).join(' ');
  return typeof command === 'string' ? command : '';
}

function auditCompose(dir: string, file: string, findings: Finding[], contexts: BuildContext[]): void {
  const text = readFileSync(join(dir, file), 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true });
  const lineOf = (path: (string | number)[]): string => {
    const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
    return node?.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
  };
  const services = (doc.toJS() as { services?: Record<string, Record<string, unknown>> } | null)?.services ?? {};
  for (const [name, service] of Object.entries(services)) {
    if (!service || typeof service !== 'object') continue;
    const image = typeof service.image === 'string' ? service.image : '';
    const build = service.build;
    const buildContext =
      typeof build === 'string'
        ? build
        : build && typeof build === 'object'
          ? String((build as { context?: string }).context ?? '.')
          : undefined;
    if (buildContext !== undefined) {
      const dockerfile =
        build && typeof build === 'object'
          ? String((build as { dockerfile?: string }).dockerfile ?? 'Dockerfile')
          : 'Dockerfile';
      contexts.push({ context: normalize(buildContext), dockerfile: normalize(join(buildContext, dockerfile)) });
    }
    const isDatabase = DATABASE_IMAGE.test(image) || DATABASE_NAME.test(name);
    const isBackend =
      !isDatabase && (BACKEND_NAME.test(name) || /(^|\/)(server|backend|api)\/?$/.test(buildContext ?? ''));
    if (isDatabase || isBackend) {
      for (const port of publishedPorts(service.ports)) {
        const where = lineOf(['services', name, 'ports']);
        if (port.loopback) {
          findings.push(
            finding('files.compose.loopback-port', `service "${name}" publishes "${port.text}" on loopback`, where),
          );
        } else if (isDatabase) {
          findings.push(
            finding('files.compose.db-port', `database service "${name}" publishes port "${port.text}"`, where),
          );
        } else {
          findings.push(
            finding('files.compose.backend-port', `backend service "${name}" publishes port "${port.text}"`, where),
          );
        }
      }
      // The host's network: every port the service listens on is open on the host, as if published.
      if (service.network_mode === 'host') {
        const where = lineOf(['services', name, 'network_mode']);
        findings.push(
          isDatabase
            ? finding('files.compose.db-port', `database service "${name}" uses network_mode: host`, where)
            : finding('files.compose.backend-port', `backend service "${name}" uses network_mode: host`, where),
        );
      }
    }
    for (const [key, value] of environmentEntries(service.environment)) {
      if (!isSecretName(key) || value === null || value.trim() === '') continue;
      if (
        /^\$\{[^}]+\}$/.test(value.trim()) ||
        (key.endsWith('DATABASE_URL') && // `[^${}]`, not `[^}]`: each `${` scan stops at the next one (linear on `${${${...`).
          !/:[^:@/]+@/.test(value.replace(/\$\{[^${}]*\}/g, '')))
      ) {
        continue;
      }
      findings.push(
        finding(
          'files.compose.literal-secret',
          `service "${name}" sets ${key} to a literal value`,
          lineOf(['services', name, 'environment']),
        ),
      );
    }
    for (const key of ['command', 'entrypoint'] as const) {
      const command = commandText(service[key]);
      const reload = reloadMode(command);
      if (reload) {
        findings.push(
          finding('files.reload-mode', `service "${name}" ${key} runs "${reload}"`, lineOf(['services', name, key])),
        );
      }
    }
  }
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

function auditEnvExample(dir: string, findings: Finding[]): void {
  const path = join(dir, '.env.example');
  if (!existsSync(path)) {
    findings.push(finding('files.env-example.missing', 'there is no .env.example', '.env.example'));
    return;
  }
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/);
  // A line `NAME=...` or `# NAME=...`. One pass over the lines (a multi-line `^\s*` per name rescanned every blank line
  // for every name: quadratic); `(?:#\s*)?` rather than `#?\s*`, which backtracks over a long run of spaces.
  const ENTRY = /^\s*(?:#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
  const mentioned = new Set(lines.map((line) => ENTRY.exec(line)?.[1]));
  const missing = settingNames.filter((name) => !mentioned.has(name));
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, and ${missing.length - 8} more` : '');
    findings.push(finding('files.env-example.incomplete', `.env.example does not mention ${shown}`, '.env.example'));
  }
  lines.forEach((line, index) => {
    const match = ENTRY.exec(line);
    if (!match || !isSecretName(match[1] as string)) return;
    const value = (match[2] as string)
      // An inline comment: from the first `#` after white space (`\s#`, fixed width, so each start costs O(1); the
      // old `\s+#.*$` rescanned a run of spaces from each of them). What was before it is trimmed next.
      .replace(/\s#.*$/s, '')
      .trim()
      .replace(/^["']|["']$/g, '');
    if (!value) return;
    // No `/` in the password: linear on many `://:` (see isExampleConnectionString in secrets-scan.ts).
    const inUrl = /:\/\/[^:/@\s]*:([^/@\s]+)@/.exec(value)?.[1];
    const candidates = inUrl ? [inUrl] : value.split(',');
    if (candidates.some((candidate) => looksLikeRandomSecret(candidate.trim(), ''))) {
      findings.push(
        finding(
          'files.env-example.real-secret',
          `${match[1]} holds a value that looks like a real secret`,
          `.env.example:${index + 1}`,
        ),
      );
    }
  });
}

// ---------- credentials in files and history ----------

function hitFinding(path: string, hit: SecretHit): Finding {
  const where = `${path}:${hit.line}`;
  if (hit.kind === 'pattern') return finding('files.secret.pattern', `${path} line ${hit.line}: ${hit.rule}`, where);
  if (hit.kind === 'hardcoded')
    return finding('files.secret.hardcoded', `${path} line ${hit.line} hard-codes ${hit.rule}`, where);
  return finding('files.secret.entropy', `${path} line ${hit.line} holds a high-entropy string`, where);
}

async function scanFiles(dir: string, files: string[], scanner: Scanner, findings: Finding[]): Promise<void> {
  const queue = files.filter((file) => !isEnvFile(file));
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const full = join(dir, file);
      let content: Buffer;
      try {
        if (statSync(full).size > LIMITS.fileBytes) continue;
        content = readFileSync(full);
      } catch {
        continue;
      }
      if (!isScannable(file, content)) continue;
      const text = content.toString('utf8');
      for (const hit of await scanner.scan(text, file)) {
        // .env.example gets its own, more specific check.
        if (file === '.env.example' && hit.kind === 'entropy') continue;
        findings.push(hitFinding(file, hit));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function scanHistory(dir: string, scanner: Scanner, findings: Finding[]): Promise<string | undefined> {
  const current = new Set<string>();
  const { execFile } = await import('node:child_process');
  const staged = await new Promise<string>((done) =>
    execFile('git', ['-C', dir, 'ls-files', '-s'], { maxBuffer: 64 << 20 }, (_e, out) => done(String(out ?? ''))),
  );
  for (const line of staged.split('\n')) {
    const sha = line.split(/\s+/)[1];
    if (sha) current.add(sha);
  }
  const all = await historyBlobs(dir);
  // Blobs still in the index were scanned as files; the rest exist only in history.
  const past = all.filter((blob) => !current.has(blob.sha));
  let total = 0;
  const chosen = past.filter((blob) => {
    if (blob.size > LIMITS.historyBlobBytes || total + blob.size > LIMITS.historyTotalBytes) return false;
    if (!isScannable(blob.path, Buffer.alloc(0))) return false;
    total += blob.size;
    return true;
  });
  const skipped = past.length - Math.min(chosen.length, LIMITS.historyBlobs);
  const selected = chosen.slice(0, LIMITS.historyBlobs);
  const seen = new Set<string>();
  for (let i = 0; i < selected.length; i += 500) {
    const slice = selected.slice(i, i + 500);
    const contents = await readBlobs(
      dir,
      slice.map((blob) => blob.sha),
    );
    await Promise.all(
      slice.map(async (blob) => {
        const content = contents.get(blob.sha);
        if (!content || !isScannable(blob.path, content)) return;
        for (const hit of await scanner.scan(content.toString('utf8'), blob.path)) {
          const key = `${blob.path}\0${hit.rule}`;
          if (seen.has(key)) continue;
          seen.add(key);
          findings.push(
            finding(
              'files.history.secret',
              `git history: ${blob.path} (blob ${blob.sha.slice(0, 10)}) line ${hit.line}: ${hit.kind === 'entropy' ? 'high-entropy string' : hit.rule}`,
              `${blob.path}@${blob.sha.slice(0, 10)}`,
            ),
          );
        }
      }),
    );
  }
  return skipped > 0 ? `${skipped} history blobs over the size limits were not scanned` : undefined;
}

// ---------- orchestration ----------

export interface FileAudit {
  findings: Finding[];
  notes: string[];
}

export async function auditFiles(dirArg: string, options: { history?: boolean } = {}): Promise<FileAudit> {
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

  const contexts: BuildContext[] = [];
  for (const file of files.filter((f) => !f.includes('/') && COMPOSE_NAMES.test(f)))
    auditCompose(dir, file, findings, contexts);

  const dockerfiles = files.filter(
    (file) =>
      /(^|\/)(Dockerfile(\.[\w-]+)?|[\w-]+\.Dockerfile)$/.test(file) && !file.split('/').some((p) => SKIP_DIRS.has(p)),
  );
  for (const file of dockerfiles) auditDockerfile(dir, file, findings);

  // Build contexts: those compose names, else each Dockerfile's own directory.
  const wanted =
    contexts.length > 0 ? contexts : dockerfiles.map((file) => ({ context: dirname(file), dockerfile: file }));
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

  auditEnvExample(dir, findings);

  if (repo) {
    for (const file of (await trackedFiles(dir)).filter(isEnvFile)) {
      findings.push(finding('files.git.env-tracked', `${file} is tracked by git`, file));
    }
    const everAdded = [...new Set((await pathsEverAdded(dir)).filter(isEnvFile))];
    for (const file of everAdded) {
      findings.push(finding('files.git.env-in-history', `${file} was committed to git history`, file));
    }
  }

  const scanner = await createScanner();
  await scanFiles(dir, files, scanner, findings);
  if (repo && options.history !== false) {
    const note = await scanHistory(dir, scanner, findings);
    if (note) notes.push(note);
  }
  return { findings, notes };
}
