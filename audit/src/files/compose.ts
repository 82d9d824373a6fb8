/**
 * Audits every compose file of the repository: any folder, any name compose accepts (`compose.yaml`,
 * `docker-compose.prod.yml`, `stack.compose.yml`, ...) and any other YAML file whose top level is a `services:`
 * mapping of images or builds (a file given with `-f`). Per service: published datastore and backend ports, container
 * escapes (privileged, the Docker socket, host namespaces, capabilities, confinement off), literal secrets in the
 * environment and in commands, reload modes, and the effective environment judged by the server's own settings rules
 * (compose-settings.ts). Files named for development are listed, not judged as production (files.compose.development).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { AppKind } from '../app-kind.js';
import { isSecretName, LIMITS, reloadMode } from '../file-checks.js';
import { CHECKS, type CheckId, type Finding, finding, severityRank } from '../findings.js';
import { literalPasswordOptions } from './command-secrets.js';
import {
  effectiveEnvironment,
  environmentEntries,
  interpolate,
  type ProjectEnv,
  readEnvFile,
  writtenPart,
} from './compose-env.js';
import { publishedPorts } from './compose-ports.js';
import { judgeEnvironment } from './compose-settings.js';
import {
  escapeCapabilities,
  isSocketProxyImage,
  isTrue,
  runtimeSocket,
  unconfinedOption,
} from './container-escapes.js';
import {
  DATASTORE_PORTS,
  datastoreOfImage,
  isBackendContext,
  isBackendName,
  isDatastoreName,
  isProxyImage,
} from './datastores.js';

export interface BuildContext {
  /** Repo-relative folder. */
  context: string;
  /** Repo-relative Dockerfile path. */
  dockerfile: string;
}

export interface ComposeAudit {
  findings: Finding[];
  /** Build contexts of the production compose files, for the .dockerignore checks. */
  contexts: BuildContext[];
  /** Every file used as an `env_file:` that exists, repo-relative (for the tracking and secret checks). */
  envFiles: string[];
  /** Those of envFiles that hold a secret-named variable with a literal value. */
  secretEnvFiles: string[];
  /** The compose files audited, repo-relative. */
  composeFiles: string[];
  /** Those named for development (see isDevelopmentFile). */
  developmentFiles: string[];
  notes: string[];
}

/** Folders never searched: installed or vendored code, not this repository's deployment. */
const SKIPPED_FOLDERS = new Set([
  'node_modules',
  '.git',
  'vendor',
  'bower_components',
  'third_party',
  '.venv',
  'venv',
  'site-packages',
  '__pycache__',
]);

/** Name words that say "development", and folders that hold only development setups. */
const DEVELOPMENT_WORDS = new Set([
  'dev',
  'develop',
  'development',
  'local',
  'test',
  'tests',
  'testing',
  'ci',
  'e2e',
  'override',
  'debug',
  // Templates to copy from, not what runs: `docker-compose.example.yml`.
  'example',
  'sample',
  'template',
]);
const DEVELOPMENT_FOLDERS = new Set([
  '.devcontainer',
  'dev',
  'development',
  'local',
  'test',
  'tests',
  'testing',
  'e2e',
  'docs',
  'doc',
  'examples',
  'example',
  'samples',
]);

function stemWords(path: string): string[] {
  const base = basename(path).toLowerCase();
  const stem = base.slice(0, base.lastIndexOf('.'));
  return stem.split(/[._-]/).filter(Boolean);
}

/**
 * Why a compose file is a development one, or undefined. Named so: `*.dev.*`, `*.local.*`, `*.test.*`, `*.ci.*`,
 * `*-dev.*`, `*.e2e.*`, and `docker-compose.override.yml`, which compose merges by default on `docker compose up`:
 * by Docker's documented convention it holds the development additions (published ports, mounted sources), and a
 * production deployment names its files with `-f`. Or placed so: under `.devcontainer/`, `test/`, `e2e/`, ...
 */
export function developmentReason(path: string): string | undefined {
  const word = stemWords(path).find((w) => DEVELOPMENT_WORDS.has(w));
  if (word) return `named "${word}"`;
  const folder = path
    .split('/')
    .slice(0, -1)
    .find((part) => DEVELOPMENT_FOLDERS.has(part.toLowerCase()));
  return folder ? `under ${folder}/` : undefined;
}

/** File names compose itself accepts (plus `<x>.compose.yml` and `docker-compose-<x>.yml`). */
export function isComposeName(path: string): boolean {
  const base = basename(path).toLowerCase();
  if (!base.endsWith('.yml') && !base.endsWith('.yaml')) return false;
  const stem = base.slice(0, base.lastIndexOf('.'));
  return (
    stem === 'compose' ||
    stem === 'docker-compose' ||
    stem.startsWith('compose.') ||
    stem.startsWith('docker-compose.') ||
    stem.startsWith('docker-compose-') ||
    stem.startsWith('docker-compose_') ||
    stem.endsWith('.compose') ||
    stem.endsWith('-compose')
  );
}

/** CI configurations with a `services:` of their own, and Kubernetes manifests, are not compose files. */
function isOtherToolsYaml(path: string): boolean {
  const lower = path.toLowerCase();
  const base = basename(lower);
  return (
    lower.startsWith('.github/') ||
    lower.includes('/.github/') ||
    lower.startsWith('.gitlab') ||
    lower.startsWith('.woodpecker') ||
    lower.startsWith('.circleci/') ||
    base === '.gitlab-ci.yml' ||
    base === '.drone.yml' ||
    base === '.woodpecker.yml' ||
    base === 'bitbucket-pipelines.yml' ||
    base === 'pnpm-lock.yaml' ||
    base === 'pnpm-workspace.yaml'
  );
}

function isHelmFile(path: string): boolean {
  const parts = path.toLowerCase().split('/');
  const base = parts.at(-1) ?? '';
  return base.startsWith('values') || parts.some((part) => part === 'charts' || part === 'chart' || part === 'helm');
}

/** A top-level `services:` key (a cheap test before parsing). */
function mentionsServices(text: string): boolean {
  return text.startsWith('services:') || text.includes('\nservices:');
}

interface ComposeDocument {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  services: Record<string, Record<string, unknown>>;
}

function asServices(value: unknown): Record<string, Record<string, unknown>> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const services = (value as { services?: unknown }).services;
  if (!services || typeof services !== 'object' || Array.isArray(services)) return undefined;
  return services as Record<string, Record<string, unknown>>;
}

/** The compose files among `files`, parsed. */
export function findComposeFiles(dir: string, files: string[], notes: string[] = []): ComposeDocument[] {
  const found: ComposeDocument[] = [];
  for (const file of files) {
    const lower = file.toLowerCase();
    if (!lower.endsWith('.yml') && !lower.endsWith('.yaml')) continue;
    if (file.split('/').some((part) => SKIPPED_FOLDERS.has(part)) || isOtherToolsYaml(file)) continue;
    const named = isComposeName(file);
    let text: string;
    try {
      if (statSync(join(dir, file)).size > LIMITS.fileBytes) continue;
      text = readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    if (!mentionsServices(text)) continue;
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: false, logLevel: 'error' });
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch {
      value = undefined;
    }
    const services = asServices(value);
    if (!services) {
      if (named && doc.errors.length > 0) notes.push(`${file}: not valid YAML, not audited as a compose file`);
      continue;
    }
    const top = value as Record<string, unknown>;
    if (!named) {
      // Kubernetes and CI files have `kind`/`apiVersion`/`jobs`; a compose file's services run images or builds.
      if ('apiVersion' in top || 'kind' in top || 'jobs' in top || 'steps' in top || 'pipeline' in top) continue;
      // Helm values files have `services:` too, with `image:` mappings (repository, tag): compose's image is a string.
      if (isHelmFile(file)) continue;
      const entries = Object.values(services);
      const runsSomething = (s: Record<string, unknown>) =>
        !!s &&
        typeof s === 'object' &&
        (typeof s.image === 'string' || typeof s.build === 'string' || (!!s.build && typeof s.build === 'object'));
      if (!entries.some(runsSomething)) continue;
    }
    found.push({ file, doc, lines, services });
  }
  return found;
}

const BOOLEAN_WORDS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0']);

/** A literal secret in an environment value: the text the compose file itself writes (defaults included). */
export function isLiteralSecret(name: string, raw: string | null): boolean {
  if (raw === null || !isSecretName(name)) return false;
  const written = writtenPart(raw).trim();
  // A flag about passwords (ALLOW_EMPTY_PASSWORD set to yes, MYSQL_RANDOM_ROOT_PASSWORD to true) is not one.
  if (written === '' || BOOLEAN_WORDS.has(written.toLowerCase())) return false;
  if (/(^|_)URL$/i.test(name)) {
    // Only the password of a connection URL (DATABASE_URL, SMTP_URL) is secret: `postgres://app:${DB_PASSWORD}@db/app`
    // and `smtp://relay:25` pass.
    const scheme = written.indexOf('://');
    const at = written.lastIndexOf('@');
    if (scheme < 0 || at < scheme) return false;
    const userinfo = written.slice(scheme + 3, at);
    const colon = userinfo.indexOf(':');
    return colon >= 0 && colon < userinfo.length - 1 && !userinfo.includes('/');
  }
  return !isPlaceholderText(written);
}

/** Text that is obviously a value to fill in, not a secret: `<your-key>`, `changeme`, `xxx`, `...`. */
function isPlaceholderText(text: string): boolean {
  const lower = text.toLowerCase();
  if (lower.startsWith('<') && lower.endsWith('>')) return true;
  return [
    'changeme',
    'change-me',
    'change_me',
    'change_this',
    'changethis',
    'replace',
    'your-',
    'your_',
    'xxx',
    '...',
  ].some((marker) => lower.includes(marker));
}

const PROXY_NAMES = new Set([
  'nginx',
  'proxy',
  'reverse-proxy',
  'reverseproxy',
  'traefik',
  'caddy',
  'haproxy',
  'lb',
  'ingress',
]);

function buildContextOf(build: unknown): string | undefined {
  if (typeof build === 'string') return build;
  if (build && typeof build === 'object') return String((build as { context?: unknown }).context ?? '.');
  return undefined;
}

function isRemoteContext(context: string): boolean {
  return context.includes('://') || context.startsWith('git@') || context.startsWith('github.com/');
}

function stringList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** The host path of a compose volume (short `src:dst[:mode]` or long `{ type: bind, source }`), resolved. */
function volumeSource(volume: unknown, vars: ReadonlyMap<string, string>): string | undefined {
  if (volume && typeof volume === 'object') {
    const source = (volume as { source?: unknown }).source;
    return typeof source === 'string' ? (interpolate(source, vars).value ?? source) : undefined;
  }
  if (typeof volume !== 'string') return undefined;
  // The source ends at the first `:` outside an interpolation.
  let depth = 0;
  let end = volume.length;
  for (let i = 0; i < volume.length; i += 1) {
    if (volume[i] === '$' && volume[i + 1] === '{') depth += 1;
    else if (volume[i] === '}' && depth > 0) depth -= 1;
    else if (volume[i] === ':' && depth === 0) {
      end = i;
      break;
    }
  }
  const source = volume.slice(0, end);
  return interpolate(source, vars).value ?? source;
}

function readProjectEnv(dir: string, composeDir: string): ProjectEnv {
  const path = normalize(join(composeDir, '.env'));
  const read = readEnvFile(join(dir, path), LIMITS.fileBytes);
  return { vars: read?.vars ?? new Map(), path: read ? path : undefined, isRoot: path === '.env' };
}

interface FileResult {
  findings: Finding[];
  contexts: BuildContext[];
  envFiles: string[];
}

function auditComposeDocument(dir: string, compose: ComposeDocument, ironclad: boolean): FileResult {
  const { file, doc, lines, services } = compose;
  const composeDir = dirname(file);
  const project = readProjectEnv(dir, composeDir);
  const vars = project.vars;
  const lineOf = (path: (string | number)[]): string => {
    for (let length = path.length; length >= 1; length -= 1) {
      const node = doc.getIn(path.slice(0, length), true) as { range?: [number, number] } | undefined;
      if (node?.range) return `${file}:${lines.linePos(node.range[0]).line}`;
    }
    return file;
  };
  const result: FileResult = { findings: [], contexts: [], envFiles: [] };
  const fileDevelopment = developmentReason(file);
  const development: { reason: string; findings: Finding[] }[] = [];

  const entries = Object.entries(services).filter(
    (entry): entry is [string, Record<string, unknown>] => !!entry[1] && typeof entry[1] === 'object',
  );
  const described = entries.map(([name, service]) => {
    const image = typeof service.image === 'string' ? service.image : '';
    const ports = publishedPorts(service.ports, vars);
    const datastoreWord = datastoreOfImage(image);
    const datastore: string | boolean =
      datastoreWord ??
      (isDatastoreName(name) || ports.some((port) => port.targets.some((target) => DATASTORE_PORTS.has(target))));
    // The image says it best; a name or publishing 80/443 says it unless the name is the backend's.
    const proxy =
      !datastore &&
      ((image !== '' && isProxyImage(image)) ||
        (!isBackendName(name) &&
          (PROXY_NAMES.has(name.toLowerCase()) ||
            ports.some((port) => [80, 443].some((p) => port.published.includes(p) || port.targets.includes(p))))));
    return { name, service, image, ports, datastore, proxy, buildContext: buildContextOf(service.build) };
  });
  const hasProxy = described.some((s) => s.proxy);

  for (const { name, service, image, ports, datastore, proxy, buildContext } of described) {
    const found: Finding[] = [];
    const at = (...path: (string | number)[]) => lineOf(['services', name, ...path]);

    if (buildContext !== undefined && !isRemoteContext(buildContext)) {
      const context = normalize(join(composeDir, interpolate(buildContext, vars).value ?? buildContext));
      const build = service.build;
      const dockerfile =
        build && typeof build === 'object'
          ? String((build as { dockerfile?: unknown }).dockerfile ?? 'Dockerfile')
          : 'Dockerfile';
      if (!context.startsWith('..')) {
        result.contexts.push({
          context,
          dockerfile: dockerfile.startsWith('/') ? dockerfile : normalize(join(context, dockerfile)),
        });
      }
    }

    const command = typeof service.command === 'string' || Array.isArray(service.command) ? service.command : '';
    const backend =
      !datastore &&
      !proxy &&
      (isBackendName(name) ||
        isBackendContext(buildContext) ||
        // Behind a proxy in the same file, an application service that publishes a port bypasses it.
        (hasProxy && (buildContext !== undefined || command !== '')));

    ports.forEach((port, index) => {
      if (!datastore && !backend) return;
      const where = at('ports', index);
      if (port.loopback) {
        found.push(
          finding('files.compose.loopback-port', `service "${name}" publishes "${port.text}" on loopback`, where),
        );
      } else if (datastore) {
        found.push(finding('files.compose.db-port', `database service "${name}" publishes port "${port.text}"`, where));
      } else {
        found.push(
          finding('files.compose.backend-port', `backend service "${name}" publishes port "${port.text}"`, where),
        );
      }
    });
    // The host's network: every port the service listens on is open on the host, as if published.
    if (service.network_mode === 'host') {
      const where = at('network_mode');
      found.push(
        datastore
          ? finding('files.compose.db-port', `database service "${name}" uses network_mode: host`, where)
          : backend
            ? finding('files.compose.backend-port', `backend service "${name}" uses network_mode: host`, where)
            : finding('files.container.host-namespace', `service "${name}" uses network_mode: host`, where),
      );
    }

    // --- container escapes ---
    if (isTrue(service.privileged)) {
      found.push(finding('files.container.privileged', `service "${name}" runs privileged: true`, at('privileged')));
    }
    if (!isSocketProxyImage(image)) {
      stringList(service.volumes).forEach((volume, index) => {
        const source = volumeSource(volume, vars);
        const socket = source === undefined ? undefined : runtimeSocket(source);
        if (socket) {
          found.push(
            finding('files.container.docker-socket', `service "${name}" mounts ${socket}`, at('volumes', index)),
          );
        }
      });
    }
    for (const key of ['pid', 'ipc', 'userns_mode'] as const) {
      if (String(service[key] ?? '').toLowerCase() === 'host') {
        found.push(finding('files.container.host-namespace', `service "${name}" sets ${key}: host`, at(key)));
      }
    }
    for (const capability of escapeCapabilities(stringList(service.cap_add))) {
      found.push(
        finding('files.container.capabilities', `service "${name}" adds capability ${capability}`, at('cap_add')),
      );
    }
    stringList(service.security_opt).forEach((option, index) => {
      const off = unconfinedOption(option);
      if (off) {
        found.push(
          finding(
            'files.container.capabilities',
            `service "${name}" sets security_opt ${off}`,
            at('security_opt', index),
          ),
        );
      }
    });

    // --- secrets written into the file ---
    const isMap = !Array.isArray(service.environment);
    const variableLine = (key: string, index: number) => at('environment', isMap ? key : index);
    environmentEntries(service.environment).forEach(([key, value], index) => {
      if (!isLiteralSecret(key, value)) return;
      found.push(
        finding(
          'files.compose.literal-secret',
          `service "${name}" sets ${key} to a literal value`,
          variableLine(key, index),
        ),
      );
    });
    const healthcheck = service.healthcheck as { test?: unknown } | undefined;
    for (const [key, value, path] of [
      ['command', service.command, ['command']],
      ['entrypoint', service.entrypoint, ['entrypoint']],
      ['healthcheck', healthcheck?.test, ['healthcheck', 'test']],
    ] as const) {
      for (const option of literalPasswordOptions(value)) {
        found.push(
          finding(
            'files.compose.literal-secret',
            `service "${name}" ${key} passes a literal password to ${option}`,
            at(...path),
          ),
        );
      }
    }
    for (const key of ['command', 'entrypoint'] as const) {
      const text = Array.isArray(service[key])
        ? (service[key] as unknown[]).map(String).join(' ')
        : typeof service[key] === 'string'
          ? (service[key] as string)
          : '';
      const reload = reloadMode(text);
      if (reload) found.push(finding('files.reload-mode', `service "${name}" ${key} runs "${reload}"`, at(key)));
    }

    // --- the effective environment, by the settings rules ---
    const { env, envFiles } = effectiveEnvironment({
      dir,
      composeFile: file,
      composeDir,
      project,
      envFile: service.env_file,
      environment: service.environment,
      lineOfVariable: variableLine,
      maxBytes: LIMITS.fileBytes,
    });
    result.envFiles.push(...envFiles);
    found.push(...judgeEnvironment({ service: name, composeFile: file, datastore, dir, ironclad }, env));

    const profiles = stringList(service.profiles).map((p) => String(p).toLowerCase());
    const profile = profiles.find((p) => DEVELOPMENT_WORDS.has(p) || p === 'tools');
    if (fileDevelopment) development.push({ reason: fileDevelopment, findings: found });
    else if (profile) development.push({ reason: `only with profile "${profile}"`, findings: found });
    else result.findings.push(...found);
  }

  // Development files and services: what would be a fault is listed once, at info.
  const faults = development
    .flatMap((d) => d.findings)
    .filter((f) => severityRank(f.severity) >= severityRank('warning'));
  result.findings.push(...development.flatMap((d) => d.findings).filter((f) => !faults.includes(f)));
  if (faults.length > 0) {
    const ids = [...new Set(faults.map((f) => f.id))].sort(
      (a, b) => severityRank(CHECKS[b as CheckId].severity) - severityRank(CHECKS[a as CheckId].severity),
    );
    const what = fileDevelopment
      ? `${file} is a development compose file (${fileDevelopment})`
      : `services of ${file} that run ${[...new Set(development.map((d) => d.reason))].join(', ')}`;
    result.findings.push(
      finding(
        'files.compose.development',
        `${what}: not judged as production; as production it would raise ${ids.join(', ')} (${faults.length} finding${faults.length === 1 ? '' : 's'})`,
        file,
      ),
    );
  }
  if (fileDevelopment) result.contexts = [];
  return result;
}

/**
 * Audits every compose file among `files` (repo-relative paths of the checkout `dir`). `app`: what the checkout
 * deploys (app-kind.ts); Ironclad Tasks unless `other`, as for the rest of the file audit.
 */
export function auditComposeFiles(dir: string, files: string[], options: { app?: AppKind } = {}): ComposeAudit {
  const notes: string[] = [];
  const audit: ComposeAudit = {
    findings: [],
    contexts: [],
    envFiles: [],
    secretEnvFiles: [],
    composeFiles: [],
    developmentFiles: [],
    notes,
  };
  const productionEnvFiles: string[] = [];
  for (const compose of findComposeFiles(dir, files, notes)) {
    const result = auditComposeDocument(dir, compose, options.app !== 'other');
    audit.findings.push(...result.findings);
    audit.contexts.push(...result.contexts);
    audit.composeFiles.push(compose.file);
    const development = developmentReason(compose.file) !== undefined;
    if (development) audit.developmentFiles.push(compose.file);
    for (const envFile of result.envFiles) {
      if (!audit.envFiles.includes(envFile)) audit.envFiles.push(envFile);
      if (!development && !productionEnvFiles.includes(envFile)) productionEnvFiles.push(envFile);
    }
  }
  // Only env files a production compose file loads are secrets that must stay out of git: cookiecutter-django commits
  // `.envs/.local/*` (debug/debug passwords for `docker-compose.local.yml`) by design.
  for (const envFile of productionEnvFiles) {
    const read = readEnvFile(join(dir, envFile), LIMITS.fileBytes);
    if (read && [...read.vars].some(([name, value]) => isLiteralSecret(name, value))) {
      audit.secretEnvFiles.push(envFile);
    }
  }
  return audit;
}
