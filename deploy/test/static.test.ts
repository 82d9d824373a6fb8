/**
 * The deployment files checked as files (no Docker engine here): docker-compose.yml validated by docker-compose
 * itself and read as YAML, the Dockerfiles read instruction by instruction, the ignore files asked (git) or matched
 * with Docker's rules, and the nginx template rendered by envsubst and checked by `nginx -t`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { dockerIgnores } from '@ironclad/audit/file-checks';
import { loadConfig } from '@ironclad/config/load';
import { PAGE_CSP } from '@ironclad/config/page-csp';
import { type SettingName, settingNames, settings } from '@ironclad/config/schema';
import { BODY_LIMIT } from '@ironclad/server/app';
import { STRONG_KEY } from '@ironclad/testkit/accounts';
import { gateFor, REPO } from '@ironclad/testkit/gate';
import {
  blocks,
  type Directive,
  directives,
  errorPages,
  parseNginxConfig,
  type Scope,
  scopes,
} from '@ironclad/testkit/nginx-config';
import {
  IMAGE_MAIN_CONF,
  mainConfigFor,
  makeCertificate,
  nginxTest,
  renderTemplates,
  TEMPLATE,
  TEMPLATE_DIR,
  TEMPLATE_VARIABLES,
  type TemplateValues,
} from '@ironclad/testkit/nginx-render';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const composeTool = await gateFor('deploy tests with docker-compose', ['docker-compose']);
const gitTools = await gateFor('deploy tests with git', ['git']);
const nginxTools = await gateFor('deploy tests with nginx', ['nginx', 'openssl', 'envsubst']);

const COMPOSE = join(REPO, 'docker-compose.yml');
const COMPOSE_SECRETS = join(REPO, 'docker-compose.secrets.yml');
const ENVSH = join(REPO, 'deploy/nginx/15-ironclad-defaults.envsh');
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY|DATABASE_URL|CREDENTIAL/i;

type Service = {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: unknown };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | string[];
  ports?: unknown[];
  expose?: unknown[];
  volumes?: string[];
  healthcheck?: { test?: string | string[] };
  depends_on?: Record<string, { condition?: string }> | string[];
  restart?: string;
  read_only?: boolean;
  tmpfs?: string | string[];
  privileged?: boolean;
  network_mode?: string;
  secrets?: string[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
};
type ComposeFile = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: unknown;
  networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string; ip_range?: string; gateway?: string }> } }>;
};

/** An IPv4 address as a number, and whether it is inside a CIDR. */
const ipv4 = (address: string) => address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
function inCidr(address: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

function readCompose(path: string): ComposeFile {
  // merge: compose files share settings through YAML anchors and `<<` merge keys.
  return parseYaml(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
}

function environmentOf(service: Service): Record<string, string | undefined> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [name, ...value] = entry.split('=');
        return [name as string, value.length ? value.join('=') : undefined];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, value == null ? undefined : String(value)]),
  );
}

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A compose value that holds no secret itself: empty, or only a ${...} reference to .env or the shell. */
const isReference = (value: string | undefined) => value === undefined || value === '' || /^\$\{[^}]+\}$/.test(value);

const throwawayEnv = [
  'DOMAIN=tasks.example.com',
  `SECRET_KEY=${STRONG_KEY}`,
  'POSTGRES_DB=tasks',
  'POSTGRES_USER=tasks',
  `POSTGRES_PASSWORD=${STRONG_KEY.slice(0, 32)}`,
  'ALLOWED_HOSTS=tasks.example.com',
  'CORS_ALLOWED_ORIGINS=https://tasks.example.com',
  '',
].join('\n');

describe('docker-compose.yml, as docker-compose reads it', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ironclad-compose-'));
    copyFileSync(COMPOSE, join(dir, 'docker-compose.yml'));
    copyFileSync(COMPOSE_SECRETS, join(dir, 'docker-compose.secrets.yml'));
    // env_file: .env must exist; a throwaway one, never the developer's.
    writeFileSync(join(dir, '.env'), throwawayEnv);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const compose = (...args: string[]) =>
    spawnSync(composeTool.paths['docker-compose'] ?? 'docker-compose', ['--project-directory', dir, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    });

  composeTool.it('validates, alone and with the secrets override', () => {
    for (const files of [['docker-compose.yml'], ['docker-compose.yml', 'docker-compose.secrets.yml']]) {
      const result = compose(...files.flatMap((file) => ['-f', file]), 'config', '-q');
      expect(result.status, `${files.join(' + ')}: ${result.stderr}`).toBe(0);
    }
  });

  composeTool.it('refuses to start without DOMAIN', () => {
    writeFileSync(join(dir, '.env'), throwawayEnv.replace(/^DOMAIN=.*\n/m, ''));
    try {
      const result = compose('-f', 'docker-compose.yml', 'config', '-q');
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/DOMAIN/);
    } finally {
      writeFileSync(join(dir, '.env'), throwawayEnv);
    }
  });

  composeTool.it('publishes 80 and 443 from frontend, and nothing else from anything', () => {
    const result = compose('-f', 'docker-compose.yml', 'config');
    expect(result.status, result.stderr).toBe(0);
    const resolved = parseYaml(result.stdout) as {
      services: Record<string, { ports?: Array<{ published: number | string; target: number }> }>;
    };
    for (const [name, service] of Object.entries(resolved.services)) {
      if (name !== 'frontend') expect(service.ports, name).toBeUndefined();
    }
    const published = (resolved.services.frontend?.ports ?? []).map((port) => Number(port.published)).sort();
    expect(published).toEqual([443, 80]);
  });
});

describe('docker-compose.yml, as written', () => {
  const file = readCompose(COMPOSE);
  const secrets = readCompose(COMPOSE_SECRETS);
  const services = file.services;

  it('has the four services of the topology', () => {
    expect(Object.keys(services).sort()).toEqual(['backend', 'db', 'frontend', 'migrate']);
  });

  it('lets only frontend publish ports; nothing runs privileged or on the host network', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'frontend') expect(service.ports, name).toBeUndefined();
      expect(service.privileged, name).not.toBe(true);
      expect(service.network_mode, name).toBeUndefined();
    }
    expect(services.frontend?.ports).toHaveLength(2);
  });

  it('holds no literal secret in any environment block, and takes secret files only from /run/secrets', () => {
    for (const [fileName, compose] of [
      ['docker-compose.yml', file],
      ['docker-compose.secrets.yml', secrets],
    ] as const) {
      for (const [name, service] of Object.entries(compose.services)) {
        for (const [variable, value] of Object.entries(environmentOf(service))) {
          const where = `${fileName} ${name}.${variable}`;
          if (variable.endsWith('_FILE')) expect(value, where).toMatch(/^\/run\/secrets\/[\w.-]+$/);
          else if (SECRET_NAME.test(variable)) expect(isReference(value), `${where} = ${value}`).toBe(true);
        }
        expect(service.build?.args, `${fileName} ${name}: no build args`).toBeUndefined();
      }
    }
  });

  it('runs nothing in development mode', () => {
    for (const [name, service] of Object.entries(services)) {
      const command = [...asList(service.command), ...asList(service.entrypoint)].join(' ');
      expect(command, name).not.toMatch(/--reload|--watch|\bwatch\b|\bdev\b|nodemon|tsx|vite|--inspect/);
      const env = environmentOf(service);
      if (env.DEBUG !== undefined) expect(env.DEBUG, name).toMatch(/^(false|0|no|off)$/i);
      if (env.NODE_ENV !== undefined) expect(env.NODE_ENV, name).toBe('production');
    }
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).toMatch(/^[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
    expect(services.db?.image).toMatch(/^postgres:\d+(\.\d+)?(-[a-z0-9]+)?$/);
  });

  it('keeps PostgreSQL internal, on a named volume, with a pg_isready health check', () => {
    const db = services.db as Service;
    expect(db.ports).toBeUndefined();
    expect(asList(db.env_file)).toEqual(['.env']);
    expect(asList(db.healthcheck?.test).join(' ')).toMatch(/pg_isready/);
    const dataVolume = (db.volumes ?? []).find((volume) => volume.endsWith(':/var/lib/postgresql/data'));
    const volumeName = dataVolume?.split(':')[0] ?? '';
    expect(Object.keys(file.volumes ?? {})).toContain(volumeName);
  });

  it('starts the API only on a healthy, migrated database, read-only, restarted, built from server/Dockerfile', () => {
    const backend = services.backend as Service;
    expect(backend.build).toEqual({ context: '.', dockerfile: 'server/Dockerfile' });
    expect(asList(backend.env_file)).toEqual(['.env']);
    expect(backend.depends_on).toMatchObject({
      db: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    expect(backend.restart).toBe('unless-stopped');
    expect(backend.read_only).toBe(true);
    expect(asList(backend.tmpfs)).toContain('/tmp');
    expect(environmentOf(backend).HOST).toBe('0.0.0.0');

    const migrate = services.migrate as Service;
    expect(asList(migrate.command)).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(migrate.depends_on).toMatchObject({ db: { condition: 'service_healthy' } });
    expect(migrate.restart).toBe('no');
  });

  it('gives the API a configuration the server accepts in production (the compose environment over a filled-in .env)', () => {
    const dotEnv = parseEnv(readFileSync(join(REPO, '.env.example'), 'utf8')) as Record<string, string>;
    const env = {
      ...dotEnv,
      ...(parseEnv(throwawayEnv) as Record<string, string>),
      ...environmentOf(services.backend as Service),
    };
    const config = loadConfig({ env, dotEnv: false, cwd: tmpdir() });
    expect(config.debug).toBe(false);
    expect(config.values.HOST).toBe('0.0.0.0');
    expect(config.database).toMatchObject({ kind: 'postgres', host: 'db', port: 5432 });
    // Behind nginx the forwarded protocol must count (Secure cookies), but only from nginx.
    const networks = (services.frontend as Service).networks as Record<string, { ipv4_address?: string }>;
    const nginxAddress = networks.default?.ipv4_address;
    expect(config.values.TRUST_PROXY).toEqual([nginxAddress]);
    expect(config.warnings).toEqual([]);
  });

  it('trusts X-Forwarded-* from nginx’s fixed address only, which no other container can be given', () => {
    const backend = services.backend as Service;
    const frontend = services.frontend as Service;
    const trusted = environmentOf(backend).TRUST_PROXY ?? '';
    // One address: not a keyword (uniquelocal would trust every container on the network), a range or a hop count.
    expect(trusted).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
    expect(environmentOf(services.migrate as Service).TRUST_PROXY).toBe(trusted);
    expect((frontend.networks as Record<string, { ipv4_address?: string }>).default?.ipv4_address).toBe(trusted);
    // Every service is on the one network, whose subnet holds nginx's address and whose dynamic range does not, so
    // Docker never hands it to another container (e.g. one more `--scale backend`).
    for (const [name, service] of Object.entries(services)) {
      expect(Object.keys(service.networks ?? { default: null }), name).toEqual(['default']);
    }
    const [ipam, ...more] = file.networks?.default?.ipam?.config ?? [];
    expect(more).toEqual([]);
    expect(inCidr(trusted, ipam?.subnet ?? '0.0.0.0/32')).toBe(true);
    expect(inCidr(trusted, ipam?.ip_range ?? ipam?.subnet ?? '0.0.0.0/32')).toBe(false);
    expect(inCidr((ipam?.ip_range ?? '').split('/')[0] as string, ipam?.subnet ?? '0.0.0.0/32')).toBe(true);
    expect(ipam?.gateway).not.toBe(trusted);
    // RFC 1918 private space.
    expect(inCidr(trusted, '10.0.0.0/8') || inCidr(trusted, '172.16.0.0/12') || inCidr(trusted, '192.168.0.0/16')).toBe(
      true,
    );
  });

  it('reads from .env only settings the schema knows, with the schema’s defaults (one list of settings)', () => {
    const text = readFileSync(COMPOSE, 'utf8').replace(/^\s*#.*$/gm, '');
    const references = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)(?::?[-?]([^}]*))?\}/g)];
    expect(references.length).toBeGreaterThan(5);
    for (const [, name, fallback] of references) {
      expect(settingNames, `${name} is used by docker-compose.yml but is not in config/src/schema.ts`).toContain(name);
      const schemaDefault = settings[name as SettingName] as { default?: string };
      // ${NAME:-default} must agree with the schema; ${NAME:?message} and ${NAME:-} have no default to compare.
      if (fallback && schemaDefault.default !== undefined && !/^set /.test(fallback)) {
        expect(fallback, name).toBe(schemaDefault.default);
      }
    }
  });

  it('serves nginx from client/Dockerfile with the certificates mounted read-only and no secrets in its environment', () => {
    const frontend = services.frontend as Service;
    expect(frontend.build).toEqual({ context: '.', dockerfile: 'client/Dockerfile' });
    expect(frontend.env_file).toBeUndefined();
    expect(frontend.volumes?.some((volume) => /:\/etc\/letsencrypt:ro$/.test(volume))).toBe(true);
    expect(frontend.restart).toBe('unless-stopped');
    const env = environmentOf(frontend);
    expect(env.API_UPSTREAM).toBe('backend:8000');
    for (const name of Object.keys(env)) expect(TEMPLATE_VARIABLES as readonly string[], name).toContain(name);
  });

  it('hands the secret files to the API and the database only', () => {
    for (const [name, service] of Object.entries(secrets.services)) {
      if (service.secrets) expect(['db', 'migrate', 'backend'], name).toContain(name);
    }
    expect(environmentOf(secrets.services.backend as Service)).toEqual({
      SECRET_KEY_FILE: '/run/secrets/secret_key',
      POSTGRES_PASSWORD_FILE: '/run/secrets/postgres_password',
      SMTP_URL_FILE: '/run/secrets/smtp_url',
    });
    expect(secrets.services.migrate).toEqual(secrets.services.backend);
    expect(secrets.services.db?.secrets).toEqual(['postgres_password']);
    expect(environmentOf(secrets.services.db as Service)).toEqual({
      POSTGRES_PASSWORD_FILE: '/run/secrets/postgres_password',
    });
  });
});

interface Instruction {
  keyword: string;
  args: string;
}

function dockerfile(path: string): Instruction[] {
  const text = readFileSync(join(REPO, path), 'utf8').replace(/\\\r?\n/g, ' ');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: (keyword as string).toUpperCase(), args: rest.join(' ') };
    });
}

describe.each(['server/Dockerfile', 'client/Dockerfile'])('%s', (path) => {
  const instructions = dockerfile(path);
  const froms = instructions.filter((instruction) => instruction.keyword === 'FROM');
  const lastFrom = instructions.lastIndexOf(froms.at(-1) as Instruction);
  const finalStage = instructions.slice(lastFrom);
  const stageNames = froms.map((from) => /\bAS\s+(\S+)/i.exec(from.args)?.[1]).filter(Boolean);

  it('is multi-stage, every base image pinned to a version (no latest, no bare name)', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = from.args.replace(/--platform=\S+\s+/, '').split(/\s+/)[0] as string;
      if (stageNames.includes(image)) continue;
      expect(image, from.args).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/);
      expect(image, from.args).not.toMatch(/:latest\b/);
    }
  });

  it('ends as a non-root user, set after the last FROM', () => {
    const users = finalStage.filter((instruction) => instruction.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = (users.at(-1) as Instruction).args.split(':')[0];
    expect(user).not.toMatch(/^(root|0)$/);
  });

  it('bakes no secret into ARG or ENV, and never copies the whole context', () => {
    for (const instruction of instructions) {
      if (instruction.keyword === 'ARG' || instruction.keyword === 'ENV') {
        expect(instruction.args, instruction.args).not.toMatch(SECRET_NAME);
      }
      if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
        expect(instruction.args, instruction.args).not.toMatch(/^(--\S+\s+)*\.\s/);
        expect(instruction.args, instruction.args).not.toMatch(/\.env\b/);
      }
    }
  });

  it('has a HEALTHCHECK in the final image', () => {
    expect(finalStage.some((instruction) => instruction.keyword === 'HEALTHCHECK')).toBe(true);
  });

  it('installs with npm ci from the lockfile, and only production dependencies in the final image', () => {
    const installs = instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/\bnpm ci\b/);
    for (const instruction of finalStage) {
      if (instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args)) {
        expect(instruction.args).toMatch(/--omit=dev/);
      }
    }
  });
});

describe('the images', () => {
  it('the API image runs the server itself, and its health check probes /healthz', () => {
    const instructions = dockerfile('server/Dockerfile');
    const cmd = instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args;
    expect(JSON.parse(cmd ?? '[]')).toEqual(['node', 'dist/main.js']);
    expect(instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args).toMatch(/\/healthz/);
  });

  it('the nginx image probes the health listener the template defaults to', () => {
    const healthcheck = dockerfile('client/Dockerfile').find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    const defaults = envshDefaults({ DOMAIN: 'tasks.example.com' });
    expect(healthcheck).toContain(`http://${defaults.HEALTH_PORT}/nginx-health`);
  });
});

/** Docker's .dockerignore rules, with the deploy auditor's matcher (one implementation, tested here too). */
function dockerignored(patterns: string[], path: string): boolean {
  return dockerIgnores(patterns.join('\n'), path);
}

describe('the ignore files', () => {
  const mustIgnore = [
    '.env',
    '.env.local',
    '.env.production',
    'server/.env',
    'secrets/secret_key',
    'data/secret_key',
    'data/pglite/PG_VERSION',
    'node_modules/pg/package.json',
    'server/dist/main.js',
    'client/dist/index.html',
    'test-results/vitest.json',
    'artifacts/report.json',
    'tls.key',
    'fullchain.pem',
  ];

  gitTools.it('.gitignore keeps secrets and build output out of git, but not .env.example', () => {
    const ignored = (path: string) =>
      spawnSync(gitTools.paths.git ?? 'git', ['check-ignore', '-q', '--no-index', path], { cwd: REPO }).status === 0;
    for (const path of mustIgnore) expect(ignored(path), path).toBe(true);
    for (const path of ['.env.example', 'docker-compose.yml', 'server/src/app.ts', 'deploy/nginx/nginx.conf']) {
      expect(ignored(path), path).toBe(false);
    }
  });

  gitTools.it(
    '.gitignore ignores no source file, example or workspace manifest (a bare `db/` once hid server/src/db/)',
    () => {
      const sources = spawnSync(
        gitTools.paths.git ?? 'git',
        ['ls-files', '--cached', '--others', '--exclude-standard'],
        {
          cwd: REPO,
          encoding: 'utf8',
        },
      ).stdout.split('\n');
      const candidates = [
        ...sources.filter((path) => /^(config|server|audit|testkit|client)\/(src|test|drizzle)\//.test(path)),
        'server/src/db/anything-new.ts',
        'config/src/data/anything-new.ts',
        '.env.local.example',
        ...['config', 'server', 'audit', 'testkit', 'client'].map((workspace) => `${workspace}/package.json`),
      ];
      const ignored = spawnSync(gitTools.paths.git ?? 'git', ['check-ignore', '--no-index', '--stdin'], {
        cwd: REPO,
        input: candidates.join('\n'),
        encoding: 'utf8',
      }).stdout;
      expect(ignored.split('\n').filter(Boolean)).toEqual([]);
    },
  );

  it('.dockerignore keeps secrets, .git and node_modules out of every build context', () => {
    const patterns = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const path of [...mustIgnore, '.git', '.git/config', 'server/node_modules/x/index.js', 'secrets']) {
      expect(dockerignored(patterns, path), path).toBe(true);
    }
    // What the Dockerfiles copy must stay in the context.
    for (const path of [
      'package.json',
      'package-lock.json',
      'server/package.json',
      'server/src/app.ts',
      'server/drizzle/0000_init.sql',
      'client/src/main.tsx',
      'client/index.html',
      'deploy/nginx/nginx.conf',
      'deploy/nginx/templates/default.conf.template',
      'deploy/nginx/15-ironclad-defaults.envsh',
    ]) {
      expect(dockerignored(patterns, path), path).toBe(false);
    }
  });

  it('the .dockerignore matcher itself follows Docker: last rule wins, parents count', () => {
    expect(dockerignored(['*.md', '!README.md'], 'README.md')).toBe(false);
    expect(dockerignored(['*.md', '!README.md'], 'CHANGES.md')).toBe(true);
    expect(dockerignored(['*.md'], 'docs/a.md')).toBe(false);
    expect(dockerignored(['**/*.md'], 'docs/a.md')).toBe(true);
    expect(dockerignored(['docs'], 'docs/a/b.md')).toBe(true);
  });
});

/**
 * Every status nginx itself can answer with (not the API's, which pass through untouched): request parsing (400,
 * 414, 494 header too large, 501 unknown Transfer-Encoding, 505), methods and bodies (405, 411, 413), static files
 * (403, 404, 412, 416), limits (429), timeouts (408), TLS (421, 495-497), and the upstream (500, 502-504).
 */
const NGINX_STATUSES = [
  400, 403, 404, 405, 408, 411, 412, 413, 414, 416, 421, 429, 494, 495, 496, 497, 500, 501, 502, 503, 504, 505,
];
/** The status nginx sends for each: 494 is answered as the standard 431, and 495-497 as 400, as nginx does. */
const statusSent = (status: number) => (status === 494 ? 431 : status >= 495 && status <= 497 ? 400 : status);
const ERROR_LOCATION = '/.ironclad-error';
const ERROR_HEADERS = [
  'Strict-Transport-Security',
  'Content-Security-Policy',
  'X-Content-Type-Options',
  'Referrer-Policy',
  'X-Frame-Options',
  'Cross-Origin-Resource-Policy',
  'Cache-Control',
  'Allow',
  'Retry-After',
];

/**
 * What is wrong with compression in a parsed http context: API answers must never be compressed (BREACH: tokens and
 * CSRF values next to reflected input), so every location under /api/ has `gzip off` in effect and no gzip_static,
 * and no JSON type is gzipped anywhere;
 * the hashed assets must be sent from their build-time .gz (gzip_static on) with Vary: Accept-Encoding.
 */
function compressionProblems(http: Directive[]): string[] {
  const problems: string[] = [];
  const value = (scope: Scope, name: string) => scope.inherited(name).at(-1)?.args.join(' ') ?? 'off';
  for (const scope of scopes(http)) {
    const where = scope.path.join(' > ');
    const location = scope.path[1] ?? '';
    // nginx's own JSON answers (errors, /api without its slash) are not compressed either.
    if (
      scope
        .inherited('gzip_types')
        .some((directive) => directive.args.some((type) => type === 'application/json' || type === '*'))
    )
      problems.push(`${where}: gzip_types takes application/json`);
    if (location === 'location ^~ /api/') {
      if (value(scope, 'gzip') !== 'off') problems.push(`${where}: gzip is ${value(scope, 'gzip')}, not off`);
      if (value(scope, 'gzip_static') !== 'off') problems.push(`${where}: gzip_static is on`);
    } else if (location === 'location ^~ /assets/' && scope.path.length === 2) {
      if (value(scope, 'gzip_static') !== 'on') problems.push(`${where}: gzip_static is not on`);
      if (value(scope, 'gzip_vary') !== 'on') problems.push(`${where}: gzip_vary is not on`);
    } else if (value(scope, 'gzip_static') !== 'off' && !location.startsWith('location ^~ /assets/')) {
      problems.push(`${where}: gzip_static outside /assets/`);
    }
  }
  return problems;
}

/**
 * What is wrong with nginx's own error answers in a parsed http context: every server and every location (nested
 * ones and `if` blocks included) must send every status of NGINX_STATUSES to the JSON error location, whose server
 * must have it; a location's own error_page (which replaces the inherited list) shows up here as missing statuses.
 */
function jsonErrorProblems(http: Directive[]): string[] {
  const problems: string[] = [];
  for (const scope of scopes(http)) {
    const where = scope.path.join(' > ');
    const pages = errorPages(scope.inherited('error_page'));
    for (const status of NGINX_STATUSES) {
      const page = pages.get(status);
      if (page?.target !== ERROR_LOCATION) problems.push(`${where}: ${status} is not sent to ${ERROR_LOCATION}`);
      else if ((page.status ?? statusSent(status)) !== statusSent(status)) {
        problems.push(`${where}: ${status} is answered as ${page.status}`);
      }
    }
    if (scope.path.length > 1) continue;
    const children = scope.block.children ?? [];
    const location = blocks(children, 'location').find((block) => block.args.join(' ') === `= ${ERROR_LOCATION}`);
    if (!location) {
      problems.push(`${where}: no location = ${ERROR_LOCATION}`);
      continue;
    }
    const inside = location.children ?? [];
    if (directives(inside, 'internal').length !== 1) problems.push(`${where}: ${ERROR_LOCATION} is not internal`);
    if (directives(inside, 'default_type')[0]?.args[0] !== 'application/json') {
      problems.push(`${where}: ${ERROR_LOCATION} is not application/json`);
    }
    if (directives(inside, 'return')[0]?.args.join(' ') !== '200 $ironclad_error_body') {
      problems.push(`${where}: ${ERROR_LOCATION} does not return $ironclad_error_body`);
    }
    const headers = directives(inside, 'add_header');
    for (const header of ERROR_HEADERS) {
      const added = headers.find((directive) => directive.args[0] === header);
      if (added?.args[2] !== 'always')
        problems.push(`${where}: ${ERROR_LOCATION} lacks add_header ${header} ... always`);
    }
  }
  return problems;
}

/** The defaults the nginx image's entrypoint gives the template, by sourcing the real script with sh. */
function envshDefaults(env: Record<string, string>): Record<string, string> {
  const output = execFileSync('sh', ['-c', `. "${ENVSH}" && env`], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return parseEnv(output) as Record<string, string>;
}

describe('the nginx template', () => {
  const template = readFileSync(TEMPLATE, 'utf8');

  it('sends exactly the page CSP the server defines (PAGE_CSP)', () => {
    const csp = /add_header Content-Security-Policy "([^"]*)" always;/.exec(template)?.[1];
    expect(csp).toBe(PAGE_CSP);
  });

  it('limits request bodies exactly as the API does', () => {
    const size = /client_max_body_size (\d+)k;/.exec(template)?.[1];
    expect(Number(size) * 1024).toBe(BODY_LIMIT);
  });

  it('reads only its documented variables, and no upper-case name that envsubst could capture by accident', () => {
    const braced = new Set([...template.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]));
    expect([...braced].sort()).toEqual([...TEMPLATE_VARIABLES].sort());
    // envsubst would also replace a bare $NAME defined in the container's environment.
    expect(template.match(/\$[A-Z_][A-Z0-9_]*\b/g) ?? []).toEqual([]);
    // The other templates (the error snippet) read none: they are rendered with the same environment.
    for (const name of readdirSync(TEMPLATE_DIR).filter((file) => file !== 'default.conf.template')) {
      expect(readFileSync(join(TEMPLATE_DIR, name), 'utf8').match(/\$\{?[A-Z_][A-Z0-9_]*\b/g) ?? [], name).toEqual([]);
    }
  });

  it('gets a default for every variable from the image script, given only DOMAIN', () => {
    const defaults = envshDefaults({ DOMAIN: 'tasks.example.com', TLS_KEY: '' });
    for (const name of TEMPLATE_VARIABLES) expect(defaults[name], name).toBeTruthy();
    expect(defaults.TLS_CERT).toBe('/etc/letsencrypt/live/tasks.example.com/fullchain.pem');
    // compose passes an empty TLS_KEY when .env has none: that is the default too.
    expect(defaults.TLS_KEY).toBe('/etc/letsencrypt/live/tasks.example.com/privkey.pem');
    expect(envshDefaults({ DOMAIN: 'a.example', TLS_CERT: '/certs/a.pem' }).TLS_CERT).toBe('/certs/a.pem');
    const withoutDomain = spawnSync('sh', ['-c', `. "${ENVSH}"`], { env: { PATH: process.env.PATH ?? '' } });
    expect(withoutDomain.status).not.toBe(0);
    expect(String(withoutDomain.stderr)).toMatch(/DOMAIN must be set/);
  });

  nginxTools.describe('rendered as the image renders it', () => {
    let dir: string;
    let rendered: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'ironclad-nginx-t-'));
      const certificate = makeCertificate(dir, 'tasks.example.com');
      mkdirSync(join(dir, 'html'));
      // The image's defaults, with only the file paths moved into the temporary directory.
      const values = {
        ...envshDefaults({ DOMAIN: 'tasks.example.com' }),
        TLS_CERT: certificate.cert,
        TLS_KEY: certificate.key,
        WEB_ROOT: join(dir, 'html'),
        ACME_ROOT: join(dir, 'html'),
      } as TemplateValues;
      const output = renderTemplates(dir, values).find((path) => path.endsWith('/default.conf'));
      rendered = readFileSync(output as string, 'utf8');
      // The image's own main configuration, with its paths (pid, temp files, conf.d) moved here: what the native
      // topology runs too.
      writeFileSync(join(dir, 'nginx.conf'), mainConfigFor(dir));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('leaves no variable unrendered and keeps nginx variables intact', () => {
      expect(rendered).not.toMatch(/\$\{/);
      expect(rendered).toContain('server_name tasks.example.com;');
      expect(rendered).toContain('return 301 https://tasks.example.com$request_uri;');
      expect(rendered).toContain('proxy_set_header Host $host;');
      expect(rendered).toContain('set $ironclad_api http://backend:8000;');
    });

    it('passes nginx -t with the image main configuration', () => {
      const output = nginxTest(dir);
      expect(output).toMatch(/test is successful/);
      expect(output).not.toMatch(/\[(warn|emerg|alert|crit)\]/);
    });

    it('is what the native topology runs: the image main configuration with only its paths moved', () => {
      const moved = /^\s*(user|pid|include|\w+_temp_path)\b/;
      const significant = (text: string) =>
        text
          .split('\n')
          .map((line) => line.replace(/#.*/, '').trim())
          .filter((line) => line && !moved.test(line));
      const image = readFileSync(IMAGE_MAIN_CONF, 'utf8');
      expect(significant(mainConfigFor(dir))).toEqual(significant(image));
      // And those lines are the capacity this file promises (docs/deployment.md).
      expect(significant(image)).toEqual(
        expect.arrayContaining(['worker_processes auto;', 'worker_rlimit_nofile 8192;', 'worker_connections 4096;']),
      );
    });

    it('answers nginx’s own errors in JSON in every server block and every location (parsed, not grepped)', () => {
      const http = parseNginxConfig(rendered, { prefix: dir });
      expect(blocks(http, 'server')).toHaveLength(5);
      expect(jsonErrorProblems(http)).toEqual([]);
    });

    it('has a JSON body without nginx’s name for every status it can answer', () => {
      const http = parseNginxConfig(rendered, { prefix: dir });
      const map = blocks(http, 'map').find((block) => block.args[1] === '$ironclad_error_body');
      expect(map?.args[0]).toBe('$status');
      const bodies = new Map((map?.children ?? []).map((entry) => [entry.name, entry.args[0] as string]));
      for (const status of [...NGINX_STATUSES.map(statusSent), 301, 'default']) {
        const body = bodies.get(String(status));
        expect(body, String(status)).toBeDefined();
        const parsed = JSON.parse(body as string) as { error?: unknown };
        expect(Object.keys(parsed), String(status)).toEqual(['error']);
        expect(typeof parsed.error, String(status)).toBe('string');
        expect(body, String(status)).not.toMatch(/nginx|<|>/i);
      }
    });

    it('fails the JSON error check when a location adds an error_page of its own (so the check above can fail)', () => {
      // nginx's rule: an error_page in a location replaces the whole inherited list, as /api/ once did.
      const broken = rendered.replace(
        'location ^~ /api/ {',
        'location ^~ /api/ {\n        error_page 413 = /.ironclad-error;',
      );
      expect(broken).not.toBe(rendered);
      const problems = jsonErrorProblems(parseNginxConfig(broken, { prefix: dir }));
      expect(problems.join('\n')).toMatch(/location \^~ \/api\/.*400/);
      // A server block that forgets the snippet is caught too.
      const forgotten = rendered.replace(
        /(server \{[^}]*?listen [^\n]*:8081;[^}]*?)include conf\.d\/ironclad-errors\.inc;/,
        '$1',
      );
      expect(forgotten).not.toBe(rendered);
      expect(jsonErrorProblems(parseNginxConfig(forgotten, { prefix: dir })).join('\n')).toMatch(/8081/);
    });

    it('sends the assets’ build-time .gz with Vary, and never compresses an API answer (parsed, not grepped)', () => {
      const http = parseNginxConfig(rendered, { prefix: dir });
      expect(compressionProblems(http)).toEqual([]);
      // And the check can fail: /api/ without its `gzip off` inherits the server's `gzip on`; /assets/ without
      // gzip_static would compress on every request.
      const apiCompressed = rendered.replace(/(location \^~ \/api\/ \{[\s\S]*?)\n\s*gzip off;/, '$1');
      expect(apiCompressed).not.toBe(rendered);
      expect(compressionProblems(parseNginxConfig(apiCompressed, { prefix: dir })).join('\n')).toMatch(
        /location \^~ \/api\/: gzip is on/,
      );
      const noStatic = rendered.replace('gzip_static on;', '');
      expect(compressionProblems(parseNginxConfig(noStatic, { prefix: dir })).join('\n')).toMatch(
        /assets\/: gzip_static is not on/,
      );
    });

    it('limits every address and cuts slow clients short, on every server that answers requests', () => {
      const http = parseNginxConfig(rendered, { prefix: dir });
      const value = (name: string) => directives(http, name).map((directive) => directive.args.join(' '));
      const seconds = (name: string) => Number(/^(\d+)s$/.exec(value(name)[0] ?? '')?.[1]);
      expect(seconds('client_header_timeout')).toBeLessThanOrEqual(10);
      expect(seconds('client_body_timeout')).toBeLessThanOrEqual(10);
      expect(seconds('send_timeout')).toBeLessThanOrEqual(10);
      expect(seconds('keepalive_timeout')).toBeLessThanOrEqual(30);
      expect(value('reset_timedout_connection')).toEqual(['on']);
      expect(value('limit_conn_zone')).toEqual(['$binary_remote_addr zone=per_address:10m']);
      expect(value('limit_conn_status')).toEqual(['429']);
      expect(value('limit_req_status')).toEqual(['429']);
      expect(value('limit_req_zone')).toContain('$binary_remote_addr zone=site:10m rate=20r/s');
      for (const scope of scopes(http)) {
        const server = scope.path[0] as string;
        // The catch-all servers answer nothing (return 444), and the health listener is container-internal.
        if (server.startsWith('server _ ')) continue;
        const where = scope.path.join(' > ');
        expect(
          scope.inherited('limit_conn').map((directive) => directive.args.join(' ')),
          where,
        ).toContain('per_address 64');
        expect(
          scope.inherited('limit_req').map((directive) => directive.args.join(' ')),
          where,
        ).toContain('zone=site burst=200 nodelay');
      }
    });

    it('fails nginx -t when the certificate is missing (so the check above can fail)', () => {
      const broken = join(dir, 'conf.d/default.conf');
      const original = readFileSync(broken, 'utf8');
      writeFileSync(broken, original.replace(/ssl_certificate (\S+);/, `ssl_certificate ${dir}/missing.pem;`));
      try {
        expect(() => nginxTest(dir)).toThrow(/missing\.pem/);
      } finally {
        writeFileSync(broken, original);
      }
    });
  });
});
