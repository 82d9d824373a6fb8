/**
 * Where the repository ends up inside the nginx container (or on the host nginx runs on), read from the files that
 * put it there: compose bind mounts of nginx services, COPY/ADD of Dockerfiles whose stage runs nginx (following
 * `COPY --from` back through build stages), and deploy scripts that clone or pull the checkout into a directory.
 * The nginx audit needs it twice: to resolve `include /etc/nginx/...` to the repository file mounted or copied there,
 * and to know whether a `root`/`alias` serves the checkout. It also collects the values the official image's envsubst
 * would give to `${NAME}` in templates. Everything is read here, so this does not depend on other audit modules.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, normalize, posix } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';

/** The `via` of the holding that is the checkout's own absolute path. */
export const SELF = 'the checkout itself';

/** A directory of the repository that is present at `target` where nginx runs. */
export interface Holding {
  /** Absolute path inside the container (or on the host). */
  target: string;
  /** Repository-relative directory ('' is the repository root). */
  source: string;
  /** Where it is put there, `file:line`, for the message. */
  via: string;
  /** The build context's .dockerignore applies (a COPY), or not (a bind mount, a clone). */
  dockerignore?: string;
}

export interface DeployFacts {
  /** Directories of the repository reachable at an absolute path where nginx runs. */
  holdings: Holding[];
  /** Container path of repository files (and directories) mounted or copied into nginx: include targets. */
  placed: { target: string; source: string }[];
  /** Values for `${NAME}` placeholders of templates. */
  env: Map<string, string>;
  /** nginx services or images found at all (an image's stock default site serves /usr/share/nginx/html). */
  nginxDeployments: { via: string; holdings: Holding[] }[];
}

/** `compose.yaml`, `docker-compose.prod.yml`...: by its parts (the regex of file-checks.ts is one recheck cannot prove). */
function isComposeName(name: string): boolean {
  const rest = name.startsWith('docker-') ? name.slice('docker-'.length) : name;
  const extension = rest.endsWith('.yml') ? 4 : rest.endsWith('.yaml') ? 5 : 0;
  if (!rest.startsWith('compose') || extension === 0) return false;
  const middle = rest.slice('compose'.length, rest.length - extension);
  return middle === '' || (middle.startsWith('.') && middle.length > 1 && !middle.slice(1).includes('.'));
}
const NGINX_IMAGE = /(^|\/)(nginx|openresty|angie)([:@/-]|$)/;
const DEVELOPMENT_WORDS = new Set(['dev', 'development', 'local', 'override', 'test', 'ci', 'e2e']);
/** Files named for development are not judged as production (as files.compose.development says). */
export function isDevelopmentPath(path: string): boolean {
  const words = path.toLowerCase().split(/[/._-]/);
  return words.some((word) => DEVELOPMENT_WORDS.has(word));
}

/** `${NAME:-default}`, `${NAME-default}`, `${NAME:=default}`: the default; `${NAME}` from `env`; else unchanged. */
export function interpolate(text: string, env: ReadonlyMap<string, string> = new Map()): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('${', i);
    if (open === -1) break;
    const close = text.indexOf('}', open);
    if (close === -1) break;
    out += text.slice(i, open);
    const inner = text.slice(open + 2, close);
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(inner)?.[0] ?? '';
    const rest = inner.slice(name.length);
    const known = env.get(name);
    if (known !== undefined && known !== '') out += known;
    else if (rest.startsWith(':-') || rest.startsWith(':=')) out += rest.slice(2);
    else if (rest.startsWith('-') || rest.startsWith('=')) out += rest.slice(1);
    else out += text.slice(open, close + 1);
    i = close + 1;
  }
  return out + text.slice(i);
}

function posixJoin(base: string, path: string): string {
  return path.startsWith('/') ? posix.normalize(path) : posix.normalize(posix.join(base, path));
}

function trimSlash(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end -= 1;
  return path.slice(0, end);
}

/** A repository-relative path for `path` written relative to `base` (a repository directory), or undefined outside. */
function inRepo(base: string, path: string): string | undefined {
  const joined = normalize(join(base, path)).replace(/\\/g, '/');
  if (joined === '..' || joined.startsWith('../') || joined.startsWith('/')) return undefined;
  return joined === '.' ? '' : trimSlash(joined.replace(/^\.\//, ''));
}

function isDirectory(dir: string, path: string): boolean {
  try {
    return statSync(join(dir, path)).isDirectory();
  } catch {
    return false;
  }
}

function readText(dir: string, file: string): string {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return '';
  }
}

// ---------- Dockerfiles ----------

interface Stage {
  name: string | undefined;
  image: string;
  workdir: string;
  holdings: Holding[];
  placed: { target: string; source: string }[];
  env: Map<string, string>;
  line: number;
}

/** The instructions of a Dockerfile with continuation lines joined; `line` is where each starts. */
function dockerInstructions(text: string): { keyword: string; args: string; line: number }[] {
  const out: { keyword: string; args: string; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let line = (lines[i] ?? '').trimEnd();
    if (!line.trim() || line.trim().startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = (lines[i] ?? '').trimEnd();
      if (next.trim().startsWith('#')) continue;
      line = `${line.slice(0, -1)} ${next}`;
    }
    const trimmed = line.trim();
    const space = trimmed.search(/\s/);
    if (space === -1) continue;
    out.push({
      keyword: trimmed.slice(0, space).toUpperCase(),
      args: trimmed.slice(space + 1).trim(),
      line: start + 1,
    });
  }
  return out;
}

/** COPY/ADD arguments: flags, then sources and the destination (JSON array form too). */
function copyArgs(args: string): { flags: Map<string, string>; sources: string[]; dest: string } | undefined {
  const flags = new Map<string, string>();
  let rest = args.trim();
  while (rest.startsWith('--')) {
    const end = rest.search(/\s/);
    const flag = end === -1 ? rest : rest.slice(0, end);
    const eq = flag.indexOf('=');
    flags.set(eq === -1 ? flag.slice(2) : flag.slice(2, eq), eq === -1 ? '' : flag.slice(eq + 1));
    rest = end === -1 ? '' : rest.slice(end).trim();
  }
  let words: string[];
  if (rest.startsWith('[')) {
    try {
      words = (JSON.parse(rest) as unknown[]).map(String);
    } catch {
      return undefined;
    }
  } else {
    words = rest.split(/\s+/).filter(Boolean);
  }
  if (words.length < 2) return undefined;
  return { flags, sources: words.slice(0, -1), dest: words.at(-1) as string };
}

/**
 * The stages of a Dockerfile built from `context`, with what each holds of the repository. A stage starting from an
 * earlier one inherits its holdings; `COPY --from=stage` carries the part it copies.
 */
function dockerStages(dir: string, file: string, context: string): Stage[] {
  const stages: Stage[] = [];
  const ignore = join(context, '.dockerignore');
  for (const instruction of dockerInstructions(readText(dir, file))) {
    const where = `${file}:${instruction.line}`;
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const image = (words[0] ?? '').toLowerCase();
      const name = words.length >= 3 && words[1]?.toLowerCase() === 'as' ? words[2]?.toLowerCase() : undefined;
      const parent = stages.find((stage) => stage.name === image);
      stages.push({
        name,
        image: parent ? parent.image : image,
        workdir: parent ? parent.workdir : '/',
        holdings: parent ? [...parent.holdings] : [],
        placed: parent ? [...parent.placed] : [],
        env: new Map(parent?.env ?? []),
        line: instruction.line,
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) continue;
    if (instruction.keyword === 'WORKDIR') {
      stage.workdir = posixJoin(stage.workdir, instruction.args.trim());
    } else if (instruction.keyword === 'ENV') {
      const words = instruction.args.split(/\s+/);
      if (words[0]?.includes('=')) {
        for (const word of words) {
          const eq = word.indexOf('=');
          if (eq > 0) stage.env.set(word.slice(0, eq), word.slice(eq + 1).replace(/^["']|["']$/g, ''));
        }
      } else if (words.length >= 2) {
        stage.env.set(words[0] as string, words.slice(1).join(' '));
      }
    } else if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      const copy = copyArgs(instruction.args);
      if (!copy) continue;
      const destDir = copy.dest.endsWith('/') || copy.sources.length > 1 || copy.dest === '.';
      const dest = posixJoin(stage.workdir, copy.dest);
      const from = copy.flags.get('from')?.toLowerCase();
      for (const source of copy.sources) {
        if (from !== undefined) {
          const other = stages.find((s) => s.name === from) ?? (/^\d+$/.test(from) ? stages[Number(from)] : undefined);
          const path = posixJoin(other?.workdir ?? '/', source);
          for (const held of other?.holdings ?? []) {
            if (held.target === path || held.target.startsWith(`${trimSlash(path)}/`)) {
              // The copied directory holds (part of) the repository: it lands under dest.
              const below = held.target.slice(trimSlash(path).length);
              stage.holdings.push({ ...held, target: trimSlash(posixJoin(dest, `.${below}`)), via: where });
            } else if (path.startsWith(`${held.target}/`)) {
              const below = path.slice(held.target.length + 1);
              const joined = trimSlash(posix.normalize(posix.join(held.source, below)));
              const source = joined === '.' ? '' : joined;
              stage.holdings.push({ ...held, source, target: trimSlash(dest), via: where });
            }
          }
          continue;
        }
        if (source.includes('://')) continue;
        const inContext = inRepo(context, source);
        const fromRoot = inContext !== undefined && existsSync(join(dir, inContext)) ? inContext : inRepo('', source);
        if (fromRoot === undefined) continue;
        if (source.includes('*')) continue;
        if (isDirectory(dir, fromRoot)) {
          // COPY dir dest copies the directory's contents into dest.
          stage.holdings.push({ target: trimSlash(dest), source: fromRoot, via: where, dockerignore: ignore });
          stage.placed.push({ target: trimSlash(dest), source: fromRoot });
        } else {
          stage.placed.push({
            target: destDir ? posixJoin(dest, basename(fromRoot)) : trimSlash(dest),
            source: fromRoot,
          });
        }
      }
    }
  }
  return stages;
}

// ---------- compose ----------

interface ComposeService {
  image?: unknown;
  build?: unknown;
  volumes?: unknown;
  environment?: unknown;
}

function environmentOf(environment: unknown): [string, string][] {
  if (Array.isArray(environment)) {
    return environment.flatMap((item) => {
      const text = String(item);
      const eq = text.indexOf('=');
      return eq < 0 ? [] : [[text.slice(0, eq), text.slice(eq + 1)] as [string, string]];
    });
  }
  if (environment && typeof environment === 'object') {
    return Object.entries(environment as Record<string, unknown>).flatMap(([key, value]) =>
      value === null || value === undefined ? [] : [[key, String(value)] as [string, string]],
    );
  }
  return [];
}

/** Bind mounts of a service: `./x:/y[:ro]` and the long form. Named volumes and host paths are not the repository. */
function bindMounts(volumes: unknown): { source: string; target: string; index: number }[] {
  if (!Array.isArray(volumes)) return [];
  return volumes.flatMap((volume, index) => {
    if (volume && typeof volume === 'object') {
      const long = volume as { type?: string; source?: string; target?: string };
      if (long.type !== 'bind' || !long.source || !long.target) return [];
      return [{ source: interpolate(long.source), target: long.target, index }];
    }
    const text = interpolate(String(volume));
    const parts = text.split(':');
    if (parts.length < 2) return [];
    return [{ source: parts[0] as string, target: parts[1] as string, index }];
  });
}

function isNginxService(service: ComposeService, stages: Stage[], nginxFiles: ReadonlySet<string>, base: string) {
  if (typeof service.image === 'string' && NGINX_IMAGE.test(service.image.toLowerCase())) return true;
  if (stages.length > 0 && NGINX_IMAGE.test(stages.at(-1)?.image ?? '')) return true;
  return bindMounts(service.volumes).some((mount) => {
    const source = inRepo(base, mount.source);
    return source !== undefined && (nginxFiles.has(source) || mount.target.startsWith('/etc/nginx'));
  });
}

// ---------- deploy scripts ----------

/** `dir&&` or `dir;` without its separators. A loop: `/[;&]+$/` rescans a long run of them from each (quadratic). */
function withoutShellSeparators(word: string): string {
  let end = word.length;
  while (end > 0 && (word[end - 1] === ';' || word[end - 1] === '&')) end -= 1;
  return word.slice(0, end);
}

/**
 * Directories a deploy script or document puts the checkout in: `git clone URL DIR`, `cd DIR && git pull`, systemd's
 * `WorkingDirectory=`, gunicorn's `--chdir`, supervisor's `directory=`. Only absolute paths.
 */
function checkoutDirectories(text: string, file: string): Holding[] {
  const out: Holding[] = [];
  // The directory the script is in (its last `cd` to an absolute or home path), for clones without a target.
  let cwd: string | undefined;
  const usable = (path: string | undefined) => path !== undefined && (path.startsWith('/') || path.startsWith('~/'));
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    const via = `${file}:${index + 1}`;
    const words = line.split(/\s+/).map(withoutShellSeparators);
    const cd = words.indexOf('cd');
    const clone = words.indexOf('clone');
    if (clone > 0 && words[clone - 1] === 'git') {
      const operands: string[] = [];
      for (let i = clone + 1; i < words.length && !['&&', ';', '||', '|', ''].includes(words[i] as string); i += 1) {
        const word = words[i] as string;
        if (CLONE_OPTIONS_WITH_VALUE.has(word)) i += 1;
        else if (!word.startsWith('-')) operands.push(word);
      }
      const [url, target] = operands;
      const name = url ? basename(url).replace(/\.git$/, '') : '';
      const path = target ?? name;
      const full = usable(path) ? path : cwd && path ? posix.join(cwd, path) : undefined;
      if (full) out.push({ target: trimSlash(full), source: '', via });
    } else if (line.includes('git pull') || line.includes('git fetch') || line.includes('git reset')) {
      const dashC = words.indexOf('-C');
      const target = dashC !== -1 ? words[dashC + 1] : cd !== -1 ? words[cd + 1] : cwd;
      if (usable(target)) out.push({ target: trimSlash(target as string), source: '', via });
    }
    if (cd !== -1 && usable(words[cd + 1])) cwd = words[cd + 1];
    // The checkout's virtualenv or node_modules run by a unit or supervisor (`ExecStart=/srv/app/venv/bin/gunicorn`).
    for (const marker of ['/venv/bin/', '/.venv/bin/', '/node_modules/.bin/']) {
      const at = line.indexOf(marker);
      if (at === -1) continue;
      const start = line.lastIndexOf(' ', at) + 1;
      const path = line.slice(start, at).replace(/^[\w]+=/, '');
      if (usable(path)) out.push({ target: trimSlash(path), source: '', via });
    }
    if (line.startsWith('chdir')) {
      // gunicorn.conf.py: chdir = '/srv/app'
      const value = line
        .slice(line.indexOf('=') + 1)
        .trim()
        .slice(1, -1);
      if (line.includes('=') && usable(value)) out.push({ target: trimSlash(value), source: '', via });
    }
    for (const key of ['WorkingDirectory=', 'directory=', '--chdir=', '--chdir ']) {
      if (!line.startsWith(key) && !(key.startsWith('--') && line.includes(key))) continue;
      const value = line.slice(line.indexOf(key) + key.length).split(/\s+/)[0] ?? '';
      if (usable(value)) out.push({ target: trimSlash(value), source: '', via });
    }
  });
  return out;
}

const CLONE_OPTIONS_WITH_VALUE = new Set([
  '-b',
  '--branch',
  '--depth',
  '-o',
  '--origin',
  '-c',
  '--config',
  '--reference',
  '-j',
  '--jobs',
  '--filter',
  '-u',
  '--upload-pack',
  '--template',
  '--separate-git-dir',
]);

/**
 * The concrete path of `target` for `path`: a home-relative clone target (`~/shop`) is whichever home directory the
 * served path names (`/home/deploy/shop`, `/root/shop`); others are themselves.
 */
export function concreteTarget(target: string, path: string): string {
  if (!target.startsWith('~/')) return target;
  const rest = target.slice(1);
  if (path.startsWith('/root/')) return `/root${rest}`;
  if (!path.startsWith('/home/')) return target;
  const user = path.slice('/home/'.length).split('/')[0] ?? '';
  return `/home/${user}${rest}`;
}

const SCRIPT_EXTENSIONS = new Set(['sh', 'bash', 'md', 'txt', 'service', 'ini', 'yml', 'yaml', 'cfg', 'conf']);

/** Deploy scripts, docs, units, supervisor and gunicorn configs: where the checkout is said to live. */
function isScriptFile(path: string): boolean {
  const name = basename(path);
  if (['Makefile', 'Procfile', 'Justfile'].includes(name)) return true;
  if (name.startsWith('gunicorn') && name.endsWith('.py')) return true;
  return SCRIPT_EXTENSIONS.has(name.slice(name.lastIndexOf('.') + 1).toLowerCase());
}

/**
 * What the repository's deployment files say about the nginx that serves it. `files` are repository-relative paths;
 * `nginxFiles` the nginx configurations found (a service that mounts one runs nginx).
 */
export function deployFacts(dir: string, files: readonly string[], nginxFiles: ReadonlySet<string>): DeployFacts {
  const facts: DeployFacts = { holdings: [], placed: [], env: new Map(), nginxDeployments: [] };
  const production = files.filter((file) => !isDevelopmentPath(file) && !isTestPath(file));
  const dockerfiles = production.filter((file) => {
    const name = basename(file);
    return name === 'Dockerfile' || name.startsWith('Dockerfile.') || name.endsWith('.Dockerfile');
  });
  const usedDockerfiles = new Set<string>();

  /** What an nginx stage holds of the repository, and where its files are placed (for includes). */
  const nginxStage = (stage: Stage | undefined): Holding[] => {
    if (!stage || !NGINX_IMAGE.test(stage.image)) return [];
    facts.placed.push(...stage.placed);
    for (const [key, value] of stage.env) facts.env.set(key, value);
    return stage.holdings;
  };
  const deployment = (via: string, holdings: Holding[]) => {
    facts.holdings.push(...holdings);
    facts.nginxDeployments.push({ via, holdings });
  };

  for (const file of production.filter((f) => isComposeName(basename(f)))) {
    const base = dirname(file) === '.' ? '' : dirname(file);
    const lines = new LineCounter();
    let doc: ReturnType<typeof parseDocument>;
    try {
      doc = parseDocument(readText(dir, file), { lineCounter: lines, merge: true, logLevel: 'error' });
    } catch {
      continue;
    }
    const services = (doc.toJS() as { services?: Record<string, ComposeService> } | null)?.services ?? {};
    for (const [name, service] of Object.entries(services)) {
      if (!service || typeof service !== 'object') continue;
      const node = doc.getIn(['services', name], true) as { range?: [number, number] } | undefined;
      const via = node?.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
      let stages: Stage[] = [];
      const build = service.build;
      if (build !== undefined && build !== null) {
        const context = inRepo(
          base,
          typeof build === 'string' ? build : String((build as { context?: string }).context ?? '.'),
        );
        const dockerfile =
          typeof build === 'object' && (build as { dockerfile?: string }).dockerfile
            ? String((build as { dockerfile: string }).dockerfile)
            : 'Dockerfile';
        if (context !== undefined) {
          const path = inRepo(context, dockerfile);
          if (path !== undefined && existsSync(join(dir, path))) {
            usedDockerfiles.add(path);
            stages = dockerStages(dir, path, context);
          }
        }
      }
      if (!isNginxService(service, stages, nginxFiles, base)) continue;
      const holdings = [...nginxStage(stages.at(-1))];
      for (const mount of bindMounts(service.volumes)) {
        // Relative sources only: a host path (/srv/static) or a named volume is not this checkout.
        if (!mount.source.startsWith('.')) continue;
        const source = inRepo(base, mount.source);
        if (source === undefined) continue;
        const target = trimSlash(mount.target);
        facts.placed.push({ target, source });
        const item = doc.getIn(['services', name, 'volumes', mount.index], true) as { range?: [number, number] };
        const at = item?.range ? `${file}:${lines.linePos(item.range[0]).line}` : via;
        if (source === '' || isDirectory(dir, source)) holdings.push({ target, source, via: at });
      }
      deployment(via, holdings);
      for (const [key, raw] of environmentOf(service.environment)) {
        // An empty or unresolved value leaves the image's own default (an .envsh `:=`) in force.
        const value = interpolate(raw);
        if (value !== '' && !value.includes('${')) facts.env.set(key, value);
      }
    }
  }
  // Dockerfiles no compose file builds: their own directory is the likely context (the repository root if a source
  // is not found there).
  for (const file of dockerfiles.filter((f) => !usedDockerfiles.has(f))) {
    const context = dirname(file) === '.' ? '' : dirname(file);
    const holdings = nginxStage(dockerStages(dir, file, context).at(-1));
    if (holdings.length > 0) deployment(file, holdings);
  }
  // Envsubst defaults the image's entrypoint scripts give (`: "${NAME:=value}"`), and the host directories the
  // checkout is deployed into.
  for (const file of production) {
    if (file.endsWith('.envsh')) {
      for (const line of readText(dir, file).split('\n')) {
        const open = line.indexOf('${');
        const close = line.indexOf('}', open);
        if (open === -1 || close === -1) continue;
        const inner = line.slice(open + 2, close);
        const op = inner.indexOf(':=') === -1 ? inner.indexOf(':-') : inner.indexOf(':=');
        if (op > 0 && !facts.env.has(inner.slice(0, op))) facts.env.set(inner.slice(0, op), inner.slice(op + 2));
      }
    } else if (isScriptFile(file) && !nginxFiles.has(file)) {
      const text = readText(dir, file);
      const hints = ['git ', 'directory', 'chdir', 'Directory=', '/bin/'];
      if (text.length < 256 * 1024 && hints.some((hint) => text.includes(hint)))
        facts.holdings.push(...checkoutDirectories(text, file));
    }
  }
  // A root written as the checkout's own absolute path.
  facts.holdings.push({ target: trimSlash(dir), source: '', via: SELF });
  return facts;
}

/** Test suites and their fixtures hold faulty configurations on purpose. */
export function isTestPath(path: string): boolean {
  return path
    .toLowerCase()
    .split('/')
    .slice(0, -1)
    .some((part) => ['test', 'tests', '__tests__', 'spec', 'fixtures', '__fixtures__', 'testdata'].includes(part));
}
